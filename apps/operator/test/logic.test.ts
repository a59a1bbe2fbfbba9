import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canAcquire } from '../src/leader.ts';
import { bundleUsable, generateServingBundle, serviceSans } from '../src/metrics-api/certs.ts';
import { hpaDesiredReplicas, type LagOptions, totalLag } from '../src/metrics-api/lag.ts';
import { matches, parseSelector, pinnedValue } from '../src/metrics-api/selector.ts';
import { canonical, computeStatus, type Observation } from '../src/status.ts';
import { type Clock, WorkQueue } from '../src/workqueue.ts';

class FakeClock implements Clock {
  t = 0;
  timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.t + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  };
  advance(ms: number) {
    this.t += ms;
    for (const timer of this.timers.filter((x) => !x.cancelled && x.at <= this.t)) {
      timer.cancelled = true;
      timer.fn();
    }
  }
}

describe('WorkQueue', () => {
  it('de-duplicates keys and never hands one key to two workers', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(q.tryGet()).toBe('a');
    q.add('a'); // while processing: queued again only after done
    expect(q.tryGet()).toBe('b');
    expect(q.tryGet()).toBeUndefined();
    q.done('a');
    expect(q.tryGet()).toBe('a');
    q.done('a');
    q.done('b');
    expect(q.tryGet()).toBeUndefined();
  });

  it('retries with per-key exponential backoff, capped, reset by forget', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = Array.from({ length: 6 }, () => q.addRateLimited('k'));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    // the earliest pending add wins: k is due at 100 ms
    clock.advance(99);
    expect(q.tryGet()).toBeUndefined();
    clock.advance(1);
    expect(q.tryGet()).toBe('k');
    q.done('k');
    q.forget('k');
    expect(q.addRateLimited('k')).toBe(100);
  });

  it('get() waits for a key and resolves undefined on shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const next = q.get();
    q.add('x');
    expect(await next).toBe('x');
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
  });
});

const opts = (o: Partial<LagOptions> = {}): LagOptions => ({
  lagThreshold: 100,
  activationLagThreshold: 0,
  offsetResetPolicy: 'earliest',
  allowIdleConsumers: false,
  scaleToZeroOnInvalidOffset: false,
  excludePersistentLag: false,
  ...o,
});

describe('lag (KEDA Kafka scaler semantics)', () => {
  const parts = [
    { partition: 0, logEndOffset: 50, committedOffset: 20 },
    { partition: 1, logEndOffset: 70, committedOffset: -1 },
  ];
  it('sums log end minus committed; no commit counts the log end (earliest) or 1 (latest)', () => {
    expect(totalLag(parts, opts()).lag).toBe(30 + 70);
    expect(totalLag(parts, opts({ offsetResetPolicy: 'latest' })).lag).toBe(30 + 1);
    expect(totalLag(parts, opts({ scaleToZeroOnInvalidOffset: true })).lag).toBe(30);
    expect(totalLag(parts, opts({ offsetResetPolicy: 'latest', scaleToZeroOnInvalidOffset: true })).lag).toBe(
      30,
    );
  });

  it('caps at partitions x threshold unless idle consumers are allowed', () => {
    const big = [
      { partition: 0, logEndOffset: 1000, committedOffset: 0 },
      { partition: 1, logEndOffset: 1000, committedOffset: 0 },
    ];
    const capped = totalLag(big, opts());
    expect(capped.lag).toBe(200);
    expect(capped.uncappedLag).toBe(2000);
    expect(totalLag(big, opts({ allowIdleConsumers: true })).lag).toBe(2000);
    // floor(lag / threshold) must exceed the partitions for the cap to apply (KEDA's integer division)
    expect(totalLag([{ partition: 0, logEndOffset: 199, committedOffset: 0 }], opts()).lag).toBe(199);
    expect(totalLag([{ partition: 0, logEndOffset: 200, committedOffset: 0 }], opts()).lag).toBe(100);
  });

  it('activation: lag including persistent lag above activationLagThreshold', () => {
    expect(totalLag(parts, opts({ activationLagThreshold: 99 })).active).toBe(true);
    expect(totalLag(parts, opts({ activationLagThreshold: 100 })).active).toBe(false);
  });

  it('excludePersistentLag: a partition whose committed offset did not move counts 0 (but still activates)', () => {
    const o = opts({ excludePersistentLag: true, activationLagThreshold: 5 });
    const first = totalLag(parts, o);
    expect(first.lag).toBe(100);
    const second = totalLag(parts, o, first.offsets);
    expect(second.lag).toBe(70); // partition 0 stuck at 20; partition 1 has no commit (always counted)
    expect(second.lagWithPersistent).toBe(100);
    const moved = totalLag([{ partition: 0, logEndOffset: 50, committedOffset: 25 }], o, first.offsets);
    expect(moved.lag).toBe(25);
  });

  it('the HPA maths: ceil(metric / target) outside the tolerance, clamped; the cap keeps it at the partitions', () => {
    expect(hpaDesiredReplicas(400, 100, 1, 1, 10)).toBe(4);
    expect(hpaDesiredReplicas(105, 100, 1, 1, 10)).toBe(1); // within 10 %
    expect(hpaDesiredReplicas(0, 100, 4, 1, 10)).toBe(1);
    const capped = totalLag(
      [0, 1, 2, 3].map((p) => ({ partition: p, logEndOffset: 10_000, committedOffset: 0 })),
      opts(),
    );
    expect(hpaDesiredReplicas(capped.lag, 100, 1, 1, 100)).toBe(4);
  });
});

describe('label selectors', () => {
  it('parses and matches the forms the API server accepts', () => {
    const labels = { 'tickflow.dev/pipeline': 'demo', topic: 'raw' };
    const ok = [
      'tickflow.dev/pipeline=demo',
      'tickflow.dev/pipeline==demo',
      'topic in (raw, other)',
      'topic,!missing',
      'x notin (y)',
      'topic!=bars',
      '',
    ];
    for (const s of ok) expect(matches(parseSelector(s), labels), s).toBe(true);
    const no = ['tickflow.dev/pipeline=other', 'topic notin (raw)', '!topic', 'missing', 'topic in (a,b)'];
    for (const s of no) expect(matches(parseSelector(s), labels), s).toBe(false);
    expect(pinnedValue(parseSelector('a=b,tickflow.dev/pipeline=demo'), 'tickflow.dev/pipeline')).toBe(
      'demo',
    );
    for (const bad of ['a=b,', 'in (x', '=x', 'a=b c']) expect(() => parseSelector(bad), bad).toThrow();
  });
});

describe('status conditions', () => {
  const base: Observation = {
    generation: 2,
    topicsPending: [],
    deployments: [
      {
        name: 'agg',
        generation: 2,
        observedGeneration: 2,
        desired: 2,
        replicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
      },
    ],
  };
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:01:00Z');
  const cond = (s: ReturnType<typeof computeStatus>, type: string) =>
    s.conditions?.find((c) => c.type === type);

  it('Ready when rolled out and available; observedGeneration on the status and each condition', () => {
    const s = computeStatus(undefined, base, t0);
    expect(s.phase).toBe('Ready');
    expect(s.observedGeneration).toBe(2);
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'True',
      observedGeneration: 2,
      lastTransitionTime: t0.toISOString(),
    });
    expect(cond(s, 'Progressing')?.status).toBe('False');
    expect(cond(s, 'Degraded')?.status).toBe('False');
  });

  it('Progressing while a rollout or a topic is pending; Degraded on errors; transition times only move on change', () => {
    const ready = computeStatus(undefined, base, t0);
    const rolling = computeStatus(
      ready,
      { ...base, generation: 3, deployments: [{ ...base.deployments[0], generation: 3 } as never] },
      t1,
    );
    expect(rolling.phase).toBe('Progressing');
    expect(cond(rolling, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Progressing',
      lastTransitionTime: t1.toISOString(),
    });
    expect(cond(rolling, 'Degraded')?.lastTransitionTime).toBe(t0.toISOString());
    const topics = computeStatus(ready, { ...base, topicsPending: ['demo-raw'] }, t1);
    expect(cond(topics, 'Progressing')?.message).toContain('demo-raw');
    const failed = computeStatus(ready, { ...base, error: { reason: 'ApplyFailed', message: 'boom' } }, t1);
    expect(failed.phase).toBe('Degraded');
    expect(cond(failed, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ApplyFailed',
      message: 'boom',
    });
    const unavailable = computeStatus(
      undefined,
      { ...base, deployments: [{ ...base.deployments[0], availableReplicas: 0 } as never] },
      t0,
    );
    expect(unavailable.phase).toBe('Pending');
    expect(cond(unavailable, 'Ready')?.reason).toBe('NoAvailableReplicas');
  });

  it('canonical JSON ignores key order (no status write for a reordered but equal status)', () => {
    expect(canonical({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonical({ a: [{ x: 1, y: 2 }], b: 1 }));
  });
});

describe('serving certificates', () => {
  it('a CA and a serving certificate it signs, for the Service names and loopback', () => {
    const sans = [...serviceSans('tickflow-operator', 'tickflow'), 'localhost', '127.0.0.1'];
    const now = new Date('2026-06-01T00:00:00Z');
    const b = generateServingBundle(sans, now);
    const ca = new X509Certificate(b.ca.certPem);
    const leaf = new X509Certificate(b.serving.certPem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('tickflow-operator.tickflow.svc')).toBe('tickflow-operator.tickflow.svc');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(bundleUsable(b, sans, now)).toBeUndefined();
    expect(bundleUsable(b, [...sans, 'other.svc'], now)).toContain('lacks other.svc');
    expect(bundleUsable(b, sans, new Date('2027-05-15T00:00:00Z'))).toContain('expires soon');
    // renewing the serving certificate keeps the CA (and so the caBundle)
    const renewed = generateServingBundle(sans, now, { ca: b.ca });
    expect(renewed.ca.certPem).toBe(b.ca.certPem);
    expect(new X509Certificate(renewed.serving.certPem).verify(ca.publicKey)).toBe(true);
  });
});

describe('leader election', () => {
  it('takes a lease only when free, ours, or unchanged for a whole lease duration', () => {
    expect(canAcquire(undefined, 'me', 0, 0, 15)).toBe(true);
    expect(canAcquire({ holderIdentity: null }, 'me', 0, 0, 15)).toBe(true);
    expect(canAcquire({ holderIdentity: 'me' }, 'me', 0, 0, 15)).toBe(true);
    expect(canAcquire({ holderIdentity: 'other', leaseDurationSeconds: 15 }, 'me', 1000, 15_999, 15)).toBe(
      false,
    );
    expect(canAcquire({ holderIdentity: 'other', leaseDurationSeconds: 15 }, 'me', 1000, 16_000, 15)).toBe(
      true,
    );
  });
});
