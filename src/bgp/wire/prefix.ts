// NLRI prefixes (RFC 4271 §4.3, RFC 4760 §5) with optional ADD-PATH identifiers (RFC 7911 §3).
// Two forms: a Prefix object for the general API, and allocation-free iteration over the wire
// form for the receive hot path (500k prefixes must not mean 500k objects before the RIB wants them).
import { isIPv4, isIPv6 } from 'node:net';
import { parseIp, formatIp } from '../../net/ip.js';

export interface Prefix {
  /** Full-width address: 4 octets for IPv4, 16 for IPv6. Bits past `len` are kept as received. */
  addr: Uint8Array;
  len: number;
  /** RFC 7911 path identifier; present only where ADD-PATH is negotiated. */
  pathId?: number;
}

/** `prefix('10.0.0.0/24')`, `prefix('2001:db8::/32', 7)`. Throws on bad input: for tests and config. */
export function prefix(cidr: string, pathId?: number): Prefix {
  const slash = cidr.indexOf('/');
  const ip = slash < 0 ? cidr : cidr.slice(0, slash);
  const v4 = isIPv4(ip);
  if (!v4 && !isIPv6(ip)) throw new Error(`invalid prefix "${cidr}"`);
  const width = v4 ? 32 : 128;
  const len = slash < 0 ? width : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > width) throw new Error(`invalid prefix length in "${cidr}"`);
  const p: Prefix = { addr: ipBytes(ip), len };
  if (pathId !== undefined) p.pathId = pathId;
  return p;
}

export function ipBytes(ip: string): Uint8Array {
  const { family, value } = parseIp(ip);
  const n = family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function formatIpBytes(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  return formatIp({ family: 6, value: v });
}

export function formatPrefix(p: Prefix): string {
  const s = `${formatIpBytes(p.addr)}/${p.len}`;
  return p.pathId === undefined ? s : `${s} path ${p.pathId}`;
}

export const formatIpv4 = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Octets one prefix takes on the wire. */
export const prefixLength = (p: Prefix, addPath: boolean): number => (addPath ? 5 : 1) + ((p.len + 7) >> 3);

export function encodePrefix(p: Prefix, buf: Uint8Array, offset: number, addPath: boolean): number {
  let o = offset;
  if (addPath) {
    const id = p.pathId ?? 0;
    buf[o++] = id >>> 24;
    buf[o++] = (id >>> 16) & 255;
    buf[o++] = (id >>> 8) & 255;
    buf[o++] = id & 255;
  }
  buf[o++] = p.len;
  const n = (p.len + 7) >> 3;
  for (let i = 0; i < n; i++) buf[o++] = p.addr[i] ?? 0;
  return o - offset;
}

/** The hot-path form of an IPv4 prefix: address as an unsigned 32-bit number. */
export function encodeIpv4Prefix(addr: number, len: number, pathId: number, buf: Uint8Array, offset: number, addPath: boolean): number {
  let o = offset;
  if (addPath) {
    buf[o++] = pathId >>> 24;
    buf[o++] = (pathId >>> 16) & 255;
    buf[o++] = (pathId >>> 8) & 255;
    buf[o++] = pathId & 255;
  }
  buf[o++] = len;
  if (len > 0) buf[o++] = addr >>> 24;
  if (len > 8) buf[o++] = (addr >>> 16) & 255;
  if (len > 16) buf[o++] = (addr >>> 8) & 255;
  if (len > 24) buf[o++] = addr & 255;
  return o - offset;
}

/**
 * Checks the syntax of an NLRI or withdrawn-routes field (RFC 7606 §5.3): every length within the
 * family's width, no prefix running past `end`. Returns the prefix count, or -1 when malformed.
 */
export function countPrefixes(buf: Uint8Array, start: number, end: number, afi: number, addPath: boolean): number {
  const width = afi === 1 ? 32 : 128;
  let o = start;
  let n = 0;
  while (o < end) {
    if (addPath) {
      o += 4;
      if (o >= end) return -1;
    }
    const len = buf[o++]!;
    if (len > width) return -1;
    o += (len + 7) >> 3;
    if (o > end) return -1;
    n++;
  }
  return n;
}

const readU32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Callback of the IPv4 hot path: no object is made per prefix. */
export type Ipv4PrefixFn = (addr: number, len: number, pathId: number) => void;
/** Callback of the generic hot path: the prefix octets are `buf[offset .. offset + ceil(len/8))`. */
export type PrefixBytesFn = (buf: Uint8Array, offset: number, len: number, pathId: number) => void;

/** Walks an already validated (countPrefixes) IPv4 NLRI field. Host bits past `len` are masked. */
export function forEachIpv4Prefix(buf: Uint8Array, start: number, end: number, addPath: boolean, fn: Ipv4PrefixFn): void {
  let o = start;
  while (o < end) {
    let id = 0;
    if (addPath) {
      id = readU32(buf, o);
      o += 4;
    }
    const len = buf[o++]!;
    let a = 0;
    if (len > 0) a = buf[o++]! << 24;
    if (len > 8) a |= buf[o++]! << 16;
    if (len > 16) a |= buf[o++]! << 8;
    if (len > 24) a |= buf[o++]!;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    fn((a & mask) >>> 0, len, id);
  }
}

/** Walks an already validated NLRI field of any family without copying. */
export function forEachPrefixBytes(buf: Uint8Array, start: number, end: number, addPath: boolean, fn: PrefixBytesFn): void {
  let o = start;
  while (o < end) {
    let id = 0;
    if (addPath) {
      id = readU32(buf, o);
      o += 4;
    }
    const len = buf[o++]!;
    fn(buf, o, len, id);
    o += (len + 7) >> 3;
  }
}

/** Materialises an already validated NLRI field as Prefix objects (the general, allocating path). */
export function decodePrefixes(buf: Uint8Array, start: number, end: number, afi: number, addPath: boolean, out: Prefix[]): void {
  const width = afi === 1 ? 4 : 16;
  let o = start;
  while (o < end) {
    let id: number | undefined;
    if (addPath) {
      id = readU32(buf, o);
      o += 4;
    }
    const len = buf[o++]!;
    const n = (len + 7) >> 3;
    const addr = new Uint8Array(width);
    addr.set(buf.subarray(o, o + n));
    o += n;
    const p: Prefix = { addr, len };
    if (id !== undefined) p.pathId = id;
    out.push(p);
  }
}

export function prefixesLength(ps: readonly Prefix[], addPath: boolean): number {
  let n = 0;
  for (const p of ps) n += prefixLength(p, addPath);
  return n;
}

export function encodePrefixes(ps: readonly Prefix[], buf: Uint8Array, offset: number, addPath: boolean): number {
  let o = offset;
  for (const p of ps) o += encodePrefix(p, buf, o, addPath);
  return o - offset;
}
