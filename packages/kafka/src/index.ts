export { consumerGroupLag, ensureTopics } from './admin.ts';
export type { PartitionLag, TopicSpec } from './admin.ts';
export { BatchConsumer } from './consumer.ts';
export type { BatchConsumerOptions, ConsumedMessage, PartitionOffset } from './consumer.ts';
export { headerValue, toKafkaHeaders } from './headers.ts';
export type { KafkaHeaders } from './headers.ts';
export { KafkaProducer } from './producer.ts';
export type { DeliveryCallback, OutgoingRecord, ProducerOptions } from './producer.ts';
