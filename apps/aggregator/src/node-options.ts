/**
 * V8 flags every aggregator process runs with: `tickflow up`, the bench, the Helm chart and the
 * operator's Deployments all pass them (as NODE_OPTIONS, or as node flags in the bench).
 *
 * Why: at a steady 20k msg/s V8 doubles the young generation from 2 x 32 to 2 x 64 MiB after about
 * 80 s (the default cap on a machine with a ~4 GiB heap limit), and the aggregator's RSS steps up by
 * ~64 MiB for good. Capping the semi-spaces at 32 MiB keeps the size the first minute runs with: in a
 * 6-min soak at 20k msg/s RSS growth after the first minute went from +34 % to -1.9 %, and max
 * throughput did not move beyond the host's run-to-run noise (README, Performance).
 */
export const AGGREGATOR_V8_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** NODE_OPTIONS for an aggregator: our flags first, so flags already in `existing` win. */
export function aggregatorNodeOptions(existing: string | undefined): string {
  return [...AGGREGATOR_V8_FLAGS, ...(existing?.trim() ? [existing.trim()] : [])].join(' ');
}
