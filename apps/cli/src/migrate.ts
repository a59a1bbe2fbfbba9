import { fields, helpText, loadConfig } from '@tickflow/config';
import { createPool, MIGRATIONS, migrate } from '@tickflow/storage';
import { runEntryPoint } from '@tickflow/telemetry';

const spec = {
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: 'database-url',
    schema: fields.url('postgres://localhost:5432/tickflow', ['postgres:', 'postgresql:']),
    help: 'PostgreSQL/TimescaleDB URL',
  },
  timescale: {
    env: 'TIMESCALEDB',
    flag: 'timescaledb',
    schema: fields.oneOf(['auto', 'require', 'off'] as const, 'auto'),
    help: 'use the TimescaleDB extension (auto: when the server has it)',
  },
};

export function main(argv: readonly string[]): Promise<number> {
  return runEntryPoint(argv, {
    command: 'migrate',
    help: `Usage: tickflow migrate [flags]\n\nApplies versioned schema migrations once each.\n\n${helpText(spec)}`,
    load: (args) => loadConfig(spec, args),
    run: applyMigrations,
  });
}

async function applyMigrations(cfg: ReturnType<typeof loadConfig<typeof spec>>): Promise<number> {
  try {
    const pool = await createPool(cfg.databaseUrl, { max: 2 });
    try {
      const result = await migrate(pool, { timescale: cfg.timescale });
      const applied = result.applied.map(
        (v) => `${v} ${MIGRATIONS.find((m) => m.version === v)?.name ?? ''}`,
      );
      process.stdout.write(
        `schema mode: ${result.mode}\n${applied.length ? `applied:\n  ${applied.join('\n  ')}` : 'already up to date'}\n`,
      );
    } finally {
      await pool.end();
    }
    return 0;
  } catch (err) {
    process.stderr.write(`tickflow migrate: ${(err as Error).message}\n`);
    return 1;
  }
}
