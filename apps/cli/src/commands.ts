export interface Command {
  summary: string;
  run(argv: readonly string[]): Promise<number>;
}

/** Commands load lazily so `tickflow produce` never pays for the aggregator's or the stack's imports. */
export const commands: Record<string, Command> = {
  produce: {
    summary: 'publish trades (synthetic, replay, binance, finnhub) to Kafka',
    run: async (argv) => (await import('@tickflow/producer')).main(argv),
  },
  aggregate: {
    summary: 'consume trades, build bars and alerts, write Redis, PostgreSQL and Kafka',
    // The entry module only: the app (and pg) load after tracing is set up (see aggregator/src/main.ts).
    run: async (argv) => (await import('@tickflow/aggregator/main')).main(argv),
  },
  migrate: {
    summary: 'apply database migrations (idempotent)',
    run: async (argv) => (await import('./migrate.ts')).main(argv),
  },
  up: {
    summary: 'run the whole pipeline on this machine (Kafka, Redis, database, producer, aggregator)',
    run: async (argv) => (await import('./up.ts')).main(argv),
  },
  bench: {
    summary: 'end-to-end throughput and latency benchmark',
    run: async (argv) => (await import('@tickflow/bench')).main(argv),
  },
  operator: {
    summary: 'Kubernetes operator for MarketDataPipeline resources',
    run: async (argv) => (await import('@tickflow/operator')).main(argv),
  },
  dashboard: {
    summary: 'live web dashboard and read API (prices, candles, alerts, pipeline health)',
    run: async (argv) => (await import('@tickflow/dashboard')).main(argv),
  },
};
