import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Trade, validateTrade } from '@tickflow/contracts';

export const REPLAY_FORMATS = ['jsonl', 'binance', 'finnhub'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

export type ReplayErrorReason = 'invalid-json' | 'unexpected-shape' | 'invalid-field' | 'invalid-trade';

export interface ReplayError {
  ok: false;
  reason: ReplayErrorReason;
  error: string;
}

/** A trade of a multi-trade frame that was dropped while the rest of the frame was kept. */
export interface RejectedTrade {
  index: number;
  reason: ReplayErrorReason;
  error: string;
}

export interface ReplayParsed {
  ok: true;
  /** Every trade here passes validateTrade. */
  trades: readonly Trade[];
  /** The line was a recognised non-trade message (ping, other event type, blank line): not an error. */
  skipped: boolean;
  /** Only Finnhub frames carry several trades; a bad one is reported here without losing its neighbours. */
  rejected: readonly RejectedTrade[];
}

export type ReplayLineResult = ReplayParsed | ReplayError;
export type ReplayLineParser = (line: string) => ReplayLineResult;

// Shared, frozen results for the common cases keep the per-line cost at the JSON parse.
const NONE: readonly RejectedTrade[] = Object.freeze([]);
const SKIPPED: ReplayParsed = Object.freeze({
  ok: true,
  trades: Object.freeze([]),
  skipped: true,
  rejected: NONE,
});

function ok(trades: readonly Trade[], rejected: readonly RejectedTrade[] = NONE): ReplayParsed {
  return { ok: true, trades, skipped: false, rejected };
}

function fail(reason: ReplayErrorReason, error: string): ReplayError {
  return { ok: false, reason, error };
}

/** Thrown only inside this module and turned into a ReplayError at each parser's boundary. */
class LineError extends Error {
  readonly reason: ReplayErrorReason;
  constructor(reason: ReplayErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

type Json = Record<string, unknown>;

function asObject(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineError('unexpected-shape', `${what} must be a JSON object, got ${show(value)}`);
  }
  return value as Json;
}

function parseObject(line: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new LineError('invalid-json', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return asObject(value, 'a line');
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A JSON number, or a decimal string as exchanges send prices (never `Number('')` = 0 or `Number('0x10')`). */
function decimal(obj: Json, key: string): number {
  const value = obj[key];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  throw new LineError('invalid-field', `${key} must be a number or a decimal string, got ${show(value)}`);
}

function integer(obj: Json, key: string): number {
  const value = obj[key];
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
  throw new LineError('invalid-field', `${key} must be an integer, got ${show(value)}`);
}

function text(obj: Json, key: string): string {
  const value = obj[key];
  if (typeof value === 'string') return value;
  throw new LineError('invalid-field', `${key} must be a string, got ${show(value)}`);
}

/** Trade ids may be numbers in the wild; integers are accepted and rendered without exponent or fraction. */
function tradeIdOf(obj: Json, key: string): string {
  const value = obj[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new LineError('invalid-field', `${key} must be a string or an integer, got ${show(value)}`);
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * ISO-8601 to µs since the epoch, keeping sub-millisecond digits (Date.parse stops at ms). A zone designator
 * is required: a zone-less time would be read in the replaying machine's local zone.
 */
export function parseIsoMicros(value: string): number | null {
  const m = ISO_8601.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC silently rolls over (Feb 30 -> Mar 2); reject what does not round-trip.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  if (sign && (Number(oh) > 23 || Number(om) > 59)) return null;
  const micros = frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0;
  return (ms - offsetMin * 60_000) * 1000 + micros;
}

/** The parsers promise that every trade they return passes validateTrade; the DLQ reason is kept in the message. */
function checked(trade: Trade): Trade {
  const rejection = validateTrade(trade);
  if (rejection) throw new LineError('invalid-trade', `${rejection.reason}: ${rejection.error}`);
  return trade;
}

/** The never-throw boundary of every parser. */
function guard(parse: () => ReplayParsed): ReplayLineResult {
  try {
    return parse();
  } catch (err) {
    if (err instanceof LineError) return fail(err.reason, err.message);
    return fail('unexpected-shape', `cannot parse line: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `{"symbol","price","size","event_time_us"|"ts","trade_id","source"?}`; source defaults to `replay`. */
export function parseJsonlLine(line: string): ReplayLineResult {
  if (line.trim() === '') return SKIPPED;
  return guard(() => {
    const o = parseObject(line);
    let eventTimeUs: number;
    if (o.event_time_us !== undefined) {
      eventTimeUs = integer(o, 'event_time_us');
    } else if (o.ts !== undefined) {
      const ts = text(o, 'ts');
      const us = parseIsoMicros(ts);
      if (us === null)
        throw new LineError(
          'invalid-field',
          `ts must be ISO-8601 with a zone (Z or ±hh:mm), got ${show(ts)}`,
        );
      eventTimeUs = us;
    } else {
      throw new LineError('invalid-field', 'event_time_us or ts is required');
    }
    const trade = checked({
      symbol: text(o, 'symbol'),
      price: decimal(o, 'price'),
      size: decimal(o, 'size'),
      eventTimeUs,
      ingestTimeUs: eventTimeUs,
      source: o.source === undefined ? 'replay' : text(o, 'source'),
      tradeId: tradeIdOf(o, 'trade_id'),
    });
    return ok([trade]);
  });
}

/**
 * A raw Binance `trade` stream event, bare (`{"e":"trade",...}`) or in the combined-stream wrapper
 * (`{"stream":"btcusdt@trade","data":{...}}`). Other events and subscription replies are skipped.
 */
export function parseBinanceLine(line: string): ReplayLineResult {
  if (line.trim() === '') return SKIPPED;
  return guard(() => {
    let o = parseObject(line);
    if (typeof o.stream === 'string' && 'data' in o) o = asObject(o.data, 'combined-stream data');
    if (typeof o.e === 'string' && o.e !== 'trade') return SKIPPED;
    if (o.e === undefined && 'result' in o && 'id' in o) return SKIPPED; // reply to a SUBSCRIBE request
    if (o.e !== 'trade') throw new LineError('unexpected-shape', `not a Binance event (no "e"): ${show(o)}`);
    const eventTimeUs = integer(o, 'T') * 1000;
    return ok([
      checked({
        symbol: text(o, 's'),
        price: decimal(o, 'p'),
        size: decimal(o, 'q'),
        eventTimeUs,
        ingestTimeUs: eventTimeUs,
        source: 'binance',
        tradeId: tradeIdOf(o, 't'),
      }),
    ]);
  });
}

/** 53-bit string hash (cyrb53): plenty to tell apart the few trades sharing a symbol, millisecond and index. */
function hash53(input: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < input.length; i++) {
    const ch = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/**
 * Finnhub sends no trade id. One derived from (symbol, time, price, volume, index in frame) makes a replay of
 * the same file produce the same ids, so the store deduplicates it. Time and index stay readable in the id.
 */
export function finnhubTradeId(
  symbol: string,
  timeMs: number,
  price: number,
  volume: number,
  index: number,
): string {
  return `${timeMs}-${index}-${hash53(`${symbol}|${timeMs}|${price}|${volume}|${index}`)}`;
}

/** `{"type":"trade","data":[{"s","p","v","t","c"?}, ...]}`: several trades per frame; `ping` and others skipped. */
export function parseFinnhubLine(line: string): ReplayLineResult {
  if (line.trim() === '') return SKIPPED;
  return guard(() => {
    const o = parseObject(line);
    if (typeof o.type !== 'string') {
      throw new LineError('unexpected-shape', `not a Finnhub message (no "type"): ${show(o)}`);
    }
    if (o.type !== 'trade') return SKIPPED;
    if (!Array.isArray(o.data)) {
      throw new LineError('unexpected-shape', `trade frame data must be an array, got ${show(o.data)}`);
    }
    const trades: Trade[] = [];
    const rejected: RejectedTrade[] = [];
    for (let index = 0; index < o.data.length; index++) {
      try {
        trades.push(finnhubTrade(o.data[index], index));
      } catch (err) {
        if (!(err instanceof LineError)) throw err;
        rejected.push({ index, reason: err.reason, error: `data[${index}]: ${err.message}` });
      }
    }
    // A frame with nothing usable is a malformed line; a partly bad one keeps its good trades.
    const first = rejected[0];
    if (trades.length === 0 && first) {
      const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : '';
      throw new LineError(first.reason, first.error + more);
    }
    return ok(trades, rejected.length > 0 ? rejected : NONE);
  });
}

function finnhubTrade(item: unknown, index: number): Trade {
  const t = asObject(item, `data[${index}]`);
  const symbol = text(t, 's');
  const price = decimal(t, 'p');
  const volume = decimal(t, 'v');
  const timeMs = integer(t, 't');
  const eventTimeUs = timeMs * 1000;
  return checked({
    symbol,
    price,
    size: volume,
    eventTimeUs,
    ingestTimeUs: eventTimeUs,
    source: 'finnhub',
    tradeId: finnhubTradeId(symbol, timeMs, price, volume, index),
  });
}

export const REPLAY_PARSERS: Readonly<Record<ReplayFormat, ReplayLineParser>> = {
  jsonl: parseJsonlLine,
  binance: parseBinanceLine,
  finnhub: parseFinnhubLine,
};

export interface ReplayStats {
  lines: number;
  trades: number;
  /** Malformed records: whole lines, or single trades of a Finnhub frame whose other trades were kept. */
  malformed: number;
  skipped: number;
  /** The first few problems (see maxErrors), for the end-of-run report. */
  errors: { line: number; error: string }[];
}

export function createReplayStats(): ReplayStats {
  return { lines: 0, trades: 0, malformed: 0, skipped: 0, errors: [] };
}

export interface ReadReplayOptions {
  /** Updated as the file is read, so a caller can report progress; also the generator's return value. */
  stats?: ReplayStats;
  /** How many error messages to keep. Default 10. */
  maxErrors?: number;
}

/**
 * Streams trades from a replay file line by line (readline pauses the file stream when the consumer lags, so
 * memory stays bounded). Malformed lines are counted, never fatal; I/O errors (missing file) do throw.
 */
export async function* readReplayFile(
  path: string,
  format: ReplayFormat,
  options: ReadReplayOptions = {},
): AsyncGenerator<Trade, ReplayStats, undefined> {
  const parse = REPLAY_PARSERS[format];
  if (!parse)
    throw new RangeError(
      `unknown replay format ${show(format)}: expected one of ${REPLAY_FORMATS.join(', ')}`,
    );
  const stats = options.stats ?? createReplayStats();
  const maxErrors = options.maxErrors ?? 10;
  const note = (line: number, error: string) => {
    if (stats.errors.length < maxErrors) stats.errors.push({ line, error });
  };
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  // Line numbers are per file even when one stats object accumulates several files.
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo += 1;
      stats.lines += 1;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      const result = parse(line);
      if (!result.ok) {
        stats.malformed += 1;
        note(lineNo, result.error);
        continue;
      }
      if (result.skipped) stats.skipped += 1;
      for (const r of result.rejected) {
        stats.malformed += 1;
        note(lineNo, r.error);
      }
      for (const trade of result.trades) {
        stats.trades += 1;
        yield trade;
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  return stats;
}
