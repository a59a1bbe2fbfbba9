export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

/**
 * Line-oriented logger on stderr (stdout stays free for machine-readable output). LOG_FORMAT=json
 * switches to one JSON object per line for log shippers on Kubernetes.
 */
export function createLogger(component: string, stream: NodeJS.WritableStream = process.stderr): Logger {
  const json = process.env.LOG_FORMAT === 'json';
  const write = (level: string, msg: string, fields?: Record<string, unknown>) => {
    const time = new Date().toISOString();
    if (json) {
      stream.write(`${JSON.stringify({ time, level, component, msg, ...fields })}\n`);
      return;
    }
    const extra = fields
      ? ` ${Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')}`
      : '';
    stream.write(`${time} ${level.padEnd(5)} [${component}] ${msg}${extra}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (c) => createLogger(`${component}/${c}`, stream),
  };
}
