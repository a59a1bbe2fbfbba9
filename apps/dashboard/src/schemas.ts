// JSON Schemas of every API route. Fastify validates requests and serialises responses with them, and
// openapi.ts builds /openapi.json from the same objects, so the documentation cannot drift from the code.
import { SYMBOL_PATTERN } from '@tickflow/contracts';
import { BAR_INTERVALS } from './api-types.ts';

export const LIMITS = {
  bars: { default: 500, max: 5000 },
  alerts: { default: 100, max: 1000 },
  boardMinutes: { default: 60, max: 1440 },
} as const;

const symbol = {
  type: 'string',
  pattern: SYMBOL_PATTERN.source,
  description: 'Upper-case symbol, e.g. AAPL or BTCUSDT',
  examples: ['AAPL'],
} as const;

const symbolList = {
  type: 'string',
  description: 'Comma-separated symbols to include (default: all)',
  examples: ['AAPL,BTCUSDT'],
} as const;

const time = (what: string) =>
  ({
    type: 'string',
    description: `${what}: ISO-8601 (e.g. 2026-01-02T14:30:00Z; UTC when no offset is given) or µs since the epoch`,
    examples: ['2026-01-02T14:30:00Z', '1767364200000000'],
  }) as const;

const micros = (description: string) => ({ type: 'integer', description }) as const;

export const latestPriceSchema = {
  type: 'object',
  description: 'The newest trade of a symbol (Redis <prefix>latest:<SYMBOL>)',
  required: ['symbol', 'price', 'size', 'event_time_us', 'source', 'trade_id'],
  additionalProperties: false,
  properties: {
    symbol: { type: 'string' },
    price: { type: 'number' },
    size: { type: 'number' },
    event_time_us: micros('Exchange time of the trade, µs since the epoch'),
    source: { type: 'string', examples: ['synthetic', 'replay', 'binance', 'finnhub'] },
    trade_id: { type: 'string' },
  },
} as const;

export const alertSchema = {
  type: 'object',
  description: 'A price alert: |close/open - 1| exceeded threshold_pct within one alert window',
  required: [
    'symbol',
    'window_start_us',
    'window_end_us',
    'open',
    'close',
    'change_pct',
    'threshold_pct',
    'direction',
  ],
  additionalProperties: false,
  properties: {
    symbol: { type: 'string' },
    window_start_us: micros('Window start, µs since the epoch'),
    window_end_us: micros('Window end (exclusive), µs since the epoch'),
    open: { type: 'number' },
    close: { type: 'number' },
    change_pct: { type: 'number', description: '(close / open - 1) * 100' },
    threshold_pct: { type: 'number' },
    direction: { type: 'string', enum: ['UP', 'DOWN'] },
  },
} as const;

const barSchema = {
  type: 'object',
  required: ['start_us', 'open', 'high', 'low', 'close', 'volume', 'vwap', 'trade_count'],
  additionalProperties: false,
  properties: {
    start_us: micros('Bucket start (UTC-aligned), µs since the epoch'),
    open: { type: 'number' },
    high: { type: 'number' },
    low: { type: 'number' },
    close: { type: 'number' },
    volume: { type: 'number' },
    vwap: { type: 'number' },
    trade_count: { type: 'integer' },
  },
} as const;

const nullableNumber = (description: string) => ({ type: ['number', 'null'], description }) as const;

export const pipelineHealthSchema = {
  type: 'object',
  required: ['targets', 'throughput_per_s', 'p99_ms', 'lag', 'newest_event_us'],
  additionalProperties: false,
  properties: {
    targets: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'url',
          'app',
          'up',
          'error',
          'scraped_at_us',
          'throughput_per_s',
          'throughput_metric',
          'p99_ms',
          'lag',
        ],
        additionalProperties: false,
        properties: {
          url: { type: 'string' },
          app: { type: ['string', 'null'], description: 'From the metric names: tickflow_<app>_...' },
          up: { type: 'boolean' },
          error: { type: ['string', 'null'] },
          scraped_at_us: { type: ['integer', 'null'] },
          throughput_per_s: nullableNumber('Rate of throughput_metric between the last two scrapes'),
          throughput_metric: { type: ['string', 'null'] },
          p99_ms: nullableNumber('p99 latency, from a summary, histogram or p99 gauge'),
          lag: nullableNumber('Consumer lag, messages'),
        },
      },
    },
    throughput_per_s: nullableNumber('Trades per second stored by the aggregators'),
    p99_ms: nullableNumber('Worst p99 latency over the targets'),
    lag: nullableNumber('Total consumer lag, messages'),
    newest_event_us: { type: ['integer', 'null'], description: 'Newest event time of any symbol' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    parameter: { type: 'string', description: 'The query or path parameter at fault' },
  },
} as const;

const errors = { 400: errorSchema, 429: errorSchema, 503: errorSchema } as const;

export interface RouteDoc {
  method: 'GET';
  url: string;
  operationId: string;
  summary: string;
  description: string;
  tags: readonly string[];
  schema: {
    readonly querystring?: object;
    readonly params?: object;
    readonly response?: Readonly<Record<number, object>>;
  };
  /** Documented content types other than application/json (the stream). */
  produces?: Readonly<Record<number, { readonly contentType: string; readonly description: string }>>;
}

export const API_ROUTES = {
  symbols: {
    method: 'GET',
    url: '/api/v1/symbols',
    operationId: 'listSymbols',
    summary: 'Symbols with a latest price',
    description: 'Every symbol that has a latest price in Redis, sorted.',
    tags: ['market'],
    schema: {
      response: {
        200: {
          type: 'object',
          required: ['symbols'],
          properties: { symbols: { type: 'array', items: { type: 'string' } } },
        },
        ...errors,
      },
    },
  },
  latest: {
    method: 'GET',
    url: '/api/v1/latest',
    operationId: 'listLatest',
    summary: 'Latest price of every symbol',
    description: 'The newest trade of each symbol from Redis (never moves backwards in event time).',
    tags: ['market'],
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { symbols: symbolList },
      },
      response: {
        200: {
          type: 'object',
          required: ['prices'],
          properties: { prices: { type: 'array', items: latestPriceSchema } },
        },
        ...errors,
      },
    },
  },
  latestOne: {
    method: 'GET',
    url: '/api/v1/latest/:symbol',
    operationId: 'getLatest',
    summary: 'Latest price of one symbol',
    description: 'The newest trade of the symbol from Redis; 404 when the symbol has none.',
    tags: ['market'],
    schema: {
      params: { type: 'object', required: ['symbol'], additionalProperties: false, properties: { symbol } },
      response: { 200: latestPriceSchema, 404: errorSchema, ...errors },
    },
  },
  bars: {
    method: 'GET',
    url: '/api/v1/bars',
    operationId: 'listBars',
    summary: 'OHLCV bars of a symbol',
    description:
      'Bars from bars_1m (1m) or re-bucketed from it in SQL (5m, 15m, 1h, 1d; UTC-aligned), oldest first: ' +
      `the newest \`limit\` bars of [from, to). Without \`from\`, the \`limit\` buckets up to the newest trade ` +
      `(before \`to\`). limit defaults to ${LIMITS.bars.default}, at most ${LIMITS.bars.max}.`,
    tags: ['market'],
    schema: {
      querystring: {
        type: 'object',
        required: ['symbol'],
        additionalProperties: false,
        properties: {
          symbol,
          interval: { type: 'string', enum: [...BAR_INTERVALS], default: '1m', description: 'Bar length' },
          from: time('Inclusive lower bound on the bucket start'),
          to: time('Exclusive upper bound on the bucket start'),
          limit: { type: 'integer', minimum: 1, maximum: LIMITS.bars.max, default: LIMITS.bars.default },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['symbol', 'interval', 'bars'],
          properties: {
            symbol: { type: 'string' },
            interval: { type: 'string', enum: [...BAR_INTERVALS] },
            bars: { type: 'array', items: barSchema },
          },
        },
        ...errors,
      },
    },
  },
  alerts: {
    method: 'GET',
    url: '/api/v1/alerts',
    operationId: 'listAlerts',
    summary: 'Price alerts, newest first',
    description: `Alerts from price_alerts whose window ended at or after \`since\`. limit defaults to ${LIMITS.alerts.default}, at most ${LIMITS.alerts.max}.`,
    tags: ['market'],
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          symbol,
          since: time('Only alerts whose window ended at or after this time'),
          limit: { type: 'integer', minimum: 1, maximum: LIMITS.alerts.max, default: LIMITS.alerts.default },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['alerts'],
          properties: { alerts: { type: 'array', items: alertSchema } },
        },
        ...errors,
      },
    },
  },
  board: {
    method: 'GET',
    url: '/api/v1/board',
    operationId: 'getBoard',
    summary: 'Price board: latest price, change and sparkline of every symbol',
    description:
      'For each symbol with a latest price: the one-minute closes of the `minutes` ending at its newest ' +
      'trade, and the change of the latest price against the open of that window.',
    tags: ['market'],
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          minutes: {
            type: 'integer',
            minimum: 1,
            maximum: LIMITS.boardMinutes.max,
            default: LIMITS.boardMinutes.default,
            description: 'Window of the change and the sparkline',
          },
          symbols: symbolList,
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['minutes', 'symbols'],
          properties: {
            minutes: { type: 'integer' },
            symbols: {
              type: 'array',
              items: {
                type: 'object',
                required: ['symbol', 'latest', 'ref_price', 'change_pct', 'spark'],
                additionalProperties: false,
                properties: {
                  symbol: { type: 'string' },
                  latest: latestPriceSchema,
                  ref_price: nullableNumber('Open of the first bar of the window'),
                  change_pct: nullableNumber('(latest / ref_price - 1) * 100'),
                  spark: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['start_us', 'close'],
                      additionalProperties: false,
                      properties: { start_us: { type: 'integer' }, close: { type: 'number' } },
                    },
                  },
                },
              },
            },
          },
        },
        ...errors,
      },
    },
  },
  pipeline: {
    method: 'GET',
    url: '/api/v1/pipeline',
    operationId: 'getPipelineHealth',
    summary: "Pipeline health from the apps' /metrics",
    description:
      'Throughput, p99 latency and consumer lag read from the Prometheus endpoints in METRICS_URLS (the ' +
      'same report the stream pushes as `health`).',
    tags: ['pipeline'],
    schema: { response: { 200: pipelineHealthSchema, ...errors } },
  },
  stream: {
    method: 'GET',
    url: '/api/v1/stream',
    operationId: 'stream',
    summary: 'Live prices, alerts and health (Server-Sent Events)',
    description:
      'An SSE stream. Events: `prices` ({"prices": [LatestPrice]}: the symbols whose latest trade changed, ' +
      'at most one update per symbol per STREAM_INTERVAL; the first event is a snapshot of all), `alert` ' +
      '(a PriceAlert as published on the alerts channel) and `health` (PipelineHealth, every ' +
      'METRICS_SCRAPE_INTERVAL). Comment lines keep the connection alive. A client that does not keep up ' +
      'is disconnected (EventSource reconnects and starts from a fresh snapshot). 503 when the server has ' +
      'STREAM_MAX_CLIENTS clients.',
    tags: ['stream'],
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { symbols: symbolList } },
      response: { ...errors },
    },
    produces: { 200: { contentType: 'text/event-stream', description: 'Server-Sent Events' } },
  },
  ws: {
    method: 'GET',
    url: '/api/v1/ws',
    operationId: 'streamWebSocket',
    summary: 'Live prices, alerts and health (WebSocket)',
    description:
      'The same events as /api/v1/stream over a WebSocket: each text message is ' +
      '{"type": "prices" | "alert" | "health", "data": ...}. Messages from the client are ignored.',
    tags: ['stream'],
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { symbols: symbolList } },
    },
    produces: {
      101: { contentType: 'application/json', description: 'Switching to the WebSocket protocol' },
    },
  },
} as const satisfies Record<string, RouteDoc>;

export type ApiRouteName = keyof typeof API_ROUTES;
