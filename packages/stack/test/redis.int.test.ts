import { existsSync } from 'node:fs';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { isPidAlive, isPortFree, startRedis } from '../src/index.ts';

describe('startRedis', () => {
  it('answers PING/SET/GET without persistence, then stops cleanly', async () => {
    const server = await startRedis();
    try {
      expect(server.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(server.version).toMatch(/^\d+\.\d+\.\d+$/);
      const client = createClient({ url: server.url });
      await client.connect();
      try {
        expect(await client.ping()).toBe('PONG');
        expect(await client.set('tickflow:test', 'v1')).toBe('OK');
        expect(await client.get('tickflow:test')).toBe('v1');
        expect(await client.configGet('save')).toEqual({ save: '' });
        expect(await client.configGet('appendonly')).toEqual({ appendonly: 'no' });
        expect(await client.configGet('bind')).toEqual({ bind: '127.0.0.1' });
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
    expect(await isPortFree(server.port)).toBe(true);
    expect(isPidAlive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});
