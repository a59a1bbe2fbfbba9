import { describe, expect, it } from 'vitest';
import { renderKafkaExporterMetrics } from '../src/lag-exporter.ts';

describe('Kafka Exporter metrics from admin-API offsets', () => {
  it("uses kafka_exporter's names and labels; lag counts from the oldest offset without a commit", () => {
    const text = renderKafkaExporterMetrics({
      topics: [
        {
          topic: 'raw-market-data',
          partitions: [
            { partition: 0, oldest: 0, current: 100 },
            { partition: 1, oldest: 10, current: 50 },
          ],
        },
      ],
      groups: [
        {
          group: 'tickflow-aggregators',
          members: 2,
          offsets: [
            { topic: 'raw-market-data', partition: 0, offset: 90 },
            { topic: 'raw-market-data', partition: 1, offset: -1 },
            { topic: 'unknown', partition: 0, offset: 5 },
          ],
        },
      ],
    });
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      'kafka_topic_partitions{topic="raw-market-data"} 2',
      'kafka_topic_partition_current_offset{partition="0",topic="raw-market-data"} 100',
      'kafka_topic_partition_current_offset{partition="1",topic="raw-market-data"} 50',
      'kafka_topic_partition_oldest_offset{partition="0",topic="raw-market-data"} 0',
      'kafka_topic_partition_oldest_offset{partition="1",topic="raw-market-data"} 10',
      'kafka_consumergroup_current_offset{consumergroup="tickflow-aggregators",partition="0",topic="raw-market-data"} 90',
      'kafka_consumergroup_current_offset{consumergroup="tickflow-aggregators",partition="1",topic="raw-market-data"} -1',
      'kafka_consumergroup_lag{consumergroup="tickflow-aggregators",partition="0",topic="raw-market-data"} 10',
      'kafka_consumergroup_lag{consumergroup="tickflow-aggregators",partition="1",topic="raw-market-data"} 40',
      'kafka_consumergroup_lag_sum{consumergroup="tickflow-aggregators",topic="raw-market-data"} 50',
      'kafka_consumergroup_members{consumergroup="tickflow-aggregators"} 2',
    ]);
    expect(text).toContain('# TYPE kafka_consumergroup_lag gauge');
  });
});
