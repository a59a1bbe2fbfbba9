// The slice of pg's Pool/PoolClient/Client the storage code uses, so every function accepts any of them.
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig<unknown[]>,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}
