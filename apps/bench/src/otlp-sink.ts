import { createServer } from 'node:http';

export interface OtlpSink {
  endpoint: string;
  /** Export requests and payload bytes received so far. */
  readonly requests: number;
  readonly bytes: number;
  close(): Promise<void>;
}

/**
 * An OTLP/HTTP endpoint that accepts and discards every export (an empty 200 response is a full
 * success in OTLP), so the tracing scenario measures the apps' cost of tracing, not a collector's.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      counts.bytes += c.length;
    });
    req.on('end', () => {
      counts.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get requests() {
      return counts.requests;
    },
    get bytes() {
      return counts.bytes;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
