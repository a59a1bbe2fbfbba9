// Helpers of the operator's control-plane tests.
import { randomUUID } from 'node:crypto';
import type { ControlPlane } from '@tickflow/k8s-harness';
import { BatchConsumer, KafkaProducer } from '@tickflow/kafka';
import { createLogger, type Logger } from '@tickflow/telemetry';
import { type OperatorHandle, startOperator } from '../src/app.ts';
import { loadOperatorConfig } from '../src/config.ts';

export const quietLogger = (): Logger => {
  const sink = { write: (s: string) => (process.env.OPERATOR_TEST_LOGS ? process.stderr.write(s) : true) };
  return createLogger('operator-test', sink as unknown as NodeJS.WritableStream);
};

/** Polls `fn` until it returns a value other than undefined/false, or fails with the last observation. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function getJson<T = Record<string, unknown>>(cp: ControlPlane, args: string[]): Promise<T> {
  const { stdout } = await cp.kubectl([...args, '-o', 'json']);
  return JSON.parse(stdout) as T;
}

export async function tryGetJson<T = Record<string, unknown>>(
  cp: ControlPlane,
  args: string[],
): Promise<T | undefined> {
  try {
    return await getJson<T>(cp, args);
  } catch (e) {
    if (/NotFound|not found/.test((e as Error).message)) return undefined;
    throw e;
  }
}

export async function applyYaml(cp: ControlPlane, yaml: string, extra: string[] = []): Promise<string> {
  const { stdout } = await cp.kubectl(
    ['apply', '--server-side', '--field-manager=tickflow-test', ...extra, '-f', '-'],
    { input: yaml },
  );
  return stdout;
}

/** Runs the operator in this process against the control plane. */
export async function runOperator(cp: ControlPlane, env: Record<string, string>): Promise<OperatorHandle> {
  const cfg = loadOperatorConfig([], {
    KUBECONFIG: cp.kubeconfigPath,
    POD_NAMESPACE: 'tickflow-system',
    POD_NAME: `test-${randomUUID().slice(0, 6)}`,
    METRICS_PORT: '0',
    EXTERNAL_METRICS_PORT: '0',
    EXTERNAL_METRICS_HOST: '127.0.0.1',
    OPERATOR_RESYNC: '3s',
    LAG_CACHE: '500ms',
    ...env,
  });
  return startOperator(cfg, quietLogger());
}

/** Publishes `count` small records spread over the topic's partitions (keys round-robin). */
export async function produce(brokers: string, topic: string, count: number): Promise<void> {
  const producer = await KafkaProducer.connect({ brokers, clientId: 'operator-test', compression: 'none' });
  try {
    await producer.sendAll(
      Array.from({ length: count }, (_, i) => ({ topic, key: `k${i}`, value: Buffer.from(`m${i}`) })),
    );
    await producer.drain();
  } finally {
    await producer.close();
  }
}

/** Consumes up to `count` records in `group` and commits after each batch. Returns how many it consumed. */
export async function consumeAndCommit(
  brokers: string,
  group: string,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<number> {
  const consumer = await BatchConsumer.connect({
    brokers,
    groupId: group,
    clientId: `drain-${randomUUID().slice(0, 4)}`,
    topics: [topic],
  });
  let n = 0;
  const deadline = Date.now() + timeoutMs;
  try {
    while (n < count && Date.now() < deadline) {
      const batch = await consumer.poll(Math.min(500, count - n), 500);
      if (batch.length === 0) continue;
      n += batch.length;
      const next = new Map<number, number>();
      for (const m of batch) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, m.offset + 1));
      await consumer.commit([...next].map(([partition, offset]) => ({ topic, partition, offset })));
    }
  } finally {
    await consumer.close();
  }
  return n;
}
