// A PostgreSQL wire-protocol front end for a single-session backend such as PGlite.
//
// Why not PGLiteSocketServer from @electric-sql/pglite-socket 0.0.19:
//  - it hands every TCP 'data' chunk straight to `execProtocolRaw`. Node reads sockets in chunks
//    of at most 64 KiB, so any protocol message larger than that (a COPY data row, a big
//    multi-row INSERT, a large array parameter) reaches PGlite cut in two and the WASM instance
//    aborts with `RuntimeError: unreachable`. That is the "~64 KB limit" in shared/README.md; it
//    is not a PGlite limit. Here bytes are buffered until whole messages are present and only
//    whole messages are passed on (2 MB messages, 5,000-row unnest arrays and 1,000-row VALUES
//    inserts were tried and work).
//  - it serves ONE connection at a time: further connections wait in a queue (60 s timeout in
//    0.0.19, then they are closed) until the active client disconnects, so a pg.Pool with more
//    than one client stalls. Here any number of clients connect at once and are multiplexed
//    onto the one backend session at transaction boundaries (like PgBouncer's transaction
//    pooling): a client owns the backend from its first message until the backend reports
//    ReadyForQuery 'idle' again; other clients' messages wait meanwhile. Named prepared
//    statements are renamed per client so pg's `name:` queries from different clients cannot
//    collide. Still shared across clients (it is one session): SET (use SET LOCAL), temporary
//    tables, SQL-level PREPARE, advisory session locks, LISTEN/NOTIFY; current_database() is
//    always 'template1' whatever the URL says; query cancellation is not supported.
//    When a client disconnects inside a transaction it is rolled back.
//  - COPY ... FROM STDIN (simple query protocol, as psql and pg-copy-streams send it): PGlite
//    cannot wait for CopyData between calls and aborts, so the front end answers CopyInResponse
//    itself, collects the client's CopyData up to CopyDone/CopyFail (at most 256 MiB) and passes
//    query and data to PGlite in one call. COPY TO STDOUT needs nothing special.
import { createServer, type Server, type Socket } from 'node:net';

export interface WireBackend {
  /** Run complete protocol messages, return the backend's complete response. */
  exec(message: Uint8Array): Promise<Uint8Array>;
}

export interface WireServerOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Called for connection events and errors (default: nothing). */
  log?: (line: string) => void;
  /** Called when the backend throws (a WASM abort): the instance is unusable afterwards. */
  onFatal?: (error: unknown) => void;
}

export interface WireServer {
  listen(): Promise<number>;
  close(): Promise<void>;
  stats(): { connections: number; totalConnections: number; maxConcurrent: number };
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const MAX_MESSAGE = 1 << 30;
const MAX_COPY_IN = 256 * 1024 * 1024;

/** What a client queued for the backend: protocol messages, or the start of a COPY FROM STDIN. */
interface Batch {
  data: Uint8Array;
  /** 'copy-start': answer the client with `data` (a CopyInResponse) without calling the backend.
   *  'copy-data': Query + CopyData... + CopyDone; drop the backend's own CopyInResponse. */
  kind: 'messages' | 'copy-start' | 'copy-data';
}

interface Client {
  id: number;
  socket: Socket;
  buffer: Buffer;
  startupDone: boolean;
  pending: Batch[];
  /** Messages of a COPY FROM STDIN being collected (the Query first), until CopyDone/CopyFail. */
  copyIn: Uint8Array[] | undefined;
  copyInBytes: number;
  terminating: boolean;
  closed: boolean;
  /** Statement names this client has prepared (already prefixed). */
  statements: Set<string>;
  /** Type of the last message the backend sent to this client (to detect COPY IN). */
  lastBackendType: number;
}

const te = new TextEncoder();

function cstringEnd(buf: Uint8Array, start: number): number {
  const end = buf.indexOf(0, start);
  if (end < 0) throw new Error('malformed message: unterminated string');
  return end;
}

function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, body.length + 4);
  out.set(body, 5);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Replace the C string at [start, end) with `name`, rebuilding the message and its length. */
function replaceCString(msg: Uint8Array, start: number, end: number, name: string): Uint8Array {
  const encoded = te.encode(name);
  const body = concat([msg.subarray(5, start), encoded, msg.subarray(end)]);
  return message(String.fromCharCode(msg[0] ?? 0), body);
}

/** Give non-empty prepared-statement names a per-client prefix (Parse, Bind, Describe, Close). */
export function rewriteStatementNames(
  msg: Uint8Array,
  prefix: string,
  onParse?: (name: string) => void,
): Uint8Array {
  const type = String.fromCharCode(msg[0] ?? 0);
  const decode = (s: number, e: number): string =>
    Buffer.from(msg.buffer, msg.byteOffset + s, e - s).toString();
  if (type === 'P') {
    const end = cstringEnd(msg, 5);
    if (end === 5) return msg;
    const name = prefix + decode(5, end);
    onParse?.(name);
    return replaceCString(msg, 5, end, name);
  }
  if (type === 'B') {
    const portalEnd = cstringEnd(msg, 5);
    const start = portalEnd + 1;
    const end = cstringEnd(msg, start);
    if (end === start) return msg;
    return replaceCString(msg, start, end, prefix + decode(start, end));
  }
  if ((type === 'D' || type === 'C') && msg[5] === 'S'.charCodeAt(0)) {
    const end = cstringEnd(msg, 6);
    if (end === 6) return msg;
    return replaceCString(msg, 6, end, prefix + decode(6, end));
  }
  return msg;
}

const td = new TextDecoder();

/** A simple Query message that starts COPY ... FROM STDIN. */
export function isCopyFromStdin(msg: Uint8Array): boolean {
  if (msg[0] !== 0x51 /* Q */) return false;
  const sql = td.decode(msg.subarray(5, Math.min(msg.length - 1, 5 + 4096)));
  return /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i.test(sql);
}

/** The CopyInResponse a backend would send for this COPY query (column count is not known: 0). */
export function copyInResponse(query: Uint8Array): Uint8Array {
  const sql = td.decode(query.subarray(5, Math.min(query.length - 1, 5 + 4096)));
  const binary = /\(\s*format\s+'?binary|\bbinary\b/i.test(sql);
  return message('G', new Uint8Array([binary ? 1 : 0, 0, 0]));
}

/** Drop the first message of a response when it is a CopyInResponse. */
function dropLeadingCopyIn(resp: Uint8Array): Uint8Array {
  if (resp.length < 5 || resp[0] !== 0x47 /* G */) return resp;
  const length = new DataView(resp.buffer, resp.byteOffset, resp.byteLength).getInt32(1);
  return resp.subarray(1 + length);
}

/** The last message type in a backend response and, if present, the last ReadyForQuery status. */
export function scanResponse(resp: Uint8Array): { lastType: number; readyStatus: string | undefined } {
  let offset = 0;
  let lastType = 0;
  let readyStatus: string | undefined;
  const view = new DataView(resp.buffer, resp.byteOffset, resp.byteLength);
  while (offset + 5 <= resp.length) {
    const type = resp[offset] ?? 0;
    const length = view.getInt32(offset + 1);
    if (type === 0x5a /* Z */) readyStatus = String.fromCharCode(resp[offset + 5] ?? 0);
    lastType = type;
    offset += 1 + length;
  }
  return { lastType, readyStatus: lastType === 0x5a ? readyStatus : undefined };
}

export function createWireServer(backend: WireBackend, opts: WireServerOptions = {}): WireServer {
  const log = opts.log ?? (() => {});
  const clients = new Set<Client>();
  const waiting: Client[] = [];
  /** Disconnected clients that were not the owner but left prepared statements behind. */
  const resets: Client[] = [];
  let owner: Client | null = null;
  /** The client whose batch the backend is running right now. */
  let executing: Client | null = null;
  let busy = false;
  let nextId = 1;
  let totalConnections = 0;
  let maxConcurrent = 0;
  let server: Server | undefined;
  let fatal = false;

  const exec = async (msg: Uint8Array): Promise<Uint8Array> => {
    try {
      return await backend.exec(msg);
    } catch (error) {
      fatal = true;
      log(`backend failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      for (const c of clients) c.socket.destroy();
      opts.onFatal?.(error);
      throw error;
    }
  };

  /** Return the backend to idle after its owner went away: end COPY, roll back, drop statements. */
  const resetAfter = async (client: Client): Promise<void> => {
    const parts: Uint8Array[] = [];
    if (client.lastBackendType === 0x47 /* G: CopyInResponse */) {
      parts.push(message('f', te.encode('client disconnected\0')));
    }
    parts.push(message('S', new Uint8Array(0)));
    const { readyStatus } = scanResponse(await exec(concat(parts)));
    if (readyStatus !== 'I') await exec(message('Q', te.encode('ROLLBACK\0')));
    if (client.statements.size > 0) {
      const closes = [...client.statements].map((name) => message('C', te.encode(`S${name}\0`)));
      closes.push(message('S', new Uint8Array(0)));
      await exec(concat(closes));
      client.statements.clear();
    }
  };

  const pump = async (): Promise<void> => {
    if (busy || fatal) return;
    busy = true;
    try {
      for (;;) {
        if (owner?.closed) {
          const gone = owner;
          owner = null;
          await resetAfter(gone);
          continue;
        }
        if (owner === null && resets.length > 0) {
          const gone = resets.shift();
          if (gone !== undefined) await resetAfter(gone);
          continue;
        }
        let client: Client | undefined;
        const acquired = owner === null;
        if (owner !== null) {
          if (owner.pending.length === 0) break; // owner is inside a transaction: others wait
          client = owner;
        } else {
          while (waiting.length > 0 && client === undefined) {
            const next = waiting.shift();
            if (next !== undefined && !next.closed && next.pending.length > 0) client = next;
          }
          if (client === undefined) break;
          owner = client;
        }
        const batch = client.pending.shift();
        if (batch === undefined) continue;
        if (batch.kind === 'copy-start') {
          // nothing reaches the backend yet; keep the order of replies to this client
          if (!client.closed) client.socket.write(batch.data);
          if (acquired) {
            owner = null;
            if (client.pending.length > 0) waiting.push(client);
          }
          continue;
        }
        executing = client;
        const raw = await exec(batch.data).finally(() => {
          executing = null;
        });
        const response = batch.kind === 'copy-data' ? dropLeadingCopyIn(raw) : raw;
        if (response.length > 0 && !client.closed) client.socket.write(response);
        const { lastType, readyStatus } = scanResponse(response);
        if (lastType !== 0) client.lastBackendType = lastType;
        if (readyStatus === 'I' && !client.closed) {
          owner = null;
          if (client.pending.length > 0) waiting.push(client);
        }
        if (client.terminating && client.pending.length === 0) {
          client.socket.end();
          client.closed = true;
        }
      }
    } catch {
      // fatal: reported through onFatal
    } finally {
      busy = false;
    }
  };

  const enqueue = (client: Client, data: Uint8Array, kind: Batch['kind'] = 'messages'): void => {
    client.pending.push({ data, kind });
    if (owner !== client && !waiting.includes(client)) waiting.push(client);
    void pump();
  };

  const onData = (client: Client, chunk: Buffer): void => {
    client.buffer = client.buffer.length === 0 ? chunk : Buffer.concat([client.buffer, chunk]);
    const buf = client.buffer;
    let batch: Uint8Array[] = [];
    const flush = (): void => {
      if (batch.length > 0) enqueue(client, concat(batch));
      batch = [];
    };
    let offset = 0;
    try {
      while (!client.terminating) {
        if (!client.startupDone) {
          if (buf.length - offset < 8) break;
          const length = buf.readInt32BE(offset);
          if (length < 8 || length > 10_000) throw new Error(`bad startup packet length ${length}`);
          if (buf.length - offset < length) break;
          const code = buf.readInt32BE(offset + 4);
          const packet = buf.subarray(offset, offset + length);
          offset += length;
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            client.socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) {
            client.terminating = true;
            client.socket.end();
            break;
          }
          client.startupDone = true;
          enqueue(client, new Uint8Array(packet));
          continue;
        }
        if (buf.length - offset < 5) break;
        const length = buf.readInt32BE(offset + 1);
        if (length < 4 || length > MAX_MESSAGE) throw new Error(`bad message length ${length}`);
        if (buf.length - offset < length + 1) break;
        const type = buf[offset];
        const msg = new Uint8Array(buf.subarray(offset, offset + length + 1));
        offset += length + 1;
        if (type === 0x58 /* X: Terminate */) {
          client.terminating = true;
          break;
        }
        if (client.copyIn !== undefined) {
          client.copyIn.push(msg);
          client.copyInBytes += msg.length;
          if (client.copyInBytes > MAX_COPY_IN) throw new Error('COPY FROM STDIN above 256 MiB');
          if (type === 0x63 /* c: CopyDone */ || type === 0x66 /* f: CopyFail */) {
            flush();
            enqueue(client, concat(client.copyIn), 'copy-data');
            client.copyIn = undefined;
            client.copyInBytes = 0;
          }
          continue;
        }
        if (isCopyFromStdin(msg)) {
          flush();
          enqueue(client, copyInResponse(msg), 'copy-start');
          client.copyIn = [msg];
          client.copyInBytes = msg.length;
          continue;
        }
        batch.push(rewriteStatementNames(msg, `c${client.id}_`, (name) => client.statements.add(name)));
      }
    } catch (error) {
      log(`client ${client.id}: ${error instanceof Error ? error.message : String(error)}; closing`);
      client.socket.destroy();
      return;
    }
    client.buffer = offset >= buf.length ? Buffer.alloc(0) : buf.subarray(offset);
    flush();
    if (client.terminating && client.pending.length === 0 && executing !== client) client.socket.end();
  };

  const onConnection = (socket: Socket): void => {
    if (fatal) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const client: Client = {
      id: nextId++,
      socket,
      buffer: Buffer.alloc(0),
      startupDone: false,
      pending: [],
      copyIn: undefined,
      copyInBytes: 0,
      terminating: false,
      closed: false,
      statements: new Set(),
      lastBackendType: 0,
    };
    clients.add(client);
    totalConnections++;
    maxConcurrent = Math.max(maxConcurrent, clients.size);
    log(`client ${client.id} connected from ${socket.remoteAddress}:${socket.remotePort}`);
    socket.on('data', (chunk) => onData(client, chunk));
    socket.on('error', (error) => log(`client ${client.id}: ${error.message}`));
    socket.on('close', () => {
      client.closed = true;
      client.pending = [];
      clients.delete(client);
      const index = waiting.indexOf(client);
      if (index >= 0) waiting.splice(index, 1);
      if (owner !== client && client.statements.size > 0 && !resets.includes(client)) resets.push(client);
      log(`client ${client.id} disconnected`);
      void pump();
    });
  };

  return {
    listen: () =>
      new Promise((resolveListen, reject) => {
        server = createServer(onConnection);
        server.once('error', reject);
        server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }, () => {
          const address = server?.address();
          resolveListen(typeof address === 'object' && address !== null ? address.port : 0);
        });
      }),
    close: () =>
      new Promise((resolveClose) => {
        for (const c of clients) c.socket.destroy();
        if (server === undefined) resolveClose();
        else server.close(() => resolveClose());
      }),
    stats: () => ({ connections: clients.size, totalConnections, maxConcurrent }),
  };
}
