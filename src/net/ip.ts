// IPv4/IPv6 addresses and prefixes as bigints: parsing, formatting, containment, overlap.
// The one place the project does address arithmetic (IPAM, policy, routes, DNS PTR).
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** Network address (host bits zero). */
  base: bigint;
  prefixLen: number;
}

export const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

export function parseIp(s: string): Ip {
  if (isIPv4(s)) {
    let v = 0n;
    for (const part of s.split('.')) v = (v << 8n) | BigInt(Number(part));
    return { family: 4, value: v };
  }
  if (isIPv6(s)) {
    let str = s;
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
    if (v4) {
      const n = parseIp(v4[1]!).value;
      str = `${str.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = str.includes('::') ? str.split('::') : [str, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    let v = 0n;
    for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
    return { family: 6, value: v };
  }
  throw new Error(`invalid IP address "${s}"`);
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function isIp(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

function mask(family: Family, prefixLen: number): bigint {
  const bits = bitsOf(family);
  return ((1n << BigInt(prefixLen)) - 1n) << BigInt(bits - prefixLen);
}

/** Parses "a.b.c.d/n" or "x::/n". With strict (default), host bits must be zero. */
export function parseCidr(s: string, opts: { strict?: boolean } = {}): Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR "${s}": missing /prefix-length`);
  const ip = parseIp(s.slice(0, slash));
  const lenStr = s.slice(slash + 1);
  const len = Number(lenStr);
  if (!/^\d{1,3}$/.test(lenStr) || len > bitsOf(ip.family)) throw new Error(`invalid CIDR "${s}": bad prefix length`);
  const base = ip.value & mask(ip.family, len);
  if ((opts.strict ?? true) && base !== ip.value) {
    throw new Error(`invalid CIDR "${s}": host bits set (did you mean ${formatIp({ family: ip.family, value: base })}/${len}?)`);
  }
  return { family: ip.family, base, prefixLen: len };
}

export function isCidr(s: string): boolean {
  try {
    parseCidr(s);
    return true;
  } catch {
    return false;
  }
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefixLen}`;
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefixLen);
}

export function cidrLast(c: Cidr): bigint {
  return c.base + cidrSize(c) - 1n;
}

export function cidrContainsIp(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && (ip.value & mask(c.family, c.prefixLen)) === c.base;
}

/** True when inner lies wholly inside outer. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefixLen >= outer.prefixLen && (inner.base & mask(outer.family, outer.prefixLen)) === outer.base;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The i-th subnet of length newLen inside c. */
export function subnet(c: Cidr, newLen: number, i: bigint): Cidr {
  if (newLen < c.prefixLen || newLen > bitsOf(c.family)) throw new Error(`cannot split /${c.prefixLen} into /${newLen}`);
  return { family: c.family, base: c.base + (i << BigInt(bitsOf(c.family) - newLen)), prefixLen: newLen };
}

/** The address at offset i within c. */
export function nthIp(c: Cidr, i: bigint): Ip {
  return { family: c.family, value: c.base + i };
}
