import { describe, expect, it } from 'vitest';
import { OffsetCommitter } from '../src/committer.ts';
import type { PartitionOffset } from '../src/consumer.ts';

const at = (partition: number, offset: number): PartitionOffset => ({ topic: 't', partition, offset });

/** A commit function whose requests stay pending until the test releases them. */
function controlledCommit() {
  const requests: Array<{ offsets: PartitionOffset[]; done: (err?: Error) => void }> = [];
  const commit = (offsets: PartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      requests.push({ offsets, done: (err) => (err ? reject(err) : resolve()) });
    });
  return { requests, commit };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('OffsetCommitter', () => {
  it('sends one request at a time and merges what arrives meanwhile, newest offset per partition', async () => {
    const { requests, commit } = controlledCommit();
    const committer = new OffsetCommitter({ commit });
    committer.add([at(0, 10)]);
    committer.add([at(0, 20), at(1, 5)]);
    committer.add([at(1, 7)]);
    await tick();
    expect(requests.map((r) => r.offsets)).toEqual([[at(0, 10)]]);
    requests[0]?.done();
    await tick();
    expect(requests[1]?.offsets).toEqual([at(0, 20), at(1, 7)]);
    const flushed = committer.flush();
    requests[1]?.done();
    await flushed;
    expect(committer.requests).toBe(2);
  });

  it('reports a failed request and carries on with newer offsets', async () => {
    const { requests, commit } = controlledCommit();
    const failures: PartitionOffset[][] = [];
    const committer = new OffsetCommitter({ commit, onError: (_e, offsets) => failures.push(offsets) });
    committer.add([at(0, 1)]);
    committer.add([at(0, 2)]);
    await tick();
    requests[0]?.done(new Error('rebalance in progress'));
    await tick();
    expect(failures).toEqual([[at(0, 1)]]);
    requests[1]?.done();
    await committer.flush();
    expect(requests.map((r) => r.offsets)).toEqual([[at(0, 1)], [at(0, 2)]]);
  });

  it('flush resolves at once when nothing is pending, and after the last request otherwise', async () => {
    const { requests, commit } = controlledCommit();
    const committer = new OffsetCommitter({ commit });
    await committer.flush();
    committer.add([]);
    expect(committer.requests).toBe(0);
    committer.add([at(3, 9)]);
    let flushed = false;
    const f = committer.flush().then(() => {
      flushed = true;
    });
    await tick();
    expect(flushed).toBe(false);
    requests[0]?.done();
    await f;
    expect(flushed).toBe(true);
  });

  it('with minIntervalMs, merges the batches of the pause into one request, and flush cuts the pause short', async () => {
    const { requests, commit } = controlledCommit();
    // A long pause: only flush() can end it within the test's time.
    const committer = new OffsetCommitter({ commit, minIntervalMs: 60_000 });
    committer.add([at(0, 1)]);
    await tick();
    requests[0]?.done();
    await tick();
    committer.add([at(0, 2)]);
    committer.add([at(0, 3), at(1, 1)]);
    await tick();
    expect(requests).toHaveLength(1); // still pausing
    const flushed = committer.flush();
    await tick();
    expect(requests[1]?.offsets).toEqual([at(0, 3), at(1, 1)]);
    requests[1]?.done();
    await flushed; // no second pause while flushing
    expect(committer.requests).toBe(2);
  });
});
