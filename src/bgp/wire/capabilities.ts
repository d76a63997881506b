// Capabilities (RFC 5492) carried in OPEN optional parameters: one descriptor per code.
// Unknown codes are kept raw so they can be logged and compared, never dropped silently.
import { CapCode } from './constants.js';
import { u16, u24, u32, w16, w24, w32 } from './bytes.js';

export interface AddPathFamily {
  afi: number;
  safi: number;
  /** RFC 7911 §4: 1 receive, 2 send, 3 both. */
  sendReceive: number;
}

export interface GracefulRestartFamily {
  afi: number;
  safi: number;
  /** RFC 4724 §3: 0x80 = forwarding state preserved. */
  flags: number;
}

export interface LlgrFamily {
  afi: number;
  safi: number;
  /** RFC 9494 §3: 0x80 = forwarding state preserved. */
  flags: number;
  /** Long-lived stale time in seconds (24 bits). */
  staleTime: number;
}

export interface ExtendedNextHopEntry {
  afi: number;
  safi: number;
  nextHopAfi: number;
}

export type Capability =
  | { kind: 'multiprotocol'; afi: number; safi: number }
  | { kind: 'route-refresh' }
  | { kind: 'route-refresh-old' }
  | { kind: 'enhanced-route-refresh' }
  | { kind: 'extended-message' }
  | { kind: 'extended-next-hop'; entries: ExtendedNextHopEntry[] }
  | {
      kind: 'graceful-restart';
      /** RFC 4724 §3 R bit (0x8) and RFC 8538 §2 N bit (0x4), the top 4 bits of the first octets. */
      restartFlags: number;
      /** Seconds, 12 bits. */
      restartTime: number;
      families: GracefulRestartFamily[];
    }
  | { kind: 'as4'; as: number }
  | { kind: 'add-path'; families: AddPathFamily[] }
  | { kind: 'llgr'; families: LlgrFamily[] }
  | { kind: 'fqdn'; hostname: string; domain: string }
  | { kind: 'unknown'; code: number; value: Uint8Array };

export type CapabilityKind = Capability['kind'];
type Cap<K extends CapabilityKind> = Extract<Capability, { kind: K }>;

export const GR_RESTART = 0x8;
export const GR_NOTIFICATION = 0x4;
export const GR_FORWARDING = 0x80;

interface CapDescriptor<K extends CapabilityKind> {
  code: number;
  kind: K;
  /** Returns null when the value is malformed. */
  decode(b: Uint8Array, s: number, e: number): Cap<K> | null;
  length(c: Cap<K>): number;
  encode(c: Cap<K>, b: Uint8Array, o: number): number;
}

const def = <K extends CapabilityKind>(d: CapDescriptor<K>): CapDescriptor<K> => d;

const empty = <K extends 'route-refresh' | 'route-refresh-old' | 'enhanced-route-refresh' | 'extended-message'>(code: number, kind: K) =>
  def<K>({ code, kind, decode: (_b, s, e) => (e === s ? ({ kind } as Cap<K>) : null), length: () => 0, encode: () => 0 });

const utf8 = new TextDecoder('utf-8');
const utf8Encode = (s: string): Uint8Array => new TextEncoder().encode(s);

const CAPABILITY_DESCRIPTORS = [
  def({
    code: CapCode.MULTIPROTOCOL, kind: 'multiprotocol', // RFC 4760 §8
    decode: (b, s, e) => (e - s === 4 ? { kind: 'multiprotocol', afi: u16(b, s), safi: b[s + 3]! } : null),
    length: () => 4,
    encode: (c, b, o) => { w16(b, o, c.afi); b[o + 2] = 0; b[o + 3] = c.safi; return 4; },
  }),
  empty(CapCode.ROUTE_REFRESH, 'route-refresh'), // RFC 2918 §2
  empty(CapCode.ROUTE_REFRESH_OLD, 'route-refresh-old'), // pre-standard code still sent by some speakers
  empty(CapCode.ENHANCED_ROUTE_REFRESH, 'enhanced-route-refresh'), // RFC 7313 §3.1
  empty(CapCode.EXTENDED_MESSAGE, 'extended-message'), // RFC 8654 §3
  def({
    code: CapCode.EXTENDED_NEXT_HOP, kind: 'extended-next-hop', // RFC 8950 §3: 6-octet tuples
    decode: (b, s, e) => {
      if ((e - s) % 6 !== 0) return null;
      const entries: ExtendedNextHopEntry[] = [];
      for (let o = s; o < e; o += 6) entries.push({ afi: u16(b, o), safi: u16(b, o + 2), nextHopAfi: u16(b, o + 4) });
      return { kind: 'extended-next-hop', entries };
    },
    length: (c) => c.entries.length * 6,
    encode: (c, b, o) => {
      c.entries.forEach((x, i) => { w16(b, o + i * 6, x.afi); w16(b, o + i * 6 + 2, x.safi); w16(b, o + i * 6 + 4, x.nextHopAfi); });
      return c.entries.length * 6;
    },
  }),
  def({
    code: CapCode.GRACEFUL_RESTART, kind: 'graceful-restart', // RFC 4724 §3, RFC 8538 §2
    decode: (b, s, e) => {
      if (e - s < 2 || (e - s - 2) % 4 !== 0) return null;
      const families: GracefulRestartFamily[] = [];
      for (let o = s + 2; o < e; o += 4) families.push({ afi: u16(b, o), safi: b[o + 2]!, flags: b[o + 3]! });
      return { kind: 'graceful-restart', restartFlags: b[s]! >> 4, restartTime: u16(b, s) & 0xfff, families };
    },
    length: (c) => 2 + c.families.length * 4,
    encode: (c, b, o) => {
      w16(b, o, ((c.restartFlags & 0xf) << 12) | (c.restartTime & 0xfff));
      c.families.forEach((f, i) => { w16(b, o + 2 + i * 4, f.afi); b[o + 4 + i * 4] = f.safi; b[o + 5 + i * 4] = f.flags; });
      return 2 + c.families.length * 4;
    },
  }),
  def({
    code: CapCode.AS4, kind: 'as4', // RFC 6793 §3
    decode: (b, s, e) => (e - s === 4 ? { kind: 'as4', as: u32(b, s) } : null),
    length: () => 4,
    encode: (c, b, o) => w32(b, o, c.as),
  }),
  def({
    code: CapCode.ADD_PATH, kind: 'add-path', // RFC 7911 §4
    decode: (b, s, e) => {
      if ((e - s) % 4 !== 0) return null;
      const families: AddPathFamily[] = [];
      for (let o = s; o < e; o += 4) families.push({ afi: u16(b, o), safi: b[o + 2]!, sendReceive: b[o + 3]! });
      return { kind: 'add-path', families };
    },
    length: (c) => c.families.length * 4,
    encode: (c, b, o) => {
      c.families.forEach((f, i) => { w16(b, o + i * 4, f.afi); b[o + 2 + i * 4] = f.safi; b[o + 3 + i * 4] = f.sendReceive; });
      return c.families.length * 4;
    },
  }),
  def({
    code: CapCode.LLGR, kind: 'llgr', // RFC 9494 §3: 7-octet tuples
    decode: (b, s, e) => {
      if ((e - s) % 7 !== 0) return null;
      const families: LlgrFamily[] = [];
      for (let o = s; o < e; o += 7) families.push({ afi: u16(b, o), safi: b[o + 2]!, flags: b[o + 3]!, staleTime: u24(b, o + 4) });
      return { kind: 'llgr', families };
    },
    length: (c) => c.families.length * 7,
    encode: (c, b, o) => {
      c.families.forEach((f, i) => {
        const p = o + i * 7;
        w16(b, p, f.afi);
        b[p + 2] = f.safi;
        b[p + 3] = f.flags;
        w24(b, p + 4, f.staleTime);
      });
      return c.families.length * 7;
    },
  }),
  def({
    code: CapCode.FQDN, kind: 'fqdn', // draft-walton-bgp-hostname-capability §3
    decode: (b, s, e) => {
      if (e - s < 1) return null;
      const hl = b[s]!;
      if (s + 1 + hl + 1 > e) return null;
      const dl = b[s + 1 + hl]!;
      if (s + 2 + hl + dl !== e) return null;
      return {
        kind: 'fqdn',
        hostname: utf8.decode(b.subarray(s + 1, s + 1 + hl)),
        domain: utf8.decode(b.subarray(s + 2 + hl, e)),
      };
    },
    length: (c) => 2 + utf8Encode(c.hostname).length + utf8Encode(c.domain).length,
    encode: (c, b, o) => {
      const h = utf8Encode(c.hostname);
      const d = utf8Encode(c.domain);
      b[o] = h.length;
      b.set(h, o + 1);
      b[o + 1 + h.length] = d.length;
      b.set(d, o + 2 + h.length);
      return 2 + h.length + d.length;
    },
  }),
] as const;

type AnyCapDescriptor = CapDescriptor<CapabilityKind>;

const CAP_BY_CODE = new Map<number, AnyCapDescriptor>(CAPABILITY_DESCRIPTORS.map((d) => [d.code, d as unknown as AnyCapDescriptor]));
const CAP_BY_KIND = new Map<CapabilityKind, AnyCapDescriptor>(CAPABILITY_DESCRIPTORS.map((d) => [d.kind, d as unknown as AnyCapDescriptor]));

export const capabilityCode = (c: Capability): number => (c.kind === 'unknown' ? c.code : CAP_BY_KIND.get(c.kind)!.code);

/** Value octets of one capability (without its code and length octets). */
export function capabilityValueLength(c: Capability): number {
  if (c.kind === 'unknown') return c.value.length;
  return CAP_BY_KIND.get(c.kind)!.length(c);
}

export function encodeCapability(c: Capability, b: Uint8Array, o: number): number {
  const n = capabilityValueLength(c);
  if (n > 255) throw new RangeError(`capability ${c.kind} of ${n} octets does not fit`);
  b[o] = capabilityCode(c);
  b[o + 1] = n;
  if (c.kind === 'unknown') b.set(c.value, o + 2);
  else CAP_BY_KIND.get(c.kind)!.encode(c, b, o + 2);
  return 2 + n;
}

/**
 * Decodes the capability TLVs of one Capabilities optional parameter. Returns null when a TLV
 * overruns the parameter or a known capability's value is malformed.
 */
export function decodeCapabilities(b: Uint8Array, s: number, e: number, out: Capability[]): string | null {
  let o = s;
  while (o < e) {
    if (e - o < 2) return 'truncated capability header';
    const code = b[o]!;
    const len = b[o + 1]!;
    const vs = o + 2;
    const ve = vs + len;
    if (ve > e) return `capability ${code} overruns its parameter`;
    const d = CAP_BY_CODE.get(code);
    if (d) {
      const c = d.decode(b, vs, ve);
      if (c === null) return `capability ${code} (${d.kind}) is malformed`;
      out.push(c);
    } else out.push({ kind: 'unknown', code, value: new Uint8Array(b.subarray(vs, ve)) });
    o = ve;
  }
  return null;
}
