import {
  alertsChannel,
  alertToJson,
  LATEST_FIELDS,
  latestKey,
  type PriceAlert,
  type Trade,
} from '@tickflow/contracts';
import { createClient } from 'redis';

/**
 * Writes `latest:<SYMBOL>` only when the incoming trade is not older by event time than what is
 * stored, so a late or redelivered trade never moves the price backwards, even with several
 * aggregators or a replay racing each other. Ties overwrite (a redelivery rewrites equal values).
 */
const SET_IF_NOT_OLDER = `
local cur = redis.call('HGET', KEYS[1], '${LATEST_FIELDS.eventTimeUs}')
if cur and tonumber(cur) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], '${LATEST_FIELDS.price}', ARGV[1], '${LATEST_FIELDS.size}', ARGV[2],
  '${LATEST_FIELDS.eventTimeUs}', ARGV[3], '${LATEST_FIELDS.source}', ARGV[4], '${LATEST_FIELDS.tradeId}', ARGV[5])
return 1`;

// Fail fast while disconnected: the batch retry loop owns backoff, not an invisible offline queue.
const makeClient = (url: string) => createClient({ url, disableOfflineQueue: true });
type Client = ReturnType<typeof makeClient>;

export class RedisSink {
  readonly #client: Client;
  readonly #prefix: string;
  #sha = '';

  private constructor(client: Client, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  static async connect(url: string, prefix: string, onError?: (err: Error) => void): Promise<RedisSink> {
    const client = makeClient(url);
    client.on('error', (err: Error) => onError?.(new Error(`redis: ${err.message}`)));
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot reach Redis at ${url} (REDIS_URL): ${(err as Error).message}`);
    }
    const sink = new RedisSink(client, prefix);
    await sink.#load();
    return sink;
  }

  /** One round trip for the whole batch: node-redis pipelines commands issued in the same tick. */
  async writeLatest(latest: Iterable<Trade>): Promise<number> {
    const calls: Promise<unknown>[] = [];
    for (const t of latest) {
      calls.push(
        this.#client.evalSha(this.#sha, {
          keys: [latestKey(this.#prefix, t.symbol)],
          arguments: [String(t.price), String(t.size), String(t.eventTimeUs), t.source, t.tradeId],
        }),
      );
    }
    try {
      const results = await Promise.all(calls);
      return results.filter((r) => r === 1).length;
    } catch (err) {
      // After a Redis restart the script cache is empty: reload once and let the caller retry.
      if ((err as Error).message?.startsWith('NOSCRIPT')) await this.#load();
      throw err;
    }
  }

  async publishAlerts(alerts: readonly PriceAlert[]): Promise<void> {
    const channel = alertsChannel(this.#prefix);
    await Promise.all(alerts.map((a) => this.#client.publish(channel, alertToJson(a))));
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }

  async #load(): Promise<void> {
    this.#sha = await this.#client.scriptLoad(SET_IF_NOT_OLDER);
  }
}
