{{/* ---- names and labels ------------------------------------------------------------------ */}}

{{- define "tickflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tickflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "aggregator") */}}
{{- define "tickflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tickflow.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tickflow.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tickflow
{{- end -}}

{{/* All labels of one component: (dict "ctx" $ "component" "aggregator") */}}
{{- define "tickflow.labels" -}}
{{ include "tickflow.commonLabels" .ctx }}
{{ include "tickflow.selectorLabels" . }}
{{- end -}}

{{- define "tickflow.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "tickflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tickflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Names of the bundled services: the same rule as charts/redis and charts/timescaledb. */}}
{{- define "tickflow.redis.fullname" -}}
{{- if .Values.redis.fullnameOverride -}}
{{- .Values.redis.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-redis" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tickflow.timescaledb.fullname" -}}
{{- if .Values.timescaledb.fullnameOverride -}}
{{- .Values.timescaledb.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-timescaledb" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Secret this chart makes for URLs given in values (externalRedis.url / externalDatabase.url). */}}
{{- define "tickflow.urlSecretName" -}}
{{- printf "%s-urls" (include "tickflow.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tickflow.hasUrlSecret" -}}
{{- if or (and (not .Values.redis.enabled) (not .Values.externalRedis.existingSecret)) (and (not .Values.timescaledb.enabled) (not .Values.externalDatabase.existingSecret)) -}}
true
{{- end -}}
{{- end -}}

{{/* ---- environment ------------------------------------------------------------------------ */}}

{{- define "tickflow.kafkaEnv" -}}
{{- if .Values.kafka.existingSecret }}
- name: KAFKA_BROKERS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.existingSecret }}
      key: {{ .Values.kafka.existingSecretKey }}
{{- else }}
- name: KAFKA_BROKERS
  valueFrom:
    configMapKeyRef:
      name: {{ include "tickflow.fullname" . }}-config
      key: KAFKA_BROKERS
{{- end }}
{{- end -}}

{{- define "tickflow.redisEnv" -}}
{{- if .Values.redis.enabled }}
{{- $host := printf "%s.%s.svc" (include "tickflow.redis.fullname" .) .Release.Namespace }}
{{- $port := (.Values.redis.service).port | default 6379 }}
{{- if (.Values.redis.auth).enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.auth.existingSecret | default (include "tickflow.redis.fullname" .) }}
      key: {{ .Values.redis.auth.existingSecretPasswordKey | default "redis-password" }}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:%v" $host $port | quote }}
{{- else }}
- name: REDIS_URL
  value: {{ printf "redis://%s:%v" $host $port | quote }}
{{- end }}
{{- else if .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalRedis.existingSecret }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- else }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tickflow.urlSecretName" . }}
      key: REDIS_URL
{{- end }}
{{- end -}}

{{/* DATABASE_URL; (dict "ctx" $ "secret" "name") overrides the Secret used for a values-given URL. */}}
{{- define "tickflow.databaseEnv" -}}
{{- $ctx := .ctx -}}
{{- if $ctx.Values.timescaledb.enabled }}
{{- $auth := $ctx.Values.timescaledb.auth | default dict }}
{{- $host := printf "%s.%s.svc" (include "tickflow.timescaledb.fullname" $ctx) $ctx.Release.Namespace }}
{{- $port := ($ctx.Values.timescaledb.service).port | default 5432 }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret | default (include "tickflow.timescaledb.fullname" $ctx) }}
      key: {{ $auth.existingSecretPasswordKey | default "password" }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DATABASE_PASSWORD)@%s:%v/%s" ($auth.username | default "tickflow") $host $port ($auth.database | default "tickflow") | quote }}
{{- else if $ctx.Values.externalDatabase.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $ctx.Values.externalDatabase.existingSecret }}
      key: {{ $ctx.Values.externalDatabase.existingSecretKey }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secret | default (include "tickflow.urlSecretName" $ctx) }}
      key: DATABASE_URL
{{- end }}
- name: TIMESCALEDB
  value: {{ $ctx.Values.timescale | quote }}
{{- end -}}

{{/* Kafka client id per pod (librdkafka logs, broker quotas). */}}
{{- define "tickflow.clientIdEnv" -}}
- name: KAFKA_CLIENT_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{/* ---- migrations ------------------------------------------------------------------------- */}}

{{/* The migration Job's hook: after install when the bundled database is created by this release. */}}
{{- define "tickflow.migrationHook" -}}
{{- if eq .Values.migrations.hook "auto" -}}
{{- if .Values.timescaledb.enabled -}}post-install,pre-upgrade{{- else -}}pre-install,pre-upgrade{{- end -}}
{{- else -}}
{{- if and .Values.timescaledb.enabled (contains "pre-install" .Values.migrations.hook) -}}
{{- fail "migrations.hook: pre-install cannot work with the bundled TimescaleDB (it does not exist before install); use auto" -}}
{{- end -}}
{{- .Values.migrations.hook -}}
{{- end -}}
{{- end -}}

{{/* MIGRATE_ON_START of the aggregators: on when asked, when no Job migrates, or when the Job runs after install. */}}
{{- define "tickflow.migrateOnStart" -}}
{{- if or .Values.aggregator.migrateOnStart (not .Values.migrations.enabled) (contains "post-install" (include "tickflow.migrationHook" .)) -}}
true
{{- else -}}
false
{{- end -}}
{{- end -}}

{{/* ---- pod pieces ------------------------------------------------------------------------- */}}

{{/* topologySpreadConstraints of one component: (dict "ctx" $ "component" "aggregator") */}}
{{- define "tickflow.topologySpread" -}}
{{- $ctx := .ctx -}}
{{- $component := .component -}}
{{- $spread := $ctx.Values.topologySpread -}}
{{- if $spread.enabled }}
topologySpreadConstraints:
{{- range $spread.topologyKeys }}
  - maxSkew: {{ $spread.maxSkew }}
    topologyKey: {{ . }}
    whenUnsatisfiable: {{ $spread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "tickflow.selectorLabels" (dict "ctx" $ctx "component" $component) | nindent 8 }}
    # count only the pods of the current rollout
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end -}}

{{/* Node script of the wait-for-dependencies init container: TCP-connects to the first Kafka broker,
     Redis and the database (whichever of KAFKA_BROKERS, REDIS_URL, DATABASE_URL it has) until they answer. */}}
{{- define "tickflow.waitForScript" -}}
const net = require('node:net');
const targets = [];
const fromUrl = (v, port) => { try { const u = new URL(v); targets.push([u.hostname, Number(u.port) || port]); } catch { console.error('unparsable URL in environment'); process.exit(2); } };
if (process.env.DATABASE_URL) fromUrl(process.env.DATABASE_URL, 5432);
if (process.env.REDIS_URL) fromUrl(process.env.REDIS_URL, 6379);
const broker = (process.env.KAFKA_BROKERS || '').split(',')[0].trim();
if (broker) { const i = broker.lastIndexOf(':'); targets.push([broker.slice(0, i), Number(broker.slice(i + 1))]); }
const deadline = Date.now() + Number(process.env.WAIT_TIMEOUT_SECONDS || 600) * 1000;
const probe = ([host, port]) => new Promise((done) => {
  const s = net.connect({ host, port, timeout: 2000 });
  s.once('connect', () => { s.destroy(); done(true); });
  s.once('timeout', () => { s.destroy(); done(false); });
  s.once('error', () => done(false));
});
(async () => {
  for (const t of targets) {
    while (!(await probe(t))) {
      if (Date.now() > deadline) { console.error(`gave up waiting for ${t[0]}:${t[1]}`); process.exit(1); }
      console.log(`waiting for ${t[0]}:${t[1]}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(`${t[0]}:${t[1]} is up`);
  }
})();
{{- end -}}

{{/* The init container; (dict "ctx" $ "env" <rendered env list>) */}}
{{- define "tickflow.waitForContainer" -}}
{{- $ctx := .ctx -}}
{{- if $ctx.Values.waitForDependencies.enabled }}
- name: wait-for-dependencies
  image: {{ include "tickflow.image" $ctx | quote }}
  imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
  command: ["node", "-e"]
  args:
    - |
      {{- include "tickflow.waitForScript" $ctx | nindent 6 }}
  env:
    - name: WAIT_TIMEOUT_SECONDS
      value: {{ $ctx.Values.waitForDependencies.timeoutSeconds | quote }}
    {{- .env | trim | nindent 4 }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      memory: 64Mi
  securityContext:
    {{- toYaml $ctx.Values.securityContext | nindent 4 }}
{{- end }}
{{- end -}}

{{/* Pod-level fields shared by every component; (dict "ctx" $ "values" .Values.aggregator "component" "aggregator") */}}
{{- define "tickflow.podCommon" -}}
{{- $ctx := .ctx -}}
serviceAccountName: {{ include "tickflow.serviceAccountName" $ctx }}
automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountToken }}
enableServiceLinks: false
{{- with $ctx.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $ctx.Values.podSecurityContext | nindent 2 }}
{{- include "tickflow.topologySpread" (dict "ctx" $ctx "component" .component) }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Probes on the health endpoints (/healthz liveness + startup, /readyz readiness) of a named port. */}}
{{- define "tickflow.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ . }}
  periodSeconds: 2
  timeoutSeconds: 2
  # connecting to Kafka, Redis and the database (and migrating) may take a while on a fresh install
  failureThreshold: 90
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ . }}
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ . }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{- define "tickflow.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/urls: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}
