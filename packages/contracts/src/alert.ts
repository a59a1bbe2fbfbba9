import $protobuf from 'protobufjs/minimal.js';
import {
  describeValue,
  errorMessage,
  int64ToNumber,
  keepingReader,
  MalformedMessageError,
  misTypedKnownField,
} from './codec.ts';
import { tickflow } from './gen/market.js';

const AlertCodec = tickflow.v1.PriceAlert;
const ALERT_MAX_FIELD = 8;

export const ALERT_DIRECTIONS = ['UP', 'DOWN'] as const;
export type AlertDirection = (typeof ALERT_DIRECTIONS)[number];

export interface PriceAlert {
  symbol: string;
  windowStartUs: number;
  windowEndUs: number;
  open: number;
  close: number;
  changePct: number;
  thresholdPct: number;
  direction: AlertDirection;
}

/** The JSON published on the Redis alerts channel: keys are the contract's field names. */
export interface PriceAlertJson {
  symbol: string;
  window_start_us: number;
  window_end_us: number;
  open: number;
  close: number;
  change_pct: number;
  threshold_pct: number;
  direction: AlertDirection;
}

const writer = $protobuf.Writer.create();

export function encodeAlert(alert: PriceAlert): Uint8Array {
  writer.reset();
  return AlertCodec.encode(alert, writer).finish();
}

function isDirection(value: unknown): value is AlertDirection {
  return value === 'UP' || value === 'DOWN';
}

/** Decodes a PriceAlert from `price-alerts`; throws MalformedMessageError on corrupt bytes or an unknown direction. */
export function decodeAlert(bytes: Uint8Array): PriceAlert {
  let m: tickflow.v1.PriceAlert;
  try {
    m = AlertCodec.decode(keepingReader(bytes));
  } catch (err) {
    throw new MalformedMessageError(`cannot decode PriceAlert: ${errorMessage(err)}`);
  }
  const misTyped = misTypedKnownField(m.$unknowns, ALERT_MAX_FIELD);
  if (misTyped !== null) throw new MalformedMessageError(`cannot decode PriceAlert: ${misTyped}`);
  const { direction } = m;
  if (!isDirection(direction)) {
    throw new MalformedMessageError(
      `PriceAlert direction must be "UP" or "DOWN", got ${describeValue(direction)}`,
    );
  }
  return {
    symbol: m.symbol,
    windowStartUs: int64ToNumber(m.windowStartUs),
    windowEndUs: int64ToNumber(m.windowEndUs),
    open: m.open,
    close: m.close,
    changePct: m.changePct,
    thresholdPct: m.thresholdPct,
    direction,
  };
}

export function alertToJsonObject(alert: PriceAlert): PriceAlertJson {
  return {
    symbol: alert.symbol,
    window_start_us: alert.windowStartUs,
    window_end_us: alert.windowEndUs,
    open: alert.open,
    close: alert.close,
    change_pct: alert.changePct,
    threshold_pct: alert.thresholdPct,
    direction: alert.direction,
  };
}

/** The message published on `<prefix>alerts`. */
export function alertToJson(alert: PriceAlert): string {
  return JSON.stringify(alertToJsonObject(alert));
}

const NUMERIC_JSON_KEYS = [
  'window_start_us',
  'window_end_us',
  'open',
  'close',
  'change_pct',
  'threshold_pct',
] as const;

/** Parses an alerts-channel message (for subscribers such as the dashboard); throws MalformedMessageError. */
export function alertFromJson(text: string): PriceAlert {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MalformedMessageError(`alert is not JSON: ${errorMessage(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MalformedMessageError('alert JSON must be an object');
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.symbol !== 'string' || o.symbol.length === 0) {
    throw new MalformedMessageError(
      `alert symbol must be a non-empty string, got ${describeValue(o.symbol)}`,
    );
  }
  for (const key of NUMERIC_JSON_KEYS) {
    if (typeof o[key] !== 'number') {
      throw new MalformedMessageError(`alert ${key} must be a number, got ${describeValue(o[key])}`);
    }
  }
  if (!isDirection(o.direction)) {
    throw new MalformedMessageError(
      `alert direction must be "UP" or "DOWN", got ${describeValue(o.direction)}`,
    );
  }
  const j = o as unknown as PriceAlertJson;
  return {
    symbol: j.symbol,
    windowStartUs: j.window_start_us,
    windowEndUs: j.window_end_us,
    open: j.open,
    close: j.close,
    changePct: j.change_pct,
    thresholdPct: j.threshold_pct,
    direction: j.direction,
  };
}
