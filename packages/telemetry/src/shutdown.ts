export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/**
 * Turns the first SIGINT/SIGTERM into an AbortSignal so apps drain and exit 0 on their own; a
 * second signal means the operator is impatient and exits immediately with 130.
 */
export function onShutdown(log?: (msg: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: ShutdownSignal) => {
    if (controller.signal.aborted) {
      log?.(`second ${signal}: exiting without draining`);
      process.exit(130);
    }
    log?.(`${signal} received: draining and shutting down`);
    controller.abort(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}
