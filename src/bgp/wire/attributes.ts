// Path attributes: one descriptor per type code (name, expected flags, check, decode, encode,
// format, RFC 7606 action), as BIRD's bgp_attr_table. The UPDATE parser walks the attribute block
// and asks the table; nothing else in the codec switches on attribute codes.
import { AttrFlag, AttrType, AsPathSegmentType, UpdateSubcode, WellKnownCommunity } from './constants.js';
import type { WireContext } from './context.js';
import { familyKey } from './context.js';
import { dotted, parseDotted, u16, u32, w16, w32, writeDotted } from './bytes.js';
import type { ErrorAction } from './errors.js';
import type { Prefix } from './prefix.js';
import {
  countPrefixes,
  decodePrefixes,
  encodePrefixes,
  formatIpBytes,
  formatPrefix,
  ipBytes,
  prefixesLength,
} from './prefix.js';

export interface AsPathSegment {
  /** AsPathSegmentType: 1 SET, 2 SEQUENCE, 3 CONFED_SEQUENCE, 4 CONFED_SET. */
  type: number;
  asns: number[];
}

export interface LargeCommunity {
  global: number;
  local1: number;
  local2: number;
}

/** `flags` is optional when building; decoded attributes always carry the received flags. */
export type PathAttribute =
  | { type: 'ORIGIN'; flags?: number; origin: number }
  | { type: 'AS_PATH'; flags?: number; segments: AsPathSegment[] }
  | { type: 'NEXT_HOP'; flags?: number; nextHop: string }
  | { type: 'MULTI_EXIT_DISC'; flags?: number; med: number }
  | { type: 'LOCAL_PREF'; flags?: number; localPref: number }
  | { type: 'ATOMIC_AGGREGATE'; flags?: number }
  | { type: 'AGGREGATOR'; flags?: number; as: number; address: string }
  | { type: 'COMMUNITIES'; flags?: number; communities: number[] }
  | { type: 'ORIGINATOR_ID'; flags?: number; originatorId: string }
  | { type: 'CLUSTER_LIST'; flags?: number; clusterIds: string[] }
  | {
      type: 'MP_REACH_NLRI';
      flags?: number;
      afi: number;
      safi: number;
      /** IPv4 (AFI 1 classic) or IPv6 global address (AFI 2, or AFI 1 under RFC 8950). */
      nextHop: string;
      /** RFC 2545 §3: the second address of a 32-octet IPv6 next hop. */
      linkLocal?: string;
      nlri: Prefix[];
    }
  | { type: 'MP_UNREACH_NLRI'; flags?: number; afi: number; safi: number; withdrawn: Prefix[] }
  | { type: 'EXTENDED_COMMUNITIES'; flags?: number; communities: bigint[] }
  | { type: 'AS4_PATH'; flags?: number; segments: AsPathSegment[] }
  | { type: 'AS4_AGGREGATOR'; flags?: number; as: number; address: string }
  | { type: 'LARGE_COMMUNITY'; flags?: number; communities: LargeCommunity[] }
  | { type: 'UNKNOWN'; flags: number; code: number; value: Uint8Array };

export type AttrName = PathAttribute['type'];
type Attr<N extends AttrName> = Extract<PathAttribute, { type: N }>;

/** What a failed check says; the UPDATE parser turns it into a BgpError with the attribute as data. */
export interface AttrProblem {
  subcode: number;
  action: ErrorAction;
  message: string;
  afi?: number;
  safi?: number;
}

export interface AttrDescriptor<N extends AttrName = AttrName> {
  code: number;
  name: N;
  /** Optional and Transitive bits as RFC 4271 §5 (and each attribute's RFC) define them. */
  flags: number;
  /** RFC 7606 §3 (c): a flags conflict is treat-as-withdraw unless the attribute's rules say otherwise. */
  flagsAction: ErrorAction;
  /** Validates the value octets [s, e) without allocating; null when well-formed. */
  check(buf: Uint8Array, s: number, e: number, ctx: WireContext): AttrProblem | null;
  /** Materialises a value that passed check. */
  decode(flags: number, buf: Uint8Array, s: number, e: number, ctx: WireContext): Attr<N>;
  valueLength(a: Attr<N>, ctx: WireContext): number;
  encodeValue(a: Attr<N>, buf: Uint8Array, o: number, ctx: WireContext): number;
  format(a: Attr<N>): string;
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPT_NON_TRANS = AttrFlag.OPTIONAL;

const problem = (subcode: number, action: ErrorAction, message: string): AttrProblem => ({ subcode, action, message });
const lengthIs = (n: number, action: ErrorAction, what: string) => (_b: Uint8Array, s: number, e: number): AttrProblem | null =>
  e - s === n ? null : problem(UpdateSubcode.ATTRIBUTE_LENGTH, action, `${what}: length ${e - s}, expected ${n}`);
const lengthMultiple = (n: number, what: string) => (_b: Uint8Array, s: number, e: number): AttrProblem | null =>
  e - s > 0 && (e - s) % n === 0
    ? null
    : problem(UpdateSubcode.ATTRIBUTE_LENGTH, 'treat-as-withdraw', `${what}: length ${e - s} is not a positive multiple of ${n}`);

// ---- AS paths (RFC 4271 §4.3 (b), RFC 6793 §3-4, RFC 5065 §3) ----

function checkAsPath(buf: Uint8Array, s: number, e: number, width: number): string | null {
  let o = s;
  while (o < e) {
    if (e - o < 2) return 'truncated segment header';
    const t = buf[o]!;
    const n = buf[o + 1]!;
    if (t < AsPathSegmentType.AS_SET || t > AsPathSegmentType.AS_CONFED_SET) return `segment type ${t}`;
    // RFC 7606 §7.2: a segment with a zero length is malformed.
    if (n === 0) return 'empty segment';
    o += 2 + n * width;
    if (o > e) return 'segment overruns the attribute';
  }
  return null;
}

function decodeAsPath(buf: Uint8Array, s: number, e: number, width: number): AsPathSegment[] {
  const segs: AsPathSegment[] = [];
  let o = s;
  while (o < e) {
    const type = buf[o]!;
    const n = buf[o + 1]!;
    o += 2;
    const asns = new Array<number>(n);
    for (let i = 0; i < n; i++, o += width) asns[i] = width === 4 ? u32(buf, o) : u16(buf, o);
    segs.push({ type, asns });
  }
  return segs;
}

function asPathLength(segs: readonly AsPathSegment[], width: number): number {
  let n = 0;
  // A segment holds at most 255 ASNs; longer runs are split on encode.
  for (const g of segs) n += Math.ceil(g.asns.length / 255) * 2 + g.asns.length * width;
  return n;
}

function encodeAsPath(segs: readonly AsPathSegment[], buf: Uint8Array, off: number, width: number): number {
  let o = off;
  for (const g of segs) {
    for (let i = 0; i < g.asns.length; i += 255) {
      const n = Math.min(255, g.asns.length - i);
      buf[o++] = g.type;
      buf[o++] = n;
      for (let j = i; j < i + n; j++) o += width === 4 ? w32(buf, o, g.asns[j]!) : w16(buf, o, g.asns[j]!);
    }
  }
  return o - off;
}

export function formatAsPath(segs: readonly AsPathSegment[]): string {
  return segs
    .map((g) => {
      const s = g.asns.join(' ');
      switch (g.type) {
        case AsPathSegmentType.AS_SET: return `{${s}}`;
        case AsPathSegmentType.AS_CONFED_SEQUENCE: return `(${s})`;
        case AsPathSegmentType.AS_CONFED_SET: return `[${s}]`;
        default: return s;
      }
    })
    .join(' ');
}

// ---- communities ----

const WELL_KNOWN_NAMES = new Map<number, string>(Object.entries(WellKnownCommunity).map(([k, v]) => [v, k]));

export const formatCommunity = (c: number): string => WELL_KNOWN_NAMES.get(c) ?? `${c >>> 16}:${c & 0xffff}`;

export function formatExtendedCommunity(c: bigint): string {
  const type = Number(c >> 56n) & 0xff;
  const sub = Number(c >> 48n) & 0xff;
  const kind = sub === 2 ? 'rt' : sub === 3 ? 'ro' : undefined;
  if (kind && type === 0x00) return `${kind} ${Number(c >> 32n) & 0xffff}:${Number(c & 0xffffffffn)}`;
  if (kind && type === 0x02) return `${kind} ${Number(c >> 16n) >>> 0}:${Number(c & 0xffffn)}`;
  if (kind && type === 0x01) {
    const ip = Number((c >> 16n) & 0xffffffffn);
    return `${kind} ${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${Number(c & 0xffffn)}`;
  }
  return `0x${c.toString(16).padStart(16, '0')}`;
}

// ---- MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3-4) ----

/** Families whose NLRI this codec parses; SAFI 2 shares the unicast encoding. */
const parsedFamily = (afi: number, safi: number): boolean => (afi === 1 || afi === 2) && (safi === 1 || safi === 2);

function nextHopLengthOk(afi: number, safi: number, n: number, ctx: WireContext): boolean {
  if (afi === 2) return n === 16 || n === 32; // RFC 2545 §3
  // RFC 8950 §3: IPv6 next hop for IPv4 NLRI only where the capability was exchanged.
  return n === 4 || ((n === 16 || n === 32) && ctx.extendedNextHop.has(familyKey(afi, safi)));
}

function mpProblem(subcode: number, action: ErrorAction, message: string, afi: number, safi: number): AttrProblem {
  return { subcode, action, message, afi, safi };
}

function checkMpReach(buf: Uint8Array, s: number, e: number, ctx: WireContext): AttrProblem | null {
  // RFC 7606 §7.11: without AFI/SAFI nothing can be disabled selectively.
  if (e - s < 5) {
    if (e - s < 3) return problem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'session-reset', 'MP_REACH_NLRI too short for AFI/SAFI');
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'afisafi-disable', 'MP_REACH_NLRI too short', u16(buf, s), buf[s + 2]!);
  }
  const afi = u16(buf, s);
  const safi = buf[s + 2]!;
  if (!parsedFamily(afi, safi))
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'attribute-discard', `MP_REACH_NLRI for unsupported AFI ${afi} SAFI ${safi} ignored`, afi, safi);
  const nhLen = buf[s + 3]!;
  const nlri = s + 4 + nhLen + 1;
  // RFC 7606 §7.11: a next-hop length that does not fit means the NLRI cannot be located.
  if (nlri > e || !nextHopLengthOk(afi, safi, nhLen, ctx))
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'afisafi-disable', `MP_REACH_NLRI next hop length ${nhLen} invalid for AFI ${afi} SAFI ${safi}`, afi, safi);
  // RFC 7606 §5.3 and RFC 4760 §7: malformed NLRI disable the family.
  if (countPrefixes(buf, nlri, e, afi, ctx.addPath.has(familyKey(afi, safi))) < 0)
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'afisafi-disable', `MP_REACH_NLRI for AFI ${afi} SAFI ${safi} has malformed NLRI`, afi, safi);
  return null;
}

function checkMpUnreach(buf: Uint8Array, s: number, e: number, ctx: WireContext): AttrProblem | null {
  if (e - s < 3) return problem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'session-reset', 'MP_UNREACH_NLRI too short for AFI/SAFI');
  const afi = u16(buf, s);
  const safi = buf[s + 2]!;
  if (!parsedFamily(afi, safi))
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'attribute-discard', `MP_UNREACH_NLRI for unsupported AFI ${afi} SAFI ${safi} ignored`, afi, safi);
  if (countPrefixes(buf, s + 3, e, afi, ctx.addPath.has(familyKey(afi, safi))) < 0)
    return mpProblem(UpdateSubcode.OPTIONAL_ATTRIBUTE, 'afisafi-disable', `MP_UNREACH_NLRI for AFI ${afi} SAFI ${safi} has malformed NLRI`, afi, safi);
  return null;
}

const nextHopBytes = (a: Attr<'MP_REACH_NLRI'>): number => (a.nextHop.includes(':') ? 16 : 4) + (a.linkLocal === undefined ? 0 : 16);

function encodeNextHop(a: Attr<'MP_REACH_NLRI'>, buf: Uint8Array, o: number): number {
  const g = ipBytes(a.nextHop);
  buf.set(g, o);
  if (a.linkLocal === undefined) return g.length;
  buf.set(ipBytes(a.linkLocal), o + g.length);
  return g.length + 16;
}

// ---- the table ----

function def<N extends AttrName>(d: AttrDescriptor<N>): AttrDescriptor<N> {
  return d;
}

const lengthErr = UpdateSubcode.ATTRIBUTE_LENGTH;

export const ATTRIBUTE_DESCRIPTORS = [
  def({
    code: AttrType.ORIGIN, name: 'ORIGIN', flags: WELL_KNOWN, flagsAction: 'treat-as-withdraw',
    // RFC 7606 §7.1
    check: (b, s, e) => {
      if (e - s !== 1) return problem(lengthErr, 'treat-as-withdraw', `ORIGIN: length ${e - s}, expected 1`);
      return b[s]! > 2 ? problem(UpdateSubcode.INVALID_ORIGIN, 'treat-as-withdraw', `ORIGIN: undefined value ${b[s]}`) : null;
    },
    decode: (flags, b, s) => ({ type: 'ORIGIN', flags, origin: b[s]! }),
    valueLength: () => 1,
    encodeValue: (a, b, o) => { b[o] = a.origin; return 1; },
    format: (a) => ['IGP', 'EGP', 'INCOMPLETE'][a.origin] ?? String(a.origin),
  }),
  def({
    code: AttrType.AS_PATH, name: 'AS_PATH', flags: WELL_KNOWN, flagsAction: 'treat-as-withdraw',
    // RFC 7606 §7.2; the ASN width is the session's (RFC 6793 §4).
    check: (b, s, e, ctx) => {
      const why = checkAsPath(b, s, e, ctx.as4 ? 4 : 2);
      return why ? problem(UpdateSubcode.MALFORMED_AS_PATH, 'treat-as-withdraw', `AS_PATH: ${why}`) : null;
    },
    decode: (flags, b, s, e, ctx) => ({ type: 'AS_PATH', flags, segments: decodeAsPath(b, s, e, ctx.as4 ? 4 : 2) }),
    valueLength: (a, ctx) => asPathLength(a.segments, ctx.as4 ? 4 : 2),
    encodeValue: (a, b, o, ctx) => encodeAsPath(a.segments, b, o, ctx.as4 ? 4 : 2),
    format: (a) => formatAsPath(a.segments),
  }),
  def({
    code: AttrType.NEXT_HOP, name: 'NEXT_HOP', flags: WELL_KNOWN, flagsAction: 'treat-as-withdraw',
    // RFC 7606 §7.3: length errors and syntactically invalid addresses are treat-as-withdraw.
    check: (b, s, e) => {
      if (e - s !== 4) return problem(lengthErr, 'treat-as-withdraw', `NEXT_HOP: length ${e - s}, expected 4`);
      const first = b[s]!;
      if (u32(b, s) === 0 || first >= 224) return problem(UpdateSubcode.INVALID_NEXT_HOP, 'treat-as-withdraw', `NEXT_HOP: ${dotted(b, s)} is not a unicast address`);
      return null;
    },
    decode: (flags, b, s) => ({ type: 'NEXT_HOP', flags, nextHop: dotted(b, s) }),
    valueLength: () => 4,
    encodeValue: (a, b, o) => writeDotted(b, o, a.nextHop),
    format: (a) => a.nextHop,
  }),
  def({
    code: AttrType.MULTI_EXIT_DISC, name: 'MULTI_EXIT_DISC', flags: OPT_NON_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthIs(4, 'treat-as-withdraw', 'MULTI_EXIT_DISC'), // RFC 7606 §7.4
    decode: (flags, b, s) => ({ type: 'MULTI_EXIT_DISC', flags, med: u32(b, s) }),
    valueLength: () => 4,
    encodeValue: (a, b, o) => w32(b, o, a.med),
    format: (a) => String(a.med),
  }),
  def({
    code: AttrType.LOCAL_PREF, name: 'LOCAL_PREF', flags: WELL_KNOWN, flagsAction: 'treat-as-withdraw',
    // RFC 7606 §7.5 (discarding it when it comes from an external peer is the session's rule).
    check: lengthIs(4, 'treat-as-withdraw', 'LOCAL_PREF'),
    decode: (flags, b, s) => ({ type: 'LOCAL_PREF', flags, localPref: u32(b, s) }),
    valueLength: () => 4,
    encodeValue: (a, b, o) => w32(b, o, a.localPref),
    format: (a) => String(a.localPref),
  }),
  def({
    code: AttrType.ATOMIC_AGGREGATE, name: 'ATOMIC_AGGREGATE', flags: WELL_KNOWN, flagsAction: 'attribute-discard',
    check: lengthIs(0, 'attribute-discard', 'ATOMIC_AGGREGATE'), // RFC 7606 §7.6
    decode: (flags) => ({ type: 'ATOMIC_AGGREGATE', flags }),
    valueLength: () => 0,
    encodeValue: () => 0,
    format: () => '',
  }),
  def({
    code: AttrType.AGGREGATOR, name: 'AGGREGATOR', flags: OPT_TRANS, flagsAction: 'attribute-discard',
    // RFC 7606 §7.7: 6 octets, or 8 once 4-octet AS is negotiated (RFC 6793 §4.1).
    check: (b, s, e, ctx) => lengthIs(ctx.as4 ? 8 : 6, 'attribute-discard', 'AGGREGATOR')(b, s, e),
    decode: (flags, b, s, _e, ctx) =>
      ctx.as4
        ? { type: 'AGGREGATOR', flags, as: u32(b, s), address: dotted(b, s + 4) }
        : { type: 'AGGREGATOR', flags, as: u16(b, s), address: dotted(b, s + 2) },
    valueLength: (_a, ctx) => (ctx.as4 ? 8 : 6),
    encodeValue: (a, b, o, ctx) => {
      const n = ctx.as4 ? w32(b, o, a.as) : w16(b, o, a.as);
      return n + writeDotted(b, o + n, a.address);
    },
    format: (a) => `${a.as} ${a.address}`,
  }),
  def({
    code: AttrType.COMMUNITIES, name: 'COMMUNITIES', flags: OPT_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthMultiple(4, 'COMMUNITIES'), // RFC 7606 §7.8
    decode: (flags, b, s, e) => {
      const communities = new Array<number>((e - s) >> 2);
      for (let i = 0, o = s; o < e; i++, o += 4) communities[i] = u32(b, o);
      return { type: 'COMMUNITIES', flags, communities };
    },
    valueLength: (a) => a.communities.length * 4,
    encodeValue: (a, b, o) => {
      for (let i = 0; i < a.communities.length; i++) w32(b, o + i * 4, a.communities[i]!);
      return a.communities.length * 4;
    },
    format: (a) => a.communities.map(formatCommunity).join(' '),
  }),
  def({
    code: AttrType.ORIGINATOR_ID, name: 'ORIGINATOR_ID', flags: OPT_NON_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthIs(4, 'treat-as-withdraw', 'ORIGINATOR_ID'), // RFC 7606 §7.9
    decode: (flags, b, s) => ({ type: 'ORIGINATOR_ID', flags, originatorId: dotted(b, s) }),
    valueLength: () => 4,
    encodeValue: (a, b, o) => writeDotted(b, o, a.originatorId),
    format: (a) => a.originatorId,
  }),
  def({
    code: AttrType.CLUSTER_LIST, name: 'CLUSTER_LIST', flags: OPT_NON_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthMultiple(4, 'CLUSTER_LIST'), // RFC 7606 §7.10
    decode: (flags, b, s, e) => {
      const clusterIds: string[] = [];
      for (let o = s; o < e; o += 4) clusterIds.push(dotted(b, o));
      return { type: 'CLUSTER_LIST', flags, clusterIds };
    },
    valueLength: (a) => a.clusterIds.length * 4,
    encodeValue: (a, b, o) => {
      a.clusterIds.forEach((id, i) => writeDotted(b, o + i * 4, id));
      return a.clusterIds.length * 4;
    },
    format: (a) => a.clusterIds.join(' '),
  }),
  def({
    code: AttrType.MP_REACH_NLRI, name: 'MP_REACH_NLRI', flags: OPT_NON_TRANS, flagsAction: 'afisafi-disable',
    check: checkMpReach,
    decode: (flags, b, s, e, ctx) => {
      const afi = u16(b, s);
      const safi = b[s + 2]!;
      const nhLen = b[s + 3]!;
      const nh = s + 4;
      const a: Attr<'MP_REACH_NLRI'> = {
        type: 'MP_REACH_NLRI', flags, afi, safi,
        nextHop: formatIpBytes(b.subarray(nh, nh + (nhLen === 4 ? 4 : 16))),
        nlri: [],
      };
      if (nhLen === 32) a.linkLocal = formatIpBytes(b.subarray(nh + 16, nh + 32));
      // The Reserved octet (RFC 4760 §3, formerly the SNPA count) is ignored on receipt.
      decodePrefixes(b, nh + nhLen + 1, e, afi, ctx.addPath.has(familyKey(afi, safi)), a.nlri);
      return a;
    },
    valueLength: (a, ctx) => 5 + nextHopBytes(a) + prefixesLength(a.nlri, ctx.addPath.has(familyKey(a.afi, a.safi))),
    encodeValue: (a, b, o, ctx) => {
      w16(b, o, a.afi);
      b[o + 2] = a.safi;
      const n = encodeNextHop(a, b, o + 4);
      b[o + 3] = n;
      b[o + 4 + n] = 0;
      return 5 + n + encodePrefixes(a.nlri, b, o + 5 + n, ctx.addPath.has(familyKey(a.afi, a.safi)));
    },
    format: (a) =>
      `${a.afi}/${a.safi} via ${a.nextHop}${a.linkLocal ? ` ${a.linkLocal}` : ''}: ${a.nlri.map(formatPrefix).join(' ')}`,
  }),
  def({
    code: AttrType.MP_UNREACH_NLRI, name: 'MP_UNREACH_NLRI', flags: OPT_NON_TRANS, flagsAction: 'afisafi-disable',
    check: checkMpUnreach,
    decode: (flags, b, s, e, ctx) => {
      const afi = u16(b, s);
      const safi = b[s + 2]!;
      const withdrawn: Prefix[] = [];
      decodePrefixes(b, s + 3, e, afi, ctx.addPath.has(familyKey(afi, safi)), withdrawn);
      return { type: 'MP_UNREACH_NLRI', flags, afi, safi, withdrawn };
    },
    valueLength: (a, ctx) => 3 + prefixesLength(a.withdrawn, ctx.addPath.has(familyKey(a.afi, a.safi))),
    encodeValue: (a, b, o, ctx) => {
      w16(b, o, a.afi);
      b[o + 2] = a.safi;
      return 3 + encodePrefixes(a.withdrawn, b, o + 3, ctx.addPath.has(familyKey(a.afi, a.safi)));
    },
    format: (a) => `${a.afi}/${a.safi}: ${a.withdrawn.map(formatPrefix).join(' ')}`,
  }),
  def({
    code: AttrType.EXTENDED_COMMUNITIES, name: 'EXTENDED_COMMUNITIES', flags: OPT_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthMultiple(8, 'EXTENDED_COMMUNITIES'), // RFC 7606 §7.14
    decode: (flags, b, s, e) => {
      const communities: bigint[] = [];
      for (let o = s; o < e; o += 8) communities.push((BigInt(u32(b, o)) << 32n) | BigInt(u32(b, o + 4)));
      return { type: 'EXTENDED_COMMUNITIES', flags, communities };
    },
    valueLength: (a) => a.communities.length * 8,
    encodeValue: (a, b, o) => {
      a.communities.forEach((c, i) => {
        w32(b, o + i * 8, Number((c >> 32n) & 0xffffffffn));
        w32(b, o + i * 8 + 4, Number(c & 0xffffffffn));
      });
      return a.communities.length * 8;
    },
    format: (a) => a.communities.map(formatExtendedCommunity).join(' '),
  }),
  def({
    code: AttrType.AS4_PATH, name: 'AS4_PATH', flags: OPT_TRANS, flagsAction: 'attribute-discard',
    // RFC 6793 §6: a malformed AS4_PATH is discarded, the UPDATE is still used.
    check: (b, s, e) => {
      const why = checkAsPath(b, s, e, 4);
      return why ? problem(UpdateSubcode.MALFORMED_AS_PATH, 'attribute-discard', `AS4_PATH: ${why}`) : null;
    },
    decode: (flags, b, s, e) => ({ type: 'AS4_PATH', flags, segments: decodeAsPath(b, s, e, 4) }),
    valueLength: (a) => asPathLength(a.segments, 4),
    encodeValue: (a, b, o) => encodeAsPath(a.segments, b, o, 4),
    format: (a) => formatAsPath(a.segments),
  }),
  def({
    code: AttrType.AS4_AGGREGATOR, name: 'AS4_AGGREGATOR', flags: OPT_TRANS, flagsAction: 'attribute-discard',
    check: lengthIs(8, 'attribute-discard', 'AS4_AGGREGATOR'), // RFC 6793 §6
    decode: (flags, b, s) => ({ type: 'AS4_AGGREGATOR', flags, as: u32(b, s), address: dotted(b, s + 4) }),
    valueLength: () => 8,
    encodeValue: (a, b, o) => w32(b, o, a.as) + writeDotted(b, o + 4, a.address),
    format: (a) => `${a.as} ${a.address}`,
  }),
  def({
    code: AttrType.LARGE_COMMUNITY, name: 'LARGE_COMMUNITY', flags: OPT_TRANS, flagsAction: 'treat-as-withdraw',
    check: lengthMultiple(12, 'LARGE_COMMUNITY'), // RFC 8092 §6
    decode: (flags, b, s, e) => {
      const communities: LargeCommunity[] = [];
      for (let o = s; o < e; o += 12) communities.push({ global: u32(b, o), local1: u32(b, o + 4), local2: u32(b, o + 8) });
      return { type: 'LARGE_COMMUNITY', flags, communities };
    },
    valueLength: (a) => a.communities.length * 12,
    encodeValue: (a, b, o) => {
      a.communities.forEach((c, i) => {
        w32(b, o + i * 12, c.global);
        w32(b, o + i * 12 + 4, c.local1);
        w32(b, o + i * 12 + 8, c.local2);
      });
      return a.communities.length * 12;
    },
    format: (a) => a.communities.map((c) => `${c.global}:${c.local1}:${c.local2}`).join(' '),
  }),
] as const;

/** Lookup by type code (a dense array: one index per UPDATE attribute, no hashing). */
export const ATTR_BY_CODE: ReadonlyArray<AttrDescriptor | undefined> = (() => {
  const t = new Array<AttrDescriptor | undefined>(256).fill(undefined);
  for (const d of ATTRIBUTE_DESCRIPTORS) t[d.code] = d as unknown as AttrDescriptor;
  return t;
})();

const ATTR_BY_NAME = new Map<AttrName, AttrDescriptor>(
  ATTRIBUTE_DESCRIPTORS.map((d) => [d.name, d as unknown as AttrDescriptor]),
);

export const attrCode = (a: PathAttribute): number => (a.type === 'UNKNOWN' ? a.code : ATTR_BY_NAME.get(a.type)!.code);

function attrFlags(a: PathAttribute): number {
  if (a.flags !== undefined) return a.flags;
  return ATTR_BY_NAME.get(a.type)!.flags;
}

function valueLength(a: PathAttribute, ctx: WireContext): number {
  if (a.type === 'UNKNOWN') return a.value.length;
  return ATTR_BY_NAME.get(a.type)!.valueLength(a as never, ctx);
}

/** Octets of one attribute with its header; the Extended Length form is used when needed or asked for. */
export function attributeLength(a: PathAttribute, ctx: WireContext): number {
  const n = valueLength(a, ctx);
  return (n > 255 || (attrFlags(a) & AttrFlag.EXTENDED_LENGTH) !== 0 ? 4 : 3) + n;
}

export function encodeAttribute(a: PathAttribute, buf: Uint8Array, offset: number, ctx: WireContext): number {
  const n = valueLength(a, ctx);
  if (n > 65535) throw new RangeError(`${a.type}: value of ${n} octets does not fit an attribute`);
  let flags = attrFlags(a);
  if (n > 255) flags |= AttrFlag.EXTENDED_LENGTH;
  const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
  buf[offset] = flags;
  buf[offset + 1] = attrCode(a);
  let o = offset + 2;
  if (ext) o += w16(buf, o, n);
  else buf[o++] = n;
  if (a.type === 'UNKNOWN') buf.set(a.value, o);
  else ATTR_BY_NAME.get(a.type)!.encodeValue(a as never, buf, o, ctx);
  return o + n - offset;
}

export function attributesLength(attrs: readonly PathAttribute[], ctx: WireContext): number {
  let n = 0;
  for (const a of attrs) n += attributeLength(a, ctx);
  return n;
}

export function encodeAttributes(attrs: readonly PathAttribute[], buf: Uint8Array, offset: number, ctx: WireContext): number {
  let o = offset;
  for (const a of attrs) o += encodeAttribute(a, buf, o, ctx);
  return o - offset;
}

export function formatAttribute(a: PathAttribute): string {
  if (a.type === 'UNKNOWN') return `type ${a.code} flags 0x${a.flags.toString(16)}: ${Buffer.from(a.value).toString('hex')}`;
  return `${a.type} ${ATTR_BY_NAME.get(a.type)!.format(a as never)}`;
}

/**
 * RFC 4271 §5 and §9.1.2: what to pass on of a received attribute that this speaker does not
 * recognise. Optional transitive ones go on with the Partial bit set; optional non-transitive
 * ones are dropped (null). Recognised attributes are returned unchanged. Never mutates `a`.
 */
export function forTransit(a: PathAttribute): PathAttribute | null {
  if (a.type !== 'UNKNOWN') return a;
  if ((a.flags & AttrFlag.OPTIONAL) === 0 || (a.flags & AttrFlag.TRANSITIVE) === 0) return null;
  return { ...a, flags: a.flags | AttrFlag.PARTIAL };
}

/** The same rule applied to one attribute in wire form (its flags octet at `offset`): sets Partial in place on a copy the caller owns. */
export function setPartialBit(buf: Uint8Array, offset: number): void {
  buf[offset] = buf[offset]! | AttrFlag.PARTIAL;
}

/**
 * RFC 6793 §4.2.2: towards a 2-octet peer, ASNs above 65535 become AS_TRANS in AS_PATH and the
 * true path travels in AS4_PATH (null when every ASN fits in two octets).
 */
export function toTwoOctetPath(segs: readonly AsPathSegment[]): { asPath: AsPathSegment[]; as4Path: AsPathSegment[] | null } {
  let wide = false;
  const asPath = segs.map((g) => ({
    type: g.type,
    asns: g.asns.map((a) => {
      if (a > 65535) {
        wide = true;
        return 23456;
      }
      return a;
    }),
  }));
  // RFC 6793 §3: confederation segments never go into AS4_PATH.
  const as4Path = wide ? segs.filter((g) => g.type === 1 || g.type === 2).map((g) => ({ type: g.type, asns: [...g.asns] })) : null;
  return { asPath, as4Path };
}

export { parseDotted };
