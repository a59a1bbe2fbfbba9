// Developer entry point (no build step; Node >= 22.18 runs it directly):
//   node packages/stack/src/cli.ts ensure            provision Kafka jars + CDS archive, PostgreSQL template
//   node packages/stack/src/cli.ts start [options]   start services, print connection settings, stop on Ctrl-C
//   node packages/stack/src/cli.ts paths             print the cache locations
// start options: --database postgres|timescale (default postgres), --no-kafka, --no-redis,
//                --no-fsync, --partitions N, --env (print only `export ...` lines)
import { parseArgs } from 'node:util';
import { warmKafka } from './kafka.ts';
import { cacheDir, KAFKA_VERSION, kafkaHome, kafkaLibsDir, nodePackageDir } from './paths.ts';
import { ensureAll } from './provision.ts';
import { startStack } from './stack.ts';

const USAGE = `usage: node packages/stack/src/cli.ts <command>
  ensure   provision what the stack needs (Kafka ${KAFKA_VERSION} jars via Maven, broker CDS archive,
           PostgreSQL initdb template) into ${cacheDir()}; quick when already done
  start    start the stack on free loopback ports, print the connection settings, stop on Ctrl-C
             --database postgres|timescale   (default postgres)
             --no-kafka --no-redis --no-fsync --partitions N
             --env   print only shell 'export' lines
  paths    print cache locations`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const log = (line: string): void => {
    process.stderr.write(`[stack] ${line}\n`);
  };
  switch (command) {
    case 'ensure': {
      const started = Date.now();
      const report = await ensureAll({ log });
      await warmKafka(log);
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s (cache ${report.cacheDir})`);
      return 0;
    }
    case 'paths': {
      process.stdout.write(
        `cache=${cacheDir()}\nkafkaHome=${kafkaHome()}\nkafkaLibs=${kafkaLibsDir()}\nnodePackage=${nodePackageDir()}\n`,
      );
      return 0;
    }
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: {
          database: { type: 'string', default: 'postgres' },
          'no-kafka': { type: 'boolean', default: false },
          'no-redis': { type: 'boolean', default: false },
          'no-fsync': { type: 'boolean', default: false },
          partitions: { type: 'string' },
          env: { type: 'boolean', default: false },
        },
      });
      const database = values.database;
      if (database !== 'postgres' && database !== 'timescale') {
        throw new Error(`--database must be postgres or timescale (got ${database})`);
      }
      const started = Date.now();
      const stack = await startStack({
        database,
        kafka: !values['no-kafka'],
        redis: !values['no-redis'],
        postgresOptions: { fsync: !values['no-fsync'] },
        ...(values.partitions !== undefined
          ? { kafkaOptions: { partitions: Number(values.partitions) } }
          : {}),
      });
      const lines = Object.entries(stack.env).map(([k, v]) => `export ${k}='${v}'`);
      if (values.env) {
        process.stdout.write(`${lines.join('\n')}\n`);
      } else {
        log(`started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        if (stack.postgres)
          log(`postgres ${stack.postgres.version}: ${stack.postgres.url} (log ${stack.postgres.logFile})`);
        if (stack.timescale) {
          log(
            `timescale (PGlite, PostgreSQL ${stack.timescale.version}, TimescaleDB ${stack.timescale.timescaleVersion}): ${stack.timescale.url}`,
          );
        }
        if (stack.kafka)
          log(`kafka ${stack.kafka.version}: ${stack.kafka.brokers} (log ${stack.kafka.logFile})`);
        if (stack.redis) log(`redis ${stack.redis.version}: ${stack.redis.url}`);
        process.stdout.write(`${lines.join('\n')}\n`);
        log('Ctrl-C to stop');
      }
      await new Promise<void>((resolveSignal) => {
        process.once('SIGINT', () => resolveSignal());
        process.once('SIGTERM', () => resolveSignal());
      });
      log('stopping');
      await stack.stop();
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `[stack] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
