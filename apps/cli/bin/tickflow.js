#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on any Node to explain a too-old one, before loading the
// TypeScript sources that Node >= 22.18 executes directly.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `tickflow needs Node.js >= 22.19 (24 LTS recommended); this is ${process.version}.\n` +
      'Run `make setup` (or scripts/bootstrap.sh) to install Node 24 into the cache and use `make` targets.\n',
  );
  process.exit(2);
}
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
