// A single-node KRaft Kafka (combined broker + controller) from the cached Maven jars.
//
// Storage: the quorum is configured statically (`controller.quorum.voters`), so a formatted log
// dir holds nothing port-specific; one is formatted per Kafka version into the cache
// (`<cache>/kafka-<v>/storage-template`, one extra JVM run the first time) and copied for each
// broker. With `--standalone` / `controller.quorum.bootstrap.servers` the formatted checkpoint
// would contain the controller's host:port and could not be reused.
// Start-up: class loading dominates on 2 cores, so a JDK AppCDS archive of the broker's classes
// (`<cache>/kafka-<v>/cds/broker-<jdk key>.jsa`) is written at the end of the first broker run
// (-XX:ArchiveClassesAtExit; that first stop takes ~10 s longer) and used by every later start
// (-XX:SharedArchiveFile): measured 10.6-11.4 s -> 4.9-6.7 s to "Kafka Server started" on a loaded
// 2-core machine. A stale or mismatched archive only makes the JVM warn and load classes normally.
// Logs: log4j2 (Kafka 4) writes the broker's log to `<dir>/server.log`, the JVM its GC log to
// `<dir>/gc.log` (brokerGcOptions); the JVM's own stdout and stderr go to `<dir>/kafka.out`.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KAFKA_VERSION, kafkaHome, kafkaLibsDir, kafkaLog4jConfig } from './paths.ts';
import { freePorts, isPortOpen, LOOPBACK } from './ports.ts';
import {
  createServiceDir,
  publishDirectory,
  type RunResult,
  retryOnPortClash,
  runCommand,
  startService,
} from './process.ts';
import { ensureKafka } from './provision.ts';

/** Main classes of Kafka's command-line tools (all in the cached jars). */
export const KAFKA_TOOLS = {
  broker: 'kafka.Kafka',
  storage: 'kafka.tools.StorageTool',
  topics: 'org.apache.kafka.tools.TopicCommand',
  producerPerf: 'org.apache.kafka.tools.ProducerPerformance',
  consumerPerf: 'org.apache.kafka.tools.ConsumerPerformance',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
} as const;

export interface KafkaOptions {
  /** PLAINTEXT listener port (default: free). */
  port?: number;
  /** CONTROLLER listener port (default: free). */
  controllerPort?: number;
  /** num.partitions for auto-created topics (default 1). */
  partitions?: number;
  /** auto.create.topics.enable (default true, Kafka's default). */
  autoCreateTopics?: boolean;
  /** JVM max heap (default '1g'). */
  heap?: string;
  /** Extra server.properties entries; override the defaults. */
  settings?: Record<string, string | number | boolean>;
  /** Garbage collector of the broker's JVM (default 'zgc', see brokerGcOptions). */
  gc?: BrokerGc;
  /** Extra JVM options. */
  jvmOptions?: readonly string[];
  /** How long stop() waits for a controlled shutdown before SIGKILL (default 15 s). */
  stopGraceMs?: number;
  readyTimeoutMs?: number;
  keepDataDir?: boolean;
  /** Use (or, the first time, write) the JDK class-data-sharing archive (default true). */
  classDataSharing?: boolean;
}

export interface KafkaInstance {
  /** '127.0.0.1:PORT', for KAFKA_BROKERS / bootstrap.servers */
  brokers: string;
  host: string;
  port: number;
  controllerPort: number;
  version: string;
  libsDir: string;
  /** Temp dir with server.properties, data/, server.log, gc.log, kafka.out */
  dir: string;
  /** log4j2 broker log */
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

export function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java')))
    return join(home, 'bin', 'java');
  return 'java';
}

/** Path of the broker's CDS archive for the current JDK (keyed by the java binary's real path and mtime). */
export function kafkaCdsArchive(): string | undefined {
  let java = javaBinary();
  if (!java.includes('/')) {
    const found = (process.env.PATH ?? '')
      .split(delimiter)
      .map((d) => join(d, java))
      .find((p) => existsSync(p));
    if (found === undefined) return undefined;
    java = found;
  }
  try {
    const real = realpathSync(java);
    const key = createHash('sha256')
      .update(`${real}:${statSync(real).mtimeMs}`)
      .digest('hex')
      .slice(0, 12);
    return join(kafkaHome(), 'cds', `broker-${key}.jsa`);
  } catch {
    return undefined;
  }
}

export interface KafkaToolOptions {
  /** JVM heap for the tool (default '512m'). */
  heap?: string;
  /** File for the tool's log4j2 output (default: stderr, WARN and above only). */
  logFile?: string;
  jvmOptions?: readonly string[];
}

/** Network and I/O thread counts of the local broker for a machine with `cores` CPUs. */
export function brokerThreads(cores: number): { 'num.network.threads': number; 'num.io.threads': number } {
  return cores <= 4
    ? { 'num.network.threads': 1, 'num.io.threads': Math.max(2, cores) }
    : { 'num.network.threads': 3, 'num.io.threads': 8 };
}

export type BrokerGc = 'zgc' | 'g1';

/**
 * JVM options for the broker's garbage collector; every collection is logged to `gcLog`.
 * ZGC by default: at 20k msg/s G1's young pauses (5-11 ms every ~1.6 s) stopped the broker with
 * every message in flight and were the largest part of the transport's p99. ZGC (JDK 15+) collects
 * concurrently with pauses well under 1 ms. In four alternating G1/ZGC pairs of
 * `tickflow bench --scenarios floor,latency --rates 20000 --warmup 20 --steady 30`, the transport
 * floor's p99 was 54.4 / 8.8 / 9.8 / 10.6 ms with G1 and 26.1 / 4.5 / 6.8 / 11.3 ms with ZGC, and the
 * end-to-end p99 of the three undisturbed pairs 52 / 78 / 77 ms against 32 / 27 / 60 ms.
 */
export function brokerGcOptions(gc: BrokerGc, gcLog: string): string[] {
  const log = `-Xlog:gc:file=${gcLog}:uptime,level:filecount=2,filesize=10m`;
  return gc === 'zgc'
    ? ['-XX:-UseG1GC', '-XX:+UseZGC', log]
    : [
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        log,
      ];
}

/**
 * The command line to run one of Kafka's Java tools with the cached classpath, e.g.
 * `kafkaToolCommand(KAFKA_TOOLS.producerPerf, ['--topic', 't', '--num-records', '100000', ...])`.
 * Spawn it yourself (the bench streams its output) or use runKafkaTool().
 */
export function kafkaToolCommand(
  mainClass: string,
  args: readonly string[],
  opts: KafkaToolOptions = {},
): { command: string; args: string[] } {
  const jvm = [
    `-Xmx${opts.heap ?? '512m'}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${kafkaLog4jConfig()}`,
    ...(opts.logFile !== undefined ? [`-Dkafka.log.file=${opts.logFile}`] : ['-Dkafka.log.level=WARN']),
    ...(opts.jvmOptions ?? []),
  ];
  return { command: javaBinary(), args: [...jvm, '-cp', `${kafkaLibsDir()}/*`, mainClass, ...args] };
}

/** Run a Kafka tool to completion (jars are provisioned first if needed). */
export async function runKafkaTool(
  mainClass: string,
  args: readonly string[],
  opts: KafkaToolOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  await ensureKafka();
  const { command, args: full } = kafkaToolCommand(mainClass, args, opts);
  return runCommand(command, full, { timeoutMs: opts.timeoutMs ?? 300_000 });
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what random-uuid prints). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

function propertiesText(props: Record<string, string | number | boolean>): string {
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')}\n`;
}

const TEMPLATE_NODE_ID = 1;

/** The formatted, never-started KRaft log dir cached per Kafka version. */
async function ensureStorageTemplate(): Promise<string> {
  const template = join(kafkaHome(), 'storage-template');
  if (existsSync(join(template, 'meta.properties'))) return template;
  const work = mkdtempSync(join(tmpdir(), 'tickflow-kafka-format-'));
  try {
    const data = join(work, 'data');
    const config = join(work, 'server.properties');
    // Ports here only have to be syntactically valid: formatting with static voters records none.
    writeFileSync(
      config,
      propertiesText({
        'process.roles': 'broker,controller',
        'node.id': TEMPLATE_NODE_ID,
        'controller.quorum.voters': `${TEMPLATE_NODE_ID}@${LOOPBACK}:9093`,
        listeners: `PLAINTEXT://${LOOPBACK}:9092,CONTROLLER://${LOOPBACK}:9093`,
        'controller.listener.names': 'CONTROLLER',
        'log.dirs': data,
      }),
    );
    const { command, args } = kafkaToolCommand(KAFKA_TOOLS.storage, [
      'format',
      '-t',
      newClusterId(),
      '-c',
      config,
      '--ignore-formatted',
    ]);
    await runCommand(command, args, { timeoutMs: 120_000 });
    if (!existsSync(join(data, 'meta.properties')))
      throw new Error('kafka storage format wrote no meta.properties');
    await publishDirectory(data, template, 'meta.properties');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

export function startKafka(opts: KafkaOptions = {}): Promise<KafkaInstance> {
  return opts.port !== undefined ? startKafkaOnce(opts) : retryOnPortClash(() => startKafkaOnce(opts));
}

/** Partitions of the local broker's __consumer_offsets (Kafka's default 50 only slows a fresh start). */
const OFFSETS_TOPIC_PARTITIONS = 4;

async function startKafkaOnce(opts: KafkaOptions): Promise<KafkaInstance> {
  const libsDir = await ensureKafka();
  const [template, ports] = await Promise.all([ensureStorageTemplate(), freePorts(2)]);
  const port = opts.port ?? ports[0] ?? 0;
  const controllerPort = opts.controllerPort ?? ports[1] ?? 0;

  const serviceDir = createServiceDir('kafka', opts.keepDataDir);
  const dir = serviceDir.path;
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const outFile = join(dir, 'kafka.out');
  const config = join(dir, 'server.properties');
  const cleanup = (): void => serviceDir.remove();
  try {
    await runCommand('cp', ['-a', template, dataDir]);
    writeFileSync(
      config,
      propertiesText({
        'process.roles': 'broker,controller',
        'node.id': TEMPLATE_NODE_ID,
        'controller.quorum.voters': `${TEMPLATE_NODE_ID}@${LOOPBACK}:${controllerPort}`,
        listeners: `PLAINTEXT://${LOOPBACK}:${port},CONTROLLER://${LOOPBACK}:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://${LOOPBACK}:${port}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'log.dirs': dataDir,
        'num.partitions': opts.partitions ?? 1,
        'default.replication.factor': 1,
        'min.insync.replicas': 1,
        'auto.create.topics.enable': opts.autoCreateTopics ?? true,
        'offsets.topic.replication.factor': 1,
        'offsets.topic.num.partitions': OFFSETS_TOPIC_PARTITIONS,
        'transaction.state.log.replication.factor': 1,
        'transaction.state.log.min.isr': 1,
        'transaction.state.log.num.partitions': 4,
        'share.coordinator.state.topic.replication.factor': 1,
        'share.coordinator.state.topic.min.isr': 1,
        'group.initial.rebalance.delay.ms': 0,
        'log.retention.hours': 24,
        // Kafka's defaults (3 network, 8 I/O threads) are for servers. On a small machine every
        // request then wakes threads that mostly hand work to each other: on 2 cores, 1 + 2 threads
        // cut end-to-end latency at 20k msg/s (producer + one aggregator) from p50 32 to 15 ms, mean 53 to 21.
        ...brokerThreads(availableParallelism()),
        ...opts.settings,
      }),
    );
    const cds = opts.classDataSharing === false ? undefined : kafkaCdsArchive();
    let cdsDump: string | undefined;
    const cdsOptions: string[] = [];
    if (cds !== undefined && existsSync(cds)) {
      cdsOptions.push(`-XX:SharedArchiveFile=${cds}`);
    } else if (cds !== undefined) {
      mkdirSync(join(kafkaHome(), 'cds'), { recursive: true });
      cdsDump = `${cds}.tmp-${process.pid}-${port}`;
      cdsOptions.push(`-XX:ArchiveClassesAtExit=${cdsDump}`);
    }
    const { command, args } = kafkaToolCommand(KAFKA_TOOLS.broker, [config], {
      heap: opts.heap ?? '1g',
      logFile,
      jvmOptions: [
        '-Xms256m',
        ...brokerGcOptions(opts.gc ?? 'zgc', join(dir, 'gc.log')),
        ...cdsOptions,
        ...(opts.jvmOptions ?? []),
      ],
    });
    const broker = await startService({
      name: 'kafka',
      command,
      args,
      cwd: dir,
      logFile: outFile,
      extraLogFiles: [logFile],
      stopSignal: 'SIGTERM',
      // writing the CDS archive at exit takes ~10 s on 2 busy cores: do not SIGKILL it
      stopGraceMs: Math.max(opts.stopGraceMs ?? 15_000, cdsDump !== undefined ? 120_000 : 0),
      readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
      pollIntervalMs: 100,
      ready: async () =>
        existsSync(logFile) &&
        readFileSync(logFile, 'utf8').includes('Kafka Server started') &&
        (await isPortOpen(port)),
    });
    const brokers = `${LOOPBACK}:${port}`;
    // Ready means group coordinators answer too: until they do, an admin client's offset fetch can
    // crash its process (see waitForGroupCoordinators).
    try {
      const { waitForGroupCoordinators } = await import('@tickflow/kafka');
      await waitForGroupCoordinators(brokers, OFFSETS_TOPIC_PARTITIONS);
    } catch (err) {
      await broker.stop();
      throw err;
    }
    return {
      brokers,
      host: LOOPBACK,
      port,
      controllerPort,
      version: KAFKA_VERSION,
      libsDir,
      dir,
      logFile,
      pid: broker.pid,
      stop: async () => {
        const exit = await broker.stop();
        if (cds !== undefined && cdsDump !== undefined) {
          try {
            if (
              exit.signal !== 'SIGKILL' &&
              existsSync(cdsDump) &&
              statSync(cdsDump).size > 0 &&
              !existsSync(cds)
            ) {
              renameSync(cdsDump, cds);
            }
          } finally {
            rmSync(cdsDump, { force: true });
          }
        }
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/**
 * Make the next broker start fast: format the storage template and write the CDS archive by
 * starting and stopping one broker, unless the archive already exists. Used by `cli.ts ensure`.
 */
export async function warmKafka(log: (line: string) => void = () => {}): Promise<void> {
  await ensureKafka({ log });
  await ensureStorageTemplate();
  const cds = kafkaCdsArchive();
  if (cds === undefined || existsSync(cds)) return;
  log('kafka: starting a broker once to write its class-data-sharing archive');
  const started = Date.now();
  const broker = await startKafka();
  await broker.stop();
  log(
    `kafka: CDS archive ${existsSync(cds) ? 'written' : 'NOT written'} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
}
