// Interned path-attribute sets (BIRD's rta cache, nest/rt-attr.c): every distinct set is stored
// once, in wire form, with a reference count held by the paths that use it. The few fields the
// decision process and policies read are decoded lazily, once per set.
//
// Canonical form: attributes sorted by type code, 4-octet ASNs always (a 2-octet session's
// AS_PATH is merged with AS4_PATH on the way in, RFC 6793 §4.2.3), NEXT_HOP / MP_REACH_NLRI /
// MP_UNREACH_NLRI left out: the next hop is kept beside the bytes.
import {
  ATTR_BY_CODE,
  AS_TRANS,
  AttrFlag,
  AttrType,
  AsPathSegmentType,
  attributesLength,
  encodeAttributes,
  formatIpBytes,
  makeContext,
  type AsPathSegment,
  type LargeCommunity,
  type PathAttribute,
  type UpdateScan,
  type WireContext,
} from '../wire/index.js';

/** Internal attribute encoding: always 4-octet AS. */
export const AS4_CTX: WireContext = makeContext({ as4: true });

/** Decoded once per interned set, when first needed. */
export interface AttrInfo {
  origin: number;
  segments: AsPathSegment[];
  /** Every ASN of AS_PATH, sets flattened, confederation segments included. */
  asns: number[];
  /** RFC 4271 §9.1.2.2 (a): AS_SET counts 1; RFC 5065 §5.3: confederation segments count 0. */
  asPathLen: number;
  /** First AS of the first AS_SEQUENCE (confederation segments skipped); 0 when none. */
  neighborAs: number;
  localPref: number | null;
  med: number | null;
  originatorId: number | null;
  clusterIds: number[];
  communities: number[];
  largeCommunities: LargeCommunity[];
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Walks attributes in wire form: fn(flags, code, valueStart, valueEnd). */
export function forEachAttr(b: Uint8Array, fn: (flags: number, code: number, s: number, e: number) => void): void {
  let o = 0;
  while (o < b.length) {
    const flags = b[o]!;
    const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
    const n = ext ? u16(b, o + 2) : b[o + 2]!;
    const s = o + (ext ? 4 : 3);
    fn(flags, b[o + 1]!, s, s + n);
    o = s + n;
  }
}

export class Attrs {
  /** Index in the store's table; reused after the set is freed. */
  id = -1;
  refs = 0;
  /** Canonical key in the store. */
  key = '';
  /** Received-form keys (scan.attrKey variants) that resolve to this set. */
  aliases: string[] = [];
  /**
   * Import policy results per policy chain (null = rejected), for chains that do not match on
   * prefixes. A result other than the set itself keeps this set alive (see `parents`), so the
   * policy runs once per received set, not once per UPDATE.
   */
  importCache: Map<string, Attrs | null> | null = null;
  /** Received sets this one was derived from by import policy; each holds a reference on them. */
  parents: Attrs[] | null = null;
  /** Export results per (target peer, source peer): an id in the target's out-set table, or -1 (not exported). */
  outCache: Map<number, number> | null = null;
  private decoded: AttrInfo | null = null;

  constructor(
    readonly afi: number,
    /** Canonical attribute bytes (see the file comment). */
    readonly raw: Uint8Array,
    /** IPv4 dotted quad or IPv6 text; '' for a locally originated route without one (next-hop-self). */
    readonly nextHop: string,
    readonly linkLocal: string | undefined,
  ) {}

  get info(): AttrInfo {
    return (this.decoded ??= decodeInfo(this.raw));
  }

  /** The attributes as objects (fresh each call: the caller may change them). */
  attributes(): PathAttribute[] {
    const out: PathAttribute[] = [];
    const b = this.raw;
    forEachAttr(b, (flags, code, s, e) => {
      const d = ATTR_BY_CODE[code];
      out.push(d ? d.decode(flags, b, s, e, AS4_CTX) : { type: 'UNKNOWN', flags, code, value: b.slice(s, e) });
    });
    return out;
  }
}

function decodeInfo(b: Uint8Array): AttrInfo {
  const info: AttrInfo = {
    origin: 2, segments: [], asns: [], asPathLen: 0, neighborAs: 0, localPref: null, med: null,
    originatorId: null, clusterIds: [], communities: [], largeCommunities: [],
  };
  forEachAttr(b, (_flags, code, s, e) => {
    switch (code) {
      case AttrType.ORIGIN: info.origin = b[s]!; break;
      case AttrType.AS_PATH: {
        for (let o = s; o < e; ) {
          const type = b[o]!;
          const n = b[o + 1]!;
          o += 2;
          const asns: number[] = [];
          for (let i = 0; i < n; i++, o += 4) asns.push(u32(b, o));
          info.segments.push({ type, asns });
          info.asns.push(...asns);
          if (type === AsPathSegmentType.AS_SEQUENCE) {
            if (info.neighborAs === 0 && n > 0) info.neighborAs = asns[0]!;
            info.asPathLen += n;
          } else if (type === AsPathSegmentType.AS_SET) info.asPathLen += 1;
        }
        break;
      }
      case AttrType.MULTI_EXIT_DISC: info.med = u32(b, s); break;
      case AttrType.LOCAL_PREF: info.localPref = u32(b, s); break;
      case AttrType.COMMUNITIES: for (let o = s; o < e; o += 4) info.communities.push(u32(b, o)); break;
      case AttrType.ORIGINATOR_ID: info.originatorId = u32(b, s); break;
      case AttrType.CLUSTER_LIST: for (let o = s; o < e; o += 4) info.clusterIds.push(u32(b, o)); break;
      case AttrType.LARGE_COMMUNITY:
        for (let o = s; o < e; o += 12) info.largeCommunities.push({ global: u32(b, o), local1: u32(b, o + 4), local2: u32(b, o + 8) });
        break;
      default: break;
    }
  });
  return info;
}

const LEFT_OUT: ReadonlySet<number> = new Set<number>([AttrType.NEXT_HOP, AttrType.MP_REACH_NLRI, AttrType.MP_UNREACH_NLRI]);

/** Encodes a canonical attribute block (sorted by code; NEXT_HOP and MP_* left out). */
export function canonicalBytes(attrs: readonly PathAttribute[]): Uint8Array {
  const list = attrs.filter((a) => !LEFT_OUT.has(codeOf(a))).sort((a, b) => codeOf(a) - codeOf(b));
  const out = new Uint8Array(attributesLength(list, AS4_CTX));
  encodeAttributes(list, out, 0, AS4_CTX);
  return out;
}

const NAME_CODE: Record<string, number> = { ...AttrType };
export const codeOf = (a: PathAttribute): number => (a.type === 'UNKNOWN' ? a.code : NAME_CODE[a.type]!);

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** RFC 6793 §4.2.3: rebuild the true path of a 2-octet session from AS_PATH and AS4_PATH. */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4: readonly AsPathSegment[]): AsPathSegment[] {
  const count = (segs: readonly AsPathSegment[]): number =>
    segs.reduce((n, g) => n + (g.type === AsPathSegmentType.AS_SEQUENCE ? g.asns.length : g.type === AsPathSegmentType.AS_SET ? 1 : 0), 0);
  const n = count(asPath);
  const m = count(as4);
  // The AS4_PATH is longer than AS_PATH: it is ignored (same section).
  if (m > n) return asPath.map((g) => ({ type: g.type, asns: [...g.asns] }));
  let take = n - m;
  const out: AsPathSegment[] = [];
  for (const g of asPath) {
    if (take <= 0) break;
    if (g.type === AsPathSegmentType.AS_SEQUENCE) {
      const k = Math.min(take, g.asns.length);
      out.push({ type: g.type, asns: g.asns.slice(0, k) });
      take -= k;
    } else if (g.type === AsPathSegmentType.AS_SET) {
      out.push({ type: g.type, asns: [...g.asns] });
      take -= 1;
    } else out.push({ type: g.type, asns: [...g.asns] });
  }
  for (const g of as4) out.push({ type: g.type, asns: [...g.asns] });
  return out;
}

/** Canonical attribute list from what a session received (objects already decoded with its ctx). */
export function normaliseReceived(list: PathAttribute[], as4: boolean, ibgp: boolean): PathAttribute[] {
  let asPath: AsPathSegment[] | null = null;
  let as4Path: AsPathSegment[] | null = null;
  let agg: Extract<PathAttribute, { type: 'AGGREGATOR' }> | null = null;
  let as4Agg: Extract<PathAttribute, { type: 'AS4_AGGREGATOR' }> | null = null;
  const out: PathAttribute[] = [];
  for (const a of list) {
    switch (a.type) {
      case 'AS_PATH': asPath = a.segments; break;
      case 'AS4_PATH': as4Path = a.segments; break;
      case 'AGGREGATOR': agg = a; break;
      case 'AS4_AGGREGATOR': as4Agg = a; break;
      // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored. ORIGINATOR_ID and
      // CLUSTER_LIST (RFC 4456 §8) mean nothing outside the AS either.
      case 'LOCAL_PREF': case 'ORIGINATOR_ID': case 'CLUSTER_LIST':
        if (ibgp) out.push(a);
        break;
      default: out.push(a);
    }
  }
  // RFC 6793 §4.1: AS4_* between two 4-octet speakers are discarded; §4.2.3 merges them otherwise.
  if (asPath) out.push({ type: 'AS_PATH', segments: !as4 && as4Path ? mergeAs4Path(asPath, as4Path) : asPath });
  if (agg) {
    if (!as4 && agg.as === AS_TRANS && as4Agg) out.push({ type: 'AGGREGATOR', as: as4Agg.as, address: as4Agg.address });
    else out.push({ type: 'AGGREGATOR', as: agg.as, address: agg.address });
  }
  return out;
}

/** The interned sets, by canonical key and by received-form alias. */
export class AttrStore {
  private readonly byKey = new Map<string, Attrs>();
  private readonly byAlias = new Map<string, Attrs>();
  private readonly table: (Attrs | undefined)[] = [];
  private readonly free: number[] = [];
  /** Called just before a set is dropped, so holders of derived data can release it. */
  onFree: ((a: Attrs) => void) | null = null;

  get size(): number {
    return this.byKey.size;
  }

  get(id: number): Attrs {
    return this.table[id]!;
  }

  forEach(fn: (a: Attrs) => void): void {
    for (const a of this.byKey.values()) fn(a);
  }

  alias(key: string): Attrs | undefined {
    return this.byAlias.get(key);
  }

  /** Interns a set from objects. The result has no reference yet: the caller takes one per use. */
  intern(afi: number, attrs: readonly PathAttribute[], nextHop: string, linkLocal?: string, alias?: string): Attrs {
    const raw = canonicalBytes(attrs);
    const key = `${afi}|${nextHop}|${linkLocal ?? ''}|${latin1(raw)}`;
    let a = this.byKey.get(key);
    if (a === undefined) {
      a = new Attrs(afi, raw, nextHop, linkLocal);
      a.key = key;
      a.id = this.free.pop() ?? this.table.length;
      this.table[a.id] = a;
      this.byKey.set(key, a);
    }
    if (alias !== undefined && !this.byAlias.has(alias)) {
      this.byAlias.set(alias, a);
      a.aliases.push(alias);
    }
    return a;
  }

  /**
   * The set of one family of a received UPDATE. `classic`: IPv4 NLRI of the classic field (next
   * hop from NEXT_HOP) rather than those of MP_REACH_NLRI.
   */
  fromScan(scan: UpdateScan, ctx: WireContext, ibgp: boolean, afi: number, classic: boolean): Attrs {
    // One received key can mean different sets: the ASN width and the session type change the
    // canonical form, and one UPDATE may carry classic IPv4 and MP_REACH NLRI with different next hops.
    const alias = String.fromCharCode((ctx.as4 ? 1 : 0) | (ibgp ? 2 : 0) | (classic ? 4 : 0), afi) + scan.attrKey;
    const hit = this.byAlias.get(alias);
    if (hit !== undefined) return hit;
    const { buf } = scan;
    const list: PathAttribute[] = [];
    let nextHop = '';
    let linkLocal: string | undefined;
    for (const o of scan.kept) {
      const flags = buf[o]!;
      const code = buf[o + 1]!;
      const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
      const s = o + (ext ? 4 : 3);
      const e = s + (ext ? u16(buf, o + 2) : buf[o + 2]!);
      if (code === AttrType.MP_UNREACH_NLRI || code === AttrType.MP_REACH_NLRI) continue;
      if (code === AttrType.NEXT_HOP) {
        if (classic) nextHop = formatIpBytes(buf.subarray(s, e));
        continue;
      }
      const d = ATTR_BY_CODE[code];
      list.push(d ? d.decode(flags, buf, s, e, ctx) : { type: 'UNKNOWN', flags, code, value: buf.slice(s, e) });
    }
    if (!classic && scan.mpReach) {
      const nh = scan.mpReach.nextHop;
      nextHop = formatIpBytes(nh.subarray(0, nh.length === 4 ? 4 : 16));
      if (nh.length === 32) linkLocal = formatIpBytes(nh.subarray(16, 32));
    }
    return this.intern(afi, normaliseReceived(list, ctx.as4, ibgp), nextHop, linkLocal, alias);
  }

  ref(a: Attrs, n = 1): void {
    a.refs += n;
  }

  /** Records that `derived` came from `source` by policy: the source lives as long as the result. */
  derive(source: Attrs, derived: Attrs): void {
    if (derived === source || derived.parents?.includes(source)) return;
    (derived.parents ??= []).push(source);
    source.refs++;
  }

  /** Drops a set nobody took a reference on (e.g. interned for an UPDATE whose routes were all rejected). */
  release(a: Attrs): void {
    if (a.refs === 0 && this.table[a.id] === a) {
      a.refs = 1;
      this.unref(a);
    }
  }

  unref(a: Attrs): void {
    if (--a.refs > 0) return;
    this.onFree?.(a);
    a.importCache = null;
    if (a.parents) {
      const ps = a.parents;
      a.parents = null;
      for (const p of ps) {
        if (p.importCache) for (const [k, v] of p.importCache) if (v === a) p.importCache.delete(k);
        this.unref(p);
      }
    }
    this.byKey.delete(a.key);
    for (const k of a.aliases) this.byAlias.delete(k);
    this.table[a.id] = undefined;
    this.free.push(a.id);
  }
}
