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

const BarCodec = tickflow.v1.Bar;
const BAR_MAX_FIELD = 10;

export const BAR_INTERVALS = ['1s', '1m'] as const;
export type BarInterval = (typeof BAR_INTERVALS)[number];

/** An OHLCV bar of event-time window [startUs, startUs + interval). */
export interface Bar {
  symbol: string;
  interval: BarInterval;
  startUs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  vwap: number;
  tradeCount: number;
}

const writer = $protobuf.Writer.create();

export function encodeBar(bar: Bar): Uint8Array {
  writer.reset();
  return BarCodec.encode(bar, writer).finish();
}

function isBarInterval(value: string): value is BarInterval {
  return value === '1s' || value === '1m';
}

/** Decodes a Bar from `aggregated-metrics`; throws MalformedMessageError on corrupt bytes or an unknown interval. */
export function decodeBar(bytes: Uint8Array): Bar {
  let m: tickflow.v1.Bar;
  try {
    m = BarCodec.decode(keepingReader(bytes));
  } catch (err) {
    throw new MalformedMessageError(`cannot decode Bar: ${errorMessage(err)}`);
  }
  const misTyped = misTypedKnownField(m.$unknowns, BAR_MAX_FIELD);
  if (misTyped !== null) throw new MalformedMessageError(`cannot decode Bar: ${misTyped}`);
  const { interval } = m;
  if (!isBarInterval(interval)) {
    throw new MalformedMessageError(`Bar interval must be "1s" or "1m", got ${describeValue(interval)}`);
  }
  return {
    symbol: m.symbol,
    interval,
    startUs: int64ToNumber(m.startUs),
    open: m.open,
    high: m.high,
    low: m.low,
    close: m.close,
    volume: m.volume,
    vwap: m.vwap,
    tradeCount: int64ToNumber(m.tradeCount),
  };
}
