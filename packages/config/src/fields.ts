import { z } from 'zod';

/**
 * Reusable zod schemas for raw configuration strings. Each accepts `undefined` (unset) and applies
 * the default, so a field's default lives next to its validation.
 */

export function integer(def: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const n = typeof v === 'number' ? v : Number(v.trim());
      if (!Number.isInteger(n)) {
        ctx.addIssue({ code: 'custom', message: 'must be an integer' });
        return z.NEVER;
      }
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });
}

export function number(def: number, min = -Infinity, max = Infinity) {
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      const n = typeof v === 'number' ? v : Number(v.trim());
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a number between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations like `500ms`, `1s`, `2m`, `1h`; a bare number means milliseconds. Result in ms. */
export function durationMs(def: number, min = 0) {
  return optionalDurationMs(min)
    .transform((v) => v ?? def)
    .describe(DURATION);
}

/** Marks duration schemas so generated docs show `5s` rather than `5000`. */
export const DURATION = 'duration-ms';

/** A duration that may stay unset (undefined). */
export function optionalDurationMs(min = 0) {
  return z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx): number | undefined => {
      if (v === undefined) return undefined;
      if (typeof v === 'number') return v;
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 10s, 5m or 1h' });
        return z.NEVER;
      }
      const ms = Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1);
      if (ms < min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms` });
        return z.NEVER;
      }
      return ms;
    });
}

export function boolean(def: boolean) {
  return z
    .union([z.string(), z.boolean()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return def;
      if (typeof v === 'boolean') return v;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });
}

export function string(def: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined ? def : v))
    .pipe(z.string().min(1, 'must not be empty'));
}

export function optionalString() {
  return z.string().min(1, 'must not be empty').optional();
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined ? def : v))
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }));
}

/** URL with one of the given protocols, e.g. `redis:`, `postgres:`. */
export function url(def: string, protocols: readonly string[]) {
  return string(def).refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}` },
  );
}

/** Kafka bootstrap list `host:port[,host:port...]`. */
export function brokers(def: string) {
  return string(def).refine(
    (v) => v.split(',').every((b) => /^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/.test(b.trim())),
    { message: 'must be a comma-separated list of host:port' },
  );
}

/** Comma-separated list; empty entries rejected. */
export function list(def: readonly string[]) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return [...def];
      const items = v.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list without empty entries' });
        return z.NEVER;
      }
      return items;
    });
}
