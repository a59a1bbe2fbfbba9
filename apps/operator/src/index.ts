export { type OperatorHandle, startOperator } from './app.ts';
export { loadOperatorConfig, type OperatorConfig, operatorConfigSpec, operatorHelp } from './config.ts';
export * from './crd.ts';
export { desiredState, FIELD_MANAGER, LAG_METRIC, PIPELINE_LABEL } from './desired.ts';
export { main } from './main.ts';
