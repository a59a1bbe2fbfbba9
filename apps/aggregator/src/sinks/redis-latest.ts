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
 * Writes `latest:<SYMBOL>` for every key of the call, each only when its incoming trade is not
 * older by event time than what is stored, so a late or redelivered trade never moves the price
 * backwards, even with several aggregators or a replay racing each other. Ties overwrite (a
 * redelivery rewrites equal values). ARGV holds five values per key, in KEYS order. Returns how
 * many keys it wrote. Event times are µs since the epoch (~1.8e15): exact in Lua's doubles.
 */
const SET_IF_NOT_OLDER = `
local written = 0
for i = 1, #KEYS do
  local a = (i - 1) * 5
  local cur = redis.call('HGET', KEYS[i], '${LATEST_FIELDS.eventTimeUs}')
  if not cur or tonumber(cur) <= tonumber(ARGV[a + 3]) then
    redis.call('HSET', KEYS[i], '${LATEST_FIELDS.price}', ARGV[a + 1], '${LATEST_FIELDS.size}', ARGV[a + 2],
      '${LATEST_FIELDS.eventTimeUs}', ARGV[a + 3], '${LATEST_FIELDS.source}', ARGV[a + 4],
      '${LATEST_FIELDS.tradeId}', ARGV[a + 5])
    written = written + 1
  end
end
return written`;

/** A Redis call that has not answered by then fails the batch write, which the pipeline retries. */
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Fail fast while disconnected: the batch retry loop owns backoff, not an invisible offline queue.
 * No per-command timeout: node-redis arms an AbortSignal.timeout for every command, a 5 s timer
 * that outlives the command and is promoted to the old generation (at 20k msg/s that was ~1,500
 * live timers a second for the garbage collector); the sink times its one call per batch itself.
 */
const makeClient = (url: string) =>
  createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
type Client = ReturnType<typeof makeClient>;

export class RedisSink {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  #sha = '';

  private constructor(client: Client, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  static async connect(
    url: string,
    prefix: string,
    onError?: (err: Error) => void,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<RedisSink> {
    const client = makeClient(url);
    client.on('error', (err: Error) => onError?.(new Error(`redis: ${err.message}`)));
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot reach Redis at ${url} (REDIS_URL): ${(err as Error).message}`);
    }
    const sink = new RedisSink(client, prefix, timeoutMs);
    await sink.#load();
    return sink;
  }

  /** The latest trade of each symbol, in one script call (one command, one round trip) per batch. */
  async writeLatest(latest: Iterable<Trade>): Promise<number> {
    const keys: string[] = [];
    const args: string[] = [];
    for (const t of latest) {
      keys.push(latestKey(this.#prefix, t.symbol));
      args.push(String(t.price), String(t.size), String(t.eventTimeUs), t.source, t.tradeId);
    }
    if (keys.length === 0) return 0;
    try {
      return Number(await this.#timed(this.#client.evalSha(this.#sha, { keys, arguments: args }), 'latest'));
    } catch (err) {
      // After a Redis restart the script cache is empty: reload once and let the caller retry.
      if ((err as Error).message?.startsWith('NOSCRIPT')) await this.#load();
      throw err;
    }
  }

  async publishAlerts(alerts: readonly PriceAlert[]): Promise<void> {
    const channel = alertsChannel(this.#prefix);
    await this.#timed(
      Promise.all(alerts.map((a) => this.#client.publish(channel, alertToJson(a)))),
      'alerts',
    );
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }

  async #load(): Promise<void> {
    this.#sha = await this.#client.scriptLoad(SET_IF_NOT_OLDER);
  }

  /** Rejects when `call` takes longer than the timeout; the timer is cleared as soon as it settles. */
  #timed<T>(call: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis ${what} write timed out after ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }
}
