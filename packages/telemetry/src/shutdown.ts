export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/**
 * Turns the first SIGINT/SIGTERM into an AbortSignal so apps drain and exit 0 on their own; a
 * second signal means the operator is impatient: the process kills itself at once (exit status 137).
 * Not process.exit(): Node's exit joins the libuv thread pool, which a librdkafka call blocked on
 * the half-closed client can hold forever. Nothing is lost: uncommitted work is redelivered.
 */
export function onShutdown(log?: (msg: string) => void): AbortSignal {
  const controller = new AbortController();
  const handler = (signal: ShutdownSignal) => {
    if (controller.signal.aborted) {
      log?.(`second ${signal}: exiting without draining`);
      process.kill(process.pid, 'SIGKILL');
    }
    log?.(`${signal} received: draining and shutting down`);
    controller.abort(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller.signal;
}
