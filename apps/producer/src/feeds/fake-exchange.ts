import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Trade } from '@tickflow/contracts';
import { type WebSocket, WebSocketServer } from 'ws';
import { SyntheticSource } from '../sources/synthetic.ts';

/**
 * A local WebSocket server speaking the Binance combined-stream or Finnhub trade protocol, for tests, the
 * sample recordings and offline demos. It never talks to a real exchange: the test drives it (send, broadcast,
 * drop, stall, close with a code, reject upgrades) and inspects what the client did (URL, subscriptions).
 */
export type FakeProtocol = 'binance' | 'finnhub';

export interface FakeExchangeOptions {
  protocol: FakeProtocol;
  /** Finnhub: the accepted `token`; anything else gets HTTP 401 on the upgrade (like the real service). */
  apiKey?: string;
  /** Answer WebSocket pings (default true). false behaves like a half-open connection: nothing ever comes back. */
  autoPong?: boolean;
  host?: string;
}

export class FakeClient {
  readonly id: number;
  readonly socket: WebSocket;
  /** The request URL (path, `streams=`, `token=`). */
  readonly url: URL;
  /** Finnhub symbols subscribed on this connection, in order. */
  readonly subscriptions: string[] = [];
  /** Every text message the client sent. */
  readonly received: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #subscribeWaiters: Array<() => void> = [];

  constructor(id: number, socket: WebSocket, req: IncomingMessage) {
    this.id = id;
    this.socket = socket;
    this.url = new URL(req.url ?? '/', 'ws://fake');
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = (data as Buffer).toString();
      this.received.push(text);
      try {
        const msg = JSON.parse(text) as { type?: unknown; symbol?: unknown };
        if (msg.type === 'subscribe' && typeof msg.symbol === 'string') {
          this.subscriptions.push(msg.symbol);
          for (const w of this.#subscribeWaiters.splice(0)) w();
        }
      } catch {
        // not JSON: kept in `received`
      }
    });
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Binance: the lower-case streams of the combined-stream URL. */
  get streams(): string[] {
    return (this.url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
  }

  send(frame: string | Buffer): void {
    if (this.open) this.socket.send(frame);
  }

  /** A close handshake with `code` (e.g. 1000 for Binance's 24 h cut, 1008 for a policy violation). */
  close(code = 1000, reason = ''): void {
    this.socket.close(code, reason);
  }

  /** Drops the TCP connection without a close frame (the client sees 1006). */
  drop(): void {
    this.socket.terminate();
  }

  /** Resolves once `n` subscriptions arrived on this connection. */
  async subscribed(n: number): Promise<void> {
    while (this.subscriptions.length < n) {
      await new Promise<void>((resolve) => this.#subscribeWaiters.push(resolve));
    }
  }
}

export class FakeExchange {
  readonly protocol: FakeProtocol;
  /** `ws://127.0.0.1:PORT`: the base URL for BINANCE_WS_URL / FINNHUB_WS_URL. */
  readonly url: string;
  /** Every connection ever accepted, in order. */
  readonly clients: FakeClient[] = [];
  /** Called for each new connection (e.g. to start streaming to it). */
  onConnection: ((client: FakeClient) => void) | null = null;
  readonly #server: WebSocketServer;
  #rejectStatus: number | null = null;
  #waiters: Array<() => void> = [];

  private constructor(protocol: FakeProtocol, server: WebSocketServer, url: string) {
    this.protocol = protocol;
    this.#server = server;
    this.url = url;
  }

  static async start(options: FakeExchangeOptions): Promise<FakeExchange> {
    const { protocol, apiKey } = options;
    let self: FakeExchange | null = null;
    const server = new WebSocketServer({
      host: options.host ?? '127.0.0.1',
      port: 0,
      autoPong: options.autoPong ?? true,
      verifyClient: (info, done) => {
        const status = self ? self.#rejectStatus : null;
        if (status) return done(false, status, status === 401 ? 'Unauthorized' : 'Refused');
        if (protocol === 'finnhub' && apiKey !== undefined) {
          const token = new URL(info.req.url ?? '/', 'ws://fake').searchParams.get('token');
          if (token !== apiKey) return done(false, 401, 'Unauthorized');
        }
        done(true);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', reject);
    });
    const { address, port } = server.address() as AddressInfo;
    const created = new FakeExchange(protocol, server, `ws://${address}:${port}`);
    self = created;
    server.on('connection', (socket, req) => {
      const client = new FakeClient(created.clients.length + 1, socket, req);
      socket.on('error', () => undefined);
      created.clients.push(client);
      for (const w of created.#waiters.splice(0)) w();
      created.onConnection?.(client);
    });
    return created;
  }

  get openClients(): FakeClient[] {
    return this.clients.filter((c) => c.open);
  }

  /** Resolves with the `n`-th connection (1-based) once it exists. */
  async connection(n: number): Promise<FakeClient> {
    for (;;) {
      const c = this.clients[n - 1];
      if (c) return c;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends a frame to every open connection (the "tape" every subscriber sees); returns how many got it. */
  broadcast(frame: string): number {
    let n = 0;
    for (const c of this.clients) {
      if (c.open) {
        c.send(frame);
        n++;
      }
    }
    return n;
  }

  /** Refuse upgrades with this HTTP status (null: accept again). */
  rejectUpgrades(status: number | null): void {
    this.#rejectStatus = status;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.socket.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** One trade as an exchange would send it. */
export interface ExchangeTrade {
  symbol: string;
  price: number;
  size: number;
  timeMs: number;
  /** Binance trade id (Finnhub sends none). */
  id: number;
}

/** A Binance combined-stream `trade` event; price and quantity as 8-decimal strings like the real feed. */
export function binanceTradeFrame(t: ExchangeTrade): string {
  return JSON.stringify({
    stream: `${t.symbol.toLowerCase()}@trade`,
    data: {
      e: 'trade',
      E: t.timeMs + 1,
      s: t.symbol,
      t: t.id,
      p: t.price.toFixed(8),
      q: t.size.toFixed(8),
      T: t.timeMs,
      m: t.id % 2 === 0,
      M: true,
    },
  });
}

/** A Finnhub `trade` frame carrying several trades. */
export function finnhubTradeFrame(trades: readonly ExchangeTrade[]): string {
  return JSON.stringify({
    data: trades.map((t) => ({ c: ['1', '12'], p: t.price, s: t.symbol, t: t.timeMs, v: t.size })),
    type: 'trade',
  });
}

export const FINNHUB_PING = '{"type":"ping"}';

export interface TapeOptions {
  symbols: readonly string[];
  count: number;
  /** Default 7. */
  seed?: number;
  /** First trade time, ms since epoch. Default 2026-01-05T14:30:00Z. */
  startMs?: number;
  /** Mean spacing of trades, ms. Default 25. */
  stepMs?: number;
  /** First trade id. Default 4,100,000,000 (Binance-sized ids). */
  firstId?: number;
}

/**
 * A deterministic sequence of exchange trades (prices from the synthetic random walk), the same for the same
 * options: the fake exchanges' "market".
 */
export function syntheticTape(options: TapeOptions): ExchangeTrade[] {
  const startUs = (options.startMs ?? 1_767_623_400_000) * 1000;
  const stepUs = (options.stepMs ?? 25) * 1000;
  const source = new SyntheticSource({
    seed: options.seed ?? 7,
    symbols: options.symbols,
    tradeIdBase: options.firstId ?? 4_100_000_000,
  });
  const out: ExchangeTrade[] = [];
  for (let i = 0; i < options.count; i++) {
    const t: Trade = source.next(startUs + i * stepUs + ((i * 7919) % stepUs));
    out.push({
      symbol: t.symbol,
      price: t.price,
      size: t.size,
      timeMs: Math.floor(t.eventTimeUs / 1000),
      id: Number(t.tradeId),
    });
  }
  return out;
}
