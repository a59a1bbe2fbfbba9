// A real control plane from the harness: etcd + kube-apiserver + kube-controller-manager, with the
// aggregation layer proxying to an HTTPS server in this process. The first run on a machine builds
// the binaries from the Go module proxy into the cache (many minutes), hence the long hook timeout.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlPlane,
  ensureKubeTools,
  issueServingCert,
  KUBERNETES_VERSION,
  localApiServiceHost,
  registerLocalApiService,
  startControlPlane,
} from '../src/index.ts';

const BUILD_TIMEOUT = 120 * 60_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('startControlPlane', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    const tools = await ensureKubeTools({
      tools: ['kube-apiserver', 'kube-controller-manager', 'etcd', 'kubectl'],
    });
    cp = await startControlPlane({ tools, aggregation: true, controllerManager: { hpaSyncPeriod: '2s' } });
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    await cp?.stop();
  });

  it('serves the pinned Kubernetes release to kubectl through the written kubeconfig', async () => {
    const { stdout } = await cp.kubectl(['version', '-o', 'json']);
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    const whoami = JSON.parse((await cp.kubectl(['auth', 'whoami', '-o', 'json'])).stdout) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(whoami.status.userInfo.username).toBe('tickflow-admin');
    expect(whoami.status.userInfo.groups).toContain('system:masters');
    expect((await cp.get('/readyz')).status).toBe(200);
  });

  it('runs kube-controller-manager: a Deployment gets its ReplicaSet and Pods, namespaces their ServiceAccount', async () => {
    await cp.kubectl(['create', 'namespace', 'cm-test']);
    await cp.kubectl([
      '-n',
      'cm-test',
      'create',
      'deployment',
      'web',
      '--image=registry.invalid/web:1',
      '--replicas=2',
    ]);
    const pods = await until('2 pods of deployment/web', async () => {
      const list = JSON.parse(
        (await cp.kubectl(['-n', 'cm-test', 'get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout,
      ) as {
        items: Array<{ metadata: { ownerReferences?: Array<{ kind: string }> } }>;
      };
      return list.items.length === 2 ? list.items : undefined;
    });
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
    // the serviceaccount controller made `default`, without which pods would have been refused
    await cp.kubectl(['-n', 'cm-test', 'get', 'serviceaccount', 'default']);
  });

  it('runs the HPA controller at the requested sync period (it reports on a fresh HPA within seconds)', async () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'cm-test' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
      },
    };
    await cp.kubectl(['apply', '-f', '-'], { input: JSON.stringify(hpa) });
    const conditions = await until('HPA conditions', async () => {
      const hpa = JSON.parse(
        (await cp.kubectl(['-n', 'cm-test', 'get', 'hpa', 'web', '-o', 'json'])).stdout,
      ) as {
        status: { conditions?: Array<{ type: string; status: string; reason: string }> };
      };
      return hpa.status.conditions?.length ? hpa.status.conditions : undefined;
    });
    // no metrics API here: the controller says so, which proves it ran
    expect(conditions.map((c) => c.type)).toContain('AbleToScale');
  });

  it('proxies an aggregated API to an HTTPS server of the test, authenticated as the front proxy', async () => {
    const api = { group: 'test.tickflow.dev', version: 'v1alpha1' };
    // the aggregator checks the certificate for the Service's name, <service>.<namespace>.svc
    const serving = await issueServingCert(`${cp.dir}/ext`, 'ext-apiserver', cp.pki.ca, [
      `DNS:${localApiServiceHost(api)}`,
    ]);
    const seen: Array<{
      path: string;
      user?: string;
      groups?: string;
      proxyCn?: string;
      authorized: boolean;
    }> = [];
    const groupVersion = 'test.tickflow.dev/v1alpha1';
    const server: Server = createServer(
      {
        cert: readFileSync(serving.cert),
        key: readFileSync(serving.key),
        ca: readFileSync(cp.pki.frontProxyCa.cert),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        seen.push({
          path,
          user: req.headers['x-remote-user'] as string | undefined,
          groups: ([] as string[]).concat(req.headers['x-remote-group'] ?? []).join(','),
          proxyCn: peer?.subject?.CN as string | undefined,
          authorized: socket.authorized,
        });
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (path === `/apis/${groupVersion}`) {
          json(200, {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion,
            resources: [
              {
                name: 'things',
                singularName: 'thing',
                namespaced: true,
                kind: 'Thing',
                verbs: ['get', 'list'],
              },
            ],
          });
        } else if (path === `/apis/${groupVersion}/namespaces/default/things`) {
          json(200, {
            kind: 'ThingList',
            apiVersion: groupVersion,
            metadata: {},
            items: [{ metadata: { name: 'one' } }],
          });
        } else {
          json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
        }
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const registered = await registerLocalApiService(cp, { ...api, port });
      await registered.waitAvailable(90_000);
      // the proxy handler learns of availability from its informer, a moment after the status
      const stdout = await until('the aggregated API through the API server', async () => {
        const res = await cp.get(`/apis/${groupVersion}/namespaces/default/things`);
        return res.status === 200 ? res.body : undefined;
      });
      expect(
        (JSON.parse(stdout) as { items: Array<{ metadata: { name: string } }> }).items[0]?.metadata.name,
      ).toBe('one');
      const proxied = seen.find((s) => s.path.endsWith('/things'));
      expect(proxied).toMatchObject({
        user: 'tickflow-admin',
        proxyCn: 'front-proxy-client',
        authorized: true,
      });
      expect(proxied?.groups).toContain('system:masters');
      await registered.remove();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
