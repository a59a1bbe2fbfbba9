/**
 * "Latest trade" rule for the Redis `latest:<SYMBOL>` hash, which never moves backwards: a trade
 * replaces the stored one unless it is older by event time. On equal event times the later arrival
 * wins (a redelivery of the same trade rewrites identical values, so this stays idempotent).
 */
import type { Trade } from './types.ts';

export type TimedTrade = Pick<Trade, 'symbol' | 'eventTimeUs'>;

/** True when `candidate` may overwrite `current` (absent current: always). Equal event time counts as newer. */
export function isNewer(candidate: TimedTrade, current: TimedTrade | undefined | null): boolean {
  return current == null || candidate.eventTimeUs >= current.eventTimeUs;
}

/**
 * The newest trade per symbol in a batch (ties: the later one in the batch), so a batch costs at
 * most one Redis update per symbol. Map order is the order in which symbols first appear.
 */
export function coalesceLatest<T extends TimedTrade>(trades: Iterable<T>): Map<string, T> {
  const latest = new Map<string, T>();
  for (const trade of trades) {
    if (isNewer(trade, latest.get(trade.symbol))) latest.set(trade.symbol, trade);
  }
  return latest;
}
