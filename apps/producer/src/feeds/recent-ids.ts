/**
 * Bounded "seen recently" set: remembers the last `capacity` distinct keys (a ring buffer decides which key to
 * forget, a Set answers membership), so memory stays fixed however long the feed runs. Used to suppress the
 * trades an exchange repeats after a reconnect or during a connection rotation.
 */
export class RecentIds {
  readonly capacity: number;
  readonly #ring: (string | undefined)[];
  readonly #set = new Set<string>();
  #next = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`RecentIds capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Array<string | undefined>(capacity);
  }

  /** Records `key`; true when it is new (not among the last `capacity` distinct keys), false for a repeat. */
  add(key: string): boolean {
    if (this.#set.has(key)) return false;
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#set.delete(evicted);
    this.#ring[this.#next] = key;
    this.#next = this.#next + 1 === this.capacity ? 0 : this.#next + 1;
    this.#set.add(key);
    return true;
  }

  has(key: string): boolean {
    return this.#set.has(key);
  }

  get size(): number {
    return this.#set.size;
  }
}

/** The identity of a trade by contract: unique within source + symbol. NUL never occurs in a valid symbol. */
export function tradeKey(source: string, symbol: string, tradeId: string): string {
  return `${source}\u0000${symbol}\u0000${tradeId}`;
}
