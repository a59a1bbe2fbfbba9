// A machine-wide exclusive lock around provisioning, so two test runs (or two clones) sharing one
// cache never build into the same directory at once. It is a kernel flock(2) held by a small
// `flock ... cat` child: released when we close its stdin, and by the kernel when we die (the pipe
// closes, cat exits), so a crashed run never leaves a stale lock behind.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  onWait: (message: string) => void = () => {},
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const child = spawn('flock', ['-x', path, '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const waitNotice = setTimeout(
    () => onWait(`waiting for another provisioning run to release ${path}`),
    1000,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('locked')) resolve();
      });
      child.once('error', (error) =>
        reject(new Error(`flock (util-linux) is needed to lock ${path}: ${error.message}`)),
      );
      child.once('exit', (code) => reject(new Error(`flock ${path} exited with ${code}: ${stderr.trim()}`)));
    });
  } finally {
    clearTimeout(waitNotice);
  }
  try {
    return await fn();
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    await exited;
  }
}
