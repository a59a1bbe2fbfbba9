// The slice of pg's Pool/PoolClient/Client the storage code uses, so every function accepts any of them.
import type { QueryArrayConfig, QueryArrayResult, QueryConfig, QueryResult, QueryResultRow } from 'pg';

export interface Queryable {
  /** rowMode 'array': rows come back as arrays of column values (no object per row). */
  query<R extends unknown[] = unknown[]>(config: QueryArrayConfig<unknown[]>): Promise<QueryArrayResult<R>>;
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig<unknown[]>,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}
