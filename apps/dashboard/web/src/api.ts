// Typed calls to the dashboard API. URLs are relative so the page also works behind a path prefix.
import type {
  AlertJson,
  ApiError,
  BarIntervalName,
  BarsResponse,
  BoardResponse,
  LatestPrice,
  PipelineHealth,
  StreamEventName,
  StreamEvents,
} from '../../src/api-types.ts';

async function getJson<T>(
  path: string,
  params: Record<string, string | number | undefined> = {},
): Promise<T> {
  const query = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const res = await fetch(query ? `${path}?${query}` : path, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as ApiError | null;
    throw new Error(body?.message ?? `${path}: HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

export const api = {
  board: (minutes: number) => getJson<BoardResponse>('api/v1/board', { minutes }),
  bars: (symbol: string, interval: BarIntervalName, limit: number) =>
    getJson<BarsResponse>('api/v1/bars', { symbol, interval, limit }),
  alerts: (limit: number) => getJson<{ alerts: AlertJson[] }>('api/v1/alerts', { limit }),
  pipeline: () => getJson<PipelineHealth>('api/v1/pipeline'),
};

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface StreamHandlers {
  prices(prices: LatestPrice[]): void;
  alert(alert: AlertJson): void;
  health(health: PipelineHealth): void;
  state(state: StreamState): void;
  /** The stream (re)connected: a snapshot follows, but alerts published meanwhile were missed. */
  reconnected(): void;
}

/**
 * Server-Sent Events from /api/v1/stream. EventSource reconnects by itself after a network error; when the
 * server answers with an error instead (e.g. 503, too many clients) it gives up, so we start a new one.
 */
export function connectStream(handlers: StreamHandlers): () => void {
  let source: EventSource | undefined;
  let retry: number | undefined;
  let everOpen = false;
  let stopped = false;

  const parse = <E extends StreamEventName>(e: Event): StreamEvents[E] =>
    JSON.parse((e as MessageEvent<string>).data) as StreamEvents[E];

  const open = () => {
    if (stopped) return;
    const es = new EventSource('api/v1/stream');
    source = es;
    es.addEventListener('open', () => {
      handlers.state('live');
      if (everOpen) handlers.reconnected();
      everOpen = true;
    });
    es.addEventListener('prices', (e) => handlers.prices(parse<'prices'>(e).prices));
    es.addEventListener('alert', (e) => handlers.alert(parse<'alert'>(e)));
    es.addEventListener('health', (e) => handlers.health(parse<'health'>(e)));
    es.addEventListener('error', () => {
      handlers.state(everOpen ? 'reconnecting' : 'connecting');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        retry = window.setTimeout(open, 3000);
      }
    });
  };
  open();
  return () => {
    stopped = true;
    if (retry !== undefined) clearTimeout(retry);
    source?.close();
  };
}
