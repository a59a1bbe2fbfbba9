import { describe, expect, it } from 'vitest';
import type { LatestPrice } from '../src/api-types.ts';
import { StreamHub } from '../src/live/hub.ts';
import { LatestPoller } from '../src/live/latest-poller.ts';
import type { LatestSource } from '../src/live/redis-latest.ts';
import { escapeGlob, parseLatestHash } from '../src/live/redis-latest.ts';

const p = (symbol: string, price: number, t: number): LatestPrice => ({
  symbol,
  price,
  size: 1,
  event_time_us: t,
  source: 'synthetic',
  trade_id: `${symbol}-${t}`,
});

describe('LatestPoller', () => {
  it('hands the hub only the symbols whose latest trade changed since the last poll', async () => {
    let state = [p('AAPL', 1, 1), p('MSFT', 2, 1)];
    const source: LatestSource = {
      symbols: async () => state.map((x) => x.symbol),
      get: async (s) => state.find((x) => x.symbol === s) ?? null,
      many: async () => state,
    };
    const published: LatestPrice[][] = [];
    const hub = new StreamHub({ maxClients: 1, queueLimit: 10, stallTimeoutMs: 1000 });
    hub.publishPrices = (changed) => published.push([...changed]);
    const poller = new LatestPoller(source, hub, { intervalMs: 250 });
    await poller.poll();
    // Many trades of AAPL between two polls arrive as one update: the newest.
    state = [p('AAPL', 1.5, 9), p('MSFT', 2, 1)];
    await poller.poll();
    await poller.poll();
    expect(published).toEqual([[p('AAPL', 1, 1), p('MSFT', 2, 1)], [p('AAPL', 1.5, 9)], []]);
    expect(poller.newestEventUs()).toBe(9);
    expect(poller.stats).toEqual({ polls: 3, errors: 0 });
  });

  it('counts a failed poll and keeps going', async () => {
    const errors: string[] = [];
    const source: LatestSource = {
      symbols: async () => [],
      get: async () => null,
      many: async () => {
        throw new Error('ECONNREFUSED');
      },
    };
    const hub = new StreamHub({ maxClients: 1, queueLimit: 10, stallTimeoutMs: 1000 });
    const poller = new LatestPoller(source, hub, { intervalMs: 250, onError: (e) => errors.push(e.message) });
    await poller.poll();
    expect(errors).toEqual(['ECONNREFUSED']);
    expect(poller.stats.errors).toBe(1);
  });
});

describe('Redis latest hashes', () => {
  it('parses the contract fields and rejects incomplete hashes', () => {
    expect(
      parseLatestHash('AAPL', {
        price: '230.5',
        size: '10',
        event_time_us: '1767364200123456',
        source: 'replay',
        trade_id: '7',
      }),
    ).toEqual({
      symbol: 'AAPL',
      price: 230.5,
      size: 10,
      event_time_us: 1767364200123456,
      source: 'replay',
      trade_id: '7',
    });
    expect(parseLatestHash('AAPL', {})).toBeNull();
    expect(
      parseLatestHash('AAPL', { price: 'x', size: '1', event_time_us: '1', source: 's', trade_id: 't' }),
    ).toBeNull();
  });

  it('escapes glob characters of the key prefix for SCAN MATCH', () => {
    expect(escapeGlob('t[1]*?:latest:')).toBe('t\\[1\\]\\*\\?:latest:');
  });
});
