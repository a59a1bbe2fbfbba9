// skaffold.yaml and kind-config.yaml, checked without skaffold or kind (neither can run here):
//  - against field lists of their schemas: skaffold/v4beta13 (the definitions of Skaffold's
//    published JSON schema for the parts we use; additionalProperties false as there) and kind's
//    kind.x-k8s.io/v1alpha4 Cluster type (sigs.k8s.io/kind pkg/apis/config/v1alpha4);
//  - for what those files point at: paths exist, profile patches hit existing paths, the
//    port-forwards and node ports name Services/ports the charts really render, the built image
//    is the one the chart is given.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ChartWorkspace,
  ensureKubeTools,
  type KubeTools,
  parseManifests,
  prepareCharts,
} from '@tickflow/k8s-harness';
import { Ajv, type ErrorObject } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  CHARTS_DIR,
  K8S_DIR,
  NAMESPACE,
  RELEASE,
  ROOT,
  readYaml,
  renderTickflow,
  TOOLS_TIMEOUT,
} from './support.ts';

// ---- skaffold/v4beta13: the definitions we use, field for field ----------------------------
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const strings = { type: 'array', items: { type: 'string' } };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const hooks = { type: 'object' };

const skaffoldSchema = {
  $ref: '#/definitions/SkaffoldConfig',
  definitions: {
    SkaffoldConfig: obj(
      {
        apiVersion: { const: 'skaffold/v4beta13' },
        kind: { const: 'Config' },
        metadata: { $ref: '#/definitions/Metadata' },
        requires: { type: 'array' },
        build: { $ref: '#/definitions/BuildConfig' },
        test: { type: 'array' },
        manifests: { $ref: '#/definitions/RenderConfig' },
        deploy: { $ref: '#/definitions/DeployConfig' },
        portForward: { type: 'array', items: { $ref: '#/definitions/PortForwardResource' } },
        resourceSelector: { type: 'object' },
        verify: { type: 'array' },
        customActions: { type: 'array' },
        profiles: { type: 'array', items: { $ref: '#/definitions/Profile' } },
      },
      ['apiVersion', 'kind'],
    ),
    Metadata: obj({ name: { type: 'string' }, labels: stringMap, annotations: stringMap }),
    BuildConfig: obj({
      artifacts: { type: 'array', items: { $ref: '#/definitions/Artifact' } },
      insecureRegistries: strings,
      tagPolicy: { $ref: '#/definitions/TagPolicy' },
      platforms: strings,
      local: { $ref: '#/definitions/LocalBuild' },
      googleCloudBuild: { type: 'object' },
      cluster: { type: 'object' },
      hooks,
    }),
    Artifact: obj(
      {
        image: { type: 'string' },
        context: { type: 'string' },
        sync: { type: 'object' },
        requires: { type: 'array' },
        hooks,
        platforms: strings,
        runtimeType: { type: 'string' },
        docker: { $ref: '#/definitions/DockerArtifact' },
      },
      ['image'],
    ),
    DockerArtifact: obj({
      dockerfile: { type: 'string' },
      target: { type: 'string' },
      buildArgs: stringMap,
      network: { type: 'string' },
      addHost: strings,
      cacheFrom: strings,
      cacheTo: strings,
      cliFlags: strings,
      pullParent: { type: 'boolean' },
      noCache: { type: 'boolean' },
      squash: { type: 'boolean' },
      secrets: { type: 'array' },
      ssh: { type: 'string' },
    }),
    TagPolicy: obj({
      gitCommit: obj({
        variant: { enum: ['Tags', 'CommitSha', 'AbbrevCommitSha', 'TreeSha', 'AbbrevTreeSha'] },
        prefix: { type: 'string' },
        ignoreChanges: { type: 'boolean' },
      }),
      sha256: { type: 'object' },
      envTemplate: { type: 'object' },
      dateTime: { type: 'object' },
      customTemplate: { type: 'object' },
      inputDigest: { type: 'object' },
    }),
    LocalBuild: obj({
      push: { type: 'boolean' },
      tryImportMissing: { type: 'boolean' },
      useDockerCLI: { type: 'boolean' },
      useBuildkit: { type: 'boolean' },
      concurrency: { type: 'integer' },
    }),
    RenderConfig: obj({
      rawYaml: strings,
      remoteManifests: { type: 'array' },
      kustomize: { type: 'object' },
      helm: { type: 'object' },
      kpt: strings,
      hooks,
      transform: {},
      validate: {},
      output: { type: 'string' },
    }),
    DeployConfig: obj({
      docker: { type: 'object' },
      helm: { $ref: '#/definitions/LegacyHelmDeploy' },
      kpt: { type: 'object' },
      kubectl: { $ref: '#/definitions/KubectlDeploy' },
      cloudrun: { type: 'object' },
      statusCheck: { type: 'boolean' },
      statusCheckDeadlineSeconds: { type: 'integer' },
      tolerateFailuresUntilDeadline: { type: 'boolean' },
      kubeContext: { type: 'string' },
      logs: { type: 'object' },
    }),
    LegacyHelmDeploy: obj({
      concurrency: { type: 'integer' },
      releases: { type: 'array', items: { $ref: '#/definitions/HelmRelease' } },
      flags: obj({ global: strings, install: strings, upgrade: strings }),
      hooks,
    }),
    HelmRelease: obj(
      {
        name: { type: 'string' },
        chartPath: { type: 'string' },
        remoteChart: { type: 'string' },
        valuesFiles: strings,
        namespace: { type: 'string' },
        version: { type: 'string' },
        setValues: { type: 'object' },
        setValueTemplates: { type: 'object' },
        setFiles: stringMap,
        createNamespace: { type: 'boolean' },
        wait: { type: 'boolean' },
        recreatePods: { type: 'boolean' },
        skipBuildDependencies: { type: 'boolean' },
        skipTests: { type: 'boolean' },
        useHelmSecrets: { type: 'boolean' },
        repo: { type: 'string' },
        upgradeOnChange: { type: 'boolean' },
        overrides: {},
        packaged: { type: 'object' },
        dependsOn: strings,
      },
      ['name'],
    ),
    KubectlDeploy: obj({
      flags: obj({
        global: strings,
        apply: strings,
        delete: strings,
        disableValidation: { type: 'boolean' },
      }),
      remoteManifests: strings,
      defaultNamespace: { type: 'string' },
      hooks,
    }),
    PortForwardResource: obj({
      resourceType: { type: 'string' },
      resourceName: { type: 'string' },
      namespace: { type: 'string' },
      port: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      address: { type: 'string' },
      localPort: { type: 'integer' },
    }),
    Profile: obj(
      {
        name: { type: 'string' },
        activation: {
          type: 'array',
          items: obj({
            env: { type: 'string' },
            kubeContext: { type: 'string' },
            command: { type: 'string' },
          }),
        },
        requiresAllActivations: { type: 'boolean' },
        patches: {
          type: 'array',
          items: obj(
            { op: { type: 'string' }, path: { type: 'string' }, from: { type: 'string' }, value: {} },
            ['path'],
          ),
        },
        build: { $ref: '#/definitions/BuildConfig' },
        test: { type: 'array' },
        manifests: { $ref: '#/definitions/RenderConfig' },
        deploy: { $ref: '#/definitions/DeployConfig' },
        portForward: { type: 'array', items: { $ref: '#/definitions/PortForwardResource' } },
        resourceSelector: { type: 'object' },
        verify: { type: 'array' },
        customActions: { type: 'array' },
      },
      ['name'],
    ),
  },
};

// ---- kind.x-k8s.io/v1alpha4 Cluster -----------------------------------------------------------
const kindSchema = obj(
  {
    kind: { const: 'Cluster' },
    apiVersion: { const: 'kind.x-k8s.io/v1alpha4' },
    name: { type: 'string' },
    nodes: {
      type: 'array',
      items: obj({
        role: { enum: ['control-plane', 'worker'] },
        image: { type: 'string' },
        labels: stringMap,
        extraMounts: { type: 'array' },
        extraPortMappings: {
          type: 'array',
          items: obj({
            containerPort: { type: 'integer', minimum: 1, maximum: 65535 },
            hostPort: { type: 'integer', minimum: -1, maximum: 65535 },
            listenAddress: { type: 'string' },
            protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
          }),
        },
        gpus: { type: 'string' },
        kubeadmConfigPatches: strings,
        kubeadmConfigPatchesJSON6902: { type: 'array' },
      }),
    },
    networking: { type: 'object' },
    featureGates: { type: 'object', additionalProperties: { type: 'boolean' } },
    runtimeConfig: stringMap,
    kubeadmConfigPatches: strings,
    kubeadmConfigPatchesJSON6902: { type: 'array' },
    containerdConfigPatches: strings,
    containerdConfigPatchesJSON6902: strings,
  },
  ['kind', 'apiVersion'],
);

type HelmRelease = {
  name: string;
  chartPath?: string;
  remoteChart?: string;
  namespace?: string;
  valuesFiles?: string[];
  setValueTemplates?: Record<string, string>;
};
type SkaffoldConfig = {
  metadata: { name: string };
  build?: { artifacts: Array<{ image: string; docker?: { dockerfile?: string } }> };
  manifests?: { rawYaml?: string[] };
  deploy?: { helm?: { releases: HelmRelease[] } };
  portForward?: Array<{
    resourceType: string;
    resourceName: string;
    namespace: string;
    port: number;
    localPort: number;
  }>;
  profiles?: Array<{
    name: string;
    patches?: Array<{ op?: string; path: string; value?: unknown }>;
    manifests?: { rawYaml?: string[] };
    build?: SkaffoldConfig['build'];
  }>;
};

const ajv = new Ajv({ allErrors: true, strict: true });
const explain = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');

const configs = parseAllDocuments(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as SkaffoldConfig;
});
const byName = (name: string) => configs.find((c) => c.metadata.name === name) as SkaffoldConfig;

function pointer(doc: unknown, path: string): { exists: boolean; value: unknown } {
  let node: unknown = doc;
  for (const raw of path.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(part in (node as object)))
      return { exists: false, value: undefined };
    node = (node as Record<string, unknown>)[part];
  }
  return { exists: true, value: node };
}

describe('skaffold.yaml', () => {
  it('is skaffold/v4beta13, field for field, in every config', () => {
    const validate = ajv.compile(skaffoldSchema);
    for (const config of configs) {
      expect(validate(config), `${config.metadata?.name}:\n${explain(validate.errors)}`).toBe(true);
    }
  });

  it('deploys the operators, then Kafka, then the app; each config has the kind and gke profiles', () => {
    expect(configs.map((c) => c.metadata.name)).toEqual(['platform', 'kafka', 'tickflow']);
    for (const config of configs) expect(config.profiles?.map((p) => p.name)).toEqual(['kind', 'gke']);
    const platform = byName('platform').deploy?.helm?.releases ?? [];
    expect(platform.map((r) => r.name)).toEqual(['strimzi', 'monitoring']);
  });

  it('refers only to files that exist, in the base config and in every profile', () => {
    const paths: string[] = [];
    for (const config of configs) {
      paths.push(...(config.manifests?.rawYaml ?? []));
      for (const a of config.build?.artifacts ?? []) paths.push(a.docker?.dockerfile ?? 'Dockerfile');
      for (const r of config.deploy?.helm?.releases ?? []) {
        if (r.chartPath) paths.push(r.chartPath);
        paths.push(...(r.valuesFiles ?? []));
      }
      for (const profile of config.profiles ?? []) {
        paths.push(...(profile.manifests?.rawYaml ?? []));
        for (const patch of profile.patches ?? []) {
          // a replace must hit an existing path; string values that look like files must exist
          expect(
            pointer(config, patch.path).exists,
            `${config.metadata.name}/${profile.name}: ${patch.path}`,
          ).toBe(true);
          if (typeof patch.value === 'string' && /\.ya?ml$/.test(patch.value)) paths.push(patch.value);
        }
      }
    }
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('gives the chart the image it builds', () => {
    const app = byName('tickflow');
    const image = app.build?.artifacts[0]?.image as string;
    const release = app.deploy?.helm?.releases[0] as HelmRelease;
    expect(release.setValueTemplates).toEqual({
      'image.repository': `{{.IMAGE_REPO_${image}}}`,
      'image.tag': `{{.IMAGE_TAG_${image}}}`,
    });
    expect(release).toMatchObject({ name: RELEASE, namespace: NAMESPACE, chartPath: 'charts/tickflow' });
  });

  it('kind and gke deploy the matching Kafka manifests', () => {
    const kafka = byName('kafka');
    expect(kafka.manifests?.rawYaml?.filter((p) => p.includes('/gke/'))).toEqual([]);
    const gke = kafka.profiles?.find((p) => p.name === 'gke')?.manifests?.rawYaml ?? [];
    expect(gke.filter((p) => p.includes('/kind/'))).toEqual([]);
    expect(gke.filter((p) => p.includes('/gke/'))).toHaveLength(2);
  });
});

describe('port-forwards and node ports reach what the charts render', () => {
  let tools: KubeTools;
  let ws: ChartWorkspace;
  let kindServices: Map<string, Set<number>>;

  beforeAll(async () => {
    tools = await ensureKubeTools({ tools: ['helm4'] });
    ws = await prepareCharts(tools, 4, CHARTS_DIR, ['tickflow']);
    const objects = parseManifests(await renderTickflow(tools, 4, ws, 'values-kind.yaml'));
    kindServices = new Map(
      objects
        .filter((o) => o.kind === 'Service')
        .map((s) => [
          `${NAMESPACE}/${s.metadata.name}`,
          new Set(
            (s.spec as { ports: Array<{ port: number; nodePort?: number }> }).ports.flatMap((p) => [p.port]),
          ),
        ]),
    );
  }, TOOLS_TIMEOUT);

  afterAll(() => ws?.remove());

  it("skaffold's port-forwards name Services and ports of the chart, or kube-prometheus-stack's release", () => {
    const app = byName('tickflow');
    const monitoring = byName('platform').deploy?.helm?.releases.find(
      (r) => r.remoteChart === 'kube-prometheus-stack',
    ) as HelmRelease;
    const expectedMonitoring = new Map([
      // kube-prometheus-stack's Service names: <release>-grafana (port 80), <release>-kube-prometheus-prometheus (9090)
      [`${monitoring.namespace}/${monitoring.name}-grafana`, 80],
      [`${monitoring.namespace}/${monitoring.name}-kube-prometheus-prometheus`, 9090],
    ]);
    const localPorts = new Set<number>();
    for (const pf of app.portForward ?? []) {
      expect(pf.resourceType).toBe('service');
      const id = `${pf.namespace}/${pf.resourceName}`;
      if (expectedMonitoring.has(id)) expect(pf.port).toBe(expectedMonitoring.get(id));
      else
        expect(
          kindServices.get(id)?.has(pf.port),
          `${id}:${pf.port} is not rendered by charts/tickflow`,
        ).toBe(true);
      expect(localPorts.has(pf.localPort), `local port ${pf.localPort} twice`).toBe(false);
      localPorts.add(pf.localPort);
    }
    expect(
      [...expectedMonitoring.keys()].every((id) =>
        app.portForward?.some((pf) => `${pf.namespace}/${pf.resourceName}` === id),
      ),
    ).toBe(true);
  });

  it('kind-config.yaml maps exactly the NodePorts the kind values files set, to distinct host ports', async () => {
    const kind = readYaml(join(ROOT, 'kind-config.yaml')) as {
      nodes: Array<{
        role: string;
        extraPortMappings?: Array<{ containerPort: number; hostPort: number; listenAddress?: string }>;
      }>;
    };
    const mappings = kind.nodes.flatMap((n) => n.extraPortMappings ?? []);
    const objects = parseManifests(await renderTickflow(tools, 4, ws, 'values-kind.yaml'));
    const chartNodePorts = objects
      .filter((o) => o.kind === 'Service')
      .flatMap((s) =>
        (s.spec as { ports: Array<{ nodePort?: number }> }).ports.flatMap((p) =>
          p.nodePort ? [p.nodePort] : [],
        ),
      );
    const monitoringKind = readYaml(join(K8S_DIR, 'monitoring/kube-prometheus-stack-kind-values.yaml')) as {
      grafana: { service: { nodePort: number } };
      prometheus: { service: { nodePort: number } };
    };
    const expected = [
      ...chartNodePorts,
      monitoringKind.grafana.service.nodePort,
      monitoringKind.prometheus.service.nodePort,
    ];
    expect(mappings.map((m) => m.containerPort).sort()).toEqual(expected.sort());
    for (const m of mappings) {
      expect(m.containerPort).toBeGreaterThanOrEqual(30000);
      expect(m.containerPort).toBeLessThanOrEqual(32767);
      expect(m.listenAddress).toBe('127.0.0.1');
    }
    expect(new Set(mappings.map((m) => m.hostPort)).size).toBe(mappings.length);
    // skaffold's port-forwards must not collide with kind's host ports
    const forwarded = new Set((byName('tickflow').portForward ?? []).map((pf) => pf.localPort));
    expect(mappings.filter((m) => forwarded.has(m.hostPort))).toEqual([]);
  });
});

describe('kind-config.yaml', () => {
  const config = readYaml(join(ROOT, 'kind-config.yaml'));

  it('is a kind.x-k8s.io/v1alpha4 Cluster, field for field', () => {
    const validate = ajv.compile(kindSchema);
    expect(validate(config), explain(validate.errors)).toBe(true);
  });

  it('has one control plane and two workers, control plane first (it carries the port mappings)', () => {
    const roles = (config.nodes as Array<{ role: string }>).map((n) => n.role);
    expect(roles).toEqual(['control-plane', 'worker', 'worker']);
  });

  it('is what skaffold profile activation and the docs expect (cluster name tickflow -> context kind-tickflow)', () => {
    expect(config.name).toBe('tickflow');
    const kindProfile = byName('tickflow').profiles?.find((p) => p.name === 'kind') as unknown as {
      activation: Array<{ kubeContext: string }>;
    };
    expect(new RegExp(`^${kindProfile.activation[0]?.kubeContext}$`).test(`kind-${config.name}`)).toBe(true);
  });
});
