import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface ProcSample {
  /** Cumulative user+system CPU seconds of the process (and its children for a process tree). */
  cpuSeconds: number;
  rssBytes: number;
  /** Peak resident set size, bytes (VmHWM). */
  peakRssBytes: number;
}

function readStat(pid: number): { cpu: number; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { cpu: (utime + stime) / CLOCK_TICKS, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function readMem(pid: number): { rss: number; hwm: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** One process, or with `tree` the process and all its descendants (PostgreSQL forks a backend per connection). */
export function sampleProcess(pid: number, tree = false): ProcSample | undefined {
  const root = readStat(pid);
  if (!root) return undefined;
  const pids = tree ? descendants(pid) : [pid];
  let cpu = 0;
  let rss = 0;
  let hwm = 0;
  for (const p of pids) {
    const s = p === pid ? root : readStat(p);
    if (!s) continue;
    const m = readMem(p);
    cpu += s.cpu;
    rss += m.rss;
    hwm += m.hwm;
  }
  return { cpuSeconds: cpu, rssBytes: rss, peakRssBytes: hwm };
}

function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const p = Number(entry);
    if (!Number.isInteger(p)) continue;
    const s = readStat(p);
    if (!s) continue;
    const list = parents.get(s.ppid) ?? [];
    list.push(p);
    parents.set(s.ppid, list);
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i] as number) ?? []));
  return out;
}
