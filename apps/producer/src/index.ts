export { type ProducerStats, runProducer } from './app.ts';
export { loadProducerConfig, type ProducerConfig, producerConfigSpec, producerHelp } from './config.ts';
export { main } from './main.ts';
