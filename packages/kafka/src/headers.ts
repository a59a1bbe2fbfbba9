import type { MessageHeader } from '@confluentinc/kafka-javascript';

/** Kafka headers as librdkafka hands them over: a list of single-entry objects. */
export type KafkaHeaders = MessageHeader[];

export function toKafkaHeaders(headers: Record<string, string>): KafkaHeaders {
  return Object.entries(headers).map(([k, v]) => ({ [k]: v }));
}

/** First value of a header, as a string, or undefined. */
export function headerValue(headers: KafkaHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const h of headers) {
    const v = h[name];
    if (v !== undefined) return typeof v === 'string' ? v : v.toString('utf8');
  }
  return undefined;
}
