export { ALERT_COLUMNS, AlertWriter, INSERT_ALERTS_SQL } from './alerts-writer.ts';
export { type ChunkLimits, planChunks } from './chunking.ts';
export {
  appliedMigrations,
  chooseMode,
  DEFAULT_REFRESH,
  MIGRATION_LOCK_KEY,
  MIGRATIONS,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  MigrationError,
  migrate,
  resolvePolicyOptions,
  schemaMode,
} from './migrations.ts';
export type { PolicyOptions, RefreshPolicy } from './policies.ts';
export {
  checkDatabaseUrl,
  createPool,
  DatabaseConnectionError,
  type PoolOptions,
  redactUrl,
} from './pool.ts';
export {
  type AlertsQuery,
  type BarsQuery,
  barsOneMinute,
  countTrades,
  latestAlerts,
  refreshBars,
  type TradeCountQuery,
} from './queries.ts';
export type { Queryable } from './queryable.ts';
export { type BarsRange, barsRangeSql, type SchemaMode, TRADE_ORDER } from './schema.ts';
export { inspectServer, type ServerInfo } from './server.ts';
export { assertMicros, microsToIso, microsToTimestamptzSql, timestamptzToMicrosSql } from './time.ts';
export {
  createTradeWriter,
  INSERT_NEW_TRADES_SQL,
  INSERT_TRADES_FRESH_SQL,
  INSERT_TRADES_SQL,
  PGLITE_WRITE_LIMITS,
  POSTGRES_WRITE_LIMITS,
  type TradeWriteOptions,
  type TradeWriter,
  type TradeWriterOptions,
  type TradeWriteStrategy,
  tradeKey,
  UnnestTradeWriter,
  writerOptionsFor,
} from './trades-writer.ts';
export type { AlertDirection, BarRow, PriceAlert, Trade } from './types.ts';
