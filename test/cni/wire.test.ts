// tern-cni's hand-written protobuf and gRPC framing, checked against protobufjs reading the
// real agent.proto: what the plugin sends is what the agent's generated decoder reads, and
// what the agent's encoder sends is what the plugin reads, for any field values.
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeGrpcMessage, decodeResponse, encodeRequest, frameRequest, grpcTimeout, requestEncodingLength, statusFromHttp, unframeResponse } from '../../src/cni/wire.js';
import { protoDir } from '../../src/proto/load.js';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoDir(), target);
root.loadSync('tern/agent/v1/agent.proto', { keepCase: false });
const Request = root.lookupType('tern.agent.v1.CniRequest');
const Response = root.lookupType('tern.agent.v1.CniResponse');

const asObject = (t: protobuf.Type, buf: Uint8Array) => t.toObject(t.decode(buf), { defaults: true, bytes: Buffer as unknown as typeof String });

const text = fc.string({ unit: 'grapheme', maxLength: 300 });
const bytes = fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b));
const request = fc.record({ containerId: text, netns: text, ifname: text, args: text, path: text, networkConfig: bytes });

describe('CniRequest encoding', () => {
  it('is what protobufjs decodes from agent.proto, field for field', () => {
    fc.assert(
      fc.property(request, (req) => {
        const buf = Buffer.alloc(requestEncodingLength(req) + 7, 0xaa);
        const n = encodeRequest(req, buf, 3);
        expect(n).toBe(requestEncodingLength(req));
        const got = asObject(Request, buf.subarray(3, 3 + n));
        expect(got).toEqual({ ...req, networkConfig: req.networkConfig });
        // Bytes before and after the message are untouched.
        expect(buf[2]).toBe(0xaa);
        expect(buf[3 + n]).toBe(0xaa);
      }),
      { numRuns: 300 },
    );
  });

  it('matches an annotated fixture and leaves empty fields off the wire (proto3)', () => {
    const framed = frameRequest({ containerId: 'ab', ifname: 'eth0', networkConfig: '{}' });
    // prettier-ignore
    expect([...framed]).toEqual([
      0x00,                   // not compressed
      0x00, 0x00, 0x00, 0x0e, // message length 14
      0x0a, 0x02, 0x61, 0x62, // field 1 (container_id), LEN 2, "ab"
      0x1a, 0x04, 0x65, 0x74, 0x68, 0x30, // field 3 (ifname), LEN 4, "eth0"
      0x32, 0x02, 0x7b, 0x7d, // field 6 (network_config), LEN 2, "{}"
    ]);
  });

  it('takes network_config as string, Buffer or Uint8Array view alike, and does not mutate the request', () => {
    const cfg = '{"cniVersion":"1.1.0","name":"ü"}';
    const backing = new Uint8Array(100);
    const view = new Uint8Array(backing.buffer, 10, Buffer.byteLength(cfg));
    view.set(Buffer.from(cfg));
    const forms = [cfg, Buffer.from(cfg), view];
    const out = forms.map((networkConfig) => {
      const req = { containerId: 'c', networkConfig };
      const before = Buffer.from(networkConfig).toString('hex');
      const f = frameRequest(req);
      expect(req.networkConfig).toBe(networkConfig);
      expect(Buffer.from(networkConfig).toString('hex')).toBe(before);
      return f.toString('hex');
    });
    expect(new Set(out).size).toBe(1);
    expect(asObject(Request, frameRequest({ networkConfig: view }).subarray(5)).networkConfig.toString()).toBe(cfg);
  });

  it('frames with the message length (5-byte prefix)', () => {
    fc.assert(
      fc.property(request, (req) => {
        const f = frameRequest(req);
        expect(f[0]).toBe(0);
        expect(f.readUInt32BE(1)).toBe(f.length - 5);
        expect(unframeResponse(f)).toEqual({ ok: true, value: f.subarray(5) });
      }),
      { numRuns: 100 },
    );
  });
});

const cniError = fc.record({ code: fc.nat({ max: 2 ** 32 - 1 }), msg: text, details: text });
const response = fc.record({ result: bytes, error: fc.option(cniError, { nil: null }) });

describe('CniResponse decoding', () => {
  it('reads what protobufjs encodes from agent.proto', () => {
    fc.assert(
      fc.property(response, (res) => {
        const wire = Buffer.from(Response.encode(Response.fromObject(res)).finish());
        const d = decodeResponse(wire);
        expect(d).toEqual({ ok: true, value: { result: res.result, error: res.error } });
      }),
      { numRuns: 300 },
    );
  });

  it('skips fields it does not know, of every wire type, at the top and inside the error', () => {
    const w = protobuf.Writer.create();
    w.uint32((9 << 3) | 0).uint64(2 ** 40); // varint
    w.uint32((10 << 3) | 1).fixed64(7); // 64-bit
    w.uint32((1 << 3) | 2).bytes(Buffer.from('{"ok":1}'));
    w.uint32((11 << 3) | 5).fixed32(5); // 32-bit
    const inner = protobuf.Writer.create();
    inner.uint32((1 << 3) | 0).uint32(104);
    inner.uint32((7 << 3) | 2).string('from a newer agent');
    inner.uint32((2 << 3) | 2).string('mismatch');
    w.uint32((2 << 3) | 2).bytes(inner.finish());
    w.uint32((12 << 3) | 2).string('tail');
    const d = decodeResponse(Buffer.from(w.finish()));
    expect(d).toEqual({ ok: true, value: { result: Buffer.from('{"ok":1}'), error: { code: 104, msg: 'mismatch', details: '' } } });
  });

  it('truncated input is an error value, never a throw, and agrees with protobufjs on where a message may end', () => {
    fc.assert(
      fc.property(response, fc.nat(), (res, cut) => {
        const wire = Buffer.from(Response.encode(Response.fromObject(res)).finish());
        const at = wire.length ? cut % wire.length : 0;
        const part = wire.subarray(0, at);
        let theirs: unknown;
        try {
          theirs = asObject(Response, part);
        } catch {
          theirs = undefined;
        }
        const ours = decodeResponse(part);
        expect(ours.ok).toBe(theirs !== undefined);
        if (ours.ok) expect({ result: ours.value.result, error: ours.value.error }).toEqual(theirs === undefined ? undefined : { result: (theirs as { result: Buffer }).result, error: (theirs as { error: unknown }).error ?? null });
      }),
      { numRuns: 500 },
    );
  });

  it('rejects wire types 3, 4, 6 and 7 (groups and invalid) instead of guessing', () => {
    for (const wt of [3, 4, 6, 7]) {
      const d = decodeResponse(Buffer.from([(5 << 3) | wt, 0]));
      expect(d.ok).toBe(false);
    }
  });
});

describe('gRPC framing and headers', () => {
  it.each([
    ['no prefix', Buffer.from([0, 0, 0]), /no message prefix/],
    ['compressed', Buffer.from([1, 0, 0, 0, 0]), /compressed/],
    ['length beyond the body', Buffer.from([0, 0, 0, 0, 9, 1]), /announces 14/],
    ['two messages', Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /announces 5/],
  ])('unframing a body with %s fails', (_w, body, re) => {
    const r = unframeResponse(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(re);
  });

  it('grpc-timeout is at most 8 digits with a unit', () => {
    expect(grpcTimeout(60_000)).toBe('60000m');
    expect(grpcTimeout(0.2)).toBe('1m');
    expect(grpcTimeout(99_999_999)).toBe('99999999m');
    expect(grpcTimeout(1e8)).toBe('100000S');
    expect(grpcTimeout(1e15)).toBe('99999999S');
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e14, noNaN: true }), (ms) => {
        expect(grpcTimeout(ms)).toMatch(/^\d{1,8}[mS]$/);
      }),
    );
  });

  it('grpc-message is percent-decoded; a broken escape is kept as sent', () => {
    expect(decodeGrpcMessage('no%20pool%20%C3%BC')).toBe('no pool ü');
    expect(decodeGrpcMessage('100%')).toBe('100%');
  });

  it('HTTP statuses without grpc-status map as gRPC documents', () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500].map(statusFromHttp)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2]);
  });
});
