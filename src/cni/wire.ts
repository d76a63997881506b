// The bytes tern-cni exchanges with tern-agentd, without a protobuf or gRPC library: the
// plugin is exec'd once per pod, and loading @grpc/grpc-js and parsing agent.proto cost more
// than the whole call (measured ~150 ms of a ~290 ms ADD on a 2-core machine). Two messages are
// small enough to spell by hand; test/cni checks them against protobufjs loading agent.proto.
//
// Protobuf encoding: https://protobuf.dev/programming-guides/encoding/ (varints, tags
// `field << 3 | wire type`, length-delimited fields). gRPC over HTTP/2: grpc/grpc
// doc/PROTOCOL-HTTP2.md (5-byte message prefix, grpc-timeout, grpc-status, grpc-message).
import type { CniError__Output } from '../proto/gen/tern/agent/v1/CniError.js';
import type { CniRequest } from '../proto/gen/tern/agent/v1/CniRequest.js';
import type { CniResponse__Output } from '../proto/gen/tern/agent/v1/CniResponse.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** tern.agent.v1.CniRequest field numbers, in declaration order (agent.proto). */
const REQUEST_FIELDS = [
  [1, 'containerId'],
  [2, 'netns'],
  [3, 'ifname'],
  [4, 'args'],
  [5, 'path'],
  [6, 'networkConfig'],
] as const;

const varintLength = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeVarint(n: number, buf: Buffer, offset: number): number {
  let o = offset;
  while (n >= 0x80) {
    buf[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[o++] = n;
  return o - offset;
}

function fieldBytes(v: Buffer | Uint8Array | string | undefined): Buffer | undefined {
  if (v === undefined || v.length === 0) return undefined;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The request's fields as bytes; proto3 leaves empty strings and bytes off the wire. */
function requestParts(req: CniRequest): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (const [no, name] of REQUEST_FIELDS) {
    const b = fieldBytes(req[name]);
    if (b) out.push([no, b]);
  }
  return out;
}

const partsLength = (parts: [number, Buffer][]): number => parts.reduce((n, [no, b]) => n + varintLength((no << 3) | WIRE_LEN) + varintLength(b.length) + b.length, 0);

export function requestEncodingLength(req: CniRequest): number {
  return partsLength(requestParts(req));
}

/** Encodes a CniRequest at `offset`; returns the bytes written. Never mutates `req`. */
export function encodeRequest(req: CniRequest, buf: Buffer, offset = 0): number {
  let o = offset;
  for (const [no, b] of requestParts(req)) {
    o += writeVarint((no << 3) | WIRE_LEN, buf, o);
    o += writeVarint(b.length, buf, o);
    o += b.copy(buf, o);
  }
  return o - offset;
}

/** gRPC length-prefixed message (PROTOCOL-HTTP2 §"Length-Prefixed-Message"), uncompressed. */
export function frameRequest(req: CniRequest): Buffer {
  const parts = requestParts(req);
  const len = partsLength(parts);
  const buf = Buffer.allocUnsafe(5 + len);
  buf[0] = 0;
  const written = encodeRequest(req, buf, 5);
  buf.writeUInt32BE(written, 1);
  return buf;
}

/** A cursor over one message; each read either advances or reports what was wrong. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Varints up to 64 bits; the value is exact up to 2^53 and only its low bits matter here. */
  varint(): number | undefined {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) return undefined;
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return undefined;
  }

  bytes(): Buffer | undefined {
    const n = this.varint();
    if (n === undefined || n > this.end - this.pos) return undefined;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Steps over a field this client does not know (a newer agent's), by its wire type. */
  skip(wire: number): boolean {
    switch (wire) {
      case WIRE_VARINT:
        return this.varint() !== undefined;
      case WIRE_I64:
        this.pos += 8;
        return this.pos <= this.end;
      case WIRE_LEN:
        return this.bytes() !== undefined;
      case WIRE_I32:
        this.pos += 4;
        return this.pos <= this.end;
      default:
        return false;
    }
  }
}

function decodeError(r: Reader): Decoded<CniError__Output> {
  const e: CniError__Output = { code: 0, msg: '', details: '' };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === undefined) return { ok: false, error: `CniError: truncated tag at byte ${r.pos}` };
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no === 1 && wire === WIRE_VARINT) {
      const v = r.varint();
      if (v === undefined) return { ok: false, error: 'CniError.code: truncated varint' };
      // uint32: a wider varint is truncated to its low 32 bits, as protobuf parsers do.
      e.code = v % 2 ** 32;
    } else if ((no === 2 || no === 3) && wire === WIRE_LEN) {
      const b = r.bytes();
      if (!b) return { ok: false, error: `CniError field ${no}: length beyond the message` };
      e[no === 2 ? 'msg' : 'details'] = b.toString('utf8');
    } else if (!r.skip(wire)) return { ok: false, error: `CniError: cannot skip field ${no} (wire type ${wire})` };
  }
  return { ok: true, value: e };
}

/** Decodes a CniResponse; unknown fields are skipped, a repeated field keeps its last value. */
export function decodeResponse(buf: Buffer, offset = 0, end = buf.length): Decoded<CniResponse__Output> {
  const r = new Reader(buf, offset, end);
  const out: CniResponse__Output = { result: Buffer.alloc(0), error: null };
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === undefined) return { ok: false, error: `CniResponse: truncated tag at byte ${r.pos}` };
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if ((no === 1 || no === 2) && wire === WIRE_LEN) {
      const b = r.bytes();
      if (!b) return { ok: false, error: `CniResponse field ${no}: length beyond the message` };
      if (no === 1) out.result = b;
      else {
        const e = decodeError(new Reader(b, 0, b.length));
        if (!e.ok) return e;
        out.error = e.value;
      }
    } else if (!r.skip(wire)) return { ok: false, error: `CniResponse: cannot skip field ${no} (wire type ${wire})` };
  }
  return { ok: true, value: out };
}

/**
 * The message of a unary response body: exactly one length-prefixed message. A compressed one
 * is an error (the request offers only `identity`, so a server may not compress).
 */
export function unframeResponse(body: Buffer): Decoded<Buffer> {
  if (body.length < 5) return { ok: false, error: `response body of ${body.length} bytes has no message prefix` };
  if (body[0] !== 0) return { ok: false, error: `compressed response (flag ${body[0]}) although only identity was offered` };
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) return { ok: false, error: `response body of ${body.length} bytes, the prefix announces ${5 + len}` };
  return { ok: true, value: body.subarray(5) };
}

/** PROTOCOL-HTTP2 §"Requests": `grpc-timeout` is at most 8 digits and a unit. */
export function grpcTimeout(ms: number): string {
  const n = Math.max(0, Math.ceil(ms));
  return n < 1e8 ? `${n}m` : `${Math.min(99_999_999, Math.ceil(n / 1000))}S`;
}

/** `grpc-message` is percent-encoded UTF-8 (PROTOCOL-HTTP2 §"Responses"); bad escapes stay as sent. */
export function decodeGrpcMessage(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** gRPC status codes the plugin tells apart (grpc/grpc doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** doc/http-grpc-status-mapping.md: the status of a response that carries no grpc-status. */
export function statusFromHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
