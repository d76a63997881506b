import { describe, expect, it } from 'vitest';
import { MessageReader, decode, makeContext, type ReaderResult } from '../../../src/bgp/wire/index.js';
import * as F from './fixtures.js';

const STREAM = [
  F.BIRD_OPEN, F.KEEPALIVE_MSG, F.UPDATE_IPV4_ALL, F.UPDATE_IPV6_REACH, F.KEEPALIVE_MSG,
  F.EOR_IPV4, F.ROUTE_REFRESH_BORR_V6, F.NOTIFICATION_SHUTDOWN,
];
const BYTES = Buffer.concat(STREAM);

function readAll(chunks: Uint8Array[]): ReaderResult[] {
  const r = new MessageReader();
  const out: ReaderResult[] = [];
  for (const c of chunks) {
    r.push(c);
    for (const m of r.drain()) out.push(m);
  }
  expect(r.buffered).toBe(0);
  return out;
}

const hexes = (rs: ReaderResult[]): string[] => rs.map((r) => (r.ok ? Buffer.from(r.message).toString('hex') : `error ${r.error.code}/${r.error.subcode}`));

describe('MessageReader', () => {
  const expected = STREAM.map((b) => b.toString('hex'));

  it('frames a stream delivered in one chunk, returning views of it', () => {
    const out = readAll([BYTES]);
    expect(hexes(out)).toEqual(expected);
    const first = out[0]!;
    expect(first.ok && first.message.buffer).toBe(BYTES.buffer);
  });

  it('gives the same messages for the stream split at every offset', () => {
    for (let i = 0; i <= BYTES.length; i++) {
      expect(hexes(readAll([BYTES.subarray(0, i), BYTES.subarray(i)]))).toEqual(expected);
    }
  });

  it('gives the same messages split at every pair of offsets around the header of each message', () => {
    let off = 0;
    for (const m of STREAM) {
      for (let a = off; a < off + 20 && a < BYTES.length; a++)
        for (let b = a; b < a + 25 && b <= BYTES.length; b++)
          expect(hexes(readAll([BYTES.subarray(0, a), BYTES.subarray(a, b), BYTES.subarray(b)]))).toEqual(expected);
      off += m.length;
    }
  });

  it('gives the same messages one octet at a time', () => {
    const chunks = [...BYTES].map((x) => Uint8Array.of(x));
    expect(hexes(readAll(chunks))).toEqual(expected);
  });

  it('every framed message decodes', () => {
    const ctx = makeContext({ as4: true });
    for (const r of readAll([BYTES.subarray(0, 100), BYTES.subarray(100)])) {
      expect(r.ok).toBe(true);
      if (r.ok) expect(decode(r.message, 0, ctx).ok).toBe(true);
    }
  });

  it('reports header errors as values and stays failed', () => {
    const bad = Buffer.from(F.KEEPALIVE_MSG);
    bad[3] = 0;
    const r = new MessageReader();
    r.push(Buffer.concat([F.KEEPALIVE_MSG, bad, F.KEEPALIVE_MSG]));
    expect(hexes([...r.drain()])).toEqual([F.KEEPALIVE_MSG.toString('hex'), 'error 1/1']);
    expect(r.next()).toMatchObject({ ok: false });
  });

  it('bounds length by 4096, or 65535 once extended messages are negotiated (RFC 8654)', () => {
    const big = Buffer.alloc(5000);
    big.fill(0xff, 0, 16);
    big.writeUInt16BE(5000, 16);
    big[18] = 2;
    big.writeUInt16BE(5000 - 23, 21); // an UPDATE whose attribute block fills the message
    const plain = new MessageReader();
    plain.push(big);
    expect(plain.next()).toMatchObject({ ok: false, error: { code: 1, subcode: 2 } });
    const ext = new MessageReader(makeContext({ extendedMessage: true }));
    ext.push(big.subarray(0, 10));
    expect(ext.next()).toBeNull();
    ext.push(big.subarray(10));
    expect(ext.next()).toMatchObject({ ok: true, type: 2 });
  });
});
