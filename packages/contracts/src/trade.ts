import $protobuf from 'protobufjs/minimal.js';
import { describeValue, errorMessage, int64ToNumber, keepingReader, misTypedKnownField } from './codec.ts';
import { tickflow } from './gen/market.js';

const TradeCodec = tickflow.v1.Trade;
const TRADE_MAX_FIELD = 7;

/** A trade as the pipeline handles it. int64 times are plain numbers: µs since the epoch stay below 2^53. */
export interface Trade {
  symbol: string;
  price: number;
  size: number;
  eventTimeUs: number;
  ingestTimeUs: number;
  source: string;
  tradeId: string;
}

/** Sources named by the contract. Decoding accepts any non-empty source so new feeds are an additive change. */
export const TRADE_SOURCES = ['synthetic', 'replay', 'binance', 'finnhub'] as const;
export type TradeSource = (typeof TRADE_SOURCES)[number];

/** Why a record went to the dead-letter queue; the value of the `x-dlq-reason` header. */
export type DlqReason =
  | 'oversized'
  | 'malformed-protobuf'
  | 'empty-symbol'
  | 'invalid-symbol'
  | 'invalid-price'
  | 'invalid-size'
  | 'invalid-event-time'
  | 'invalid-ingest-time'
  | 'missing-trade-id'
  | 'invalid-source';

export const DLQ_REASONS: readonly DlqReason[] = [
  'oversized',
  'malformed-protobuf',
  'empty-symbol',
  'invalid-symbol',
  'invalid-price',
  'invalid-size',
  'invalid-event-time',
  'invalid-ingest-time',
  'missing-trade-id',
  'invalid-source',
];

export interface TradeRejection {
  ok: false;
  reason: DlqReason;
  /** Human-readable, names the field and the offending value; the value of the `x-dlq-error` header. */
  error: string;
}

export type DecodeTradeResult = { ok: true; trade: Trade } | TradeRejection;

/** Upper-case by contract: nothing is normalised, so `aapl` is rejected rather than silently merged with `AAPL`. */
export const SYMBOL_PATTERN = /^[A-Z0-9][A-Z0-9._:\-/]{0,31}$/;
/** Feed names (`synthetic`, `replay`, `binance`, `finnhub`, ...): no control characters, so they join keys safely. */
export const SOURCE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** A serialised Trade is ~60-100 bytes; anything near this limit is not a trade. */
export const DEFAULT_MAX_TRADE_BYTES = 4096;

function reject(reason: DlqReason, error: string): TradeRejection {
  return { ok: false, reason, error };
}

/**
 * Prices and sizes must lie in [1e-100, 1e100]. The contract only says > 0, but the extremes of a double
 * are not market values and they break the bars: PostgreSQL's float8 arithmetic raises "value out of
 * range: underflow" when price * size rounds to 0 (5e-324 * 0.5) and "overflow" when a bar's sum leaves
 * the range, and one such stored trade makes every later refresh of bars_1m fail. Inside these bounds
 * price * size stays within [1e-200, 1e200], so a bar's sums stay finite for any realistic trade count.
 */
export const MIN_QUANTITY = 1e-100;
export const MAX_QUANTITY = 1e100;

function isQuantity(value: unknown): boolean {
  return typeof value === 'number' && value >= MIN_QUANTITY && value <= MAX_QUANTITY; // NaN fails both
}

function isPositiveSafeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/**
 * Checks a trade against the contract. Shared by decodeTrade (consumer side) and the producer, which refuses
 * to send what a consumer would dead-letter. Tolerates wrongly typed fields, so it is safe on parsed JSON.
 */
export function validateTrade(t: Trade): TradeRejection | null {
  const { symbol } = t;
  if (typeof symbol !== 'string' || symbol.length === 0) {
    return reject('empty-symbol', `symbol is empty (got ${describeValue(symbol)})`);
  }
  if (!SYMBOL_PATTERN.test(symbol)) {
    return reject(
      'invalid-symbol',
      `symbol ${describeValue(symbol)} must be 1-32 chars of upper-case A-Z, 0-9 and . _ : - / starting with a letter or digit`,
    );
  }
  if (!isQuantity(t.price)) {
    return reject(
      'invalid-price',
      `price must be a number in [1e-100, 1e100], got ${describeValue(t.price)}`,
    );
  }
  if (!isQuantity(t.size)) {
    return reject('invalid-size', `size must be a number in [1e-100, 1e100], got ${describeValue(t.size)}`);
  }
  if (!isPositiveSafeInteger(t.eventTimeUs)) {
    return reject(
      'invalid-event-time',
      `event_time_us must be a positive safe integer (µs since epoch), got ${describeValue(t.eventTimeUs)}`,
    );
  }
  if (!isPositiveSafeInteger(t.ingestTimeUs)) {
    return reject(
      'invalid-ingest-time',
      `ingest_time_us must be a positive safe integer (µs since epoch), got ${describeValue(t.ingestTimeUs)}`,
    );
  }
  if (typeof t.source !== 'string' || t.source.length === 0) {
    return reject('invalid-source', `source is empty (got ${describeValue(t.source)})`);
  }
  if (!SOURCE_PATTERN.test(t.source)) {
    return reject(
      'invalid-source',
      `source must be a lower-case name like "binance" (${SOURCE_PATTERN}), got ${describeValue(t.source)}`,
    );
  }
  if (typeof t.tradeId !== 'string' || t.tradeId.length === 0) {
    return reject('missing-trade-id', `trade_id is empty (got ${describeValue(t.tradeId)})`);
  }
  return null;
}

// One writer reused across calls: encoding is synchronous, and finish() copies the bytes out, so the
// returned buffer never aliases the writer's scratch space.
const writer = $protobuf.Writer.create();

/** Serialises a trade. Does not validate: the producer calls validateTrade first. */
export function encodeTrade(t: Trade): Uint8Array {
  writer.reset();
  return TradeCodec.encode(t, writer).finish();
}

/**
 * Decodes and validates a Kafka record value. Never throws: every failure is a DLQ reason plus a message.
 * `null` (a tombstone) is reported as malformed.
 */
export function decodeTrade(
  bytes: Uint8Array | null | undefined,
  maxBytes: number = DEFAULT_MAX_TRADE_BYTES,
): DecodeTradeResult {
  if (bytes == null)
    return reject('malformed-protobuf', `message value is ${bytes === null ? 'null' : 'missing'}`);
  if (bytes.length > maxBytes) {
    return reject('oversized', `message is ${bytes.length} bytes, limit is ${maxBytes}`);
  }
  let m: tickflow.v1.Trade;
  try {
    m = TradeCodec.decode(keepingReader(bytes));
  } catch (err) {
    return reject('malformed-protobuf', `cannot decode Trade: ${errorMessage(err)}`);
  }
  const misTyped = misTypedKnownField(m.$unknowns, TRADE_MAX_FIELD);
  if (misTyped !== null) return reject('malformed-protobuf', `cannot decode Trade: ${misTyped}`);
  // A fixed-shape plain object keeps downstream property access monomorphic (the generated class instance
  // reads defaults from its prototype and has varying own properties).
  const trade: Trade = {
    symbol: m.symbol,
    price: m.price,
    size: m.size,
    eventTimeUs: int64ToNumber(m.eventTimeUs),
    ingestTimeUs: int64ToNumber(m.ingestTimeUs),
    source: m.source,
    tradeId: m.tradeId,
  };
  return validateTrade(trade) ?? { ok: true, trade };
}
