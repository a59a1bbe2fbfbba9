type Fields = Record<string, unknown>;

/**
 * `fields` are shown in both formats; `data` only in JSON, for machine consumers (e.g. the bench
 * reading the periodic stats) without cluttering the human line.
 */
export interface Logger {
  info(msg: string, fields?: Fields, data?: Fields): void;
  warn(msg: string, fields?: Fields, data?: Fields): void;
  error(msg: string, fields?: Fields, data?: Fields): void;
  child(component: string): Logger;
}

/**
 * Line-oriented logger on stderr (stdout stays free for machine-readable output). LOG_FORMAT=json
 * switches to one JSON object per line for log shippers on Kubernetes.
 */
export function createLogger(component: string, stream: NodeJS.WritableStream = process.stderr): Logger {
  const json = process.env.LOG_FORMAT === 'json';
  const write = (level: string, msg: string, fields?: Fields, data?: Fields) => {
    const time = new Date().toISOString();
    if (json) {
      stream.write(`${JSON.stringify({ time, level, component, msg, ...fields, ...data })}\n`);
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
    info: (m, f, d) => write('info', m, f, d),
    warn: (m, f, d) => write('warn', m, f, d),
    error: (m, f, d) => write('error', m, f, d),
    child: (c) => createLogger(`${component}/${c}`, stream),
  };
}
