import { describe, expect, it } from 'vitest';
import { startHealthServer } from '../src/index.ts';

describe('health server', () => {
  it('answers liveness, readiness and metrics', async () => {
    let ready = false;
    const s = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      ready: () => ready,
      metrics: () => 'x_total 1\n',
    });
    const get = (p: string) => fetch(`http://127.0.0.1:${s.port}${p}`);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    expect(await (await get('/metrics')).text()).toBe('x_total 1\n');
    expect((await get('/nope')).status).toBe(404);
    await s.close();
  });
});
