// Provisioning that does not need Node dependencies: the Kafka jars (via Maven), Kafka's log4j2
// configuration, the cached PostgreSQL initdb template, and checks for the Debian binaries.
// scripts/bootstrap.sh installs system packages, Node 24 and npm dependencies and then calls
// `node packages/stack/src/cli.ts ensure`, so this file is the single source of truth for the
// Kafka layout in the cache. Every step is idempotent and quick when already done.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cacheDir,
  KAFKA_SCALA_VERSION,
  KAFKA_VERSION,
  kafkaCompleteMarker,
  kafkaHome,
  kafkaLibsDir,
  kafkaLog4jConfig,
  postgresBinDir,
} from './paths.ts';
import { ensurePostgresTemplate } from './postgres.ts';
import { isPidAlive, runCommand } from './process.ts';

/** log4j2 backend for Kafka's SLF4J 1.7 API (the broker artifacts do not bring a binding). */
export const LOG4J_VERSION = '2.24.3';

export function kafkaPom(): string {
  const dep = (g: string, a: string, v: string): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by @tickflow/stack (provision.ts). Gathers the Apache Kafka ${KAFKA_VERSION} broker and tools jars:
     mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=libs -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tickflow</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.apache.kafka', `kafka_${KAFKA_SCALA_VERSION}`, KAFKA_VERSION)}
${dep('org.apache.kafka', 'kafka-tools', KAFKA_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
  </dependencies>
</project>
`;
}

/**
 * log4j2 configuration for the broker and the tools: everything goes to the file named by the
 * system property `kafka.log.file` (set per broker by kafka.ts); tools without that property log
 * warnings to stderr only.
 */
export function kafkaLog4j2Properties(): string {
  return `# Written by @tickflow/stack (provision.ts)
status = warn
name = tickflow-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.log.file:-/dev/stderr}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = \${sys:kafka.log.level:-INFO}
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
`;
}

/** A simple cross-process lock: a directory holding the owner's pid; stale locks are taken over. */
async function withLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (Number.isInteger(holder) && !isPidAlive(holder)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for lock ${lockDir} (held by pid ${holder})`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

export interface EnsureOptions {
  /** Print progress lines (default: silent). */
  log?: (line: string) => void;
}

function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
  writeFileSync(path, content);
}

/** Kafka jars in `<cache>/kafka-<v>/libs` and its log4j2 config; returns the libs dir. */
export async function ensureKafka(opts: EnsureOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  const home = kafkaHome();
  const libs = kafkaLibsDir();
  const marker = kafkaCompleteMarker();
  mkdirSync(join(home, 'config'), { recursive: true });
  writeIfChanged(kafkaLog4jConfig(), kafkaLog4j2Properties());
  const pom = kafkaPom();
  const upToDate = (): boolean => existsSync(marker) && readFileSync(marker, 'utf8') === pom;
  if (upToDate()) return libs;
  await withLock(join(home, '.lock'), 15 * 60_000, async () => {
    if (upToDate()) return; // someone else finished while we waited
    log(`kafka: gathering Apache Kafka ${KAFKA_VERSION} jars with Maven into ${libs}`);
    const started = Date.now();
    writeFileSync(join(home, 'pom.xml'), pom);
    rmSync(marker, { force: true });
    rmSync(libs, { recursive: true, force: true });
    rmSync(join(home, 'cds'), { recursive: true, force: true }); // class archives of the old jars
    rmSync(join(home, 'storage-template'), { recursive: true, force: true });
    await runCommand(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(home, 'pom.xml'),
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${libs}`,
      ],
      { cwd: home, timeoutMs: 15 * 60_000 },
    );
    const jars = readdirSync(libs).filter((f) => f.endsWith('.jar'));
    for (const required of [
      `kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar`,
      `kafka-tools-${KAFKA_VERSION}.jar`,
    ]) {
      if (!jars.includes(required)) throw new Error(`kafka: ${required} missing from ${libs} after mvn`);
    }
    writeFileSync(marker, pom);
    log(`kafka: ${jars.length} jars in ${Math.round((Date.now() - started) / 1000)} s`);
  });
  return libs;
}

async function which(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await runCommand('sh', ['-c', `command -v ${command}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface ProvisionReport {
  cacheDir: string;
  kafkaLibsDir: string;
  postgresTemplate: string;
  missing: string[];
}

/** Everything the stack needs that can be provisioned without root: Kafka jars, PG template. */
export async function ensureAll(opts: EnsureOptions = {}): Promise<ProvisionReport> {
  const log = opts.log ?? (() => {});
  const missing: string[] = [];
  for (const command of ['java', 'mvn', 'redis-server']) {
    if ((await which(command)) === undefined) missing.push(command);
  }
  let pgBin: string | undefined;
  try {
    pgBin = postgresBinDir();
  } catch {
    missing.push('postgresql server (initdb, postgres)');
  }
  if (missing.length > 0) {
    throw new Error(`missing: ${missing.join(', ')} (run scripts/bootstrap.sh as root to install them)`);
  }
  const [libs, template] = await Promise.all([ensureKafka(opts), ensurePostgresTemplate(pgBin)]);
  log(`postgres: initdb template at ${template}`);
  return { cacheDir: cacheDir(), kafkaLibsDir: libs, postgresTemplate: template, missing };
}
