// The operator's Kubernetes API access. @kubernetes/client-node supplies the configuration (in-cluster
// service account, KUBECONFIG or ~/.kube/config), authentication (client certificates, bearer tokens,
// token files that rotate) and the Watch/ListWatch used by the informers. Requests go through this thin
// JSON layer: server-side apply must send the object exactly as built (client-node's ObjectSerializer
// re-maps built-in kinds through its generated models and its generated patch methods default to
// json-patch), and status, scale and other subresources need plain paths.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from './desired.ts';

export class KubeError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(status: number, reason: string, message: string, body: unknown) {
    super(message);
    this.name = 'KubeError';
    this.status = status;
    this.reason = reason;
    this.body = body;
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof KubeError && e.status === 409;

/** apiVersion + kind -> plural, for every kind the operator touches. */
const PLURALS: Record<string, string> = {
  Deployment: 'deployments',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  ScaledObject: 'scaledobjects',
  KafkaTopic: 'kafkatopics',
  MarketDataPipeline: 'marketdatapipelines',
  Lease: 'leases',
  Event: 'events',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  APIService: 'apiservices',
  Service: 'services',
  Pod: 'pods',
  ReplicaSet: 'replicasets',
  Namespace: 'namespaces',
};

const CLUSTER_SCOPED = new Set(['APIService', 'Namespace', 'CustomResourceDefinition']);

export function resourcePath(
  apiVersion: string,
  kind: string,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const plural = PLURALS[kind];
  if (!plural) throw new Error(`unknown kind ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace && !CLUSTER_SCOPED.has(kind) ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

export class Kube {
  readonly kc: KubeConfig;
  readonly server: string;
  private agent: Agent | HttpAgent | undefined;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the Kubernetes configuration');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /** In-cluster when KUBERNETES_SERVICE_HOST is set and no kubeconfig is given, else KUBECONFIG / ~/.kube/config. */
  static fromEnvironment(kubeconfigPath?: string): Kube {
    const kc = new KubeConfig();
    // a KUBECONFIG list (a:b) is merged by loadFromDefault
    if (kubeconfigPath && !kubeconfigPath.includes(':')) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
    return new Kube(kc);
  }

  private async transport(): Promise<{ headers: Record<string, string>; agent: Agent | HttpAgent }> {
    const opts: {
      headers?: Record<string, string>;
      ca?: Buffer;
      cert?: Buffer;
      key?: Buffer;
      rejectUnauthorized?: boolean;
      servername?: string;
    } = {};
    await this.kc.applyToHTTPSOptions(opts as never);
    if (!this.agent) {
      this.agent = this.server.startsWith('https:')
        ? new Agent({
            keepAlive: true,
            maxSockets: 16,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            servername: opts.servername,
            rejectUnauthorized: opts.rejectUnauthorized ?? true,
          })
        : new HttpAgent({ keepAlive: true, maxSockets: 16 });
    }
    return { headers: { ...(opts.headers ?? {}) }, agent: this.agent };
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { headers, agent } = await this.transport();
    const url = new URL(`${this.server}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const send = url.protocol === 'https:' ? request : httpRequest;
    return new Promise<T>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent,
          headers: {
            ...headers,
            accept: 'application/json',
            ...(body === undefined
              ? {}
              : {
                  'content-type': opts.contentType ?? 'application/json',
                  'content-length': Buffer.byteLength(body),
                }),
          },
          timeout: opts.timeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(parsed as T);
            else {
              const s = parsed as { reason?: string; message?: string } | undefined;
              reject(
                new KubeError(
                  status,
                  s?.reason ?? String(status),
                  `${method} ${path}: ${status} ${s?.message ?? text.slice(0, 500)}`,
                  parsed,
                ),
              );
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** Server-side apply (application/apply-patch+yaml; JSON is YAML) with our field manager, forcing conflicts. */
  apply<T = Record<string, unknown>>(
    obj: ObjectRef & Record<string, unknown>,
    opts: { fieldManager?: string; subresource?: string; force?: boolean } = {},
  ): Promise<T> {
    return this.request<T>(
      'PATCH',
      resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, opts.subresource),
      {
        body: obj,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: opts.force ?? true },
      },
    );
  }

  get<T = Record<string, unknown>>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    return this.request<T>('GET', resourcePath(apiVersion, kind, namespace, name));
  }

  /** GET that resolves undefined on 404. */
  async find<T = Record<string, unknown>>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(apiVersion, kind, namespace, name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T = Record<string, unknown>>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query: Record<string, string | undefined> = {},
  ): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    return this.request('GET', resourcePath(apiVersion, kind, namespace), { query });
  }

  create<T = Record<string, unknown>>(obj: ObjectRef & Record<string, unknown>): Promise<T> {
    return this.request<T>('POST', resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  replace<T = Record<string, unknown>>(obj: ObjectRef & Record<string, unknown>): Promise<T> {
    return this.request<T>(
      'PUT',
      resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name),
      {
        body: obj,
        query: { fieldManager: FIELD_MANAGER },
      },
    );
  }

  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(apiVersion, kind, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** Whether the API server serves a group/version/plural (e.g. KEDA's ScaledObject, Strimzi's KafkaTopic). */
  async serves(apiVersion: string, plural: string): Promise<boolean> {
    try {
      const list = await this.request<{ resources: Array<{ name: string }> }>('GET', `/apis/${apiVersion}`);
      return list.resources.some((r) => r.name === plural);
    } catch (e) {
      if (isNotFound(e) || (e instanceof KubeError && e.status === 503)) return false;
      throw e;
    }
  }

  close(): void {
    this.agent?.destroy();
  }
}
