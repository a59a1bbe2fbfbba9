import type { Trade } from '@tickflow/contracts';
import type { Logger } from '@tickflow/telemetry';
import { FeedConnection, type FeedConnectionOptions, type FeedFatalError } from './connection.ts';
import { WindowLimiter } from './limiter.ts';
import type { FeedProtocol } from './protocol.ts';
import { RecentIds, tradeKey } from './recent-ids.ts';
import type { FrameRecorder } from './recorder.ts';
import { redact } from './redact.ts';
import { SkewEstimator } from './skew.ts';
import { type ConnectionState, createFeedStats, type FeedStats } from './stats.ts';

export interface LiveFeedOptions {
  /** One per WebSocket connection (Binance shards symbols over several); all of the same source. */
  protocols: readonly FeedProtocol[];
  /** Reconnect, idle-timeout and rotation settings of every connection. */
  connection?: Partial<FeedConnectionOptions>;
  /** Recently seen trades remembered for duplicate suppression (source+symbol+trade_id). Default 100,000. */
  dedupeCapacity?: number;
  /** Trades held while the consumer (Kafka) is slower than the feed; beyond it they are dropped and counted. Default 50,000. */
  bufferCapacity?: number;
  /** Samples in the clock-skew rolling median. Default 501. */
  skewWindow?: number;
  /** `--record`: every frame that carried new information is appended as received. Closed by `close()`. */
  recorder?: FrameRecorder;
  log?: Logger;
  /** Aborting it closes the feed: the iterator yields what is buffered, then ends. */
  signal?: AbortSignal;
}

/** Fixed-capacity FIFO of trades (a ring), so a stalled consumer can never grow memory. */
class TradeQueue {
  readonly #items: (Trade | undefined)[];
  #head = 0;
  #length = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.#items = new Array<Trade | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(t: Trade): boolean {
    const cap = this.#items.length;
    if (this.#length === cap) return false;
    this.#items[(this.#head + this.#length) % cap] = t;
    this.#length++;
    return true;
  }

  shift(): Trade | undefined {
    if (this.#length === 0) return undefined;
    const t = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return t;
  }
}

const LOGGED_PROBLEMS = 10;

/**
 * A live exchange feed as an async iterable of contract Trades (one consumer). The sockets are always read,
 * whatever the consumer does (exchanges do not wait): trades go to a bounded buffer, and those that do not fit
 * are dropped and counted in `stats.dropped` rather than buffered without bound. Repeated trades (after a
 * reconnect or during a rotation) are suppressed by source+symbol+trade_id within `dedupeCapacity`;
 * out-of-order trades pass through with their event time (and are counted). Malformed frames are counted,
 * logged (the first few) and skipped.
 *
 * The iterator ends after `close()` (or `signal`) once the buffer is drained; it throws a FeedFatalError when the
 * exchange refuses the feed for good (e.g. a rejected API key).
 */
export class LiveFeed implements AsyncIterable<Trade> {
  readonly stats: FeedStats;
  readonly #connections: FeedConnection[];
  readonly #queue: TradeQueue;
  readonly #recent: RecentIds;
  readonly #skew: SkewEstimator;
  readonly #lastEventUs = new Map<string, number>();
  readonly #recorder: FrameRecorder | undefined;
  readonly #log: Logger | undefined;
  readonly #signal: AbortSignal | undefined;
  #fatal: FeedFatalError | null = null;
  #ended = false;
  #started = false;
  #wake: (() => void) | null = null;
  #closing: Promise<void> | null = null;
  #problemsLogged = 0;
  #dropsLogged = 0;

  constructor(options: LiveFeedOptions) {
    const { protocols } = options;
    const first = protocols[0];
    if (!first) throw new RangeError('a live feed needs at least one protocol (connection)');
    if (protocols.some((p) => p.source !== first.source))
      throw new RangeError('all connections of a feed share one source');
    this.stats = createFeedStats(first.source);
    this.#queue = new TradeQueue(options.bufferCapacity ?? 50_000);
    this.#recent = new RecentIds(options.dedupeCapacity ?? 100_000);
    this.#skew = new SkewEstimator(options.skewWindow ?? 501);
    this.#recorder = options.recorder;
    this.#log = options.log;
    this.#signal = options.signal;
    // One connection-rate budget for the whole feed (the exchanges count per IP).
    const connection: Partial<FeedConnectionOptions> = {
      connectLimiter: new WindowLimiter(300, 5 * 60_000),
      ...options.connection,
      ...(options.log ? { log: options.log } : {}),
    };
    this.#connections = protocols.map(
      (protocol) =>
        new FeedConnection(
          protocol,
          this.stats,
          {
            onText: (text, receivedAtMs) => this.#onText(protocol, text, receivedAtMs),
            onBinary: () => this.#onBinary(),
            onChange: () => this.#refreshState(),
            onFatal: (err) => this.#onFatal(err),
          },
          connection,
        ),
    );
  }

  /** Opens the connections (idempotent). Iterating starts the feed too. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    if (this.#signal?.aborted) {
      void this.close();
      return this;
    }
    this.#signal?.addEventListener('abort', () => void this.close(), { once: true });
    for (const c of this.#connections) c.start();
    return this;
  }

  /** Trades waiting for the consumer. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** Closes the sockets and the recording; the iterator drains the buffer and ends. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ended = true;
      this.#wakeUp();
      await Promise.all(this.#connections.map((c) => c.close()));
      this.#refreshState();
      if (this.stats.connectionState !== 'failed') this.stats.connectionState = 'closed';
      if (this.#recorder) {
        await this.#recorder.close();
        this.stats.recordDropped = this.#recorder.dropped;
      }
    })();
    return this.#closing;
  }

  /** The next trade; `done` after close once the buffer is empty; throws the FeedFatalError if one occurred. */
  async next(): Promise<IteratorResult<Trade, undefined>> {
    this.start();
    for (;;) {
      const t = this.#queue.shift();
      if (t !== undefined) return { value: t, done: false };
      if (this.#fatal) throw this.#fatal;
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Trade, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  #onText(protocol: FeedProtocol, text: string, receivedAtMs: number): void {
    const s = this.stats;
    s.messages++;
    s.lastMessageAtMs = receivedAtMs;
    if (this.#ended) return;
    const out = protocol.parseFrame(text);
    switch (out.kind) {
      case 'trades': {
        let fresh = 0;
        let newestUs = 0;
        for (const t of out.trades) {
          s.trades++;
          if (!this.#recent.add(tradeKey(t.source, t.symbol, t.tradeId))) {
            s.duplicates++;
            continue;
          }
          fresh++;
          const previous = this.#lastEventUs.get(t.symbol);
          if (previous !== undefined && t.eventTimeUs < previous) s.outOfOrder++;
          else this.#noteEventTime(t.symbol, t.eventTimeUs);
          if (t.eventTimeUs > newestUs) newestUs = t.eventTimeUs;
          if (this.#queue.push(t)) s.forwarded++;
          else this.#drop();
        }
        for (const error of out.rejected) this.#malformed(protocol, error);
        if (fresh > 0) {
          this.#skew.observe(receivedAtMs, newestUs / 1000);
          s.skewMs = this.#skew.median;
          this.#wakeUp();
        }
        // A frame whose every trade was a repeat adds nothing: leaving it out of the recording makes a replay
        // of the file yield exactly the trades this session forwarded.
        if (fresh > 0 || out.trades.length === 0) this.#record(protocol, text);
        return;
      }
      case 'control':
        this.#record(protocol, text);
        return;
      case 'malformed':
        this.#record(protocol, text);
        this.#malformed(protocol, out.error);
        return;
      case 'error': {
        s.errorFrames++;
        this.#record(protocol, text);
        const message = redact(out.message, protocol.secrets);
        if (out.fatal) {
          const connection = this.#connections.find((c) => c.protocol === protocol);
          connection?.fail(message);
        } else {
          this.#log?.warn(`${protocol.label}: ${message}`);
        }
        return;
      }
    }
  }

  #noteEventTime(symbol: string, eventTimeUs: number): void {
    // Bounded by the symbols a feed sends; a pathological feed inventing symbols only resets the check.
    if (this.#lastEventUs.size >= 100_000 && !this.#lastEventUs.has(symbol)) this.#lastEventUs.clear();
    this.#lastEventUs.set(symbol, eventTimeUs);
  }

  #onBinary(): void {
    this.stats.messages++;
    this.stats.malformed++;
    if (this.#problemsLogged++ < LOGGED_PROBLEMS)
      this.#log?.warn(`${this.stats.source}: unexpected binary frame skipped`);
  }

  #malformed(protocol: FeedProtocol, error: string): void {
    this.stats.malformed++;
    const n = this.#problemsLogged++;
    if (n < LOGGED_PROBLEMS || n % 1000 === 0) {
      this.#log?.warn(`${protocol.label}: malformed frame skipped`, {
        error: redact(error, protocol.secrets),
        malformed: this.stats.malformed,
      });
    }
  }

  #drop(): void {
    this.stats.dropped++;
    const n = this.#dropsLogged++;
    if (n === 0 || n % 10_000 === 0) {
      this.#log?.warn(`${this.stats.source}: producer buffer full (Kafka back-pressure): dropping trades`, {
        dropped: this.stats.dropped,
      });
    }
  }

  #record(protocol: FeedProtocol, text: string): void {
    const r = this.#recorder;
    if (!r) return;
    // A recording is shared more freely than a log: an exchange echoing the API key must not put it on disk.
    let line = text;
    for (const secret of protocol.secrets) {
      if (secret.length > 0 && line.includes(secret)) line = line.split(secret).join('***');
    }
    if (r.write(line)) this.stats.recorded++;
    else this.stats.recordDropped++;
  }

  #onFatal(error: FeedFatalError): void {
    if (this.#fatal) return;
    this.#fatal = error;
    this.stats.lastError = error.message;
    this.stats.connectionState = 'failed';
    this.#log?.error(`${this.stats.source}: ${error.message}`);
    for (const c of this.#connections) c.fail(error.message);
    this.#ended = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
  }

  #refreshState(): void {
    const states = this.#connections.map((c) => c.state);
    let open = 0;
    for (const c of this.#connections) open += c.openSockets;
    this.stats.openConnections = open;
    this.stats.connectionState = aggregateState(states);
  }
}

function aggregateState(states: readonly ConnectionState[]): ConnectionState {
  if (states.includes('failed')) return 'failed';
  if (states.every((s) => s === 'closed')) return 'closed';
  if (states.every((s) => s === 'open')) return 'open';
  if (states.includes('reconnecting')) return 'reconnecting';
  return 'connecting';
}
