// Pure parsing of query parameters that JSON Schema cannot express: times and bar intervals.
import type { BarIntervalName } from './api-types.ts';

/** A 400 naming the parameter at fault; the server's error handler renders it as ApiError. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
  readonly statusCode = 400;
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(message);
    this.parameter = parameter;
  }
}

export const INTERVAL_US: Record<BarIntervalName, number> = {
  '1m': 60_000_000,
  '5m': 300_000_000,
  '15m': 900_000_000,
  '1h': 3_600_000_000,
  '1d': 86_400_000_000,
};

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** Largest µs value accepted (June 2255): every result is a safe integer. */
const MAX_US = Number.MAX_SAFE_INTEGER;

/**
 * A time given as ISO-8601 (`2026-01-02T14:30:00Z`, `2026-01-02T14:30:00.123456+01:00`, `2026-01-02`;
 * without an offset the time is UTC) or as an integer of µs since the epoch. Exact to the µs: the
 * fraction is read digit by digit, not through a float.
 */
export function parseTimeParam(raw: string, parameter: string): number {
  const value = raw.trim();
  if (/^\d+$/.test(value)) {
    const us = Number(value);
    if (!Number.isSafeInteger(us) || us > MAX_US) {
      throw new BadRequestError(parameter, `${parameter} is too large for µs since the epoch: ${raw}`);
    }
    return us;
  }
  const m = ISO.exec(value);
  if (m === null) {
    throw new BadRequestError(
      parameter,
      `${parameter} must be an ISO-8601 time such as 2026-01-02T14:30:00Z, or µs since the epoch; got ${JSON.stringify(raw)}`,
    );
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new BadRequestError(parameter, `${parameter} is not a valid calendar time: ${JSON.stringify(raw)}`);
  }
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59)
      throw new BadRequestError(parameter, `${parameter} has an invalid UTC offset: ${raw}`);
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  const us = (ms - offsetMin * 60_000) * 1000 + Number(fraction);
  if (!Number.isSafeInteger(us) || us < 0 || us > MAX_US) {
    throw new BadRequestError(parameter, `${parameter} is outside 1970..2255: ${JSON.stringify(raw)}`);
  }
  return us;
}

/** Both bounds parsed; `from` must be before `to`. */
export function parseRange(
  from: string | undefined,
  to: string | undefined,
): { from: number | undefined; to: number | undefined } {
  const f = from === undefined ? undefined : parseTimeParam(from, 'from');
  const t = to === undefined ? undefined : parseTimeParam(to, 'to');
  if (f !== undefined && t !== undefined && f >= t) {
    throw new BadRequestError('from', 'from must be before to');
  }
  return { from: f, to: t };
}

/** Epoch-aligned bucket start (UTC), the same bucket as date_bin(interval, t, 'epoch'). */
export function bucketStartUs(us: number, lengthUs: number): number {
  const r = us % lengthUs;
  return r < 0 ? us - r - lengthUs : us - r;
}

/**
 * The lower bound of a bars query without `from`: the bucket of the newest trade and `limit - 1` buckets
 * before it, so the scan stays bounded even over years of history.
 */
export function defaultFromUs(newestUs: number, lengthUs: number, limit: number): number {
  return bucketStartUs(newestUs, lengthUs) - (limit - 1) * lengthUs;
}

/** Comma-separated symbols of a `symbols=` filter; undefined when absent or empty. */
export function parseSymbolList(raw: string | undefined, pattern: RegExp): Set<string> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const symbols = raw.split(',').map((s) => s.trim());
  for (const s of symbols) {
    if (!pattern.test(s)) {
      throw new BadRequestError(
        'symbols',
        `symbols must be a comma-separated list of upper-case symbols such as AAPL,BTCUSDT; got ${JSON.stringify(s)}`,
      );
    }
  }
  return new Set(symbols);
}
