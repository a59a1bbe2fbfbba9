import { SYMBOL_PATTERN } from '@tickflow/contracts';
import type { FastifyInstance } from 'fastify';
import type { StreamEventName, StreamEvents } from '../api-types.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { StreamHub, StreamSink } from '../live/hub.ts';
import { parseSymbolList } from '../params.ts';
import { API_ROUTES } from '../schemas.ts';

export interface StreamDeps {
  hub: StreamHub;
  /** Refreshes the hub's snapshot if it is older than one poll interval (called before a client joins). */
  prime: () => Promise<void>;
  /** WebSocket keep-alive ping period; a peer that misses a pong is terminated. */
  pingIntervalMs?: number;
  /** Counts connections per transport for /metrics. */
  onConnect?: (transport: 'sse' | 'ws') => void;
}

/** GET /api/v1/stream (Server-Sent Events) and GET /api/v1/ws (WebSocket): both are hub clients. */
export async function streamRoutes(app: FastifyInstance, deps: StreamDeps): Promise<void> {
  const { hub } = deps;

  app.get<{ Querystring: { symbols?: string } }>(
    API_ROUTES.stream.url,
    { sse: { kind: 'only', heartbeat: true }, schema: API_ROUTES.stream.schema },
    async (req, reply) => {
      const filter = parseSymbolList(req.query.symbols, SYMBOL_PATTERN);
      await deps.prime().catch(() => undefined);
      const sse = reply.sse;
      const sink: StreamSink = {
        send: <E extends StreamEventName>(event: E, data: StreamEvents[E]) => sse.send({ event, data }),
        close: () => sse.close(),
      };
      // Proxies such as nginx would otherwise buffer the stream.
      reply.header('x-accel-buffering', 'no');
      reply.header('cache-control', 'no-cache, no-transform');
      const sub = hub.add(sink, filter);
      if (sub === null) throw new ServiceUnavailableError('too many stream clients; retry later');
      deps.onConnect?.('sse');
      sse.keepAlive();
      sse.onClose(() => sub.remove());
    },
  );

  const pingEvery = deps.pingIntervalMs ?? 30_000;
  app.get<{ Querystring: { symbols?: string } }>(
    API_ROUTES.ws.url,
    { websocket: true, schema: API_ROUTES.ws.schema },
    async (socket, req) => {
      let filter: Set<string> | undefined;
      try {
        filter = parseSymbolList(req.query.symbols, SYMBOL_PATTERN);
      } catch (err) {
        socket.close(1008, (err as Error).message.slice(0, 120));
        return;
      }
      await deps.prime().catch(() => undefined);
      const sink: StreamSink = {
        send: (event, data) =>
          new Promise<void>((resolve, reject) => {
            socket.send(JSON.stringify({ type: event, data }), (err) => (err ? reject(err) : resolve()));
          }),
        // 1013: "try again later", the code for an overloaded server or a client dropped for being slow.
        close: (reason) => socket.close(1013, reason.slice(0, 120)),
      };
      const sub = hub.add(sink, filter);
      if (sub === null) {
        socket.close(1013, 'too many stream clients; retry later');
        return;
      }
      deps.onConnect?.('ws');
      let alive = true;
      const ping = setInterval(() => {
        if (!alive) {
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, pingEvery);
      ping.unref();
      socket.on('pong', () => {
        alive = true;
      });
      socket.on('close', () => {
        clearInterval(ping);
        sub.remove();
      });
      socket.on('error', () => socket.terminate());
    },
  );
}
