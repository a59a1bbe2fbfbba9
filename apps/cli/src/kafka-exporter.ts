import { KafkaLagExporter } from '@tickflow/kafka';
import { startHealthServer } from '@tickflow/telemetry';

export interface KafkaExporterServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The Kafka Exporter's consumer-group lag and topic offset metrics (same names as Strimzi's) on a
 * local /metrics, from the admin API: what the Kafka dashboard and the lag alert read when there is no
 * cluster (`tickflow up`, the Prometheus test).
 */
export async function startKafkaExporter(opts: {
  brokers: string;
  port: number;
  host?: string;
  topicFilter?: RegExp;
  groupFilter?: RegExp;
}): Promise<KafkaExporterServer> {
  const exporter = await KafkaLagExporter.connect(opts);
  const server = await startHealthServer({
    port: opts.port,
    host: opts.host ?? '127.0.0.1',
    ready: () => true,
    metrics: () => exporter.metrics(),
  });
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${server.port}/metrics`,
    close: async () => {
      await server.close();
      await exporter.close();
    },
  };
}
