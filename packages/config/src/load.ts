import type { z } from 'zod';
import { parseArgs } from './args.ts';

/**
 * One field of an app's configuration: where it comes from (an environment variable and/or a
 * flag), how it is parsed and validated (a zod schema that receives the raw string, or undefined),
 * and its help text. Environment is read first, a flag overrides it.
 */
export interface ConfigField<T = unknown> {
  env?: string;
  flag?: string;
  /** Flags that take no value (`--no-producer`). */
  boolean?: boolean;
  schema: z.ZodType<T>;
  help: string;
}

export type ConfigSpec = Record<string, ConfigField>;
export type FlagSource = readonly string[];

type Output<S extends ConfigSpec> = { [K in keyof S]: S[K] extends ConfigField<infer T> ? T : never };

/** Thrown for invalid configuration; the message names every offending variable or flag. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig<S extends ConfigSpec>(
  spec: S,
  argv: FlagSource = [],
  env: NodeJS.ProcessEnv = process.env,
): Output<S> {
  const booleans = new Set(
    Object.values(spec)
      .filter((f) => f.boolean && f.flag)
      .map((f) => f.flag as string),
  );
  const { flags, positionals } = parseArgs(argv, booleans);
  const known = new Set(Object.values(spec).flatMap((f) => (f.flag ? [f.flag] : [])));
  const problems: string[] = [];
  for (const name of flags.keys()) {
    if (!known.has(name)) problems.push(`unknown flag --${name}`);
  }
  if (positionals.length > 0) problems.push(`unexpected argument(s): ${positionals.join(' ')}`);

  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec)) {
    let raw: unknown;
    let origin = 'default';
    if (field.env && env[field.env] !== undefined && env[field.env] !== '') {
      raw = env[field.env];
      origin = `environment variable ${field.env}`;
    }
    if (field.flag && flags.has(field.flag)) {
      raw = flags.get(field.flag);
      origin = `flag --${field.flag}`;
      if (raw === true && !field.boolean) {
        problems.push(`flag --${field.flag} needs a value`);
        continue;
      }
    }
    const parsed = field.schema.safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
    } else {
      const where = origin === 'default' ? describeSources(field) : origin;
      const shown = raw === undefined ? '(unset)' : JSON.stringify(raw);
      problems.push(`${where} = ${shown}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Output<S>;
}

function describeSources(field: ConfigField): string {
  const parts = [
    field.env ? `environment variable ${field.env}` : '',
    field.flag ? `flag --${field.flag}` : '',
  ];
  return parts.filter(Boolean).join(' / ') || 'setting';
}

/** Renders `--help` text from the same spec the loader validates against, so they never drift. */
export function helpText(spec: ConfigSpec): string {
  const rows = Object.values(spec).map((f) => {
    const flag = f.flag ? `--${f.flag}${f.boolean ? '' : ' <value>'}` : '';
    const env = f.env ? `[${f.env}]` : '';
    return { left: [flag, env].filter(Boolean).join(' '), help: f.help };
  });
  const width = Math.max(...rows.map((r) => r.left.length), 10) + 2;
  return rows.map((r) => `  ${r.left.padEnd(width)}${r.help}`).join('\n');
}
