/**
 * Semantic-convention attribute names used by Tickflow's spans. The messaging and database ones are
 * still "incubating" in @opentelemetry/semantic-conventions, whose guidance is to copy them rather
 * than import the unstable entry point. Where a name was recently renamed (messaging.system ->
 * messaging.system.name, messaging.kafka.offset -> kafka.offset) both are set, as the
 * OTEL_SEMCONV_STABILITY_OPT_IN "dup" mode of the official instrumentations does, so backends and
 * queries written for either find them.
 */
export const ATTR = {
  messagingSystem: 'messaging.system',
  messagingSystemName: 'messaging.system.name',
  messagingOperationName: 'messaging.operation.name',
  messagingOperationType: 'messaging.operation.type',
  messagingDestinationName: 'messaging.destination.name',
  messagingDestinationPartitionId: 'messaging.destination.partition.id',
  messagingConsumerGroupName: 'messaging.consumer.group.name',
  messagingBatchMessageCount: 'messaging.batch.message_count',
  messagingClientId: 'messaging.client.id',
  messagingKafkaOffset: 'messaging.kafka.offset',
  kafkaOffset: 'kafka.offset',
  kafkaMessageKey: 'kafka.message.key',
  dbSystemName: 'db.system.name',
  dbOperationName: 'db.operation.name',
  dbOperationBatchSize: 'db.operation.batch.size',
  dbCollectionName: 'db.collection.name',
  errorType: 'error.type',
} as const;

export const KAFKA = 'kafka';
