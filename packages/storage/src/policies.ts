// TimescaleDB background policies and chunk sizing. Unlike the versioned DDL these follow the options on
// every migrate: changing e.g. the retention in configuration takes effect at the next start-up, and an
// unchanged configuration touches nothing (the existing jobs are compared first).
import type { Queryable } from './queryable.ts';

export interface RefreshPolicy {
  /** Oldest data the policy refreshes, as an interval before now; null = all history (default). */
  startOffset: string | null;
  /** Newest data left to real-time aggregation (default '1 minute'). */
  endOffset: string;
  /** How often the policy runs (default '1 minute'). */
  scheduleInterval: string;
}

export interface PolicyOptions {
  chunkInterval: string;
  /** Compress chunks of `trades` older than this; null disables the policy. */
  compressAfter: string | null;
  /** Drop chunks of `trades` older than this; null disables the policy. */
  retention: string | null;
  /** Refresh policy of `bars_1m`; null disables it (then only real-time aggregation and manual refresh). */
  refresh: RefreshPolicy | null;
}

interface JobRow {
  job_id: number;
  same: boolean;
}

async function findJob(db: Queryable, proc: string, relation: string, sameSql: string, values: unknown[]) {
  const { rows } = await db.query<JobRow>(
    `SELECT job_id, (${sameSql}) AS same FROM timescaledb_information.jobs
      WHERE proc_name = $1 AND hypertable_schema = current_schema() AND hypertable_name = $2`,
    [proc, relation, ...values],
  );
  return rows[0] ?? null;
}

/** Applies `options` to the policies; returns a line per change (empty when everything already matched). */
export async function reconcilePolicies(db: Queryable, options: PolicyOptions): Promise<string[]> {
  const changes: string[] = [];

  const dim = await db.query<{ same: boolean }>(
    `SELECT time_interval = $1::interval AS same FROM timescaledb_information.dimensions
      WHERE hypertable_schema = current_schema() AND hypertable_name = 'trades' AND column_name = 'time'`,
    [options.chunkInterval],
  );
  if (dim.rows[0] && !dim.rows[0].same) {
    // Affects chunks created from now on; existing chunks keep their size.
    await db.query(`SELECT set_chunk_time_interval('trades', $1::interval)`, [options.chunkInterval]);
    changes.push(`trades chunk interval set to ${options.chunkInterval}`);
  }

  const compression = await findJob(
    db,
    'policy_compression',
    'trades',
    `(config->>'compress_after')::interval IS NOT DISTINCT FROM $3::interval`,
    [options.compressAfter],
  );
  if (compression && !compression.same) {
    await db.query(`SELECT remove_compression_policy('trades', if_exists => true)`);
    if (options.compressAfter === null) changes.push('trades compression policy removed');
  }
  if (options.compressAfter !== null && !compression?.same) {
    await db.query(`SELECT add_compression_policy('trades', compress_after => $1::interval)`, [
      options.compressAfter,
    ]);
    changes.push(`trades compression policy: after ${options.compressAfter}`);
  }

  const retention = await findJob(
    db,
    'policy_retention',
    'trades',
    `(config->>'drop_after')::interval IS NOT DISTINCT FROM $3::interval`,
    [options.retention],
  );
  if (retention && !retention.same) {
    await db.query(`SELECT remove_retention_policy('trades', if_exists => true)`);
    if (options.retention === null) changes.push('trades retention policy removed');
  }
  if (options.retention !== null && !retention?.same) {
    await db.query(`SELECT add_retention_policy('trades', drop_after => $1::interval)`, [options.retention]);
    changes.push(`trades retention policy: drop after ${options.retention}`);
  }

  const r = options.refresh;
  const refresh = await findJob(
    db,
    'policy_refresh_continuous_aggregate',
    'bars_1m',
    `(config->>'start_offset')::interval IS NOT DISTINCT FROM $3::interval
       AND (config->>'end_offset')::interval IS NOT DISTINCT FROM $4::interval
       AND schedule_interval IS NOT DISTINCT FROM $5::interval`,
    [r?.startOffset ?? null, r?.endOffset ?? null, r?.scheduleInterval ?? null],
  );
  if (refresh && !refresh.same) {
    await db.query(`SELECT remove_continuous_aggregate_policy('bars_1m', if_exists => true)`);
    if (r === null) changes.push('bars_1m refresh policy removed');
  }
  if (r !== null && !refresh?.same) {
    await db.query(
      `SELECT add_continuous_aggregate_policy('bars_1m',
         start_offset => $1::interval, end_offset => $2::interval, schedule_interval => $3::interval)`,
      [r.startOffset, r.endOffset, r.scheduleInterval],
    );
    changes.push(
      `bars_1m refresh policy: ${r.startOffset ?? 'all history'} .. now - ${r.endOffset} every ${r.scheduleInterval}`,
    );
  }
  return changes;
}
