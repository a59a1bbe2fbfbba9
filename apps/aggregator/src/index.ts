export { type AggregatorHandle, startAggregator } from './app.ts';
export {
  type AggregatorConfig,
  aggregatorConfigSpec,
  aggregatorHelp,
  loadAggregatorConfig,
} from './config.ts';
export { main } from './main.ts';
export { BatchPipeline, type Sinks } from './pipeline.ts';
