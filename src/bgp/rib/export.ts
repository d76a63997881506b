// What a route looks like when it leaves: the iBGP/eBGP/reflector rules, well-known communities,
// policy edits, AS4 translation, and the table of encoded outgoing attribute sets (shared by all peers).
import type { PeerDescriptor } from '../peer.js';
import type { PolicyChain, PolicyEdits, PolicyPrefix, RouteFacts } from '../policy/index.js';
import {
  AS_TRANS,
  IPV4_UNICAST,
  AsPathSegmentType,
  WellKnownCommunity,
  attributesLength,
  encodeAttributes,
  forTransit,
  toTwoOctetPath,
  type AsPathSegment,
  type PathAttribute,
} from '../wire/index.js';
import type { Attrs } from './attrs.js';
import { codeOf } from './attrs.js';

import type { Clock, Timer } from '../../clock/index.js';
export type { Clock, Timer };

/** An encoded attribute block, shared by every prefix and every peer whose send context yields these bytes. */
export interface OutSet {
  id: number;
  key: string;
  /** Attributes without MP_REACH_NLRI (IPv4: with NEXT_HOP), encoded with the peer's sendCtx. */
  bytes: Uint8Array;
  /**
   * For MP_REACH_NLRI: IPv6 routes, and IPv4 routes with an IPv6 next hop (RFC 8950); with
   * `linkLocal`, the 32-octet form of RFC 2545 §3.
   */
  nextHop: { nextHop: string; linkLocal?: string } | undefined;
  refs: number;
}

export class OutSetTable {
  private readonly byKey = new Map<string, OutSet>();
  private readonly table: (OutSet | undefined)[] = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.byKey.size;
  }

  get(id: number): OutSet {
    return this.table[id]!;
  }

  /**
   * `as4`: the send context's AS number width, the one part of it that changes what bytes mean.
   * `linkLocal` (only with an MP next hop) is part of the key: two peers on different links get
   * the same attributes but different 32-octet next hops.
   */
  intern(bytes: Uint8Array, nextHop: string | undefined, as4: boolean, linkLocal?: string): OutSet {
    const ll = nextHop === undefined ? undefined : linkLocal;
    const key = `${as4 ? 4 : 2}${nextHop ?? ''}${ll === undefined ? '' : ` ${ll}`}|${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      const nh = nextHop === undefined ? undefined : ll === undefined ? { nextHop } : { nextHop, linkLocal: ll };
      s = { id: this.free.pop() ?? this.table.length, key, bytes, nextHop: nh, refs: 0 };
      this.table[s.id] = s;
      this.byKey.set(key, s);
    }
    return s;
  }

  ref(id: number): void {
    this.table[id]!.refs++;
  }

  unref(id: number): void {
    const s = this.table[id]!;
    if (--s.refs > 0) return;
    this.byKey.delete(s.key);
    this.table[id] = undefined;
    this.free.push(id);
  }

  release(s: OutSet): void {
    if (s.refs === 0 && this.table[s.id] === s) {
      s.refs = 1;
      this.unref(s.id);
    }
  }
}

/** One family of one peer's Adj-RIB-Out and its queue. */
export interface OutFamily {
  fkey: number;
  family: 4 | 6;
  addPath: boolean;
  /** Without ADD-PATH: per prefix slot, advertised out-set id + 1 (0: nothing advertised). */
  adj: Int32Array;
  /** With ADD-PATH: per prefix slot, [pathId, outSetId, ...] advertised. */
  adjAp: Map<number, number[]>;
  /** Prefix slots whose advertisement may have to change (a set, as mark array + list). */
  dirtyMark: Uint8Array;
  dirtyList: number[];
  /** Initial dump or full resend: the next slot to look at, -1 when none is running. */
  dumpCursor: number;
  /** Announcements waiting to be encoded, by out-set id: [slot, pathId, ...] and a read position. */
  buckets: Map<number, { items: number[]; pos: number }>;
  withdraws: { items: number[]; pos: number };
  /** End-of-RIB is sent once, after the initial dump has gone out (RFC 4724 §2). */
  eorPending: boolean;
  /** RFC 8950: IPv4 routes of this family travel in MP_REACH/MP_UNREACH_NLRI (withdrawals too). */
  mpIpv4: boolean;
  /**
   * RFC 7313 §4 enhanced route refresh we answer: `borr` = the BoRR still has to go out before
   * anything else of this family; `eorr` = the EoRR goes out once the re-advertisement has.
   */
  refresh: { borr: boolean; eorr: boolean } | null;
}

export interface PeerState {
  desc: PeerDescriptor;
  up: boolean;
  wake: () => void;
  address: bigint;
  /** Paths of this peer in the table (max-prefix counts these). */
  accepted: number;
  /** Routes treated as withdrawn because of an AS_PATH, ORIGINATOR_ID or CLUSTER_LIST loop. */
  loopDropped: number;
  staleTimer: Timer | null;
  /** null: the defaults (accept on import; see `exportAttributes` for export). */
  importChain: PolicyChain | null;
  exportChain: PolicyChain | null;
  out: OutFamily[];
  /** The peer's export class (see Rib.joinExportClass); -1 while it is in none. */
  exportClass: number;
  exportClassKey: string | null;
  /** Next hop = our session address towards iBGP peers too (eBGP always gets it). */
  nextHopSelf: boolean;
  /**
   * RFC 2545 §3: when we are the next hop of an IPv6 route, add `desc.localLinkLocal` (if the
   * session found one) as the second, link-local next hop. Per peer, default on (BIRD's `direct`).
   */
  linkLocalNextHop: boolean;
}

export interface ExportEnv {
  role: 'speaker' | 'reflector';
  clusterId: number;
  defaultLocalPref: number;
}

export function routeFacts(a: Attrs, family: 4 | 6, prefix: PolicyPrefix | null): RouteFacts {
  const i = a.info;
  return { family, prefix, communities: i.communities, largeCommunities: i.largeCommunities, asPath: i.asns, neighborAs: i.neighborAs };
}

function prepend(segs: readonly AsPathSegment[], asns: readonly number[]): AsPathSegment[] {
  const out = segs.map((g) => ({ type: g.type, asns: [...g.asns] }));
  if (asns.length === 0) return out;
  const first = out[0];
  // RFC 4271 §5.1.2 (b): prepend into a leading AS_SEQUENCE (the codec splits runs over 255).
  if (first && first.type === AsPathSegmentType.AS_SEQUENCE) first.asns.unshift(...asns);
  else out.unshift({ type: AsPathSegmentType.AS_SEQUENCE, asns: [...asns] });
  return out;
}

function setAttr(list: PathAttribute[], a: PathAttribute): void {
  const i = list.findIndex((x) => x.type === a.type);
  if (i >= 0) list[i] = a;
  else list.push(a);
}

const removeAttr = (list: PathAttribute[], type: PathAttribute['type']): PathAttribute[] => list.filter((x) => x.type !== type);

/** Applies policy edits (except the next hop) to an attribute list; `localAs` fills prepends without an ASN. */
export function applyEdits(list: PathAttribute[], e: PolicyEdits, localAs: number): PathAttribute[] {
  let out = list;
  if (e.localPref !== undefined) setAttr(out, { type: 'LOCAL_PREF', localPref: e.localPref });
  if (e.med !== undefined) setAttr(out, { type: 'MULTI_EXIT_DISC', med: e.med });
  if (e.communities !== undefined) {
    out = removeAttr(out, 'COMMUNITIES');
    if (e.communities.length > 0) out.push({ type: 'COMMUNITIES', communities: [...e.communities] });
  }
  if (e.largeCommunities !== undefined) {
    out = removeAttr(out, 'LARGE_COMMUNITY');
    if (e.largeCommunities.length > 0) out.push({ type: 'LARGE_COMMUNITY', communities: e.largeCommunities.map((c) => ({ ...c })) });
  }
  if (e.prepend !== undefined && e.prepend.length > 0) {
    const path = out.find((x) => x.type === 'AS_PATH');
    const segs = path && path.type === 'AS_PATH' ? path.segments : [];
    setAttr(out, { type: 'AS_PATH', segments: prepend(segs, e.prepend.map((a) => a ?? localAs)) });
  }
  return out;
}

const ipv4ish = (s: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(s);

/**
 * The attributes `to` gets for a path of `src` (null: locally originated), or null when the path
 * must not go to `to`. Rules: RFC 4271 §9.1.3 and §5.1, RFC 4456 §8 (reflection), RFC 1997
 * well-known communities, RFC 6793 §4.2.2 (2-octet peers), RFC 8212 spirit for eBGP defaults.
 */
export function exportAttributes(
  env: ExportEnv,
  src: PeerState | null,
  to: PeerState,
  a: Attrs,
  family: 4 | 6,
  prefix: PolicyPrefix | null,
): { bytes: Uint8Array; nextHop: string | undefined; linkLocal: string | undefined } | null {
  const info = a.info;
  const toEbgp = !to.desc.ibgp;
  const comms = info.communities;
  if (comms.length > 0) {
    if (comms.includes(WellKnownCommunity.NO_ADVERTISE)) return null;
    // No confederations here: NO_EXPORT_SUBCONFED means "not outside this AS", like NO_EXPORT.
    if (toEbgp && (comms.includes(WellKnownCommunity.NO_EXPORT) || comms.includes(WellKnownCommunity.NO_EXPORT_SUBCONFED))) return null;
  }
  const reflecting = src !== null && src.desc.ibgp && !toEbgp;
  if (reflecting) {
    // RFC 4271 §9.2: iBGP-learned routes are not re-advertised to iBGP peers, except by a
    // reflector (RFC 4456 §8): client routes go to everyone, non-client routes to clients only.
    if (env.role !== 'reflector') return null;
    if (!src.desc.routeReflectorClient && !to.desc.routeReflectorClient) return null;
  }
  let edits: PolicyEdits | null = null;
  if (to.exportChain === null) {
    // Without an export policy only our own routes go to external peers (RFC 8212 §2 spirit).
    if (toEbgp && src !== null) return null;
  } else {
    const r = to.exportChain.evaluate(routeFacts(a, family, prefix));
    if (!r.accept) return null;
    edits = r.edits;
  }

  let list: PathAttribute[] = [];
  for (const x of a.attributes()) {
    // RFC 4271 §5: unknown optional transitive attributes go on with Partial set, unknown
    // non-transitive ones stop here. Our own routes carry none.
    const t = src === null ? x : forTransit(x);
    if (t !== null) list.push(t);
  }
  let nextHop = a.nextHop;
  const self = to.desc.localAddress;
  // Whether the next hop is our own session address: only then may our link-local go with it
  // (a received link-local is never passed on to another link, RFC 2545 §3).
  let isSelf = false;
  if (toEbgp) {
    // RFC 4271 §5.1.5: LOCAL_PREF stays inside the AS; RFC 4456 attributes too. §5.1.4: a MED
    // received from another AS is not passed on; our own (originated, or set by policy) is.
    list = list.filter((x) => x.type !== 'LOCAL_PREF' && x.type !== 'ORIGINATOR_ID' && x.type !== 'CLUSTER_LIST');
    if (src !== null) list = removeAttr(list, 'MULTI_EXIT_DISC');
    nextHop = self;
    isSelf = true;
  } else {
    if (!list.some((x) => x.type === 'LOCAL_PREF')) list.push({ type: 'LOCAL_PREF', localPref: env.defaultLocalPref });
    if (reflecting) {
      // RFC 4456 §8: ORIGINATOR_ID names the router that brought the route into the AS;
      // CLUSTER_LIST gets our cluster id in front.
      if (info.originatorId === null) list.push({ type: 'ORIGINATOR_ID', originatorId: dottedOf(src.desc.remoteRouterId) });
      list = removeAttr(list, 'CLUSTER_LIST');
      list.push({ type: 'CLUSTER_LIST', clusterIds: [env.clusterId, ...info.clusterIds].map(dottedOf) });
    }
    if (nextHop === '' || to.nextHopSelf) {
      nextHop = self;
      isSelf = true;
    }
  }
  if (edits !== null) {
    list = applyEdits(list, edits, to.desc.localAs);
    if (toEbgp) list = removeAttr(list, 'LOCAL_PREF');
    if (edits.nextHop === 'unchanged') {
      isSelf = a.nextHop === '';
      nextHop = isSelf ? self : a.nextHop;
    } else if (edits.nextHop !== undefined) {
      isSelf = edits.nextHop === 'self';
      nextHop = isSelf ? self : edits.nextHop;
    }
  }
  if (toEbgp) {
    // RFC 4271 §5.1.2: our AS goes in front; confederation segments never leave (RFC 5065 §5.3).
    const path = list.find((x) => x.type === 'AS_PATH');
    const segs = path && path.type === 'AS_PATH' ? path.segments.filter((g) => g.type <= AsPathSegmentType.AS_SEQUENCE) : [];
    setAttr(list, { type: 'AS_PATH', segments: prepend(segs, [to.desc.localAs]) });
  }
  if (!to.desc.sendCtx.as4) {
    // RFC 6793 §4.2.2: a 2-octet peer sees AS_TRANS for wide ASNs, and the true path in AS4_PATH.
    list = list.filter((x) => x.type !== 'AS4_PATH' && x.type !== 'AS4_AGGREGATOR');
    const path = list.find((x) => x.type === 'AS_PATH');
    if (path && path.type === 'AS_PATH') {
      const t = toTwoOctetPath(path.segments);
      setAttr(list, { type: 'AS_PATH', segments: t.asPath });
      if (t.as4Path !== null) list.push({ type: 'AS4_PATH', segments: t.as4Path });
    }
    const agg = list.find((x) => x.type === 'AGGREGATOR');
    if (agg && agg.type === 'AGGREGATOR' && agg.as > 0xffff) {
      setAttr(list, { type: 'AGGREGATOR', as: AS_TRANS, address: agg.address });
      list.push({ type: 'AS4_AGGREGATOR', as: agg.as, address: agg.address });
    }
  }
  if (!list.some((x) => x.type === 'AS_PATH')) list.push({ type: 'AS_PATH', segments: [] });
  if (!list.some((x) => x.type === 'ORIGIN')) list.push({ type: 'ORIGIN', origin: 2 });

  let mpNextHop: string | undefined;
  let linkLocal: string | undefined;
  if (family === 4) {
    if (ipv4ish(nextHop)) list.push({ type: 'NEXT_HOP', nextHop });
    // RFC 8950 §3: an IPv6 next hop for IPv4 NLRI goes in MP_REACH_NLRI, and only to a peer that
    // announced it can take one; the classic NEXT_HOP field carries IPv4 only.
    else if (nextHop !== '' && to.desc.sendCtx.extendedNextHop.has(IPV4_UNICAST)) mpNextHop = nextHop;
    else return null;
  } else {
    // An IPv6 route over an IPv4 session: the IPv4-mapped form of our address (RFC 4291 §2.5.5.2).
    mpNextHop = ipv4ish(nextHop) ? `::ffff:${nextHop}` : nextHop;
    if (mpNextHop === '') return null;
    // RFC 2545 §3: towards a peer on our link, the global address and the link-local one (32
    // octets), as BIRD does for `direct` sessions. The session found the link-local only when
    // the peer's address lies on the interface of our session address.
    if (isSelf && to.linkLocalNextHop && to.desc.localLinkLocal !== undefined && !ipv4ish(nextHop)) linkLocal = to.desc.localLinkLocal;
  }
  list.sort((x, y) => codeOf(x) - codeOf(y));
  const ctx = to.desc.sendCtx;
  const bytes = new Uint8Array(attributesLength(list, ctx));
  encodeAttributes(list, bytes, 0, ctx);
  return { bytes, nextHop: mpNextHop, linkLocal };
}

export const dottedOf = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
