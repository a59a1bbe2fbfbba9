import type { Logger } from '@tickflow/telemetry';
import WebSocket from 'ws';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { WindowLimiter } from './limiter.ts';
import type { FeedProtocol } from './protocol.ts';
import { redact } from './redact.ts';
import type { ConnectionState, FeedStats } from './stats.ts';

/** A feed cannot continue (rejected API key, refused URL): reconnecting would not help. Never carries a secret. */
export class FeedFatalError extends Error {
  override readonly name = 'FeedFatalError';
}

export interface FeedConnectionOptions {
  /**
   * A connection that receives nothing at all (no frame, no ping, no pong) for this long is a silent stall: it
   * is dropped and replaced. After half of it without traffic a WebSocket ping is sent, so a quiet market on a
   * healthy connection still answers. Default 30 s.
   */
  idleTimeoutMs: number;
  /** Opening handshake timeout. Default 10 s. */
  connectTimeoutMs: number;
  /** Reconnect delays. Default 250 ms doubling to 30 s, equal jitter. */
  backoff: BackoffOptions;
  /** A connection that stayed open this long resets the backoff to its first step when it drops. Default 10 s. */
  stableAfterMs: number;
  /**
   * Open a replacement connection when the current one is this old and retire the old one once the new one has
   * been up for `rotationOverlapMs` (Binance cuts connections at 24 h). 0 disables. Default 0.
   */
  maxConnectionAgeMs: number;
  /** How long old and new connections both stream during a rotation (the duplicates are suppressed). Default 5 s. */
  rotationOverlapMs: number;
  /** Connection attempts allowed per window, shared by all connections of a feed (Binance: 300 per 5 min per IP). */
  connectLimiter: WindowLimiter;
  /** Largest accepted frame. Default 16 MiB. */
  maxPayloadBytes: number;
  /** Random source of the backoff jitter. */
  random: () => number;
  log?: Logger;
  /** Called whenever a reconnect is scheduled; for logs and tests. */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  /** 0 for the first retry after a good connection. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended, redacted. */
  reason: string;
}

export interface FeedConnectionHandlers {
  /** One text frame; `receivedAtMs` is the local wall-clock time (ms since epoch). */
  onText(text: string, receivedAtMs: number): void;
  onBinary(): void;
  /** The state or the number of open sockets changed. */
  onChange(): void;
  onFatal(error: FeedFatalError): void;
}

export function defaultConnectionOptions(): FeedConnectionOptions {
  return {
    idleTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
    backoff: { initialMs: 250, maxMs: 30_000, multiplier: 2, jitter: 0.5 },
    stableAfterMs: 10_000,
    maxConnectionAgeMs: 0,
    rotationOverlapMs: 5_000,
    connectLimiter: new WindowLimiter(300, 5 * 60_000),
    maxPayloadBytes: 16 * 1024 * 1024,
    random: Math.random,
  };
}

type LinkRole = 'primary' | 'successor';

interface Link {
  id: number;
  ws: WebSocket;
  role: LinkRole;
  state: 'connecting' | 'open' | 'closed';
  openedAt: number;
  lastInboundAt: number;
  pinged: boolean;
  frames: number;
  /** Closed on purpose (rotation or idle timeout): the reason to report. */
  endedBy: string | null;
  retiring: boolean;
  httpStatus: number | null;
  retryAfterMs: number;
  error: string | null;
  closed: Promise<void>;
}

const CLOSE_CODES: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1006: 'abnormal closure (connection lost)',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'server error',
  1012: 'service restart',
  1013: 'try again later',
};

const now = (): number => performance.now();

/**
 * One logical feed connection over WebSocket: connects, sends the protocol's subscriptions after every open,
 * detects silent stalls (idle timeout with a heartbeat ping), reconnects with capped exponential backoff and
 * jitter, respects a connection-rate limit, and rotates the socket before the exchange's maximum connection
 * age by opening the replacement first (no gap; the overlap's duplicates are suppressed by the feed).
 * Protocol specifics are injected; frames are handed to `handlers` unparsed.
 *
 * Server pings are answered by `ws` automatically (pong with the same payload), as Binance requires.
 */
export class FeedConnection {
  readonly protocol: FeedProtocol;
  readonly #opts: FeedConnectionOptions;
  readonly #handlers: FeedConnectionHandlers;
  readonly #stats: FeedStats;
  readonly #links = new Set<Link>();
  #current: Link | null = null;
  #successor: Link | null = null;
  #state: ConnectionState = 'connecting';
  #started = false;
  #stopped = false;
  #everOpened = false;
  #receivedAny = false;
  #attempt = 0;
  #rotationAttempt = 0;
  #nextRotationAt = 0;
  #nextLinkId = 1;
  #retryTimer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #overlapTimer: NodeJS.Timeout | undefined;

  constructor(
    protocol: FeedProtocol,
    stats: FeedStats,
    handlers: FeedConnectionHandlers,
    options: Partial<FeedConnectionOptions> = {},
  ) {
    this.protocol = protocol;
    this.#stats = stats;
    this.#handlers = handlers;
    this.#opts = { ...defaultConnectionOptions(), ...options };
    if (!(this.#opts.idleTimeoutMs > 0)) throw new RangeError('idleTimeoutMs must be > 0');
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Sockets currently open (2 during a rotation). */
  get openSockets(): number {
    let n = 0;
    for (const l of this.#links) if (l.state === 'open' && !l.retiring) n++;
    return n;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const o = this.#opts;
    const period = Math.max(
      5,
      Math.min(o.idleTimeoutMs / 4, o.maxConnectionAgeMs > 0 ? o.maxConnectionAgeMs / 4 : Infinity),
    );
    this.#checkTimer = setInterval(() => this.#check(), period);
    // Sockets and reconnect timers keep the process alive; this housekeeping timer alone must not.
    this.#checkTimer.unref();
    this.#open('primary');
  }

  /** Closes every socket (code 1000) and stops reconnecting. */
  async close(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#clearTimers();
      this.#setState('closed');
    }
    await Promise.all([...this.#links].map((l) => this.#closeLink(l, 1000, 'client shutdown')));
  }

  /** Stops the connection for good with a fatal error (e.g. the exchange rejected the API key in a frame). */
  fail(message: string): void {
    if (this.#stopped) return;
    const error = new FeedFatalError(this.#redact(message));
    this.#stopped = true;
    this.#clearTimers();
    this.#stats.lastError = error.message;
    this.#setState('failed');
    for (const l of this.#links) l.ws.terminate();
    this.#handlers.onFatal(error);
  }

  #open(role: LinkRole): void {
    if (this.#stopped) return;
    const wait = this.#opts.connectLimiter.take(now());
    if (wait > 0) {
      this.#opts.log?.warn(`${this.protocol.label}: connection rate limit reached, waiting`, {
        waitMs: Math.ceil(wait),
      });
      if (role === 'successor') {
        this.#nextRotationAt = now() + wait;
        return;
      }
      this.#retryTimer = setTimeout(() => this.#open(role), wait);
      return;
    }
    this.#stats.connectAttempts++;
    const ws = new WebSocket(this.protocol.url(), {
      handshakeTimeout: this.#opts.connectTimeoutMs,
      maxPayload: this.#opts.maxPayloadBytes,
      perMessageDeflate: false,
    });
    let resolveClosed: () => void = () => undefined;
    const link: Link = {
      id: this.#nextLinkId++,
      ws,
      role,
      state: 'connecting',
      openedAt: 0,
      lastInboundAt: now(),
      pinged: false,
      frames: 0,
      endedBy: null,
      retiring: false,
      httpStatus: null,
      retryAfterMs: 0,
      error: null,
      closed: new Promise<void>((r) => {
        resolveClosed = r;
      }),
    };
    this.#links.add(link);
    if (role === 'successor') this.#successor = link;

    ws.on('open', () => this.#onOpen(link));
    ws.on('message', (data, isBinary) => {
      link.lastInboundAt = now();
      link.pinged = false;
      link.frames++;
      this.#receivedAny = true;
      if (this.#stopped) return;
      if (isBinary) this.#handlers.onBinary();
      else this.#handlers.onText((data as Buffer).toString('utf8'), Date.now());
    });
    ws.on('ping', () => {
      link.lastInboundAt = now();
      link.pinged = false;
    });
    ws.on('pong', () => {
      link.lastInboundAt = now();
      link.pinged = false;
    });
    ws.on('unexpected-response', (_req, res) => {
      link.httpStatus = res.statusCode ?? 0;
      link.retryAfterMs = retryAfterMs(res.headers['retry-after']);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      link.error = this.#redact(err.message);
    });
    ws.on('close', (code, reason) => {
      link.state = 'closed';
      resolveClosed();
      this.#onClose(link, code, this.#redact(reason.toString('utf8')));
    });
  }

  #onOpen(link: Link): void {
    if (this.#stopped) {
      link.ws.terminate();
      return;
    }
    link.state = 'open';
    link.openedAt = now();
    link.lastInboundAt = link.openedAt;
    this.#stats.connects++;
    const first = !this.#everOpened;
    this.#everOpened = true;
    if (link.role === 'primary') {
      if (!first) this.#stats.reconnects++;
      this.#current = link;
      this.#opts.log?.info(`${this.protocol.label}: connected`, {
        url: this.protocol.displayUrl(),
        ...(first ? {} : { reconnects: this.#stats.reconnects }),
      });
    } else {
      this.#opts.log?.info(`${this.protocol.label}: replacement connection open, retiring the old one`, {
        overlapMs: this.#opts.rotationOverlapMs,
      });
      this.#overlapTimer = setTimeout(() => this.#promoteSuccessor(true), this.#opts.rotationOverlapMs);
    }
    this.#setState('open');
    this.#handlers.onChange();
    void this.#subscribe(link);
  }

  /** Makes the successor current; `retireOld` closes the previous one (false when it is already gone). */
  #promoteSuccessor(retireOld: boolean): void {
    const next = this.#successor;
    if (next?.state !== 'open') return;
    clearTimeout(this.#overlapTimer);
    const old = this.#current;
    this.#successor = null;
    next.role = 'primary';
    this.#current = next;
    this.#rotationAttempt = 0;
    this.#stats.rotations++;
    if (retireOld && old && old !== next) {
      old.retiring = true;
      old.endedBy = 'rotated';
      void this.#closeLink(old, 1000, 'rotated');
    }
    this.#setState('open');
    this.#handlers.onChange();
  }

  async #subscribe(link: Link): Promise<void> {
    const messages = this.protocol.subscribeMessages();
    if (messages.length === 0) return;
    const limiter = new WindowLimiter(this.protocol.controlLimit.limit, this.protocol.controlLimit.windowMs);
    for (const message of messages) {
      for (;;) {
        if (link.state !== 'open' || this.#stopped) return;
        const wait = limiter.take(now());
        if (wait === 0) break;
        await new Promise((r) => setTimeout(r, wait));
      }
      link.ws.send(message);
    }
  }

  #onClose(link: Link, code: number, reason: string): void {
    this.#links.delete(link);
    const opened = link.openedAt > 0;
    if (!opened) this.#stats.connectFailures++;
    if (this.#stopped) {
      this.#handlers.onChange();
      return;
    }
    if (link.retiring) {
      this.#handlers.onChange();
      return;
    }

    let fatal: string | null = null;
    if (link.httpStatus !== null) fatal = this.protocol.upgradeRejected(link.httpStatus, this.#everOpened);
    else if (opened && link.endedBy === null) fatal = this.protocol.closed(code, reason, !this.#receivedAny);
    if (fatal !== null) {
      this.fail(fatal);
      return;
    }

    const why = this.#describeEnd(link, code, reason);
    this.#stats.lastError = why;

    if (link === this.#successor) {
      // A failed rotation attempt: the current connection still serves; try again later.
      this.#successor = null;
      clearTimeout(this.#overlapTimer);
      const delay = backoffDelay(this.#rotationAttempt++, this.#opts.backoff, this.#opts.random);
      this.#nextRotationAt = now() + Math.max(delay, link.retryAfterMs);
      this.#opts.log?.warn(`${this.protocol.label}: replacement connection failed; keeping the current one`, {
        reason: why,
      });
      this.#handlers.onChange();
      return;
    }

    if (link === this.#current) {
      this.#current = null;
      const next = this.#successor;
      if (next?.state === 'open') {
        // Lost while a replacement was already streaming: switch over without a gap.
        this.#promoteSuccessor(false);
        return;
      }
      if (next) {
        // A replacement is on its way: let it become the primary when it opens.
        next.role = 'primary';
        this.#successor = null;
        this.#setState('reconnecting');
        this.#handlers.onChange();
        return;
      }
    } else if (this.#current !== null || [...this.#links].some((l) => l.role === 'primary')) {
      this.#handlers.onChange();
      return;
    }

    if (opened && now() - link.openedAt >= this.#opts.stableAfterMs) this.#attempt = 0;
    const attempt = this.#attempt++;
    const delayMs = Math.max(backoffDelay(attempt, this.#opts.backoff, this.#opts.random), link.retryAfterMs);
    this.#opts.log?.warn(`${this.protocol.label}: ${opened ? 'connection lost' : 'connect failed'}: ${why}`, {
      retryInMs: Math.round(delayMs),
      attempt: attempt + 1,
    });
    this.#opts.onRetry?.({ attempt, delayMs, reason: why });
    this.#setState(this.#everOpened ? 'reconnecting' : 'connecting');
    this.#handlers.onChange();
    this.#retryTimer = setTimeout(() => this.#open('primary'), delayMs);
  }

  #describeEnd(link: Link, code: number, reason: string): string {
    if (link.httpStatus !== null) return `HTTP ${link.httpStatus} on the WebSocket upgrade`;
    if (link.endedBy) return link.endedBy;
    if (link.openedAt === 0) return link.error ?? `closed before opening (code ${code})`;
    const name = CLOSE_CODES[code] ?? 'closed';
    return `code ${code} ${name}${reason ? `: ${reason}` : ''}${link.error ? ` (${link.error})` : ''}`;
  }

  #check(): void {
    if (this.#stopped) return;
    const t = now();
    const { idleTimeoutMs, maxConnectionAgeMs } = this.#opts;
    for (const link of this.#links) {
      if (link.state !== 'open' || link.retiring) continue;
      const silent = t - link.lastInboundAt;
      if (silent >= idleTimeoutMs) {
        this.#stats.idleTimeouts++;
        link.endedBy = `idle timeout: nothing received for ${Math.round(silent)} ms`;
        link.ws.terminate();
      } else if (silent >= idleTimeoutMs / 2 && !link.pinged) {
        link.pinged = true;
        link.ws.ping();
      }
    }
    const current = this.#current;
    if (
      maxConnectionAgeMs > 0 &&
      current?.state === 'open' &&
      this.#successor === null &&
      t - current.openedAt >= maxConnectionAgeMs &&
      t >= this.#nextRotationAt
    ) {
      this.#opts.log?.info(`${this.protocol.label}: rotating the connection before its maximum age`, {
        ageMs: Math.round(t - current.openedAt),
      });
      this.#open('successor');
    }
  }

  #closeLink(link: Link, code: number, reason: string): Promise<void> {
    if (link.state === 'closed') return link.closed;
    if (link.state === 'connecting') {
      link.ws.terminate();
      return link.closed;
    }
    link.ws.close(code, reason);
    // A peer that never answers the close handshake must not hold shutdown hostage.
    const force = setTimeout(() => link.ws.terminate(), 1000);
    force.unref();
    return link.closed.finally(() => clearTimeout(force));
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    if (this.#state === 'failed' || (this.#state === 'closed' && state !== 'failed')) return;
    this.#state = state;
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#checkTimer);
    clearTimeout(this.#overlapTimer);
  }

  #redact(text: string): string {
    return redact(text, this.protocol.secrets);
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms (capped at 1 h); 0 when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, nowMs: number = Date.now()): number {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return 0;
  const seconds = Number(v);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - nowMs;
  return Number.isFinite(ms) ? Math.min(3_600_000, Math.max(0, ms)) : 0;
}
