// Measures trade write rates (rows/s) per strategy and batch size; prints figures, asserts nothing.
//
//   node packages/storage/scripts/bench-writes.ts [--rows N] [--postgres URL] [--timescale URL]
//
// Without URLs it starts a PostgreSQL server (fsync on) and PGlite-TimescaleDB through @tickflow/stack.
// With --postgres URL it works in a new database it creates and drops (the URL's role needs CREATEDB);
// --timescale URL must point at an empty, throwaway PGlite (it is migrated and written to).
//
// The 'copy' rows use a minimal COPY FROM STDIN written here for the measurement only (the same protocol
// pg-copy-streams speaks): COPY into a temporary staging table, then INSERT ... SELECT ... ON CONFLICT DO
// NOTHING, in one transaction. Production writers only use what this measurement justifies.
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  createPool,
  createTradeWriter,
  migrate,
  PGLITE_WRITE_LIMITS,
  POSTGRES_WRITE_LIMITS,
  type Trade,
  type TradeWriter,
} from '../src/index.ts';
import { microsToTimestamptzSql } from '../src/time.ts';
import { TRADE_COLUMNS } from '../src/trades-writer.ts';
import { encodeChunks } from '../src/unnest-insert.ts';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'pglite-rows': { type: 'string', default: '20000' },
    postgres: { type: 'string' },
    timescale: { type: 'string' },
  },
});

/** A realistic stream: 50 symbols, event time rising ~10 µs per trade with a little out-of-order jitter. */
function makeTrades(count: number, startSeq: number): Trade[] {
  const base = 1_767_364_200_000_000;
  const out: Trade[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const k = startSeq + i;
    const symbol = `SYM${String(k % 50).padStart(2, '0')}`;
    out[i] = {
      symbol,
      price: 100 + ((k * 7919) % 10_000) / 100,
      size: 1 + (k % 17) / 4,
      eventTimeUs: base + k * 10 - (k % 5) * 3,
      ingestTimeUs: base + k * 10 + 500,
      source: 'synthetic',
      tradeId: `${symbol}-${k}`,
    };
  }
  return out;
}

// --- measurement-only COPY -------------------------------------------------------------------------------

function copyField(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** A pg "submittable" sending one buffer as COPY FROM STDIN data. */
class CopyIn {
  callback?: (err: Error | null) => void;
  #text: string;
  #data: Buffer;
  #error: Error | null = null;
  constructor(text: string, data: Buffer) {
    this.#text = text;
    this.#data = data;
  }
  submit(connection: { query(text: string): void }): void {
    connection.query(this.#text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.#data);
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleError(err: Error): void {
    this.#error = err;
  }
  handleReadyForQuery(): void {
    this.callback?.(this.#error);
  }
}

class CopyTradeWriter implements TradeWriter {
  #pool: pg.Pool;
  #chunk: number;
  constructor(pool: pg.Pool, chunk: number) {
    this.#pool = pool;
    this.#chunk = chunk;
  }
  async write(trades: readonly Trade[]): Promise<{ inserted: number }> {
    const client = await this.#pool.connect();
    let inserted = 0;
    try {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS trades_staging
        (t int8, symbol text, price float8, size float8, source text, trade_id text, it int8) ON COMMIT DELETE ROWS`);
      for (let i = 0; i < trades.length; i += this.#chunk) {
        const lines: string[] = [];
        for (const t of trades.slice(i, i + this.#chunk)) {
          lines.push(
            `${t.eventTimeUs}\t${copyField(t.symbol)}\t${t.price}\t${t.size}\t${copyField(t.source)}\t${copyField(t.tradeId)}\t${t.ingestTimeUs}\n`,
          );
        }
        await client.query('BEGIN');
        await new Promise<void>((resolve, reject) => {
          const q = new CopyIn('COPY trades_staging FROM STDIN', Buffer.from(lines.join('')));
          q.callback = (err) => (err ? reject(err) : resolve());
          client.query(q as unknown as pg.QueryConfig);
        });
        const res = await client.query(
          `INSERT INTO trades (time, symbol, price, size, source, trade_id, ingest_time)
           SELECT ${microsToTimestamptzSql('t')}, symbol, price, size, source, trade_id, ${microsToTimestamptzSql('it')}
             FROM trades_staging ON CONFLICT DO NOTHING`,
        );
        await client.query('COMMIT');
        inserted += res.rowCount ?? 0;
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    return { inserted };
  }
}

// --- runs ------------------------------------------------------------------------------------------------

interface Run {
  label: string;
  writer: TradeWriter;
  batch: number;
}

async function runOne(pool: pg.Pool, run: Run, rows: number, seq: number): Promise<string> {
  await pool.query('TRUNCATE trades');
  const trades = makeTrades(rows, seq);
  let t0 = performance.now();
  let inserted = 0;
  for (let i = 0; i < rows; i += run.batch)
    inserted += (await run.writer.write(trades.slice(i, i + run.batch))).inserted;
  const fresh = rows / ((performance.now() - t0) / 1000);
  if (inserted !== rows) throw new Error(`${run.label}: inserted ${inserted} of ${rows}`);
  // The same trades again: every row conflicts (a replay / redelivery storm).
  t0 = performance.now();
  let again = 0;
  for (let i = 0; i < rows; i += run.batch)
    again += (await run.writer.write(trades.slice(i, i + run.batch))).inserted;
  const dup = rows / ((performance.now() - t0) / 1000);
  if (again !== 0) throw new Error(`${run.label}: replay inserted ${again}`);
  return `${run.label.padEnd(34)} ${String(run.batch).padStart(6)} ${fmt(fresh)} ${fmt(dup)}`;
}

function fmt(rate: number): string {
  return `${Math.round(rate).toLocaleString('en-US').padStart(12)}`;
}

const HEADER = `${'strategy'.padEnd(34)} ${'batch'.padStart(6)} ${'new rows/s'.padStart(12)} ${'replay rows/s'.padStart(12)}`;

async function benchPostgres(url: string, rows: number): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const db = `tickflow_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${db}`);
  const u = new URL(url);
  u.pathname = `/${db}`;
  const pool = await createPool(u.toString(), { max: 2, statementTimeoutMs: 0 });
  try {
    const m = await migrate(pool, { timescale: 'off' });
    const fsync = (await pool.query<{ fsync: string }>('SHOW fsync')).rows[0]?.fsync;
    console.log(`\nPostgreSQL ${m.server.version} (fsync ${fsync}), ${rows} rows per run`);
    console.log(HEADER);
    const runs: Run[] = [];
    for (const batch of [1000, 5000]) {
      runs.push({ label: 'unnest', writer: createTradeWriter(pool, { chunkRows: batch }), batch });
      runs.push({ label: 'copy + staging + insert-select', writer: new CopyTradeWriter(pool, batch), batch });
    }
    runs.push({
      label: 'unnest, 1000-row chunks',
      writer: createTradeWriter(pool, { chunkRows: 1000 }),
      batch: 5000,
    });
    let seq = 0;
    for (const run of runs) {
      console.log(await runOne(pool, run, rows, seq));
      seq += rows;
    }
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE ${db}`);
    await admin.end();
  }
}

async function benchPglite(url: string, rows: number): Promise<void> {
  const pool = await createPool(url, { max: 1, statementTimeoutMs: 0 }); // pglite-socket: one connection
  try {
    const m = await migrate(pool, { timescale: 'require' });
    console.log(
      `\nPGlite ${m.server.version} TimescaleDB ${m.server.timescaleInstalled}, ${rows} rows per run`,
    );
    console.log(HEADER);
    const limits = {
      chunkRows: PGLITE_WRITE_LIMITS.maxRows,
      maxStatementBytes: PGLITE_WRITE_LIMITS.maxBytes,
    };
    let seq = 0;
    for (const batch of [500, 1000, 5000]) {
      const run = { label: 'unnest, 500-row chunks', writer: createTradeWriter(pool, limits), batch };
      console.log(await runOne(pool, run, rows, seq));
      seq += rows;
    }
  } finally {
    await pool.end();
  }
}

function benchEncode(): void {
  const trades = makeTrades(100_000, 0);
  const t0 = performance.now();
  for (let i = 0; i < trades.length; i += 5000) {
    encodeChunks(trades.slice(i, i + 5000), TRADE_COLUMNS, POSTGRES_WRITE_LIMITS);
  }
  const rate = trades.length / ((performance.now() - t0) / 1000);
  console.log(`client-side encoding of unnest parameters: ${fmt(rate).trim()} rows/s`);
}

const rows = Number(args.rows);
const pgliteRows = Number(args['pglite-rows']);
const stops: Array<() => Promise<void>> = [];
try {
  benchEncode();
  let pgUrl = args.postgres;
  let tsUrl = args.timescale;
  if (!pgUrl || !tsUrl) {
    const stack = await import('@tickflow/stack');
    if (!pgUrl) {
      const p = await stack.startPostgres();
      stops.push(() => p.stop());
      pgUrl = p.url;
    }
    if (!tsUrl) {
      const t = await stack.startTimescale();
      stops.push(() => t.stop());
      tsUrl = t.url;
    }
  }
  await benchPostgres(pgUrl, rows);
  await benchPglite(tsUrl, pgliteRows);
} finally {
  for (const stop of stops.reverse()) await stop();
}
