// Server CPU per inserted trade for variants of the plain-PostgreSQL trades indexes, with the
// aggregator's first-attempt statement (plain unnest insert; see INSERT_NEW_TRADES_SQL).
//   DATABASE_URL=postgres://... node scripts/bench-trade-indexes.ts   [ROWS=400000 BATCH=2000]
// Reads the backend's CPU from /proc, so the server must run on this machine.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { IDENTITY_KEY_SQL, MINUTE_BUCKET_PG } from '../packages/storage/src/schema.ts';
import {
  INSERT_NEW_TRADES_SQL,
  INSERT_TRADES_SQL,
  TRADE_COLUMNS,
} from '../packages/storage/src/trades-writer.ts';
import { insertUnnest } from '../packages/storage/src/unnest-insert.ts';

const SYMBOL_TIME = 'CREATE INDEX ON bench_trades (symbol, time DESC)';
const V7 = [`CREATE UNIQUE INDEX ON bench_trades (${IDENTITY_KEY_SQL})`, SYMBOL_TIME];
const NEW_TRADES = INSERT_NEW_TRADES_SQL.replace('INTO trades', 'INTO bench_trades');
const SKIP_CONFLICTS = INSERT_TRADES_SQL.replace('INTO trades', 'INTO bench_trades');
/** Indexes per variant; all use the aggregator's first-attempt plain INSERT unless STATEMENTS says otherwise. */
const VARIANTS: Record<string, string[]> = {
  'three-column identity, symbol/time, minute bucket (v5)': [
    'CREATE UNIQUE INDEX ON bench_trades (source, symbol, trade_id)',
    SYMBOL_TIME,
    `CREATE INDEX ON bench_trades (symbol, ${MINUTE_BUCKET_PG})`,
  ],
  'single-value identity, symbol/time, minute bucket (v6)': [
    `CREATE UNIQUE INDEX ON bench_trades (${IDENTITY_KEY_SQL})`,
    SYMBOL_TIME,
    `CREATE INDEX ON bench_trades (symbol, ${MINUTE_BUCKET_PG})`,
  ],
  'three-column identity, symbol/time': [
    'CREATE UNIQUE INDEX ON bench_trades (source, symbol, trade_id)',
    SYMBOL_TIME,
  ],
  'single-value identity, symbol/time (v7)': V7,
  'v7 indexes, INSERT ... ON CONFLICT DO NOTHING': V7,
  'three-column identity only': ['CREATE UNIQUE INDEX ON bench_trades (source, symbol, trade_id)'],
};
const STATEMENTS: Record<string, string> = {
  'v7 indexes, INSERT ... ON CONFLICT DO NOTHING': SKIP_CONFLICTS,
};

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL');
const rowsTotal = Number(process.env.ROWS ?? 400_000);
const batch = Number(process.env.BATCH ?? 2000);
const symbols = Array.from({ length: 20 }, (_, i) => `SYM${i}`);

const admin = new pg.Client({ connectionString: url });
await admin.connect();
try {
  for (const [name, indexes] of Object.entries(VARIANTS)) {
    const sql = STATEMENTS[name] ?? NEW_TRADES;
    await admin.query('DROP TABLE IF EXISTS bench_trades');
    await admin.query('CREATE TABLE bench_trades (LIKE trades INCLUDING DEFAULTS)');
    for (const ddl of indexes) await admin.query(ddl);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const cpuSeconds = () => {
      const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    let time = 1_767_000_000_000_000;
    let id = 0;
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    for (let n = 0; n < rowsTotal; n += batch) {
      const rows = Array.from({ length: batch }, (_, i) => {
        time += 25;
        id++;
        return {
          symbol: symbols[(id * 7) % symbols.length] as string,
          price: 100 + (i % 50),
          size: 1,
          eventTimeUs: time,
          ingestTimeUs: time,
          source: 'synthetic',
          tradeId: String(time),
        };
      });
      await insertUnnest(client, `bench_insert_${indexes.length}_${sql.length}`, sql, rows, TRADE_COLUMNS, {
        maxRows: batch,
        maxBytes: Number.POSITIVE_INFINITY,
      });
    }
    const wall = (performance.now() - t0) / 1000;
    const serverUs = ((cpuSeconds() - cpu0) * 1e6) / rowsTotal;
    console.log(
      `${name.padEnd(56)} ${(rowsTotal / wall).toFixed(0).padStart(7)} rows/s, server ${serverUs.toFixed(1)} µs/row`,
    );
    await client.end();
  }
} finally {
  await admin.query('DROP TABLE IF EXISTS bench_trades');
  await admin.end();
}
