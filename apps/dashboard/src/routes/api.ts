import { SYMBOL_PATTERN } from '@tickflow/contracts';
import type { FastifyInstance } from 'fastify';
import type {
  AlertJson,
  BarIntervalName,
  BarsResponse,
  BoardResponse,
  BoardRow,
  LatestPrice,
  PipelineHealth,
} from '../api-types.ts';
import { dependency, NotFoundError } from '../errors.ts';
import type { LatestSource } from '../live/redis-latest.ts';
import { parseRange, parseSymbolList, parseTimeParam } from '../params.ts';
import type { BarStore } from '../queries.ts';
import { API_ROUTES } from '../schemas.ts';

export interface ApiDeps {
  latest: LatestSource;
  store: BarStore;
  health: () => PipelineHealth;
}

/** The JSON read API: /api/v1/symbols, latest, bars, alerts, board, pipeline. */
export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { latest, store } = deps;

  app.get(API_ROUTES.symbols.url, { schema: API_ROUTES.symbols.schema }, async () => ({
    symbols: await dependency('Redis', () => latest.symbols()),
  }));

  app.get<{ Querystring: { symbols?: string } }>(
    API_ROUTES.latest.url,
    { schema: API_ROUTES.latest.schema },
    async (req): Promise<{ prices: LatestPrice[] }> => {
      const filter = parseSymbolList(req.query.symbols, SYMBOL_PATTERN);
      return {
        prices: await dependency('Redis', () => latest.many(filter ? [...filter].sort() : undefined)),
      };
    },
  );

  app.get<{ Params: { symbol: string } }>(
    API_ROUTES.latestOne.url,
    { schema: API_ROUTES.latestOne.schema },
    async (req): Promise<LatestPrice> => {
      const price = await dependency('Redis', () => latest.get(req.params.symbol));
      if (price === null) throw new NotFoundError(`no latest price for ${req.params.symbol}`);
      return price;
    },
  );

  app.get<{
    Querystring: { symbol: string; interval: BarIntervalName; from?: string; to?: string; limit: number };
  }>(API_ROUTES.bars.url, { schema: API_ROUTES.bars.schema }, async (req): Promise<BarsResponse> => {
    const { symbol, interval, limit } = req.query;
    const range = parseRange(req.query.from, req.query.to);
    const bars = await dependency('PostgreSQL', () => store.bars({ symbol, interval, limit, ...range }));
    return { symbol, interval, bars };
  });

  app.get<{ Querystring: { symbol?: string; since?: string; limit: number } }>(
    API_ROUTES.alerts.url,
    { schema: API_ROUTES.alerts.schema },
    async (req): Promise<{ alerts: AlertJson[] }> => {
      const since = req.query.since === undefined ? undefined : parseTimeParam(req.query.since, 'since');
      const { symbol, limit } = req.query;
      return { alerts: await dependency('PostgreSQL', () => store.alerts({ symbol, since, limit })) };
    },
  );

  app.get<{ Querystring: { minutes: number; symbols?: string } }>(
    API_ROUTES.board.url,
    { schema: API_ROUTES.board.schema },
    async (req): Promise<BoardResponse> => {
      const { minutes } = req.query;
      const filter = parseSymbolList(req.query.symbols, SYMBOL_PATTERN);
      const prices = await dependency('Redis', () => latest.many(filter ? [...filter].sort() : undefined));
      const sparks = await dependency('PostgreSQL', () =>
        store.sparklines(
          prices.map((p) => ({ symbol: p.symbol, untilUs: p.event_time_us })),
          minutes,
        ),
      );
      const symbols = prices.map((p): BoardRow => {
        const spark = sparks.get(p.symbol) ?? [];
        const ref = spark[0]?.open ?? null;
        return {
          symbol: p.symbol,
          latest: p,
          ref_price: ref,
          change_pct: ref !== null && ref > 0 ? (p.price / ref - 1) * 100 : null,
          spark: spark.map((s) => ({ start_us: s.start_us, close: s.close })),
        };
      });
      return { minutes, symbols };
    },
  );

  app.get(API_ROUTES.pipeline.url, { schema: API_ROUTES.pipeline.schema }, async () => deps.health());
}
