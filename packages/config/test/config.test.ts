import { describe, expect, it } from 'vitest';
import { ConfigError, fields, helpText, loadConfig, parseArgs } from '../src/index.ts';

const spec = {
  brokers: { env: 'KAFKA_BROKERS', flag: 'brokers', schema: fields.brokers('localhost:9092'), help: 'Kafka' },
  redisUrl: {
    env: 'REDIS_URL',
    flag: 'redis-url',
    schema: fields.url('redis://localhost:6379', ['redis:']),
    help: 'Redis',
  },
  rate: { flag: 'rate', schema: fields.integer(10, 1), help: 'rate' },
  lateness: { env: 'LATENESS', schema: fields.durationMs(1000), help: 'lateness' },
  noProducer: { flag: 'no-producer', boolean: true, schema: fields.boolean(false), help: 'skip' },
  mode: { flag: 'mode', schema: fields.oneOf(['a', 'b'] as const, 'a'), help: 'mode' },
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig(spec, [], {})).toEqual({
      brokers: 'localhost:9092',
      redisUrl: 'redis://localhost:6379',
      rate: 10,
      lateness: 1000,
      noProducer: false,
      mode: 'a',
    });
  });

  it('reads the environment and lets flags override it', () => {
    const cfg = loadConfig(spec, ['--brokers', 'b:1', '--rate=5', '--no-producer'], {
      KAFKA_BROKERS: 'a:1',
      LATENESS: '2s',
    });
    expect(cfg.brokers).toBe('b:1');
    expect(cfg.rate).toBe(5);
    expect(cfg.lateness).toBe(2000);
    expect(cfg.noProducer).toBe(true);
  });

  it('names every bad variable and flag in one error', () => {
    try {
      loadConfig(spec, ['--rate', 'fast', '--bogus', '1', '--mode', 'z'], {
        REDIS_URL: 'http://x',
        LATENESS: 'soon',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain('environment variable REDIS_URL');
      expect(msg).toContain('flag --rate = "fast": must be an integer');
      expect(msg).toContain('environment variable LATENESS');
      expect(msg).toContain('unknown flag --bogus');
      expect(msg).toContain('must be one of a, b');
    }
  });

  it('rejects a value-less flag that needs a value', () => {
    expect(() => loadConfig(spec, ['--rate'], {})).toThrow(/--rate needs a value/);
  });

  it('renders help from the spec', () => {
    expect(helpText(spec)).toContain('--brokers <value> [KAFKA_BROKERS]');
  });
});

describe('parseArgs', () => {
  it('keeps positionals and handles --', () => {
    const p = parseArgs(['run', '--x', '1', '--', '--y']);
    expect(p.positionals).toEqual(['run', '--y']);
    expect(p.flags.get('x')).toBe('1');
  });
});
