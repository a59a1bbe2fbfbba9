// The HTTP surface on fakes (no Redis, no PostgreSQL): validation, error format, OpenAPI coverage, CORS,
// rate limiting, headers. The same server runs against real services in api.int.test.ts.
import type { Logger } from '@tickflow/telemetry';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertJson, BarJson, LatestPrice } from '../src/api-types.ts';
import { StreamHub } from '../src/live/hub.ts';
import type { LatestSource } from '../src/live/redis-latest.ts';
import { Metrics } from '../src/metrics.ts';
import { buildOpenApi, openApiPath } from '../src/openapi.ts';
import type { AlertsRequest, BarStore, BarsRequest, SparkPoint, SparkRequest } from '../src/queries.ts';
import { buildServer, type ServerOptions } from '../src/server.ts';

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

const AAPL: LatestPrice = {
  symbol: 'AAPL',
  price: 230.5,
  size: 10,
  event_time_us: 1767364230000000,
  source: 'replay',
  trade_id: '7',
};

class FakeLatest implements LatestSource {
  fail = false;
  async symbols() {
    if (this.fail) throw new Error('connection refused');
    return ['AAPL'];
  }
  async get(symbol: string) {
    return symbol === 'AAPL' ? AAPL : null;
  }
  async many(symbols?: readonly string[]) {
    return !symbols || symbols.includes('AAPL') ? [AAPL] : [];
  }
}

class FakeStore implements BarStore {
  readonly barCalls: BarsRequest[] = [];
  readonly alertCalls: AlertsRequest[] = [];
  async bars(q: BarsRequest): Promise<BarJson[]> {
    this.barCalls.push(q);
    return [
      {
        start_us: 1767364200000000,
        open: 230,
        high: 231,
        low: 229,
        close: 230.5,
        volume: 100,
        vwap: 230.2,
        trade_count: 4,
      },
    ];
  }
  async alerts(q: AlertsRequest): Promise<AlertJson[]> {
    this.alertCalls.push(q);
    return [];
  }
  async sparklines(symbols: readonly SparkRequest[]): Promise<Map<string, SparkPoint[]>> {
    return new Map(symbols.map((s) => [s.symbol, [{ start_us: 1767364200000000, open: 200, close: 230 }]]));
  }
  async ping() {}
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function server(
  options: Partial<ServerOptions> = {},
  latest = new FakeLatest(),
  store = new FakeStore(),
) {
  const routes: string[] = [];
  const hub = new StreamHub({ maxClients: 10, queueLimit: 10, stallTimeoutMs: 1000 });
  app = await buildServer(
    {
      latest,
      store,
      hub,
      prime: async () => {},
      health: () => ({ targets: [], throughput_per_s: null, p99_ms: null, lag: null, newest_event_us: null }),
      readiness: async () => ({ redis: true, postgres: !latest.fail }),
      metrics: new Metrics(),
      log: quiet,
    },
    {
      webDir: null,
      corsOrigins: [],
      rateLimit: 0,
      trustProxy: false,
      onRoute: (method, url) => routes.push(`${method} ${url}`),
      ...options,
    },
  );
  await app.ready();
  return { app, store, routes };
}

describe('read API on fakes', () => {
  it('answers the happy paths with the documented shapes', async () => {
    const { app, store } = await server();
    expect((await app.inject('/api/v1/symbols')).json()).toEqual({ symbols: ['AAPL'] });
    expect((await app.inject('/api/v1/latest')).json()).toEqual({ prices: [AAPL] });
    expect((await app.inject('/api/v1/latest/AAPL')).json()).toEqual(AAPL);
    const bars = await app.inject('/api/v1/bars?symbol=AAPL&interval=5m&from=2026-01-02T14:30:00Z&limit=10');
    expect(bars.statusCode).toBe(200);
    expect(bars.json().interval).toBe('5m');
    expect(store.barCalls.at(-1)).toEqual({
      symbol: 'AAPL',
      interval: '5m',
      limit: 10,
      from: 1767364200000000,
      to: undefined,
    });
    await app.inject('/api/v1/bars?symbol=AAPL');
    expect(store.barCalls.at(-1)).toMatchObject({ interval: '1m', limit: 500 });
    const board = (await app.inject('/api/v1/board?minutes=30')).json();
    expect(board.minutes).toBe(30);
    expect(board.symbols[0].change_pct).toBeCloseTo((230.5 / 200 - 1) * 100, 9);
    expect(board.symbols[0].spark).toEqual([{ start_us: 1767364200000000, close: 230 }]);
    await app.inject('/api/v1/alerts?since=1767364200000000&symbol=AAPL');
    expect(store.alertCalls.at(-1)).toEqual({ symbol: 'AAPL', since: 1767364200000000, limit: 100 });
  });

  it.each([
    ['/api/v1/bars', 'symbol', /symbol is required/],
    ['/api/v1/bars?symbol=aapl', 'symbol', /upper-case symbol/],
    ['/api/v1/bars?symbol=AAPL&interval=2m', 'interval', /one of 1m, 5m, 15m, 1h, 1d/],
    ['/api/v1/bars?symbol=AAPL&limit=0', 'limit', /limit must be >= 1/],
    ['/api/v1/bars?symbol=AAPL&limit=5001', 'limit', /limit must be <= 5000/],
    ['/api/v1/bars?symbol=AAPL&limit=ten', 'limit', /integer/],
    ['/api/v1/bars?symbol=AAPL&from=yesterday', 'from', /ISO-8601/],
    ['/api/v1/bars?symbol=AAPL&from=2026-01-02&to=2026-01-01', 'from', /before to/],
    ['/api/v1/bars?symbol=AAPL&limt=5', 'limt', /unknown query parameter limt/],
    ['/api/v1/alerts?since=soon', 'since', /since must be/],
    ['/api/v1/alerts?limit=1001', 'limit', /<= 1000/],
    ['/api/v1/latest?symbols=AAPL,$$$', 'symbols', /comma-separated list/],
    ['/api/v1/latest/not-a-symbol', 'symbol', /upper-case symbol/],
    ['/api/v1/board?minutes=100000', 'minutes', /<= 1440/],
  ])('GET %s -> 400 naming %s', async (url, parameter, message) => {
    const { app } = await server();
    const res = await app.inject(url);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', parameter });
    expect(body.message).toMatch(message);
  });

  it('404s in JSON, and turns a Redis failure into a 503 that says so', async () => {
    const latest = new FakeLatest();
    const { app } = await server({}, latest);
    const missing = await app.inject('/api/v1/latest/ZZZZ');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toBe('no latest price for ZZZZ');
    expect((await app.inject('/api/v1/nope')).json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    latest.fail = true;
    const down = await app.inject('/api/v1/symbols');
    expect(down.statusCode).toBe(503);
    expect(down.json().message).toMatch(/^Redis unavailable: connection refused/);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, checks: { redis: true, postgres: false } });
  });

  it('serves probes and explains a missing page', async () => {
    const { app } = await server({ webProblem: 'the page is not built' });
    expect((await app.inject('/healthz')).body).toBe('ok\n');
    expect((await app.inject('/readyz')).json().ready).toBe(true);
    const page = await app.inject('/');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('the page is not built');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await app.inject('/metrics')).body).toContain('tickflow_dashboard_http_requests_total');
  });
});

describe('OpenAPI document', () => {
  it('documents every route the server registers, with the schemas it validates with', async () => {
    const doc = buildOpenApi() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { parameters: Array<{ name: string; in: string; required: boolean }> }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    const { routes } = await server();
    const served = routes
      .map((r) => r.split(' ') as [string, string])
      .filter(([method, url]) => method === 'GET' && url !== '/' && !url.includes('*'))
      .map(([method, url]) => `${method.toLowerCase()} ${openApiPath(url)}`)
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    expect(served).toEqual(documented);
    const bars = doc.paths['/api/v1/bars']?.get?.parameters ?? [];
    expect(bars.map((p) => p.name).sort()).toEqual(['from', 'interval', 'limit', 'symbol', 'to']);
    expect(bars.find((p) => p.name === 'symbol')?.required).toBe(true);
    expect(doc.paths['/api/v1/latest/{symbol}']?.get?.parameters[0]).toMatchObject({
      name: 'symbol',
      in: 'path',
      required: true,
    });
    const json = await app?.inject('/openapi.json');
    expect(json?.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe('CORS and rate limiting', () => {
  it('sends no CORS headers by default and the configured origins otherwise', async () => {
    const { app: plain } = await server();
    const r1 = await plain.inject({
      url: '/api/v1/symbols',
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(r1.headers['access-control-allow-origin']).toBeUndefined();
    await plain.close();
    const { app: cors } = await server({ corsOrigins: ['https://grafana.example'] });
    const r2 = await cors.inject({ url: '/api/v1/symbols', headers: { origin: 'https://grafana.example' } });
    expect(r2.headers['access-control-allow-origin']).toBe('https://grafana.example');
    const r3 = await cors.inject({ url: '/api/v1/symbols', headers: { origin: 'https://evil.example' } });
    expect(r3.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers 429 past the limit, but never for probes and metrics', async () => {
    const { app } = await server({ rateLimit: 3 });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await app.inject('/api/v1/symbols')).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await app.inject('/api/v1/symbols');
    expect(limited.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(limited.json().message).toMatch(/at most 3 requests per minute/);
    for (let i = 0; i < 5; i++) {
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      expect((await app.inject('/readyz')).statusCode).toBe(200);
      expect((await app.inject('/metrics')).statusCode).toBe(200);
    }
  });
});
