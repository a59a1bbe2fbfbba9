import { LATEST_FIELDS, latestKey } from '@tickflow/contracts';
import type { createClient } from 'redis';
import type { LatestPrice } from '../api-types.ts';

export type RedisClient = ReturnType<typeof createClient>;

/** Read access to the latest prices; the server depends on this, tests pass a fake. */
export interface LatestSource {
  /** Symbols with a latest price, sorted. */
  symbols(): Promise<string[]>;
  get(symbol: string): Promise<LatestPrice | null>;
  /** Latest prices of these symbols (all symbols when omitted), sorted by symbol; missing ones skipped. */
  many(symbols?: readonly string[]): Promise<LatestPrice[]>;
}

/** Escapes Redis glob characters so a prefix like `t[1]:` matches literally in SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** A `latest:<SYMBOL>` hash as the API's LatestPrice; null when a field is missing or not a number. */
export function parseLatestHash(symbol: string, h: Record<string, string>): LatestPrice | null {
  const price = Number(h[LATEST_FIELDS.price]);
  const size = Number(h[LATEST_FIELDS.size]);
  const eventTimeUs = Number(h[LATEST_FIELDS.eventTimeUs]);
  const source = h[LATEST_FIELDS.source];
  const tradeId = h[LATEST_FIELDS.tradeId];
  if (!(price > 0) || !(size > 0) || !Number.isSafeInteger(eventTimeUs)) return null;
  if (source === undefined || tradeId === undefined) return null;
  return { symbol, price, size, event_time_us: eventTimeUs, source, trade_id: tradeId };
}

/**
 * Latest prices from Redis. Symbols are discovered with SCAN MATCH `<prefix>latest:*` (cursor-based, never
 * KEYS) and cached for `symbolsTtlMs`; hashes are read with HGETALL, which node-redis pipelines when issued
 * in the same tick, so N symbols cost one round trip.
 */
export class RedisLatestStore implements LatestSource {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #symbols: string[] = [];
  #symbolsAt = Number.NEGATIVE_INFINITY;
  #scanning: Promise<string[]> | undefined;

  constructor(client: RedisClient, prefix: string, symbolsTtlMs = 2000, now: () => number = Date.now) {
    this.#client = client;
    this.#prefix = prefix;
    this.#ttlMs = symbolsTtlMs;
    this.#now = now;
  }

  async symbols(): Promise<string[]> {
    if (this.#now() - this.#symbolsAt < this.#ttlMs) return this.#symbols;
    // One SCAN at a time, shared by concurrent callers.
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async get(symbol: string): Promise<LatestPrice | null> {
    const h = await this.#client.hGetAll(latestKey(this.#prefix, symbol));
    return parseLatestHash(symbol, h);
  }

  async many(symbols?: readonly string[]): Promise<LatestPrice[]> {
    const list = symbols ?? (await this.symbols());
    const hashes = await Promise.all(list.map((s) => this.#client.hGetAll(latestKey(this.#prefix, s))));
    const out: LatestPrice[] = [];
    hashes.forEach((h, i) => {
      const p = parseLatestHash(list[i] as string, h);
      if (p !== null) out.push(p);
    });
    return out.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  }

  async #scan(): Promise<string[]> {
    const keyPrefix = latestKey(this.#prefix, '');
    const found = new Set<string>();
    for await (const keys of this.#client.scanIterator({ MATCH: `${escapeGlob(keyPrefix)}*`, COUNT: 500 })) {
      for (const key of keys) found.add(key.slice(keyPrefix.length));
    }
    this.#symbols = [...found].filter((s) => s.length > 0).sort();
    this.#symbolsAt = this.#now();
    return this.#symbols;
  }
}
