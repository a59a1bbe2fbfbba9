import { describe, expect, it } from 'vitest';
import type { AlertJson, LatestPrice, StreamEventName } from '../src/api-types.ts';
import { StreamHub, type StreamSink } from '../src/live/hub.ts';

const price = (symbol: string, p: number, t = 1): LatestPrice => ({
  symbol,
  price: p,
  size: 1,
  event_time_us: t,
  source: 'synthetic',
  trade_id: String(t),
});

const alert = (symbol: string, n: number): AlertJson => ({
  symbol,
  window_start_us: n,
  window_end_us: n + 60_000_000,
  open: 100,
  close: 101,
  change_pct: 1,
  threshold_pct: 0.5,
  direction: 'UP',
});

/** A sink whose writes complete only when the test says so (a client that reads slowly). */
class FakeSink implements StreamSink {
  readonly sent: Array<{ event: StreamEventName; data: unknown }> = [];
  closed: string | undefined;
  #pending: Array<() => void> = [];
  readonly auto: boolean;

  constructor(auto = true) {
    this.auto = auto;
  }

  send(event: StreamEventName, data: unknown): Promise<void> {
    this.sent.push({ event, data });
    if (this.auto) return Promise.resolve();
    return new Promise((resolve) => this.#pending.push(resolve));
  }

  close(reason: string): void {
    this.closed = reason;
  }

  flush(): void {
    const p = this.#pending;
    this.#pending = [];
    for (const r of p) r();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function hub(overrides: Partial<ConstructorParameters<typeof StreamHub>[0]> = {}) {
  return new StreamHub({ maxClients: 10, queueLimit: 4, stallTimeoutMs: 30_000, ...overrides });
}

describe('StreamHub', () => {
  it('sends a snapshot to a new client, then only what changed, honouring its symbol filter', async () => {
    const h = hub();
    h.publishPrices([price('AAPL', 1), price('MSFT', 2)]);
    const all = new FakeSink();
    const onlyAapl = new FakeSink();
    h.add(all);
    h.add(onlyAapl, new Set(['AAPL']));
    await tick();
    expect(all.sent).toEqual([{ event: 'prices', data: { prices: [price('AAPL', 1), price('MSFT', 2)] } }]);
    expect(onlyAapl.sent).toEqual([{ event: 'prices', data: { prices: [price('AAPL', 1)] } }]);

    h.publishPrices([price('MSFT', 3, 2)]);
    h.publishAlert(alert('MSFT', 0));
    await tick();
    expect(all.sent.slice(1)).toEqual([
      { event: 'prices', data: { prices: [price('MSFT', 3, 2)] } },
      { event: 'alert', data: alert('MSFT', 0) },
    ]);
    expect(onlyAapl.sent).toHaveLength(1);
  });

  it('coalesces prices and health for a client that is behind, so its queue does not grow', async () => {
    const h = hub();
    const slow = new FakeSink(false);
    h.add(slow); // the empty snapshot is now in flight
    for (let i = 0; i < 100; i++) h.publishPrices([price('AAPL', 100 + i, i), price('MSFT', 200 + i, i)]);
    h.publishHealth({ targets: [], throughput_per_s: 1, p99_ms: null, lag: null, newest_event_us: null });
    h.publishHealth({ targets: [], throughput_per_s: 2, p99_ms: null, lag: null, newest_event_us: null });
    expect(h.size).toBe(1);
    slow.flush();
    await tick();
    slow.flush();
    await tick();
    slow.flush();
    await tick();
    expect(slow.sent.map((s) => s.event)).toEqual(['prices', 'prices', 'health']);
    expect(slow.sent[1]?.data).toEqual({ prices: [price('AAPL', 199, 99), price('MSFT', 299, 99)] });
    expect(slow.sent[2]?.data).toMatchObject({ throughput_per_s: 2 });
  });

  it('drops a blocked client whose queue overflows, without affecting the others', async () => {
    const dropped: string[] = [];
    let now = 0;
    const h = hub({ onDrop: (r) => dropped.push(r), now: () => now });
    const slow = new FakeSink(false);
    const fast = new FakeSink();
    h.add(slow);
    h.add(fast);
    for (let i = 0; i < 5; i++) h.publishAlert(alert('AAPL', i));
    await tick();
    expect(slow.closed).toBeUndefined(); // over the limit, but its write has been pending for 0 ms
    now = 1001;
    h.publishAlert(alert('AAPL', 5));
    await tick();
    expect(slow.closed).toMatch(/queue full/);
    expect(dropped).toEqual(['slow client: queue full']);
    expect(h.size).toBe(1);
    expect(fast.sent.filter((s) => s.event === 'alert')).toHaveLength(6);
    expect(h.stats.dropped).toBe(1);
  });

  it('lets a client that keeps up absorb a burst bigger than its queue', async () => {
    const h = hub({ queueLimit: 4 });
    const fast = new FakeSink();
    h.add(fast);
    for (let i = 0; i < 60; i++) h.publishAlert(alert('AAPL', i)); // one tick, as a batch from Redis arrives
    await new Promise((r) => setTimeout(r, 10));
    expect(fast.closed).toBeUndefined();
    expect(fast.sent.filter((s) => s.event === 'alert')).toHaveLength(60);
    for (let i = 0; i < 70; i++) h.publishAlert(alert('MSFT', i)); // past 16x the limit: dropped regardless
    expect(fast.closed).toMatch(/queue full/);
  });

  it('drops a client whose write has stalled', async () => {
    let now = 0;
    const h = hub({ now: () => now, stallTimeoutMs: 1000 });
    const stuck = new FakeSink(false);
    h.add(stuck);
    now = 500;
    h.publishPrices([price('AAPL', 1)]);
    expect(stuck.closed).toBeUndefined();
    now = 1501;
    h.publishPrices([price('AAPL', 2, 2)]);
    expect(stuck.closed).toMatch(/stalled/);
    expect(h.size).toBe(0);
  });

  it('refuses clients beyond maxClients and forgets removed ones', () => {
    const h = hub({ maxClients: 1 });
    const a = h.add(new FakeSink());
    expect(h.add(new FakeSink())).toBeNull();
    expect(h.stats.rejected).toBe(1);
    a?.remove();
    a?.remove();
    expect(h.size).toBe(0);
    expect(h.add(new FakeSink())).not.toBeNull();
  });

  it('closes everyone on shutdown without counting drops', () => {
    const h = hub();
    const a = new FakeSink();
    const b = new FakeSink();
    h.add(a);
    h.add(b);
    h.closeAll('bye');
    expect([a.closed, b.closed]).toEqual(['bye', 'bye']);
    expect(h.size).toBe(0);
    expect(h.stats.dropped).toBe(0);
  });

  it('forgets a client whose transport fails', async () => {
    const h = hub();
    const broken: StreamSink = { send: () => Promise.reject(new Error('EPIPE')), close: () => undefined };
    h.add(broken);
    await tick();
    expect(h.size).toBe(0);
  });
});
