/**
 * Minimal GNU-style flag parser: `--name value`, `--name=value`, `--flag` (boolean true), `--no-flag`
 * (boolean false) and positionals. Kept separate from schema validation so every app reports flag
 * errors through the same ConfigError path.
 */
export interface ParsedArgs {
  flags: Map<string, string | boolean>;
  positionals: string[];
}

export function parseArgs(
  argv: readonly string[],
  booleanFlags: ReadonlySet<string> = new Set(),
): ParsedArgs {
  const flags = new Map<string, string | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags.set(body.slice(0, eq), body.slice(eq + 1));
      continue;
    }
    if (booleanFlags.has(body)) {
      flags.set(body, true);
      continue;
    }
    if (body.startsWith('no-') && booleanFlags.has(body.slice(3))) {
      flags.set(body.slice(3), false);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      flags.set(body, true);
    } else {
      flags.set(body, next);
      i++;
    }
  }
  return { flags, positionals };
}
