// Registering a server that runs in the test process (or any process on this machine) as an
// aggregated API (APIService), e.g. a custom/external metrics adapter under test.
//
// The API server reaches it through an ExternalName Service `localhost`: the aggregator (service
// routing, the default) connects to https://<externalName>:<APIService port>. (Endpoints and IP
// EndpointSlices may not hold loopback addresses, and FQDN slices need a dotted name, so
// endpoint routing cannot reach a local process.) The aggregator verifies the server's certificate
// for the Service's name, `<service>.<namespace>.svc` (localApiServiceHost), against the caBundle:
// issue it with issueServingCert(dir, name, cp.pki.ca, [`DNS:${localApiServiceHost(opts)}`]).
// The server may check the proxy's client certificate against `cp.pki.frontProxyCa.cert` (CN
// front-proxy-client) and read the user from X-Remote-User / X-Remote-Group.
import { readFileSync } from 'node:fs';
import type { ControlPlane } from './control-plane.ts';

export interface LocalApiServiceOptions {
  group: string;
  version: string;
  /** Port of the HTTPS server on this machine. */
  port: number;
  /** Host name the aggregator connects to (must be in the serving cert). Default `localhost`. */
  host?: string;
  /** PEM of the CA that signed the server's certificate. Default: the cluster CA. */
  caBundlePem?: string;
  /** Skip verifying the server's certificate (then any self-signed one will do). */
  insecureSkipTLSVerify?: boolean;
  namespace?: string;
  /** Service name; default `<group with dots as dashes>-<version>`. */
  serviceName?: string;
  groupPriorityMinimum?: number;
  versionPriority?: number;
}

/** The Service name registerLocalApiService uses by default. */
function defaultServiceName(group: string, version: string): string {
  return `${group.replaceAll('.', '-')}-${version}`.slice(0, 63);
}

/** The host name the aggregator verifies in the server's certificate: `<service>.<namespace>.svc`. */
export function localApiServiceHost(
  opts: Pick<LocalApiServiceOptions, 'group' | 'version' | 'namespace' | 'serviceName'>,
): string {
  return `${opts.serviceName ?? defaultServiceName(opts.group, opts.version)}.${opts.namespace ?? 'kube-system'}.svc`;
}

export interface LocalApiService {
  /** `<version>.<group>`, the APIService's name. */
  name: string;
  /** Resolves when the APIService reports Available=True (rejects after timeoutMs with its status). */
  waitAvailable(timeoutMs?: number): Promise<void>;
  remove(): Promise<void>;
}

export async function registerLocalApiService(
  cp: ControlPlane,
  opts: LocalApiServiceOptions,
): Promise<LocalApiService> {
  const namespace = opts.namespace ?? 'kube-system';
  const serviceName = opts.serviceName ?? defaultServiceName(opts.group, opts.version);
  const name = `${opts.version}.${opts.group}`;
  const caBundle = Buffer.from(opts.caBundlePem ?? readFileSync(cp.pki.ca.cert, 'utf8')).toString('base64');
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName, namespace },
      spec: { type: 'ExternalName', externalName: opts.host ?? 'localhost' },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name },
      spec: {
        group: opts.group,
        version: opts.version,
        // with an ExternalName Service the aggregator dials <externalName>:<this port>
        service: { namespace, name: serviceName, port: opts.port },
        ...(opts.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : { caBundle }),
        groupPriorityMinimum: opts.groupPriorityMinimum ?? 100,
        versionPriority: opts.versionPriority ?? 100,
      },
    },
  ];
  const manifest = objects.map((o) => JSON.stringify(o)).join('\n---\n');
  await cp.kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager=tickflow-test', '-f', '-'],
    {
      input: manifest,
    },
  );
  return {
    name,
    waitAvailable: async (timeoutMs = 60_000) => {
      try {
        await cp.kubectl(
          [
            'wait',
            '--for=condition=Available',
            `--timeout=${Math.ceil(timeoutMs / 1000)}s`,
            `apiservice/${name}`,
          ],
          {
            timeoutMs: timeoutMs + 30_000,
          },
        );
      } catch (error) {
        const status = await cp
          .kubectl(['get', 'apiservice', name, '-o', 'jsonpath={.status}'])
          .catch(() => ({ stdout: '?' }));
        throw new Error(`APIService ${name} not Available: ${status.stdout}\n${(error as Error).message}`);
      }
    },
    remove: async () => {
      await cp.kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], { input: manifest });
    },
  };
}
