import type { Trade } from '@tickflow/contracts';
import type { ReplayLineResult } from '../sources/replay.ts';

/** What one text frame meant. */
export type FrameOutcome =
  /** Trades (each already passes validateTrade); `rejected` describes bad trades dropped from a multi-trade frame. */
  | { kind: 'trades'; trades: readonly Trade[]; rejected: readonly string[] }
  /** A recognised non-trade message: ping, subscription reply, other event type. */
  | { kind: 'control' }
  | { kind: 'malformed'; error: string }
  /** An error reported by the exchange; `fatal` ones (a rejected API key) stop the feed. */
  | { kind: 'error'; message: string; fatal: boolean };

/**
 * The exchange-specific part of a live feed, injected into the generic FeedConnection: where to connect, what
 * to send after each open, how to read a frame and which refusals are fatal. One instance per connection.
 */
export interface FeedProtocol {
  /** Contract `source` of the trades. */
  readonly source: 'binance' | 'finnhub';
  /** Name in logs, e.g. `binance` or `binance[2/3]` when symbols are sharded over several connections. */
  readonly label: string;
  /** Strings that must never appear in logs or errors (the API key). */
  readonly secrets: readonly string[];
  /** Rate limit for messages we send on one connection (subscriptions). */
  readonly controlLimit: { limit: number; windowMs: number };
  /** The URL to open; may carry a secret. */
  url(): string;
  /** The URL as it may be logged (secrets redacted). */
  displayUrl(): string;
  /** Sent after every open, i.e. also after each reconnect (resubscription). */
  subscribeMessages(): readonly string[];
  parseFrame(text: string): FrameOutcome;
  /** The upgrade got HTTP `status` instead of 101: a fatal error message, or null to retry with backoff. */
  upgradeRejected(status: number, everOpened: boolean): string | null;
  /**
   * An open connection was closed with `code`: a fatal error message, or null to reconnect. `startup` is true
   * while the feed has not yet received a single frame.
   */
  closed(code: number, reason: string, startup: boolean): string | null;
}

/** Adapts a replay parser result (shared with `--source replay`, so live and replay map frames identically). */
export function outcomeOf(result: ReplayLineResult): FrameOutcome {
  if (!result.ok) return { kind: 'malformed', error: result.error };
  if (result.skipped) return { kind: 'control' };
  return {
    kind: 'trades',
    trades: result.trades,
    rejected: result.rejected.length === 0 ? NO_REJECTS : result.rejected.map((r) => r.error),
  };
}

const NO_REJECTS: readonly string[] = Object.freeze([]);

/** A short, single-line excerpt of a frame for logs. */
export function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
