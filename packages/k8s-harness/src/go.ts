// The Go toolchain and the environment every harness build runs with.

import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCommand } from '@tickflow/stack';
import { goCacheDirs } from './paths.ts';
import { MIN_GO_VERSION } from './versions.ts';

/** True when dotted version a >= b (numeric per component; a "go" prefix is ignored). */
export function versionAtLeast(a: string, b: string): boolean {
  const parse = (v: string) =>
    v
      .replace(/^go/, '')
      .split(/[.+-]/)
      .slice(0, 3)
      .map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** `go` on PATH, else the usual install locations (/usr/local/go, $GOROOT). */
export function findGo(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    ...(env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'go')),
    ...(env.GOROOT ? [join(env.GOROOT, 'bin', 'go')] : []),
    '/usr/local/go/bin/go',
  ];
  const found = candidates.find((path) => path !== 'go' && existsSync(path));
  if (!found) {
    throw new Error(
      `the Kubernetes test tools are built from the Go module proxy and need Go >= ${MIN_GO_VERSION}; no 'go' on PATH or in /usr/local/go/bin`,
    );
  }
  return found;
}

export interface GoToolchain {
  go: string;
  version: string;
  /** Environment for `go build` / `go install`: shared caches, no toolchain download, static binaries. */
  env: NodeJS.ProcessEnv;
}

let cached: GoToolchain | undefined;

export async function goToolchain(env: NodeJS.ProcessEnv = process.env): Promise<GoToolchain> {
  if (cached) return cached;
  const go = findGo(env);
  const dirs = goCacheDirs(env);
  const buildEnv: NodeJS.ProcessEnv = {
    ...env,
    GOMODCACHE: dirs.modCache,
    GOCACHE: dirs.buildCache,
    GOPATH: dirs.path,
    // Never fetch another toolchain: the go.mod files ask for <= the installed one.
    GOTOOLCHAIN: 'local',
    // Static binaries; also what upstream ships for these tools.
    CGO_ENABLED: '0',
    // Wrapper modules get their go.sum filled on the first build.
    GOFLAGS: '-mod=mod',
    GOWORK: 'off',
  };
  const { stdout } = await runCommand(go, ['env', 'GOVERSION'], { env: buildEnv });
  const version = stdout.trim();
  if (!versionAtLeast(version, MIN_GO_VERSION)) {
    throw new Error(`${go} is ${version}; building the Kubernetes test tools needs Go >= ${MIN_GO_VERSION}`);
  }
  cached = { go, version, env: buildEnv };
  return cached;
}
