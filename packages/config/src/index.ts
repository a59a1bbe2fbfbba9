export type { ParsedArgs } from './args.ts';
export { parseArgs } from './args.ts';
export * as fields from './fields.ts';
export type { ConfigField, ConfigSpec, FlagSource } from './load.ts';
export { ConfigError, helpText, loadConfig } from './load.ts';
