import { formatCount, formatMs, LatencyHistogram } from '@tickflow/telemetry';

/**
 * `connecting`: never connected yet; `open`: every connection is up; `reconnecting`: at least one connection
 * is down and being retried; `closed`: shut down on request; `failed`: stopped by a fatal error (bad key...).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'failed';

/**
 * Counters and gauges of one live feed, a plain object so the producer's stats line prints it and a metrics
 * exporter can read it later without the feed knowing about either. Counters only grow.
 */
export interface FeedStats {
  source: string;
  connectionState: ConnectionState;
  /** WebSocket connections currently open (more than one while a connection is being rotated or sharded). */
  openConnections: number;
  /** Connection attempts, successful or not. */
  connectAttempts: number;
  /** Successful WebSocket opens. */
  connects: number;
  /** Opens that replaced a connection that was lost (not counting planned rotations). */
  reconnects: number;
  /** Attempts that never opened (refused, DNS, HTTP error on upgrade, handshake timeout). */
  connectFailures: number;
  /** Connections closed by us because nothing arrived within the idle timeout (a silent stall). */
  idleTimeouts: number;
  /** Planned rotations before the exchange's maximum connection age (new connection opened before the old closed). */
  rotations: number;
  /** Text frames received. */
  messages: number;
  /** Trades parsed from frames (before duplicate suppression). */
  trades: number;
  /** Trades handed to the producer. */
  forwarded: number;
  /** Trades suppressed because the same source+symbol+trade_id was seen recently. */
  duplicates: number;
  /** Trades older (by event time) than the previous one of the same symbol; passed through unchanged. */
  outOfOrder: number;
  /** Frames (or single trades of a multi-trade frame) that could not be parsed; counted and skipped. */
  malformed: number;
  /** `{"type":"error"}` frames and the like sent by the exchange. */
  errorFrames: number;
  /** Trades that arrived while the producer's buffer was full (Kafka back-pressure) and were not forwarded. */
  dropped: number;
  /** Frames written by --record, and frames not written because the recording file could not keep up. */
  recorded: number;
  recordDropped: number;
  /** ingest_time - event_time of forwarded trades, recorded by the producer when it accepts a trade. */
  feedToIngestDelay: LatencyHistogram;
  /** Rolling median of local receive time - exchange event time (ms); null until the first trade. */
  skewMs: number | null;
  /** Wall-clock time (ms since epoch) of the last frame, 0 before any. */
  lastMessageAtMs: number;
  /** The last connection problem, redacted (never contains the API key). */
  lastError: string | null;
}

export function createFeedStats(source: string): FeedStats {
  return {
    source,
    connectionState: 'connecting',
    openConnections: 0,
    connectAttempts: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    idleTimeouts: 0,
    rotations: 0,
    messages: 0,
    trades: 0,
    forwarded: 0,
    duplicates: 0,
    outOfOrder: 0,
    malformed: 0,
    errorFrames: 0,
    dropped: 0,
    recorded: 0,
    recordDropped: 0,
    feedToIngestDelay: new LatencyHistogram(),
    skewMs: null,
    lastMessageAtMs: 0,
    lastError: null,
  };
}

/** The numeric and state fields without the histogram, e.g. for a JSON log line or a test assertion. */
export type FeedStatsSnapshot = Omit<FeedStats, 'feedToIngestDelay'>;

export function snapshotFeedStats(stats: FeedStats): FeedStatsSnapshot {
  const { feedToIngestDelay: _, ...rest } = stats;
  return { ...rest };
}

/**
 * One line for the producer's periodic stats. `interval` true reads (and resets) the delay histogram's window;
 * false summarises the whole run.
 */
export function formatFeedStats(stats: FeedStats, interval = true): string {
  const d = interval ? stats.feedToIngestDelay.interval() : stats.feedToIngestDelay.summary();
  const skew = stats.skewMs === null ? '-' : formatMs(stats.skewMs);
  return (
    `feed ${stats.source} ${stats.connectionState} (${stats.openConnections} open)  ` +
    `msgs ${formatCount(stats.messages)}  trades ${formatCount(stats.trades)}  dup ${stats.duplicates}  ` +
    `malformed ${stats.malformed}  dropped ${stats.dropped}  out-of-order ${stats.outOfOrder}  ` +
    `reconnects ${stats.reconnects}  idle-timeouts ${stats.idleTimeouts}  rotations ${stats.rotations}  ` +
    `skew ${skew}  feed->ingest p50 ${formatMs(d.p50)} p99 ${formatMs(d.p99)}`
  );
}

const STATES: readonly ConnectionState[] = ['connecting', 'open', 'reconnecting', 'closed', 'failed'];

/**
 * The feed's metrics in Prometheus text format, labelled by source, for a /metrics endpoint
 * (`startHealthServer({ metrics: () => renderFeedMetrics(feed.stats) })`). Times in seconds as Prometheus
 * prefers; the feed-to-ingest delay is a summary over the whole run.
 */
export function renderFeedMetrics(stats: FeedStats): string {
  const label = `source="${stats.source}"`;
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  const counters: Array<[string, number, string]> = [
    ['connect_attempts', stats.connectAttempts, 'WebSocket connection attempts'],
    ['connects', stats.connects, 'Successful WebSocket opens'],
    ['reconnects', stats.reconnects, 'Opens that replaced a lost connection'],
    ['connect_failures', stats.connectFailures, 'Connection attempts that never opened'],
    [
      'idle_timeouts',
      stats.idleTimeouts,
      'Connections dropped because nothing arrived within the idle timeout',
    ],
    ['rotations', stats.rotations, 'Planned connection rotations before the maximum connection age'],
    ['messages', stats.messages, 'Frames received'],
    ['trades', stats.trades, 'Trades parsed from frames, before duplicate suppression'],
    ['forwarded', stats.forwarded, 'Trades handed to the producer'],
    ['duplicates', stats.duplicates, 'Repeated trades suppressed'],
    ['out_of_order', stats.outOfOrder, 'Trades older than the previous one of their symbol (passed through)'],
    ['malformed', stats.malformed, 'Malformed frames or trades skipped'],
    ['error_frames', stats.errorFrames, 'Error messages sent by the exchange'],
    ['dropped', stats.dropped, 'Trades dropped because the producer buffer was full'],
  ];
  for (const [name, value, help] of counters) {
    metric(`tickflow_feed_${name}_total`, 'counter', help, [
      `tickflow_feed_${name}_total{${label}} ${value}`,
    ]);
  }
  metric(
    'tickflow_feed_connection_state',
    'gauge',
    'Connection state of the feed (1 for the current state)',
    STATES.map(
      (s) => `tickflow_feed_connection_state{${label},state="${s}"} ${stats.connectionState === s ? 1 : 0}`,
    ),
  );
  metric('tickflow_feed_open_connections', 'gauge', 'WebSocket connections currently open', [
    `tickflow_feed_open_connections{${label}} ${stats.openConnections}`,
  ]);
  if (stats.skewMs !== null) {
    metric(
      'tickflow_feed_clock_skew_seconds',
      'gauge',
      'Rolling median of local receive time minus exchange event time (clock offset plus network delay)',
      [`tickflow_feed_clock_skew_seconds{${label}} ${stats.skewMs / 1000}`],
    );
  }
  const d = stats.feedToIngestDelay.summary();
  metric('tickflow_feed_to_ingest_delay_seconds', 'summary', 'Exchange event time to producer ingest time', [
    ...(
      [
        ['0.5', d.p50],
        ['0.9', d.p90],
        ['0.99', d.p99],
      ] as const
    ).map(([q, ms]) => `tickflow_feed_to_ingest_delay_seconds{${label},quantile="${q}"} ${ms / 1000}`),
    `tickflow_feed_to_ingest_delay_seconds_sum{${label}} ${(d.mean * d.count) / 1000}`,
    `tickflow_feed_to_ingest_delay_seconds_count{${label}} ${d.count}`,
  ]);
  return `${out.join('\n')}\n`;
}
