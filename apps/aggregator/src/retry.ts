export interface RetryOptions {
  /** Aborting stops retrying; the pending attempt's error is rethrown. */
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (attempt: number, err: Error, delayMs: number) => void;
}

/**
 * Retries `fn` with capped exponential backoff and full jitter until it succeeds or `signal`
 * aborts. Sinks are idempotent, so re-running a partly applied write is safe; not dropping the
 * batch is the point: while this loops, the consumer does not poll, so consumption pauses.
 */
export async function retryUntilDone<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const initial = opts.initialDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const cap = Math.min(max, initial * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
      opts.onRetry?.(attempt, err as Error, delay);
      await sleep(delay, opts.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
