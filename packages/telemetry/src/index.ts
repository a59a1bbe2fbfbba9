export { LatencyHistogram } from './histogram.ts';
export type { LatencySummary } from './histogram.ts';
export { createLogger } from './logger.ts';
export type { Logger } from './logger.ts';
export { onShutdown } from './shutdown.ts';
export type { ShutdownSignal } from './shutdown.ts';
export { RateMeter } from './rate.ts';
export { formatCount, formatMs } from './format.ts';
