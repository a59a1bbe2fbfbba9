import { describe, expect, it } from 'vitest';
import {
  AGGREGATOR_GROUP,
  alertsChannel,
  DEFAULT_REDIS_PREFIX,
  DEFAULT_TOPICS,
  DLQ_HEADERS,
  LATEST_FIELDS,
  latestKey,
  TRACE_HEADERS,
} from '../src/index.ts';

describe('fixed names of the contract', () => {
  it('topics, group and headers', () => {
    expect(DEFAULT_TOPICS).toEqual({
      rawMarketData: 'raw-market-data',
      aggregatedMetrics: 'aggregated-metrics',
      priceAlerts: 'price-alerts',
      deadLetterQueue: 'dead-letter-queue',
    });
    expect(AGGREGATOR_GROUP).toBe('tickflow-aggregators');
    expect(Object.values(DLQ_HEADERS)).toEqual([
      'x-dlq-reason',
      'x-dlq-source-topic',
      'x-dlq-source-partition',
      'x-dlq-source-offset',
      'x-dlq-error',
    ]);
    expect(Object.values(TRACE_HEADERS)).toEqual(['traceparent', 'tracestate']);
  });

  it('redis keys', () => {
    expect(latestKey(DEFAULT_REDIS_PREFIX, 'AAPL')).toBe('tickflow:latest:AAPL');
    expect(latestKey('t2:', 'BTCUSDT')).toBe('t2:latest:BTCUSDT');
    expect(alertsChannel(DEFAULT_REDIS_PREFIX)).toBe('tickflow:alerts');
    expect(Object.values(LATEST_FIELDS).sort()).toEqual(
      ['event_time_us', 'price', 'size', 'source', 'trade_id'].sort(),
    );
  });
});
