import { readFileSync } from 'node:fs';

/**
 * CPU pressure (Linux PSI, /proc/pressure/cpu): the share of wall time in which at least one runnable
 * task waited for a core. On a machine this full, that waiting is where the latency tail comes from:
 * each message passes through a handful of threads in five processes, and every hand-off can queue.
 */

/** The cumulative `some` stall time, µs, from the text of /proc/pressure/cpu; undefined if absent. */
export function parseCpuPressure(text: string): number | undefined {
  const total = /^some\b.*\btotal=(\d+)/m.exec(text)?.[1];
  return total === undefined ? undefined : Number(total);
}

/** The cumulative `some` stall time now, µs; undefined where PSI is not available (not Linux, or disabled). */
export function readCpuPressure(): number | undefined {
  try {
    return parseCpuPressure(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Percent of `seconds` of wall time that runnable tasks spent waiting, from two cumulative readings. */
export function pressurePercent(
  beforeUs: number | undefined,
  afterUs: number | undefined,
  seconds: number,
): number | undefined {
  if (beforeUs === undefined || afterUs === undefined || !(seconds > 0) || afterUs < beforeUs)
    return undefined;
  return Math.min(100, ((afterUs - beforeUs) / (seconds * 1e6)) * 100);
}

/** Starts a measured window; the returned function ends it with the window's CPU pressure, %. */
export function startPressureWindow(): () => number | undefined {
  const before = readCpuPressure();
  const from = performance.now();
  return () => pressurePercent(before, readCpuPressure(), (performance.now() - from) / 1000);
}
