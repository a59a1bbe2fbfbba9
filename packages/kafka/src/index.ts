export type { PartitionLag, TopicSpec } from './admin.ts';
export { consumerGroupLag, ensureTopics } from './admin.ts';
export type { BatchConsumerOptions, ConsumedMessage, PartitionOffset } from './consumer.ts';
export { BatchConsumer } from './consumer.ts';
export type { KafkaHeaders } from './headers.ts';
export { headerValue, toKafkaHeaders } from './headers.ts';
export type { DeliveryCallback, OutgoingRecord, ProducerOptions } from './producer.ts';
export { KafkaProducer } from './producer.ts';
