// The read API and the live stream against real Redis and PostgreSQL, seeded by the real pipeline: a replay
// file goes through `tickflow produce` and `tickflow aggregate` (child processes), then every endpoint is
// compared with answers computed independently from the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tickflow/stack';
import type { Queryable } from '@tickflow/storage';
import type { Logger } from '@tickflow/telemetry';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningCli, runCli, startCli, waitFor } from '../../../test/support/cli.ts';
import {
  buildDataset,
  type RefTrade,
  referenceBars,
  referenceLatest,
} from '../../../test/support/dataset.ts';
import { type IsolatedPipeline, isolatedPipeline } from '../../../test/support/isolation.ts';
import type { AlertJson, BarJson, BoardResponse, LatestPrice, PipelineHealth } from '../src/api-types.ts';
import { type DashboardHandle, startDashboard } from '../src/app.ts';
import { loadDashboardConfig } from '../src/config.ts';
import { SqlBarStore } from '../src/queries.ts';
import { alertTrades, readSse, writeReplay } from './support/market.ts';

const stack = inject('stack');
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

/** Bars of any length by brute force from the trades (OHLC by event time, ties by arrival). */
function referenceBarsOf(trades: readonly RefTrade[], symbol: string, lengthUs: number): BarJson[] {
  const groups = new Map<number, Array<{ t: RefTrade; arrival: number }>>();
  trades.forEach((t, arrival) => {
    if (t.symbol !== symbol) return;
    const start = Math.floor(t.eventTimeUs / lengthUs) * lengthUs;
    const g = groups.get(start) ?? [];
    g.push({ t, arrival });
    groups.set(start, g);
  });
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([start, g]) => {
      g.sort((a, b) => a.t.eventTimeUs - b.t.eventTimeUs || a.arrival - b.arrival);
      const volume = g.reduce((s, x) => s + x.t.size, 0);
      return {
        start_us: start,
        open: g[0]?.t.price as number,
        high: Math.max(...g.map((x) => x.t.price)),
        low: Math.min(...g.map((x) => x.t.price)),
        close: g[g.length - 1]?.t.price as number,
        volume,
        vwap: g.reduce((s, x) => s + x.t.price * x.t.size, 0) / volume,
        trade_count: g.length,
      };
    });
}

function expectBars(actual: BarJson[], expected: BarJson[]): void {
  expect(actual.map((b) => [b.start_us, b.open, b.high, b.low, b.close, b.trade_count])).toEqual(
    expected.map((b) => [b.start_us, b.open, b.high, b.low, b.close, b.trade_count]),
  );
  actual.forEach((b, i) => {
    expect(b.volume).toBeCloseTo(expected[i]?.volume as number, 6);
    expect(b.vwap).toBeCloseTo(expected[i]?.vwap as number, 6);
  });
}

describe('dashboard API on real Redis and PostgreSQL, seeded by the pipeline', () => {
  let p: IsolatedPipeline;
  let aggregator: RunningCli;
  let dash: DashboardHandle;
  let db: pg.Client;
  let trades: RefTrade[];
  let metricsUrl: string;
  const dir = mkdtempSync(join(tmpdir(), 'tickflow-dashboard-api-'));
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(path, dash.url));
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    p = await isolatedPipeline(stack);
    const data = buildDataset(11, 2400); // four symbols, ~12 minutes each from 2026-01-05 14:30Z
    // One later trade per symbol advances its watermark, so every alert window of the data closes now.
    const lastPrice = referenceLatest(data.distinct);
    const closers: RefTrade[] = [...lastPrice.values()].map((t) => ({
      ...t,
      eventTimeUs: Date.UTC(2026, 0, 5, 15, 0, 0) * 1000,
      tradeId: 'closer',
    }));
    trades = [...data.distinct, ...closers];
    const file = join(dir, 'trades.jsonl');
    const closerLines = closers.map((t) =>
      JSON.stringify({
        symbol: t.symbol,
        price: t.price,
        size: t.size,
        event_time_us: t.eventTimeUs,
        trade_id: t.tradeId,
      }),
    );
    writeFileSync(file, `${[...data.lines, ...closerLines].join('\n')}\n`);
    const produced = await runCli(['produce', '--source', 'replay', '--file', file], p.env);
    expect(produced.code, produced.output).toBe(0);

    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    aggregator = startCli(['aggregate'], { ...p.env, METRICS_PORT: String(metricsPort) });
    db = new pg.Client({ connectionString: p.databaseUrl });
    await waitFor('the aggregator to migrate', async () => {
      try {
        await db.connect();
        return true;
      } catch {
        return false;
      }
    });
    await waitFor('every trade stored and every alert written', async () => {
      const n = await db.query('SELECT count(*)::int AS n FROM trades').catch(() => ({ rows: [{ n: -1 }] }));
      if (n.rows[0].n !== trades.length) return false;
      const text = await fetch(metricsUrl).then((r) => r.text());
      const emitted = Number(/tickflow_aggregator_alerts_total (\d+)/.exec(text)?.[1] ?? -1);
      const stored = await db.query('SELECT count(*)::int AS n FROM price_alerts');
      return emitted > 0 && stored.rows[0].n === emitted;
    });

    const cfg = loadDashboardConfig(['--port', '0', '--host', '127.0.0.1', '--web-build', 'never'], {
      ...p.env,
      METRICS_URLS: metricsUrl,
      METRICS_SCRAPE_INTERVAL: '300ms',
      STREAM_INTERVAL: '100ms',
    });
    dash = await startDashboard(cfg, quiet);
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dash?.close();
    if (aggregator && aggregator.child.exitCode === null) {
      aggregator.child.kill('SIGTERM');
      await aggregator.exited;
    }
    await db?.end().catch(() => undefined);
    await p?.drop();
  });

  it('lists symbols and latest prices from Redis', async () => {
    const latest = referenceLatest(trades);
    const symbols = [...latest.keys()].sort();
    expect((await get<{ symbols: string[] }>('/api/v1/symbols')).body.symbols).toEqual(symbols);
    const all = await get<{ prices: LatestPrice[] }>('/api/v1/latest');
    expect(all.body.prices.map((x) => x.symbol)).toEqual(symbols);
    for (const price of all.body.prices) {
      const t = latest.get(price.symbol) as RefTrade;
      expect(price).toEqual({
        symbol: t.symbol,
        price: t.price,
        size: t.size,
        event_time_us: t.eventTimeUs,
        source: 'replay',
        trade_id: t.tradeId,
      });
    }
    const one = await get<LatestPrice>('/api/v1/latest/MSFT');
    expect(one.body.price).toBe(latest.get('MSFT')?.price);
    const filtered = await get<{ prices: LatestPrice[] }>('/api/v1/latest?symbols=MSFT,NOPE');
    expect(filtered.body.prices.map((x) => x.symbol)).toEqual(['MSFT']);
    expect((await get('/api/v1/latest/NOPE')).status).toBe(404);
  });

  it('serves bars_1m exactly, bounded by from/to/limit', async () => {
    const base = Date.UTC(2026, 0, 5, 14, 30, 0) * 1000;
    for (const symbol of ['AAPL', 'BTCUSDT']) {
      const res = await get<{ bars: BarJson[] }>(
        `/api/v1/bars?symbol=${symbol}&interval=1m&from=2026-01-05T14:30:00Z&limit=5000`,
      );
      expect(res.status).toBe(200);
      const expected = referenceBars(trades)
        .filter((b) => b.symbol === symbol)
        .map((b) => ({ ...b, start_us: b.bucketUs, trade_count: b.tradeCount }));
      expectBars(res.body.bars, expected);
    }
    const all = referenceBarsOf(trades, 'MSFT', 60_000_000);
    // [14:32, 14:35) with µs and ISO bounds mixed: three bars.
    const range = await get<{ bars: BarJson[] }>(
      `/api/v1/bars?symbol=MSFT&from=2026-01-05T14:32:00Z&to=${base + 5 * 60_000_000}`,
    );
    expectBars(
      range.body.bars,
      all.filter((b) => b.start_us >= base + 2 * 60_000_000 && b.start_us < base + 5 * 60_000_000),
    );
    // The newest `limit` of the range, oldest first.
    const newest = await get<{ bars: BarJson[] }>(
      '/api/v1/bars?symbol=MSFT&from=2026-01-05T14:30:00Z&limit=2',
    );
    expectBars(newest.body.bars, all.slice(-2));
    // Without from: the `limit` buckets up to the newest trade (the 15:00 closer), not all history.
    const recent = await get<{ bars: BarJson[] }>('/api/v1/bars?symbol=MSFT&limit=3');
    expect(recent.body.bars.map((b) => b.start_us)).toEqual([Date.UTC(2026, 0, 5, 15, 0, 0) * 1000]);
    const before = await get<{ bars: BarJson[] }>('/api/v1/bars?symbol=MSFT&limit=3&to=2026-01-05T14:50:00Z');
    expectBars(before.body.bars, all.filter((b) => b.start_us < base + 20 * 60_000_000).slice(-3));
    expect((await get<{ bars: BarJson[] }>('/api/v1/bars?symbol=NOPE')).body.bars).toEqual([]);
  });

  it.each([
    ['5m', 300_000_000],
    ['15m', 900_000_000],
    ['1h', 3_600_000_000],
  ])('re-buckets bars_1m into %s bars equal to bars computed from the trades', async (interval, lengthUs) => {
    for (const symbol of ['AAPL', 'ETHUSDT']) {
      const res = await get<{ interval: string; bars: BarJson[] }>(
        `/api/v1/bars?symbol=${symbol}&interval=${interval}&from=2026-01-05T14:00:00Z&limit=5000`,
      );
      expect(res.body.interval).toBe(interval);
      expectBars(res.body.bars, referenceBarsOf(trades, symbol, lengthUs));
    }
  });

  it('ranges every plain-PostgreSQL bar query over the (symbol, time) index of trades', async () => {
    const sent: Array<{ text: string; values?: unknown[] }> = [];
    const recording = {
      query: (text: string, values?: unknown[]) => {
        sent.push({ text, values });
        return db.query(text, values);
      },
    } as unknown as Queryable;
    const store = new SqlBarStore(recording); // detects the schema path by itself, as the app's does
    const base = Date.UTC(2026, 0, 5, 14, 30, 0) * 1000;
    const minute = 60_000_000;
    const oneMinute = await store.bars({
      symbol: 'MSFT',
      interval: '1m',
      from: base + minute + 1,
      to: base + 5 * minute + 1,
      limit: 100,
    });
    // The API rounds `from` down to its bucket; `to` inside a minute keeps the bar starting before it.
    expectBars(
      oneMinute,
      referenceBarsOf(trades, 'MSFT', minute).filter(
        (b) => b.start_us >= base + minute && b.start_us < base + 5 * minute + 1,
      ),
    );
    expect(oneMinute.length).toBe(5);
    await store.bars({ symbol: 'MSFT', interval: '5m', from: base, to: base + 17 * minute, limit: 100 });
    await store.sparklines(
      [
        { symbol: 'MSFT', untilUs: base + 10 * minute },
        { symbol: 'AAPL', untilUs: base + 9 * minute + 1 },
      ],
      5,
    );
    const ranged = sent.filter((q) => q.text.includes('FROM trades'));
    expect(ranged.map((q) => (q.text.match(/ bars_1m\b/g) ?? []).length)).toEqual([1, 1, 2]);
    expect(sent.some((q) => /FROM bars_1m/.test(q.text))).toBe(false);
    // The tables are small: forbid the sequential scan the planner would rightly prefer on them.
    await db.query('BEGIN');
    try {
      await db.query('SET LOCAL enable_seqscan = off');
      for (const q of ranged) {
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.values);
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        const scans = plan.match(/(Index Scan using|Bitmap Index Scan on) trades_symbol_time_idx/g) ?? [];
        const conds =
          plan.match(/Index Cond: \(\(symbol = '\w+'::text\) AND \("time" >= .*\) AND \("time" < .*\)\)/g) ??
          [];
        expect(conds.length, plan).toBe(scans.length);
        expect(scans.length, plan).toBe((q.text.match(/ bars_1m\b/g) ?? []).length);
      }
    } finally {
      await db.query('ROLLBACK');
    }
  });

  it('lists alerts from price_alerts, newest first, with symbol and since filters', async () => {
    const rows = (
      await db.query<{ symbol: string; ws: string; we: string; change_pct: number; direction: string }>(
        `SELECT symbol, (extract(epoch from window_start) * 1000000)::int8::text AS ws,
                (extract(epoch from window_end) * 1000000)::int8::text AS we, change_pct, direction
           FROM price_alerts ORDER BY window_end DESC, symbol, window_start DESC`,
      )
    ).rows;
    expect(rows.length).toBeGreaterThan(3);
    const all = await get<{ alerts: AlertJson[] }>('/api/v1/alerts?limit=1000');
    expect(all.body.alerts.map((a) => [a.symbol, a.window_start_us, a.window_end_us, a.direction])).toEqual(
      rows.map((r) => [r.symbol, Number(r.ws), Number(r.we), r.direction]),
    );
    for (const a of all.body.alerts) {
      expect(Math.abs(a.change_pct)).toBeGreaterThan(a.threshold_pct);
      expect(a.direction).toBe(a.close > a.open ? 'UP' : 'DOWN');
    }
    const aapl = await get<{ alerts: AlertJson[] }>('/api/v1/alerts?symbol=AAPL&limit=1000');
    expect(aapl.body.alerts).toEqual(all.body.alerts.filter((a) => a.symbol === 'AAPL'));
    const cut = all.body.alerts[Math.floor(all.body.alerts.length / 2)]?.window_end_us as number;
    const since = await get<{ alerts: AlertJson[] }>(`/api/v1/alerts?since=${cut}&limit=1000`);
    expect(since.body.alerts).toEqual(all.body.alerts.filter((a) => a.window_end_us >= cut));
    expect((await get<{ alerts: AlertJson[] }>('/api/v1/alerts?limit=2')).body.alerts).toEqual(
      all.body.alerts.slice(0, 2),
    );
  });

  it('builds the board: change over the window and a sparkline of one-minute closes', async () => {
    const board = (await get<BoardResponse>('/api/v1/board?minutes=45')).body;
    expect(board.minutes).toBe(45);
    const latest = referenceLatest(trades);
    for (const row of board.symbols) {
      const until = latest.get(row.symbol)?.eventTimeUs as number;
      const bars = referenceBarsOf(trades, row.symbol, 60_000_000).filter(
        (b) => b.start_us > until - 45 * 60_000_000 && b.start_us <= until,
      );
      expect(row.spark).toEqual(bars.map((b) => ({ start_us: b.start_us, close: b.close })));
      expect(row.ref_price).toBe(bars[0]?.open);
      expect(row.change_pct).toBeCloseTo(
        ((latest.get(row.symbol)?.price as number) / (bars[0]?.open as number) - 1) * 100,
        9,
      );
    }
  });

  it('reports the pipeline health read from the aggregator /metrics', async () => {
    const h = await waitFor('two scrapes of the aggregator', async () => {
      const body = (await get<PipelineHealth>('/api/v1/pipeline')).body;
      return body.targets[0]?.throughput_per_s !== null ? body : undefined;
    });
    expect(h.targets).toHaveLength(1);
    expect(h.targets[0]).toMatchObject({ url: metricsUrl, app: 'aggregator', up: true, error: null });
    expect(h.targets[0]?.throughput_metric).toBe('tickflow_aggregator_stored_total');
    expect(h.throughput_per_s).toBe(h.targets[0]?.throughput_per_s);
  });

  it('streams a snapshot, then an alert injected through the pipeline, over SSE and WebSocket', async () => {
    const ac = new AbortController();
    const events: Array<{ event: string; data: unknown }> = [];
    const reader = (async () => {
      for await (const e of readSse(new URL('/api/v1/stream', dash.url).toString(), ac.signal)) {
        events.push({ event: e.event, data: JSON.parse(e.data) });
      }
    })().catch((err: Error) => {
      if (err.name !== 'AbortError') throw err;
    });
    const ws = new WebSocket(new URL('/api/v1/ws?symbols=AAPL', dash.url.replace('http', 'ws')));
    const wsMessages: Array<{ type: string; data: unknown }> = [];
    ws.addEventListener('message', (m) => wsMessages.push(JSON.parse(String(m.data))));
    try {
      const snapshot = await waitFor(
        'the SSE snapshot',
        () => events.find((e) => e.event === 'prices'),
        20_000,
      );
      const symbols = (snapshot.data as { prices: LatestPrice[] }).prices.map((x) => x.symbol).sort();
      expect(symbols).toEqual([...referenceLatest(trades).keys()].sort());
      const wsFirst = await waitFor('the WebSocket snapshot', () => wsMessages[0], 20_000);
      expect(wsFirst.type).toBe('prices');
      expect((wsFirst.data as { prices: LatestPrice[] }).prices.map((x) => x.symbol)).toEqual(['AAPL']);

      const injected = alertTrades('ZZALRT', Date.now() * 1000);
      const file = writeReplay(dir, 'alert.jsonl', injected.trades);
      const produced = await runCli(['produce', '--source', 'replay', '--file', file], p.env);
      expect(produced.code, produced.output).toBe(0);

      const alert = await waitFor(
        'the injected alert on the stream',
        () => events.find((e) => e.event === 'alert' && (e.data as AlertJson).symbol === 'ZZALRT'),
        60_000,
      );
      expect(alert.data).toEqual({
        symbol: 'ZZALRT',
        window_start_us: injected.windowStartUs,
        window_end_us: injected.windowEndUs,
        open: injected.open,
        close: injected.close,
        change_pct: expect.closeTo(injected.changePct, 9),
        threshold_pct: 0.5,
        direction: 'UP',
      });
      await waitFor(
        'the new symbol in a prices update',
        () =>
          events.some(
            (e) =>
              e.event === 'prices' &&
              (e.data as { prices: LatestPrice[] }).prices.some((x) => x.symbol === 'ZZALRT'),
          ),
        20_000,
      );
      expect(events.some((e) => e.event === 'health')).toBe(true);
      // The symbol filter of the WebSocket kept the other symbol's alert out.
      expect(wsMessages.some((m) => m.type === 'alert')).toBe(false);
      const metrics = await fetch(new URL('/metrics', dash.url)).then((r) => r.text());
      expect(metrics).toMatch(/tickflow_dashboard_stream_clients 2/);
      expect(metrics).toMatch(/tickflow_dashboard_alerts_received_total 1/);
    } finally {
      ac.abort();
      ws.close();
      await reader;
    }
  });

  it('serves probes and the OpenAPI document', async () => {
    expect((await fetch(new URL('/healthz', dash.url))).status).toBe(200);
    const ready = await get<{ ready: boolean; checks: Record<string, boolean> }>('/readyz');
    expect(ready).toEqual({
      status: 200,
      body: { ready: true, checks: { redis: true, alerts_subscription: true, postgres: true } },
    });
    const doc = await get<{ openapi: string; paths: Record<string, unknown> }>('/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/symbols',
        '/api/v1/latest',
        '/api/v1/latest/{symbol}',
        '/api/v1/bars',
        '/api/v1/alerts',
        '/api/v1/stream',
      ]),
    );
    const bad = await get<{ parameter: string }>('/api/v1/bars?symbol=AAPL&interval=7m');
    expect(bad.status).toBe(400);
    expect(bad.body.parameter).toBe('interval');
  });
});
