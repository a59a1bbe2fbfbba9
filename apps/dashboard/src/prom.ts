// A small reader of the Prometheus text exposition format (what the pipeline apps serve on /metrics) and
// the health figures the dashboard derives from it. Pure: scraping happens in live/pipeline-health.ts.
// Tolerant by design: unknown lines are skipped, missing metrics give null figures.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` declarations by metric family name. */
  types: Map<string, string>;
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  return Number(text);
}

/** Labels `{a="x",b="y\"z"}` starting at text[start] === '{'; returns the labels and the index after '}'. */
function parseLabels(text: string, start: number): { labels: Record<string, string>; end: number } | null {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) return null;
    const key = text.slice(i, eq).trim();
    i = eq + 1;
    if (text[i] !== '"') return null;
    i++;
    let value = '';
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\' && i + 1 < text.length) {
        i++;
        value += text[i] === 'n' ? '\n' : (text[i] as string);
      } else {
        value += text[i];
      }
    }
    if (i >= text.length) return null;
    labels[key] = value;
    i++;
  }
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types.set(m[1] as string, m[2] as string);
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) continue;
    const name = nameMatch[0];
    let rest = name.length;
    let labels: Record<string, string> = {};
    if (line[rest] === '{') {
      const parsed = parseLabels(line, rest);
      if (!parsed) continue;
      labels = parsed.labels;
      rest = parsed.end;
    }
    const valueText = line.slice(rest).trim().split(/\s+/)[0];
    if (valueText === undefined || valueText === '') continue;
    const value = parseValue(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') continue;
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** The app named by most `tickflow_<app>_...` metrics, or null. */
export function appOf(e: Exposition): string | null {
  const counts = new Map<string, number>();
  for (const s of e.samples) {
    const m = /^tickflow_([a-z0-9]+)_/.exec(s.name);
    if (m) counts.set(m[1] as string, (counts.get(m[1] as string) ?? 0) + 1);
  }
  let best: string | null = null;
  let n = 0;
  for (const [app, c] of counts) {
    if (c > n) {
      best = app;
      n = c;
    }
  }
  return best;
}

/** Counters that measure trades flowing through an app, most telling first. */
export const THROUGHPUT_COUNTERS: readonly RegExp[] = [
  /^tickflow_[a-z0-9]+_stored_total$/,
  /^tickflow_[a-z0-9]+_(acked|delivered)_total$/,
  /^tickflow_[a-z0-9]+_(sent|produced|published)_total$/,
  /^tickflow_[a-z0-9]+_consumed_total$/,
];

function sumOf(e: Exposition, name: string): number | null {
  let total = 0;
  let found = false;
  for (const s of e.samples) {
    if (s.name === name && Number.isFinite(s.value)) {
      total += s.value;
      found = true;
    }
  }
  return found ? total : null;
}

/** The throughput counter this exposition has (see THROUGHPUT_COUNTERS), or null. */
export function throughputCounter(e: Exposition): string | null {
  const names = new Set(e.samples.map((s) => s.name));
  for (const re of THROUGHPUT_COUNTERS) {
    for (const n of names) if (re.test(n)) return n;
  }
  return null;
}

/** Per-second rate of `counter` between two scrapes `dtMs` apart; null without both or after a reset. */
export function counterRate(prev: Exposition, cur: Exposition, counter: string, dtMs: number): number | null {
  const a = sumOf(prev, counter);
  const b = sumOf(cur, counter);
  if (a === null || b === null || dtMs <= 0 || b < a) return null;
  return ((b - a) * 1000) / dtMs;
}

const LATENCY = /latency|e2e|end_to_end|duration/;
const PREFERRED = /e2e|end_to_end/;

/** Factor turning a latency metric's unit (from its name) into milliseconds; seconds by convention. */
export function toMsFactor(name: string): number {
  if (/_(milliseconds|ms)(_|$)/.test(name)) return 1;
  if (/_(microseconds|us)(_|$)/.test(name)) return 0.001;
  if (/_(nanoseconds|ns)(_|$)/.test(name)) return 0.000001;
  return 1000;
}

const OWN = /^tickflow_/;

/** End-to-end first, then the pipeline's own metrics before runtime ones (e.g. nodejs_gc_duration_seconds). */
function byPreference(names: Iterable<string>): string[] {
  return [...names].sort(
    (a, b) =>
      Number(PREFERRED.test(b)) - Number(PREFERRED.test(a)) ||
      Number(OWN.test(b)) - Number(OWN.test(a)) ||
      (a < b ? -1 : 1),
  );
}

/** Cumulative `le` buckets of a histogram, summed over other labels, sorted by bound. */
function buckets(e: Exposition, base: string): Array<[number, number]> {
  const byLe = new Map<number, number>();
  for (const s of e.samples) {
    if (s.name !== `${base}_bucket` || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((x, y) => x[0] - y[0]);
}

/** histogram_quantile over cumulative buckets, with linear interpolation inside the bucket. */
export function histogramQuantile(
  q: number,
  cumulative: ReadonlyArray<readonly [number, number]>,
): number | null {
  const last = cumulative[cumulative.length - 1];
  if (last === undefined || !(last[1] > 0)) return null;
  const rank = q * last[1];
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of cumulative) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return null;
}

/**
 * p99 latency in ms, from (in this order) a summary's quantile="0.99", a histogram (between the two
 * scrapes when both have one, else since start), or a gauge whose name says p99. End-to-end metrics win.
 */
export function p99Ms(cur: Exposition, prev?: Exposition): number | null {
  const summaries = new Set<string>();
  const histograms = new Set<string>();
  const gauges = new Set<string>();
  for (const s of cur.samples) {
    if (!LATENCY.test(s.name)) continue;
    if (s.labels.quantile === '0.99') summaries.add(s.name);
    else if (s.name.endsWith('_bucket') && s.labels.le !== undefined) histograms.add(s.name.slice(0, -7));
    else if (/p99/.test(s.name)) gauges.add(s.name);
  }
  for (const name of byPreference(summaries)) {
    const values = cur.samples
      .filter((s) => s.name === name && s.labels.quantile === '0.99')
      .map((s) => s.value);
    const finite = values.filter(Number.isFinite);
    if (finite.length > 0) return Math.max(...finite) * toMsFactor(name);
  }
  for (const base of byPreference(histograms)) {
    const now = buckets(cur, base);
    let window = now;
    if (prev) {
      const before = new Map(buckets(prev, base));
      const delta = now.map(([le, c]) => [le, c - (before.get(le) ?? 0)] as [number, number]);
      const total = delta[delta.length - 1]?.[1] ?? 0;
      if (total > 0 && delta.every(([, c]) => c >= 0)) window = delta;
    }
    const v = histogramQuantile(0.99, window);
    if (v !== null) return v * toMsFactor(base);
  }
  for (const name of byPreference(gauges)) {
    const v = sumOf(cur, name);
    if (v !== null) return v * toMsFactor(name);
  }
  return null;
}

/** Consumer lag in messages: the sum of every `..._lag`, `..._lag_messages` or `..._consumer_lag...` sample. */
export function lagOf(e: Exposition): number | null {
  let total = 0;
  let found = false;
  for (const s of e.samples) {
    if (/(^|_)(consumer_)?lag(_messages|_records)?$/.test(s.name) && Number.isFinite(s.value)) {
      total += s.value;
      found = true;
    }
  }
  return found ? total : null;
}
