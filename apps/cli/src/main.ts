import { commands } from './commands.ts';

const usage = `Usage: tickflow <command> [flags]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`tickflow <command> --help\` for a command's flags. Configuration comes from the environment
(KAFKA_BROKERS, REDIS_URL, DATABASE_URL, ...) and flags override it.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`tickflow: unknown command '${name}'\n\n${usage}\n`);
    return 2;
  }
  return command.run(rest);
}
