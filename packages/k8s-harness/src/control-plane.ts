// A real Kubernetes control plane without nodes: etcd + kube-apiserver (+ optionally
// kube-controller-manager) on free loopback ports, with fresh certificates in a temp dir. Enough for
// server-side dry-runs, CRDs and their OpenAPI validation, admission, RBAC, controllers that do not
// need kubelets (Deployment -> ReplicaSet -> Pod objects, HPA, garbage collection, namespaces, ...)
// and the aggregation layer (APIService -> an HTTPS server of your own; see README).
//
// Nothing here sends traffic off the machine: ClusterIPs are allocated from 127.96.0.0/16, a
// loopback range, so whatever the API server dials through a Service (aggregated APIs, admission
// webhooks) stays on this host; there is no kube-proxy, and the API server does not maintain the
// `kubernetes` Service's endpoints (--endpoint-reconciler-type=none).

import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  createServiceDir,
  freePort,
  retryOnPortClash,
  runCommand,
  type ServiceDir,
  type ServiceProcess,
  startService,
} from '@tickflow/stack';
import { type ControlPlanePki, createControlPlanePki } from './pki.ts';
import { ensureKubeTools, type KubeTools } from './tools.ts';

export interface ControllerManagerOptions {
  /** --horizontal-pod-autoscaler-sync-period, e.g. '5s' (upstream default 15s). */
  hpaSyncPeriod?: string;
  /** --controllers, e.g. ['*'] (default) or ['deployment-controller', 'replicaset-controller']. */
  controllers?: readonly string[];
  /** Any further kube-controller-manager flags. */
  extraArgs?: readonly string[];
}

export interface ControlPlaneOptions {
  /**
   * Aggregation layer: front-proxy CA + client certificate and the --requestheader-* flags, so that
   * APIService objects (metrics.k8s.io, custom/external metrics, ...) are proxied with the
   * authenticated user in X-Remote-User / X-Remote-Group. Default true. Serve one from the test
   * process with registerLocalApiService.
   */
  aggregation?: boolean;
  /** Also run kube-controller-manager (default false: the API server alone). `true` means defaults. */
  controllerManager?: boolean | ControllerManagerOptions;
  /** --feature-gates for both components, e.g. { InPlacePodVerticalScaling: true }. */
  featureGates?: Readonly<Record<string, boolean>>;
  /** --runtime-config, e.g. ['api/all=true']. */
  runtimeConfig?: readonly string[];
  /** Any further kube-apiserver flags. */
  apiserverArgs?: readonly string[];
  /** Tools to use (default: ensureKubeTools(), which builds them on first use). */
  tools?: KubeTools;
  /** Keep the temp dir (certs, logs, etcd data) after stop() for inspection. */
  keep?: boolean;
  /** How long to wait for each component to become ready (default 120 s). */
  readyTimeoutMs?: number;
}

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
  /** Extra environment (KUBECONFIG is always set to this control plane). */
  env?: NodeJS.ProcessEnv;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** kubeconfig (context `tickflow-test`) authenticating as system:masters with a client cert. */
  kubeconfigPath: string;
  /** Temp dir holding pki/, logs and etcd data; removed by stop() unless `keep`. */
  dir: string;
  pki: ControlPlanePki;
  etcdUrl: string;
  /** kube-controller-manager's secure port (https, /healthz), when it runs. */
  controllerManagerPort?: number;
  tools: KubeTools;
  /** Runs the harness's kubectl against this control plane; rejects with its output on failure. */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<{ stdout: string; stderr: string }>;
  /** GET a path of the API server as the admin (e.g. '/readyz?verbose', '/apis'); resolves status + body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Tails of the component logs, for error messages. */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

function httpsGet(
  url: string,
  tls: { ca?: string; cert?: string; key?: string; insecure?: boolean },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: tls.ca ? readFileSync(tls.ca) : undefined,
        cert: tls.cert ? readFileSync(tls.cert) : undefined,
        key: tls.key ? readFileSync(tls.key) : undefined,
        rejectUnauthorized: !tls.insecure,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

function kubeconfig(server: string, pki: ControlPlanePki, user: { cert: string; key: string }): string {
  // JSON is YAML: kubectl and client libraries read it as a kubeconfig.
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'tickflow-test', cluster: { server, 'certificate-authority': pki.ca.cert } }],
      users: [{ name: 'tickflow-admin', user: { 'client-certificate': user.cert, 'client-key': user.key } }],
      contexts: [
        {
          name: 'tickflow-test',
          context: { cluster: 'tickflow-test', user: 'tickflow-admin', namespace: 'default' },
        },
      ],
      'current-context': 'tickflow-test',
    },
    null,
    2,
  )}\n`;
}

function featureGateFlag(gates?: Readonly<Record<string, boolean>>): string[] {
  const entries = Object.entries(gates ?? {});
  return entries.length ? [`--feature-gates=${entries.map(([k, v]) => `${k}=${v}`).join(',')}`] : [];
}

async function startEtcd(
  tools: KubeTools,
  dir: string,
  timeoutMs: number,
): Promise<{ proc: ServiceProcess; url: string }> {
  return retryOnPortClash(async () => {
    const [client, peer] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const proc = await startService({
      name: 'etcd',
      command: tools.etcd,
      args: [
        '--name=tickflow-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=tickflow-test=${peerUrl}`,
        '--initial-cluster-state=new',
        // test data: durability is not wanted, speed is
        '--unsafe-no-fsync',
        '--log-level=warn',
        '--quota-backend-bytes=4294967296',
      ],
      logFile: join(dir, 'etcd.log'),
      ready: () => httpOk(`${url}/health`),
      readyTimeoutMs: timeoutMs,
      stopSignal: 'SIGTERM',
      stopGraceMs: 5000,
    });
    return { proc, url };
  });
}

/**
 * Starts etcd and kube-apiserver (and kube-controller-manager when asked), waits until the API
 * server's /readyz passes and the `default` namespace exists, and writes a kubeconfig. Building
 * the tools on first use can take many minutes (see ensureKubeTools); starting takes seconds.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const aggregation = opts.aggregation ?? true;
  const timeoutMs = opts.readyTimeoutMs ?? 120_000;
  const kcmOpts: ControllerManagerOptions | undefined =
    opts.controllerManager === true ? {} : opts.controllerManager ? opts.controllerManager : undefined;
  const tools =
    opts.tools ??
    (await ensureKubeTools({
      tools: [
        'kube-apiserver',
        'etcd',
        'kubectl',
        ...(kcmOpts ? (['kube-controller-manager'] as const) : []),
      ],
    }));
  const serviceDir: ServiceDir = createServiceDir('kube', opts.keep ?? false);
  const dir = serviceDir.path;
  const procs: ServiceProcess[] = [];
  const logs = (lines = 40) => procs.map((p) => `[${p.name}]\n${p.logTail(lines)}`).join('\n');
  const stopAll = async () => {
    for (const p of [...procs].reverse()) await p.stop();
  };
  try {
    const pki = await createControlPlanePki(dir);
    const etcd = await startEtcd(tools, dir, timeoutMs);
    procs.push(etcd.proc);

    const { port, proc: apiserver } = await retryOnPortClash(async () => {
      const port = await freePort();
      const server = `https://127.0.0.1:${port}`;
      const proc = await startService({
        name: 'kube-apiserver',
        command: tools.kubeApiserver,
        args: [
          `--etcd-servers=${etcd.url}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${port}`,
          `--cert-dir=${join(dir, 'apiserver-certs')}`,
          `--tls-cert-file=${pki.apiserver.cert}`,
          `--tls-private-key-file=${pki.apiserver.key}`,
          `--client-ca-file=${pki.ca.cert}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${pki.serviceAccount.publicKey}`,
          `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
          // loopback ClusterIPs: a Service the API server dials never leads off the machine
          '--service-cluster-ip-range=127.96.0.0/16',
          '--authorization-mode=RBAC',
          '--allow-privileged=true',
          '--endpoint-reconciler-type=none',
          '--profiling=false',
          '--v=1',
          ...(aggregation
            ? [
                `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
                '--requestheader-allowed-names=front-proxy-client',
                '--requestheader-username-headers=X-Remote-User',
                '--requestheader-group-headers=X-Remote-Group',
                '--requestheader-extra-headers-prefix=X-Remote-Extra-',
                `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
                `--proxy-client-key-file=${pki.frontProxyClient.key}`,
                // aggregated APIs are reached through their Service (ClusterIP or ExternalName),
                // not EndpointSlices: see registerLocalApiService
              ]
            : []),
          ...featureGateFlag(opts.featureGates),
          ...(opts.runtimeConfig?.length ? [`--runtime-config=${opts.runtimeConfig.join(',')}`] : []),
          ...(opts.apiserverArgs ?? []),
        ],
        logFile: join(dir, 'kube-apiserver.log'),
        ready: async () =>
          (await httpsGet(`${server}/readyz`, { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key }))
            .status === 200,
        readyTimeoutMs: timeoutMs,
        pollIntervalMs: 250,
        stopGraceMs: 10_000,
      });
      return { port, proc };
    });
    procs.push(apiserver);
    const server = `https://127.0.0.1:${port}`;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig(server, pki, pki.admin), { mode: 0o600 });
    const get = (path: string) =>
      httpsGet(`${server}${path}`, { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });

    // /readyz passes before the system namespaces exist; objects in `default` need it.
    const deadline = Date.now() + timeoutMs;
    while ((await get('/api/v1/namespaces/default')).status !== 200) {
      if (Date.now() > deadline) throw new Error('the default namespace did not appear');
      await new Promise((r) => setTimeout(r, 200));
    }

    let controllerManagerPort: number | undefined;
    if (kcmOpts) {
      const kcmConfig = join(dir, 'controller-manager.kubeconfig');
      writeFileSync(kcmConfig, kubeconfig(server, pki, pki.controllerManager), { mode: 0o600 });
      const started = await retryOnPortClash(async () => {
        const kcmPort = await freePort();
        const proc = await startService({
          name: 'kube-controller-manager',
          command: tools.kubeControllerManager,
          args: [
            `--kubeconfig=${kcmConfig}`,
            `--authentication-kubeconfig=${kcmConfig}`,
            `--authorization-kubeconfig=${kcmConfig}`,
            '--bind-address=127.0.0.1',
            `--secure-port=${kcmPort}`,
            `--cert-dir=${join(dir, 'controller-manager-certs')}`,
            '--leader-elect=false',
            '--use-service-account-credentials=false',
            `--service-account-private-key-file=${pki.serviceAccount.privateKey}`,
            `--root-ca-file=${pki.ca.cert}`,
            `--cluster-signing-cert-file=${pki.ca.cert}`,
            `--cluster-signing-key-file=${pki.ca.key}`,
            `--controllers=${(kcmOpts.controllers ?? ['*']).join(',')}`,
            ...(kcmOpts.hpaSyncPeriod
              ? [`--horizontal-pod-autoscaler-sync-period=${kcmOpts.hpaSyncPeriod}`]
              : []),
            '--profiling=false',
            '--v=1',
            ...featureGateFlag(opts.featureGates),
            ...(kcmOpts.extraArgs ?? []),
          ],
          logFile: join(dir, 'kube-controller-manager.log'),
          ready: async () =>
            (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200,
          readyTimeoutMs: timeoutMs,
          pollIntervalMs: 250,
          stopGraceMs: 10_000,
        });
        return { kcmPort, proc };
      });
      procs.push(started.proc);
      controllerManagerPort = started.kcmPort;
    }

    let stopped: Promise<void> | undefined;
    return {
      server,
      kubeconfigPath,
      dir,
      pki,
      etcdUrl: etcd.url,
      controllerManagerPort,
      tools,
      kubectl: (args, kopts = {}) =>
        runCommand(tools.kubectl, args, {
          env: { ...process.env, ...kopts.env, KUBECONFIG: kubeconfigPath },
          input: kopts.input,
          timeoutMs: kopts.timeoutMs ?? 120_000,
        }),
      get,
      logs,
      stop: () => {
        stopped ??= (async () => {
          await stopAll();
          serviceDir.remove();
        })();
        return stopped;
      },
    };
  } catch (error) {
    const tail = logs();
    await stopAll();
    serviceDir.remove();
    if (error instanceof Error && tail && !error.message.includes('last lines')) {
      error.message += `\n--- control-plane logs ---\n${tail}`;
    }
    throw error;
  }
}
