// Fan-out of live data to every SSE and WebSocket client. One Redis subscription and one poller feed the
// hub; each client gets its own bounded queue so one slow reader never holds back the others or makes the
// server buffer without limit.
import type { AlertJson, LatestPrice, PipelineHealth, StreamEventName, StreamEvents } from '../api-types.ts';

/** One transport connection (SSE response or WebSocket). */
export interface StreamSink {
  /** Writes one message; resolves once the transport has taken it (its own backpressure). */
  send<E extends StreamEventName>(event: E, data: StreamEvents[E]): Promise<void>;
  /** Ends the connection; the hub has already forgotten the client. */
  close(reason: string): void;
}

export interface HubOptions {
  maxClients: number;
  /**
   * Queued messages per client beyond which a client whose transport is blocked (write pending for over a
   * second) is dropped; 16x this drops any client.
   */
  queueLimit: number;
  /** A client whose current write has not completed for this long is dropped. */
  stallTimeoutMs: number;
  now?: () => number;
  onDrop?: (reason: string) => void;
}

/** A full queue drops the client only once its transport has been blocked this long... */
const BLOCKED_GRACE_MS = 1000;
/** ...or when it reaches this multiple of the limit, whatever the reason (bounds memory in any case). */
const HARD_LIMIT_FACTOR = 16;

type Queued =
  | { event: 'prices'; prices: Map<string, LatestPrice> }
  | { event: 'alert'; alert: AlertJson }
  | { event: 'health'; health: PipelineHealth };

class Client {
  readonly sink: StreamSink;
  readonly filter: ReadonlySet<string> | undefined;
  readonly queue: Queued[] = [];
  writing = false;
  writeStartedAt = 0;
  closed = false;

  constructor(sink: StreamSink, filter: ReadonlySet<string> | undefined) {
    this.sink = sink;
    this.filter = filter;
  }

  wants(symbol: string): boolean {
    return this.filter === undefined || this.filter.has(symbol);
  }
}

export interface HubStats {
  clients: number;
  accepted: number;
  rejected: number;
  dropped: number;
  sent: Record<StreamEventName, number>;
}

export interface Subscription {
  /** Forget the client (it disconnected); idempotent. */
  remove(): void;
}

/**
 * Coalescing per client: queued price updates are merged by symbol into the one pending `prices` message
 * and a newer health report replaces a queued one, so a client that falls behind receives the newest
 * values rather than every intermediate one. Alerts are never merged; they are what can fill a queue.
 */
export class StreamHub {
  readonly #opts: Required<Omit<HubOptions, 'onDrop'>> & Pick<HubOptions, 'onDrop'>;
  readonly #clients = new Set<Client>();
  readonly #latest = new Map<string, LatestPrice>();
  #health: PipelineHealth | undefined;
  readonly #stats = { accepted: 0, rejected: 0, dropped: 0, sent: { prices: 0, alert: 0, health: 0 } };

  constructor(options: HubOptions) {
    this.#opts = { now: Date.now, ...options };
  }

  get size(): number {
    return this.#clients.size;
  }

  get stats(): HubStats {
    return { clients: this.#clients.size, ...this.#stats, sent: { ...this.#stats.sent } };
  }

  /** The newest price of every symbol seen so far. */
  get snapshot(): ReadonlyMap<string, LatestPrice> {
    return this.#latest;
  }

  get health(): PipelineHealth | undefined {
    return this.#health;
  }

  /**
   * Registers a client and queues a snapshot (every latest price it wants, the last health report).
   * Returns null when the server already has maxClients.
   */
  add(sink: StreamSink, filter?: ReadonlySet<string>): Subscription | null {
    if (this.#clients.size >= this.#opts.maxClients) {
      this.#stats.rejected++;
      return null;
    }
    const client = new Client(sink, filter);
    this.#clients.add(client);
    this.#stats.accepted++;
    const prices = new Map<string, LatestPrice>();
    for (const [symbol, p] of this.#latest) if (client.wants(symbol)) prices.set(symbol, p);
    client.queue.push({ event: 'prices', prices });
    if (this.#health) client.queue.push({ event: 'health', health: this.#health });
    void this.#pump(client);
    return {
      remove: () => {
        client.closed = true;
        this.#clients.delete(client);
      },
    };
  }

  /** Prices that changed since the last call (the poller's coalesced output). */
  publishPrices(changed: readonly LatestPrice[]): void {
    if (changed.length === 0) return;
    for (const p of changed) this.#latest.set(p.symbol, p);
    this.#each((c) => {
      let pending: Map<string, LatestPrice> | undefined;
      for (const q of c.queue) if (q.event === 'prices') pending = q.prices;
      let fresh = false;
      for (const p of changed) {
        if (!c.wants(p.symbol)) continue;
        if (pending === undefined) {
          pending = new Map();
          c.queue.push({ event: 'prices', prices: pending });
        }
        pending.set(p.symbol, p);
        fresh = true;
      }
      return fresh;
    });
  }

  publishAlert(alert: AlertJson): void {
    this.#each((c) => {
      if (!c.wants(alert.symbol)) return false;
      c.queue.push({ event: 'alert', alert });
      return true;
    });
  }

  publishHealth(health: PipelineHealth): void {
    this.#health = health;
    this.#each((c) => {
      const i = c.queue.findIndex((q) => q.event === 'health');
      if (i >= 0) c.queue[i] = { event: 'health', health };
      else c.queue.push({ event: 'health', health });
      return true;
    });
  }

  /** Ends every connection (shutdown). */
  closeAll(reason: string): void {
    for (const c of [...this.#clients]) this.#forget(c, reason, false);
  }

  /** Applies `enqueue` to each client, then drops the ones that are over their limits and pumps the rest. */
  #each(enqueue: (c: Client) => boolean): void {
    const now = this.#opts.now();
    const { queueLimit, stallTimeoutMs } = this.#opts;
    for (const c of [...this.#clients]) {
      const queued = enqueue(c);
      // How long the transport has been sitting on the current write: near zero for a client that keeps up,
      // even during a burst (many alerts in one tick queue up before the pump runs).
      const blockedMs = c.writing ? now - c.writeStartedAt : 0;
      if (blockedMs > stallTimeoutMs) {
        this.#forget(c, 'slow client: a write stalled', true);
      } else if (
        c.queue.length > queueLimit * HARD_LIMIT_FACTOR ||
        (c.queue.length > queueLimit && blockedMs > BLOCKED_GRACE_MS)
      ) {
        this.#forget(c, 'slow client: queue full', true);
      } else if (queued) {
        void this.#pump(c);
      }
    }
  }

  #forget(c: Client, reason: string, dropped: boolean): void {
    if (c.closed) return;
    c.closed = true;
    c.queue.length = 0;
    this.#clients.delete(c);
    if (dropped) {
      this.#stats.dropped++;
      this.#opts.onDrop?.(reason);
    }
    try {
      c.sink.close(reason);
    } catch {
      // The connection is already gone.
    }
  }

  async #pump(c: Client): Promise<void> {
    if (c.writing) return;
    c.writing = true;
    try {
      for (let q = c.queue.shift(); q !== undefined && !c.closed; q = c.queue.shift()) {
        c.writeStartedAt = this.#opts.now();
        if (q.event === 'prices') {
          await c.sink.send('prices', { prices: [...q.prices.values()] });
        } else if (q.event === 'alert') {
          await c.sink.send('alert', q.alert);
        } else {
          await c.sink.send('health', q.health);
        }
        this.#stats.sent[q.event]++;
      }
    } catch {
      this.#forget(c, 'write failed', false);
    } finally {
      c.writing = false;
    }
  }
}
