import { ConfigError } from '@tickflow/config';
import { describe, expect, it } from 'vitest';
import { loadProducerConfig, producerHelp } from '../src/config.ts';

const problems = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    loadProducerConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
};

describe('producer configuration for live feeds', () => {
  it('defaults the symbols to what each exchange lists', () => {
    expect(loadProducerConfig(['--source', 'binance'], {}).symbols).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'SOLUSDT',
      'BNBUSDT',
    ]);
    const finnhub = loadProducerConfig(['--source', 'finnhub'], { FINNHUB_API_KEY: 'k' });
    expect(finnhub.symbols).toContain('AAPL');
    expect(finnhub.symbols).not.toContain('BTCUSDT');
    expect(loadProducerConfig(['--source', 'binance', '--symbols=BTCUSDT'], {}).symbols).toEqual(['BTCUSDT']);
    expect(
      loadProducerConfig(['--source', 'finnhub'], {
        FINNHUB_API_KEY: 'k',
        PRODUCER_SYMBOLS: 'BINANCE:BTCUSDT',
      }).symbols,
    ).toEqual(['BINANCE:BTCUSDT']);
  });

  it('reads endpoints and feed settings from the environment and flags', () => {
    const cfg = loadProducerConfig(
      [
        '--source',
        'binance',
        '--idle-timeout',
        '5s',
        '--max-connection-age',
        '1h',
        '--record',
        '/tmp/x.jsonl',
      ],
      { BINANCE_WS_URL: 'ws://127.0.0.1:9999', FEED_RECONNECT_MAX: '10s' },
    );
    expect(cfg).toMatchObject({
      binanceWsUrl: 'ws://127.0.0.1:9999',
      idleTimeoutMs: 5000,
      maxConnectionAgeMs: 3_600_000,
      reconnectMinMs: 250,
      reconnectMaxMs: 10_000,
      record: '/tmp/x.jsonl',
      finnhubWsUrl: 'wss://ws.finnhub.io',
    });
    expect(loadProducerConfig(['--source', 'binance'], {}).maxConnectionAgeMs).toBeUndefined();
  });

  it('fails at start-up without a Finnhub key, naming the variable', () => {
    expect(problems(['--source', 'finnhub'])).toMatch(/FINNHUB_API_KEY/);
    expect(problems(['--source', 'finnhub'], { FINNHUB_API_KEY: '' })).toMatch(/FINNHUB_API_KEY/);
  });

  it('never echoes the key: there is no flag for it and its value cannot fail validation', () => {
    expect(
      problems(['--source', 'finnhub', '--finnhub-api-key', 'abc'], { FINNHUB_API_KEY: 'zz-secret' }),
    ).toMatch(/unknown flag --finnhub-api-key/);
    const message = problems(['--source', 'finnhub', '--idle-timeout', 'never'], {
      FINNHUB_API_KEY: 'zz-secret',
    });
    expect(message).toMatch(/idle-timeout/);
    expect(message).not.toContain('zz-secret');
    expect(producerHelp).toContain('FINNHUB_API_KEY');
  });

  it('rejects what a live feed cannot use', () => {
    expect(problems(['--source', 'binance', '--symbols', 'BTC-USD,ETHUSDT'])).toMatch(
      /not Binance spot symbols.*BTC-USD/,
    );
    expect(problems(['--source', 'binance'], { BINANCE_WS_URL: 'https://stream.binance.com' })).toMatch(
      /BINANCE_WS_URL/,
    );
    expect(problems(['--source', 'synthetic', '--record', 'x.jsonl'])).toMatch(
      /--record applies to the live sources/,
    );
    expect(problems(['--source', 'binance', '--reconnect-min', '5s', '--reconnect-max', '1s'])).toMatch(
      /reconnect-max/,
    );
  });
});
