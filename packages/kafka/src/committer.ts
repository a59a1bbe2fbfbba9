import type { PartitionOffset } from './consumer.ts';

export interface OffsetCommitterOptions {
  /** Sends one commit request; resolves once the broker stored the offsets. */
  commit: (offsets: PartitionOffset[]) => Promise<void>;
  /** A failed request: those offsets are not retried (the next commit carries newer ones anyway). */
  onError?: (err: Error, offsets: PartitionOffset[]) => void;
  /**
   * Waits this long after a request before sending the next one, to merge more batches into it;
   * `flush()` cuts the wait short.
   */
  minIntervalMs?: number;
}

/**
 * Commits offsets in the order they are added, with at most one request in flight: offsets added
 * meanwhile are merged (per partition the newest wins) and go out in the next request. Under load
 * that turns one commit per batch into one per broker round trip (or per `minIntervalMs`), and
 * every commit request costs the group coordinator a write to __consumer_offsets. Offsets still
 * never run ahead of what the caller added, so committing only after durable processing stays the
 * caller's guarantee.
 */
export class OffsetCommitter {
  readonly #opts: OffsetCommitterOptions;
  #pending = new Map<string, PartitionOffset>();
  #running: Promise<void> | undefined;
  /** Ends the pause between two requests early (set while pausing). */
  #wake: (() => void) | undefined;
  /** Flushes waiting: no pauses between requests meanwhile. */
  #flushing = 0;
  /** Commit requests sent, for metrics and tests. */
  requests = 0;

  constructor(opts: OffsetCommitterOptions) {
    this.#opts = opts;
  }

  /** Offsets of a processed batch (next offset to consume per partition), in processing order. */
  add(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.#pending.set(`${o.topic}\0${o.partition}`, o);
    if (this.#pending.size > 0 && this.#running === undefined) this.#running = this.#loop();
  }

  /** Resolves once everything added so far has been committed (or its request failed). */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      while (this.#running !== undefined) {
        this.#wake?.();
        await this.#running;
      }
    } finally {
      this.#flushing--;
    }
  }

  async #loop(): Promise<void> {
    try {
      while (this.#pending.size > 0) {
        const offsets = [...this.#pending.values()];
        this.#pending = new Map();
        this.requests++;
        try {
          await this.#opts.commit(offsets);
        } catch (err) {
          this.#opts.onError?.(err as Error, offsets);
        }
        const pause = this.#opts.minIntervalMs ?? 0;
        if (pause > 0 && this.#flushing === 0) {
          // Let the batches finishing meanwhile share the next request.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pause);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = undefined;
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}
