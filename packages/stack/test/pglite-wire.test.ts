import { describe, expect, it } from 'vitest';
import { copyInResponse, isCopyFromStdin, rewriteStatementNames, scanResponse } from '../src/pglite-wire.ts';

const te = new TextEncoder();

function msg(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, body.length + 4);
  out.set(body, 5);
  return out;
}

const cstr = (s: string): Uint8Array => te.encode(`${s}\0`);
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('rewriteStatementNames', () => {
  it('prefixes named statements in Parse, Bind, Describe and Close and keeps lengths right', () => {
    const seen: string[] = [];
    const parse = rewriteStatementNames(
      msg('P', cat(cstr('ins'), cstr('SELECT $1'), new Uint8Array([0, 0]))),
      'c7_',
      (n) => seen.push(n),
    );
    expect(parse).toEqual(msg('P', cat(cstr('c7_ins'), cstr('SELECT $1'), new Uint8Array([0, 0]))));
    expect(seen).toEqual(['c7_ins']);
    const bind = rewriteStatementNames(
      msg('B', cat(cstr(''), cstr('ins'), new Uint8Array([0, 0, 0, 0, 0, 0]))),
      'c7_',
    );
    expect(bind).toEqual(msg('B', cat(cstr(''), cstr('c7_ins'), new Uint8Array([0, 0, 0, 0, 0, 0]))));
    expect(rewriteStatementNames(msg('D', cat(te.encode('S'), cstr('ins'))), 'c7_')).toEqual(
      msg('D', cat(te.encode('S'), cstr('c7_ins'))),
    );
    expect(rewriteStatementNames(msg('C', cat(te.encode('S'), cstr('ins'))), 'c7_')).toEqual(
      msg('C', cat(te.encode('S'), cstr('c7_ins'))),
    );
  });

  it('leaves unnamed statements, portals and other messages alone', () => {
    const unnamed = msg('P', cat(cstr(''), cstr('SELECT 1'), new Uint8Array([0, 0])));
    expect(rewriteStatementNames(unnamed, 'c1_')).toBe(unnamed);
    const portal = msg('D', cat(te.encode('P'), cstr('p1')));
    expect(rewriteStatementNames(portal, 'c1_')).toBe(portal);
    const query = msg('Q', cstr('SELECT 1'));
    expect(rewriteStatementNames(query, 'c1_')).toBe(query);
  });
});

describe('scanResponse', () => {
  it('reports the ReadyForQuery status only when it ends the response', () => {
    const complete = msg('C', cstr('SELECT 1'));
    expect(scanResponse(cat(complete, msg('Z', te.encode('T'))))).toEqual({
      lastType: 0x5a,
      readyStatus: 'T',
    });
    expect(scanResponse(cat(msg('Z', te.encode('I')), complete))).toEqual({
      lastType: 0x43,
      readyStatus: undefined,
    });
    expect(scanResponse(new Uint8Array(0))).toEqual({ lastType: 0, readyStatus: undefined });
  });
});

describe('COPY FROM STDIN detection', () => {
  it('recognises COPY ... FROM STDIN queries and answers with the matching CopyInResponse format', () => {
    const text = msg('Q', cstr('  copy trades (time, symbol) FROM stdin WITH (FORMAT csv)'));
    expect(isCopyFromStdin(text)).toBe(true);
    expect(copyInResponse(text)).toEqual(msg('G', new Uint8Array([0, 0, 0])));
    const binary = msg('Q', cstr('COPY t FROM STDIN (FORMAT binary)'));
    expect(copyInResponse(binary)).toEqual(msg('G', new Uint8Array([1, 0, 0])));
    expect(isCopyFromStdin(msg('Q', cstr('COPY t TO STDOUT')))).toBe(false);
    expect(isCopyFromStdin(msg('Q', cstr("SELECT 'copy t from stdin'")))).toBe(false);
    expect(isCopyFromStdin(msg('P', cat(cstr(''), cstr('COPY t FROM STDIN'), new Uint8Array([0, 0]))))).toBe(
      false,
    );
  });
});
