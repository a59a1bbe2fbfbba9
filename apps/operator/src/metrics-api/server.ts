// The external metrics API (external.metrics.k8s.io/v1beta1) over HTTPS, registered with the API
// server by an APIService. Serves discovery and one metric, `kafka_consumergroup_lag`, per namespace:
//   GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/kafka_consumergroup_lag?labelSelector=...
// returns an ExternalMetricValueList with one item per MarketDataPipeline in {ns} whose metric labels
// (tickflow.dev/pipeline=<name>, topic=<raw topic>, consumergroup=<group>) match the selector; the HPA
// made by the operator selects tickflow.dev/pipeline=<name>.
//
// Authentication (auth: delegated, the default): the API server's aggregator connects with its
// front-proxy client certificate; we require a client certificate that chains to the request-header CA
// published in kube-system/extension-apiserver-authentication (the reason for the
// extension-apiserver-authentication-reader RoleBinding), whose CN is in requestheader-allowed-names
// (when that list is not empty), and take the user and groups from the X-Remote-User / X-Remote-Group
// headers it sets. Authorization: a SubjectAccessReview (system:auth-delegator) that the user may `get`
// the metric resource in the namespace, cached for 10 s. Discovery needs authentication only.
// auth: none skips both (for local debugging only).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '@tickflow/telemetry';
import type { MarketDataPipeline } from '../crd.ts';
import { LAG_METRIC, PIPELINE_LABEL } from '../desired.ts';
import type { Kube } from '../kube.ts';
import type { LagSource } from './lag-source.ts';
import { matches, parseSelector, SelectorError } from './selector.ts';

export const METRICS_GROUP = 'external.metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;

export interface RequestHeaderAuth {
  caPem: string;
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
}

export type Authorizer = (
  user: string,
  groups: string[],
  namespace: string,
  resource: string,
) => Promise<boolean>;

export interface MetricsServerOptions {
  port: number;
  host?: string;
  tls: { certPem: string; keyPem: string };
  /** undefined: no authentication (auth: none). */
  requestHeader?: RequestHeaderAuth;
  authorize?: Authorizer;
  pipelines: (namespace: string) => readonly MarketDataPipeline[];
  lag: LagSource;
  log: Logger;
  now?: () => Date;
}

export interface MetricsServer {
  port: number;
  server: Server;
  setTls(tls: { certPem: string; keyPem: string }): void;
  setRequestHeader(rh: RequestHeaderAuth): void;
  /** Requests served, by outcome, for /metrics. */
  counters: Record<string, number>;
  close(): Promise<void>;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const apiGroup = {
  name: METRICS_GROUP,
  versions: [{ groupVersion: GV, version: METRICS_VERSION }],
  preferredVersion: { groupVersion: GV, version: METRICS_VERSION },
};

/** Parses the JSON-array strings of the extension-apiserver-authentication ConfigMap. */
export function requestHeaderFromConfigMap(data: Record<string, string>): RequestHeaderAuth | undefined {
  const ca = data['requestheader-client-ca-file'];
  if (!ca) return undefined;
  const arr = (k: string, def: string[]) => {
    try {
      const v = JSON.parse(data[k] ?? 'null') as string[] | null;
      return Array.isArray(v) ? v : def;
    } catch {
      return def;
    }
  };
  return {
    caPem: ca,
    allowedNames: arr('requestheader-allowed-names', []),
    usernameHeaders: arr('requestheader-username-headers', ['X-Remote-User']),
    groupHeaders: arr('requestheader-group-headers', ['X-Remote-Group']),
  };
}

/** SubjectAccessReview-based authorizer with a short positive/negative cache. */
export function sarAuthorizer(kube: Kube, ttlMs = 10_000): Authorizer {
  const cache = new Map<string, { at: number; allowed: boolean }>();
  return async (user, groups, namespace, resource) => {
    const key = JSON.stringify([user, groups, namespace, resource]);
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.allowed;
    const review = await kube.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user,
            groups,
            resourceAttributes: {
              namespace,
              verb: 'get',
              group: METRICS_GROUP,
              version: METRICS_VERSION,
              resource,
            },
          },
        },
      },
    );
    const allowed = review.status?.allowed === true;
    cache.set(key, { at: Date.now(), allowed });
    if (cache.size > 1000) cache.clear();
    return allowed;
  };
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  let requestHeader = opts.requestHeader;
  const counters: Record<string, number> = {};
  const count = (k: string) => {
    counters[k] = (counters[k] ?? 0) + 1;
  };
  const now = opts.now ?? (() => new Date());

  const authenticate = (req: IncomingMessage): { user: string; groups: string[] } | string => {
    if (!requestHeader) return { user: 'system:anonymous', groups: [] };
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return 'no client certificate signed by the request-header CA';
    const cn = socket.getPeerCertificate()?.subject?.CN;
    if (requestHeader.allowedNames.length && !requestHeader.allowedNames.includes(String(cn)))
      return `client certificate CN ${cn} is not an allowed request-header name`;
    const header = (names: string[]) =>
      names.flatMap((n) => {
        const v = req.headersDistinct[n.toLowerCase()];
        return v ?? [];
      });
    const user = header(requestHeader.usernameHeaders)[0];
    if (!user) return 'no user in the request headers';
    return { user, groups: header(requestHeader.groupHeaders) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const path = url.pathname.replace(/\/$/, '');
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    const who = authenticate(req);
    if (typeof who === 'string') {
      count('unauthorized');
      return status(res, 401, 'Unauthorized', who);
    }
    if (path === '/apis') return json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup] });
    if (path === `/apis/${METRICS_GROUP}`)
      return json(res, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup });
    if (path === `/apis/${GV}`) {
      return json(res, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: GV,
        resources: [
          {
            name: LAG_METRIC,
            singularName: '',
            namespaced: true,
            kind: 'ExternalMetricValueList',
            verbs: ['get'],
          },
        ],
      });
    }
    const m = new RegExp(`^/apis/${GV.replace('.', '\\.')}/namespaces/([^/]+)/([^/]+)$`).exec(path);
    if (!m) return status(res, 404, 'NotFound', `${path} not found`);
    const namespace = decodeURIComponent(m[1] as string);
    const metric = decodeURIComponent(m[2] as string);
    if (metric !== LAG_METRIC)
      return status(res, 404, 'NotFound', `external metric ${metric} is not served (only ${LAG_METRIC})`);
    if (opts.authorize && requestHeader && !(await opts.authorize(who.user, who.groups, namespace, metric))) {
      count('forbidden');
      return status(
        res,
        403,
        'Forbidden',
        `${who.user} may not get ${GV} ${metric} in namespace ${namespace}`,
      );
    }
    let selector: ReturnType<typeof parseSelector>;
    try {
      selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
    } catch (e) {
      if (e instanceof SelectorError) return status(res, 400, 'BadRequest', `labelSelector: ${e.message}`);
      throw e;
    }
    const wanted = opts.pipelines(namespace).flatMap((p) => {
      const labels = {
        [PIPELINE_LABEL]: p.metadata.name,
        topic: p.spec.topics.raw.name,
        consumergroup: p.spec.kafka.groupId,
      };
      return matches(selector, labels) ? [{ p, labels }] : [];
    });
    const items = await Promise.all(
      wanted.map(async ({ p, labels }) => {
        const r = await opts.lag.lag(p);
        return {
          metricName: metric,
          metricLabels: labels,
          timestamp: now()
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
          value: String(r.lag),
        };
      }),
    );
    count('served');
    return json(res, { kind: 'ExternalMetricValueList', apiVersion: GV, metadata: {}, items });
  };

  const tlsOptions = (tls: { certPem: string; keyPem: string }, rh: RequestHeaderAuth | undefined) => ({
    cert: tls.certPem,
    key: tls.keyPem,
    ...(rh ? { ca: rh.caPem, requestCert: true, rejectUnauthorized: false } : {}),
  });
  let tls = opts.tls;
  const server = createServer(tlsOptions(tls, requestHeader), (req, res) => {
    handle(req, res).catch((err: Error) => {
      count('error');
      opts.log.warn('external metrics request failed', { path: req.url, error: err.message });
      if (!res.headersSent) status(res, 503, 'ServiceUnavailable', err.message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    server,
    counters,
    setTls: (next) => {
      tls = next;
      server.setSecureContext(tlsOptions(tls, requestHeader));
    },
    setRequestHeader: (rh) => {
      requestHeader = rh;
      server.setSecureContext(tlsOptions(tls, requestHeader));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
