// The OpenAPI 3.1 document served at /openapi.json. The prose is written here; every parameter and response
// body comes from the route schemas in schemas.ts, which are also what fastify validates with.
import { API_ROUTES, errorSchema, type RouteDoc } from './schemas.ts';

interface JsonSchemaObject {
  type?: string;
  required?: readonly string[];
  properties?: Record<string, Record<string, unknown>>;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  101: 'Switching Protocols',
  400: 'Invalid parameter (the message and `parameter` name it)',
  404: 'Not found',
  429: 'Rate limit exceeded (RATE_LIMIT requests per minute per client)',
  503: 'Not ready, or too many stream clients',
};

/** `:symbol` -> `{symbol}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: object | undefined, where: 'query' | 'path'): object[] {
  const s = schema as JsonSchemaObject | undefined;
  if (!s?.properties) return [];
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties).map(([name, prop]) => {
    const { description, examples, ...rest } = prop as { description?: string; examples?: unknown[] };
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: rest,
      ...(examples?.[0] !== undefined ? { example: examples[0] } : {}),
    };
  });
}

function operation(route: RouteDoc): object {
  const responses: Record<string, object> = {};
  for (const [code, p] of Object.entries(route.produces ?? {})) {
    responses[code] = {
      description: p.description,
      content: { [p.contentType]: { schema: { type: 'string' } } },
    };
  }
  for (const [code, schema] of Object.entries(route.schema.response ?? {})) {
    responses[code] = {
      description: STATUS_TEXT[Number(code)] ?? 'Response',
      content: { 'application/json': { schema } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    tags: route.tags,
    parameters: [
      ...parameters(route.schema.params, 'path'),
      ...parameters(route.schema.querystring, 'query'),
    ],
    responses,
  };
}

const plain = (description: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' } } },
});

export function buildOpenApi(version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of Object.values(API_ROUTES) as RouteDoc[]) {
    const path = openApiPath(route.url);
    paths[path] ??= {};
    (paths[path] as Record<string, object>)[route.method.toLowerCase()] = operation(route);
  }
  paths['/healthz'] = {
    get: {
      operationId: 'healthz',
      summary: 'Liveness',
      tags: ['operations'],
      responses: { 200: plain('The process is alive') },
    },
  };
  paths['/readyz'] = {
    get: {
      operationId: 'readyz',
      summary: 'Readiness: Redis, the alerts subscription and PostgreSQL reachable',
      tags: ['operations'],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: { type: 'object' } } } },
        503: { description: 'Not ready', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: "The dashboard's own Prometheus metrics",
      tags: ['operations'],
      responses: { 200: plain('Prometheus text exposition format 0.0.4') },
    },
  };
  paths['/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      tags: ['operations'],
      responses: {
        200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tickflow dashboard API',
      version,
      summary: 'Read API over the live market data of a Tickflow pipeline',
      description:
        'Latest prices come from Redis (`<prefix>latest:<SYMBOL>`), bars and alerts from PostgreSQL/TimescaleDB ' +
        '(`bars_1m`, `price_alerts`). Times are µs since the Unix epoch in responses; query parameters take ' +
        'ISO-8601 or µs. Errors are JSON with `statusCode`, `error`, `message` and, for an invalid parameter, ' +
        '`parameter`. Every endpoint but the probes and /metrics is rate limited per client address.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [
      { name: 'market', description: 'Prices, bars and alerts' },
      { name: 'stream', description: 'Live updates (SSE and WebSocket)' },
      { name: 'pipeline', description: 'Health of the pipeline apps' },
      { name: 'operations', description: 'Probes, metrics and this document' },
    ],
    paths,
    components: { schemas: { Error: errorSchema } },
  };
}
