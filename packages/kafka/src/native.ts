import { createRequire } from 'node:module';
import type * as RdKafkaModule from '@confluentinc/kafka-javascript';

// The client is a CommonJS native addon; load it once through require so ESM callers share it.
const require = createRequire(import.meta.url);
export const RdKafka: typeof RdKafkaModule = require('@confluentinc/kafka-javascript');

export const ERR = {
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  QUEUE_FULL: -184,
  TIMED_OUT: -185,
} as const;

/** librdkafka log noise (e.g. connection refused while a broker restarts) is surfaced as warnings. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err)
    return String((err as { message: unknown }).message);
  return String(err);
}
