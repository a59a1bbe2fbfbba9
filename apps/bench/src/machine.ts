import { readFileSync } from 'node:fs';
import os from 'node:os';

export function cpuModel(): string {
  try {
    return (
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
      os.cpus()[0]?.model ??
      'unknown'
    );
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

export function machineFacts(versions: { kafka: string; postgres: string; redis: string }) {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.versions.node,
    os: `${os.type()} ${os.release()}`,
    ...versions,
  };
}
