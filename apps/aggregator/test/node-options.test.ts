import { describe, expect, it } from 'vitest';
import { AGGREGATOR_V8_FLAGS, aggregatorNodeOptions } from '../src/node-options.ts';

describe('aggregator NODE_OPTIONS', () => {
  it('caps the young generation, ahead of any NODE_OPTIONS already set (the later flag wins)', () => {
    expect(AGGREGATOR_V8_FLAGS).toEqual(['--max-semi-space-size=32']);
    expect(aggregatorNodeOptions(undefined)).toBe('--max-semi-space-size=32');
    expect(aggregatorNodeOptions('  ')).toBe('--max-semi-space-size=32');
    expect(aggregatorNodeOptions('--max-semi-space-size=16 --trace-gc')).toBe(
      '--max-semi-space-size=32 --max-semi-space-size=16 --trace-gc',
    );
  });
});
