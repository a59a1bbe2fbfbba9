export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  initialMs: number;
  /** Upper bound of any delay (ms). */
  maxMs: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /**
   * Fraction of the delay that is random, 0..1. Default 0.5 ("equal jitter"): the delay is uniform in
   * [exp/2, exp], which spreads a crowd of reconnecting clients without ever retrying immediately.
   */
  jitter?: number;
}

/** Largest exponent used: beyond it every realistic cap is reached and `multiplier ** attempt` stays finite. */
const MAX_EXPONENT = 64;

/**
 * Exponential backoff with jitter, capped: a pure function of the attempt number (0 for the first retry) and a
 * random source returning [0, 1). Result in ms, within [exp * (1 - jitter), exp] where exp = min(maxMs,
 * initialMs * multiplier^attempt).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs } = options;
  const multiplier = options.multiplier ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  if (!(initialMs >= 0) || !(maxMs >= 0) || !(multiplier >= 1)) {
    throw new RangeError(`invalid backoff options ${JSON.stringify(options)}`);
  }
  const n = Math.min(MAX_EXPONENT, Math.max(0, Math.floor(attempt)));
  const exp = Math.min(maxMs, initialMs * multiplier ** n);
  const r = Math.min(1, Math.max(0, random()));
  return exp * (1 - jitter) + exp * jitter * r;
}
