import { parseFinnhubLine } from '../sources/replay.ts';
import { excerpt, type FeedProtocol, type FrameOutcome, outcomeOf } from './protocol.ts';
import { redact } from './redact.ts';

export const DEFAULT_FINNHUB_WS_URL = 'wss://ws.finnhub.io';

/**
 * Finnhub publishes no WebSocket message-rate limit; subscriptions are paced below its REST limit of 30 calls
 * per second. (Its free plan also caps a key at 50 symbols and one connection.)
 */
export const FINNHUB_LIMITS = { controlMessagesPerSecond: 30 } as const;

const AUTH_PROBLEM = /api[ _-]?key|token|auth|unauthori[sz]ed|forbidden|credential/i;

export interface FinnhubFeedOptions {
  symbols: readonly string[];
  /** The API key; sent only as the `token` query parameter and never logged. */
  apiKey: string;
  /** Default DEFAULT_FINNHUB_WS_URL. */
  baseUrl?: string;
}

/** `${base}?token=KEY` (other query parameters of the base are kept). */
export function finnhubUrl(baseUrl: string, apiKey: string): string {
  const url = new URL(baseUrl);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new RangeError(`Finnhub WebSocket URL must start with ws:// or wss://, got ${url.protocol}//`);
  }
  url.searchParams.set('token', apiKey);
  return url.toString();
}

/**
 * Finnhub trades: `{"type":"subscribe","symbol":S}` for every symbol after each open (also after every
 * reconnect), `{"type":"trade","data":[...]}` frames, `{"type":"ping"}` keep-alives (no reply needed) and
 * `{"type":"error","msg":...}`. A rejected key (HTTP 401/403 on the upgrade, an error frame about the key or
 * token, or a policy-violation close before any frame) is fatal, and no message ever contains the key.
 */
export function finnhubProtocol(options: FinnhubFeedOptions): FeedProtocol {
  const { symbols, apiKey } = options;
  if (!apiKey) throw new RangeError('the Finnhub feed needs an API key (FINNHUB_API_KEY)');
  if (symbols.length === 0) throw new RangeError('the Finnhub feed needs at least one symbol');
  const url = finnhubUrl(options.baseUrl ?? DEFAULT_FINNHUB_WS_URL, apiKey);
  const secrets = [apiKey, encodeURIComponent(apiKey)];
  const subscriptions = [...new Set(symbols)].map((symbol) => JSON.stringify({ type: 'subscribe', symbol }));
  const keyHint = 'check FINNHUB_API_KEY';
  return {
    source: 'finnhub',
    label: 'finnhub',
    secrets,
    controlLimit: { limit: FINNHUB_LIMITS.controlMessagesPerSecond, windowMs: 1000 },
    url: () => url,
    displayUrl: () => redact(url, secrets),
    subscribeMessages: () => subscriptions,
    parseFrame: (text) => parseFinnhubFrame(text, secrets),
    upgradeRejected(status, everOpened) {
      if (status === 401 || status === 403) {
        return `Finnhub rejected the API key (HTTP ${status} on the WebSocket upgrade): ${keyHint}`;
      }
      if (status === 408 || status === 429 || status >= 500 || everOpened) return null;
      if (status >= 400) {
        return `Finnhub refused the WebSocket upgrade with HTTP ${status}: check FINNHUB_WS_URL (${redact(url, secrets)})`;
      }
      return null;
    },
    closed(code, reason, startup) {
      if (startup && (code === 1008 || (code >= 4000 && code < 5000))) {
        const why = reason ? `: ${redact(reason, secrets)}` : '';
        return `Finnhub closed the connection before sending anything (code ${code}${why}); the API key was probably rejected: ${keyHint}`;
      }
      return null;
    },
  };
}

/** Trade frames via the replay parser (identical mapping); error frames reported, auth errors fatal. */
export function parseFinnhubFrame(text: string, secrets: readonly string[] = []): FrameOutcome {
  const result = parseFinnhubLine(text);
  if (!result.ok) return { kind: 'malformed', error: `${result.error} in ${redact(excerpt(text), secrets)}` };
  if (result.skipped && text.includes('"error"')) {
    try {
      const o = JSON.parse(text) as { type?: unknown; msg?: unknown };
      if (o.type === 'error') {
        const msg = redact(String(o.msg ?? ''), secrets);
        const fatal = AUTH_PROBLEM.test(msg);
        return {
          kind: 'error',
          message: fatal
            ? `Finnhub rejected the API key ("${msg}"): check FINNHUB_API_KEY`
            : `Finnhub error: ${msg}`,
          fatal,
        };
      }
    } catch {
      // parseFinnhubLine accepted it as JSON; unreachable
    }
  }
  return outcomeOf(result);
}
