// The routing table: Adj-RIB-In per peer, Loc-RIB with best path and multipath, policies,
// Adj-RIB-Out per peer and the UPDATEs that carry it. Pure code: the speaker calls it from one
// event loop (single writer), time comes from an injected clock, bytes leave through drainOut.
import type { Logger } from '../../log/index.js';
import { logger as makeLogger } from '../../log/index.js';
import { parseIp } from '../../net/ip.js';
import type { PeerDescriptor, RibPort } from '../peer.js';
import { Policy, PolicyChain, type PolicyTable, parseCommunity, parseLargeCommunity } from '../policy/index.js';
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  RouteRefreshSubtype,
  UpdateBuilder,
  WithdrawBuilder,
  endOfRibMessage,
  forEachIpv4Prefix,
  forEachPrefixBytes,
  formatAsPath,
  formatCommunity,
  maxMessageLength,
  prefix as parsePrefix,
  toBuffer,
  type LargeCommunity,
  type PathAttribute,
  type Prefix,
  type UpdateScan,
  type WireContext,
  ATTR_BY_CODE,
} from '../wire/index.js';
import { AttrStore, forEachAttr, type Attrs } from './attrs.js';
import { BEST_REASONS, decide, type BestReason, type Candidate, type DecisionOptions, type MultipathOptions } from './decision.js';
import {
  applyEdits,
  exportAttributes,
  routeFacts,
  OutSetTable,
  type Clock,
  type ExportEnv,
  type OutFamily,
  type PeerState,
  type Timer,
} from './export.js';
import { FamilyTable, PathFlag, PrefixFlag } from './table.js';

export { BEST_REASONS, type BestReason } from './decision.js';
export type { Clock, Timer } from './export.js';

/** Peer id of locally originated paths (peer ids are below it). */
export const LOCAL_PEER = 0xffff;

/** A family's Adj-RIB-Outs and the peer owning each, gathered once per batch. */
interface FamilyOuts {
  outs: OutFamily[];
  owners: PeerState[];
}

export interface RibOptions {
  localAs: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  routerId: number;
  /** RFC 4456 §7: defaults to the router id. */
  clusterId?: number;
  role: 'speaker' | 'reflector';
  multipath: MultipathOptions;
  policies: PolicyTable;
  /** Compare MED across neighbouring ASes (default false). */
  alwaysCompareMed?: boolean;
  /** LOCAL_PREF for paths without one, and added towards iBGP peers (default 100). */
  defaultLocalPref?: number;
  /**
   * RFC 7313 §4: how long paths marked by a peer's BoRR wait for its EoRR before they are removed
   * anyway (default 360 s, like the graceful-restart stale time; FRR uses its stalepath-time).
   */
  refreshStaleMs?: number;
  clock?: Clock;
  logger?: Logger;
  /**
   * Prefix slots and path records reserved per family (FamilyTable's `cap`): address space,
   * touched only as slots are used; past it the arrays double. Default: FamilyTable's small one.
   * tern-bgpd asks for FULL_TABLE_RESERVE (BgpDaemonSpec.reserveFullTable).
   */
  reserve?: { v4: number; v6: number };
}

/**
 * A full Internet table without growing: 1,048,576 IPv4 and 262,144 IPv6 (about 1.0M and 0.23M
 * prefixes in 2026). Costs a RIB about 13 MB resident (the prefix index, made at full size and
 * filled; the other arrays are address space until used) and ~14 ms to make (filling the index,
 * mapping the arrays, the collections V8's external-memory accounting starts), so only a daemon
 * asks for it.
 */
export const FULL_TABLE_RESERVE = { v4: 1 << 20, v6: 1 << 18 } as const;

export interface BestPath {
  /** null for a locally originated route. */
  peerId: number | null;
  peerAddress: string | null;
  nextHop: string;
  localPref: number;
  med: number | null;
  origin: 'igp' | 'egp' | 'incomplete';
  asPath: string;
  communities: string[];
  largeCommunities: string[];
  ibgp: boolean;
  stale: boolean;
  reason: BestReason;
}

export interface BestPathEvent {
  prefix: string;
  family: 'ipv4' | 'ipv6';
  /** null: no route any more. */
  best: BestPath | null;
  /** The multipath set's next hops, deduplicated, best first (just the best's without multipath). */
  nextHops: string[];
}

export interface RouteView {
  peerId: number | null;
  pathId: number;
  stale: boolean;
  best: boolean;
  nextHop: string;
  attributes: PathAttribute[];
}

export interface Originate {
  prefix: string;
  /** Absent: next-hop-self towards each peer (its session's local address). */
  nextHop?: string;
  communities?: (string | number)[];
  largeCommunities?: (string | LargeCommunity)[];
  med?: number;
  localPref?: number;
}

/** What the speaker tells the RIB about a peer beyond the session's descriptor. */
export interface RibPeer extends PeerDescriptor {
  /** Next hop = our session address towards this iBGP peer too (eBGP peers always get it). */
  readonly nextHopSelf?: boolean;
  /** RFC 2545 §3: send `localLinkLocal` beside our own IPv6 next hops (default true). */
  readonly linkLocalNextHop?: boolean;
}

/** The settings of an Established peer that change without a new session (RFC 4271 has no renegotiation for them). */
export interface PeerSettings {
  importPolicies: readonly string[];
  exportPolicies: readonly string[];
  maxPrefixes: number;
  routeReflectorClient: boolean;
  nextHopSelf: boolean;
  /** Absent: unchanged. */
  linkLocalNextHop?: boolean;
}

/** One prefix of a table listing: its paths (best first) and why the best won. */
export interface RouteEntry {
  prefix: string;
  family: 'ipv4' | 'ipv6';
  paths: RouteView[];
  reason: BestReason | null;
  /** How many of `paths` (from the front) form the multipath set. */
  multipath: number;
}

/** One Adj-RIB-Out entry: what a peer was last sent for a prefix (attributes as encoded for it). */
export interface AdjOutEntry {
  prefix: string;
  family: 'ipv4' | 'ipv6';
  pathId: number;
  nextHop: string;
  attributes: PathAttribute[];
}

/**
 * Where a listing stopped (forEachRoute / forEachAdjOut): pass it back as `from` to go on. Slot
 * order, not prefix order; the table may change between calls, so a prefix added or moved
 * meanwhile may be listed once, twice or not at all, as with any paged read of a live table.
 */
export interface RouteCursor {
  family: 4 | 6;
  slot: number;
  /** ADD-PATH Adj-RIB-Out: the next path of the slot. */
  index: number;
}

export interface RibStats {
  ipv4Prefixes: number;
  ipv6Prefixes: number;
  paths: number;
  attributeSets: number;
  peers: { id: number; up: boolean; accepted: number; loopDropped: number }[];
  /** Encoded outgoing attribute sets, shared by every peer whose send context yields the same bytes. */
  outSets: number;
  /** Groups of peers that share export results (see `exportClasses`). */
  exportClasses: number;
  /** Prefix slots each family holds before its arrays grow (RibOptions.reserve, or what it grew to). */
  capacity: { v4: number; v6: number };
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

/** AFI/SAFI key → the table's family; 0 for a family the RIB does not hold. */
const tableFamily = (fkey: number): 4 | 6 | 0 => (fkey === IPV4_UNICAST ? 4 : fkey === IPV6_UNICAST ? 6 : 0);
const familyKey = (fam: 4 | 6): number => (fam === 4 ? IPV4_UNICAST : IPV6_UNICAST);

/** RFC 4724: the peer's OPEN says it kept the forwarding state of this family (no GR: none kept). */
const preserved = (gr: PeerDescriptor['gracefulRestart'], fam: 4 | 6): boolean => gr !== null && gr.peerPreservedFamilies.includes(familyKey(fam));
const EMPTY_AP: number[] = [];

const defaultClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

function rejectAll(): PolicyChain {
  return new PolicyChain([new Policy({ name: 'unknown-policy', terms: [], default: 'reject' })]);
}

/**
 * The descriptor as the RIB keeps it: every field present, in one order, so that every peer's
 * descriptor has one hidden class. Sessions build theirs with spreads and an optional
 * link-local field (two classes or more); code that reads `ps.desc` on the UPDATE path, made
 * optimized by the start-up warm-up, would otherwise be thrown away when the first real session
 * brings a class it has not seen.
 */
function fixedShape(d: PeerDescriptor): PeerDescriptor {
  return {
    id: d.id,
    address: d.address,
    peerAs: d.peerAs,
    localAs: d.localAs,
    remoteRouterId: d.remoteRouterId,
    localRouterId: d.localRouterId,
    localAddress: d.localAddress,
    localLinkLocal: d.localLinkLocal,
    ibgp: d.ibgp,
    routeReflectorClient: d.routeReflectorClient,
    receiveCtx: d.receiveCtx,
    sendCtx: d.sendCtx,
    families: d.families,
    gracefulRestart: d.gracefulRestart,
    importPolicies: d.importPolicies,
    exportPolicies: d.exportPolicies,
    maxPrefixes: d.maxPrefixes,
  };
}

export class Rib implements RibPort {
  private readonly v4: FamilyTable;
  private readonly v6: FamilyTable;
  private readonly store = new AttrStore();
  /** Outgoing attribute blocks for every peer: a reflector's clients share one per source route. */
  private readonly outSets = new OutSetTable();
  /**
   * Export classes: peers for which `exportAttributes` gives the same result (same session kind,
   * client flag, next-hop handling, local address and AS, send context, no export policy) share
   * one class, and export results are cached per (class, source peer, attribute set). A
   * reflector's clients are typically one class: each reflected route is computed once.
   */
  private readonly exportClasses = new Map<string, { id: number; members: number }>();
  private nextExportClass = 0;
  private readonly peers: (PeerState | undefined)[] = [];
  private upPeers: PeerState[] = [];
  private readonly listeners = new Set<(events: BestPathEvent[]) => void>();
  private events: BestPathEvent[] = [];
  private readonly toWake = new Set<PeerState>();
  private readonly localAs: number;
  private readonly routerId: number;
  private readonly env: ExportEnv;
  private readonly decision: DecisionOptions;
  private readonly mp: MultipathOptions;
  private policies: PolicyTable;
  /** Prefixes whose best path changed, since start (a metric). */
  bestChanges = 0;
  private readonly clock: Clock;
  private readonly refreshStaleMs: number;
  /** RFC 7313 EoRR timers, by peer id * 256 + table family (4 or 6). */
  private readonly refreshTimers = new Map<number, Timer>();
  private readonly log: Logger;
  private readonly octets = new Uint8Array(16);
  private readonly scratch: Prefix = { addr: new Uint8Array(16), len: 0, pathId: 0 };

  constructor(o: RibOptions) {
    this.v4 = new FamilyTable(4, o.reserve?.v4);
    this.v6 = new FamilyTable(6, o.reserve?.v6);
    this.localAs = o.localAs;
    this.routerId = o.routerId >>> 0;
    this.env = { role: o.role, clusterId: (o.clusterId ?? o.routerId) >>> 0, defaultLocalPref: o.defaultLocalPref ?? 100 };
    this.decision = { alwaysCompareMed: o.alwaysCompareMed ?? false, defaultLocalPref: o.defaultLocalPref ?? 100 };
    this.mp = o.multipath;
    this.policies = o.policies;
    this.clock = o.clock ?? defaultClock;
    this.refreshStaleMs = o.refreshStaleMs ?? 360_000;
    this.log = o.logger ?? makeLogger('bgp-rib');
    this.store.onFree = (a) => this.dropOutCache(a, () => true);
  }

  // ---- RibPort ----

  peerUp(desc: RibPeer, wake: () => void): void {
    if (!Number.isInteger(desc.id) || desc.id < 0 || desc.id >= LOCAL_PEER) throw new RangeError(`peer id ${desc.id} out of range 0..65534`);
    let ps = this.peers[desc.id];
    if (ps?.up) this.peerDown(desc.id, { keepStale: false, staleTimeMs: 0 });
    const chain = (names: readonly string[], dir: string): PolicyChain | null => this.chainOf(desc.address, names, dir);
    if (ps === undefined) {
      ps = {
        desc, up: true, wake, address: parseIp(desc.address).value, accepted: 0, loopDropped: 0, staleTimer: null,
        importChain: null, exportChain: null, out: [], nextHopSelf: false, linkLocalNextHop: true, exportClass: -1, exportClassKey: null,
      };
      this.peers[desc.id] = ps;
    }
    ps.desc = fixedShape(desc);
    ps.nextHopSelf = desc.nextHopSelf ?? false;
    ps.linkLocalNextHop = desc.linkLocalNextHop ?? true;
    ps.up = true;
    ps.wake = wake;
    ps.address = parseIp(desc.address).value;
    ps.importChain = chain(desc.importPolicies, 'import');
    ps.exportChain = chain(desc.exportPolicies, 'export');
    // Cached exports of this peer's paths may depend on its old descriptor (router id, client flag).
    this.leaveExportClass(ps);
    this.forgetExports((_, src) => src === desc.id);
    this.joinExportClass(ps);
    ps.out = [];
    for (const fkey of [IPV4_UNICAST, IPV6_UNICAST]) {
      if (!desc.families.includes(fkey)) continue;
      const ft = fkey === IPV4_UNICAST ? this.v4 : this.v6;
      ps.out.push({
        fkey, family: ft.family, addPath: desc.sendCtx.addPath.has(fkey),
        // Sized by the slots in use (grown as more are), not by the table's reservation.
        adj: new Int32Array(ft.hi), adjAp: new Map(), dirtyMark: new Uint8Array(ft.hi), dirtyList: [],
        dumpCursor: 0, buckets: new Map(), withdraws: { items: [], pos: 0 }, eorPending: true,
        mpIpv4: fkey === IPV4_UNICAST && desc.sendCtx.extendedNextHop.has(IPV4_UNICAST), refresh: null,
      });
    }
    this.upPeers.push(ps);
    this.flushUnpreserved(ps);
    wake();
  }

  /**
   * RFC 4724 §4.2, helper side: the restarted peer's new OPEN decides which stale routes may wait
   * for its End-of-RIB. A family it no longer lists, or lists without the Forwarding State bit,
   * lost its forwarding state: that family's stale routes go at once, not at the stale timer.
   */
  private flushUnpreserved(ps: PeerState): void {
    const gr = ps.desc.gracefulRestart;
    let flushed = 0;
    let left = false;
    this.forPeerPaths(ps.desc.id, (ft, p) => {
      if ((ft.paths.flags[p]! & PathFlag.STALE) === 0) return;
      if (preserved(gr, ft.family)) left = true;
      else {
        this.removePath(ft, p);
        flushed++;
      }
    });
    if (!left && ps.staleTimer !== null) {
      ps.staleTimer.cancel();
      ps.staleTimer = null;
    }
    if (flushed === 0) return;
    this.log.info({ peer: ps.desc.address, flushed }, 'graceful restart: forwarding state not preserved, stale routes removed');
    this.finishBatch();
  }

  peerDown(peerId: number, opts: { keepStale: boolean; staleTimeMs: number }): void {
    const ps = this.peers[peerId];
    if (!ps?.up) return;
    ps.up = false;
    this.upPeers = this.upPeers.filter((p) => p !== ps);
    this.toWake.delete(ps);
    for (const of of ps.out) this.dropOut(of);
    this.leaveExportClass(ps);
    ps.out = [];
    ps.staleTimer?.cancel();
    ps.staleTimer = null;
    for (const fam of [4, 6]) {
      this.refreshTimers.get(peerId * 256 + fam)?.cancel();
      this.refreshTimers.delete(peerId * 256 + fam);
    }
    if (opts.keepStale) {
      // RFC 4724 §4.2: keep the routes of the families the peer preserves, marked stale.
      const gr = ps.desc.gracefulRestart;
      this.forPeerPaths(peerId, (ft, p) => {
        if (gr === null || preserved(gr, ft.family)) {
          ft.paths.flags[p] = (ft.paths.flags[p]! | PathFlag.STALE) & ~PathFlag.REFRESH;
          ft.touch(ft.paths.prefix[p]!);
        } else this.removePath(ft, p);
      });
      ps.staleTimer = this.clock.setTimer(opts.staleTimeMs, () => {
        ps.staleTimer = null;
        const n = this.sweepStale(ps, 0);
        if (n > 0) this.log.info({ peer: ps.desc.address, swept: n }, 'stale timer expired: stale routes removed');
        this.finishBatch();
      });
    } else this.forPeerPaths(peerId, (ft, p) => this.removePath(ft, p));
    this.finishBatch();
  }

  /** Applies one UPDATE; `announced` counts the unicast prefixes it carried in NLRI and MP_REACH_NLRI. */
  update(peerId: number, scan: UpdateScan): { maxPrefixExceeded: boolean; announced: number } {
    const ps = this.peers[peerId];
    if (!ps?.up) throw new Error(`update from peer ${peerId}, which is not up`);
    const id = ps.desc.id;
    const buf = scan.buf;
    this.withdrawField(this.v4, id, buf, scan.withdrawnStart, scan.withdrawnEnd, scan.addPath);
    const u = scan.mpUnreach;
    if (u !== null && u.safi === 1 && (u.afi === 1 || u.afi === 2))
      this.withdrawField(u.afi === 1 ? this.v4 : this.v6, id, buf, u.nlriStart, u.nlriEnd, u.addPath);
    let announced = 0;
    if (scan.nlriEnd > scan.nlriStart) announced += this.announceField(ps, scan, 1, true, scan.nlriStart, scan.nlriEnd, scan.addPath);
    const r = scan.mpReach;
    if (r !== null && r.safi === 1 && (r.afi === 1 || r.afi === 2))
      announced += this.announceField(ps, scan, r.afi, false, r.nlriStart, r.nlriEnd, r.addPath);
    this.finishBatch();
    const max = ps.desc.maxPrefixes;
    return { maxPrefixExceeded: max > 0 && ps.accepted > max, announced };
  }

  endOfRib(peerId: number, family: number): void {
    const ps = this.peers[peerId];
    if (ps === undefined) return;
    const fam = tableFamily(family);
    if (fam === 0) return;
    // Stale paths exist only while the stale timer runs (peerDown arms it, the last sweep stops
    // it): without it there is nothing to sweep, and no walk over every path of the table.
    if (ps.staleTimer === null) return;
    this.sweepStale(ps, fam);
    let left = false;
    this.forPeerPaths(peerId, (ft, p) => {
      if (ft.paths.flags[p]! & PathFlag.STALE) left = true;
    });
    if (!left) {
      ps.staleTimer?.cancel();
      ps.staleTimer = null;
    }
    this.finishBatch();
  }

  routeRefresh(peerId: number, family: number, enhanced = false): void {
    const ps = this.peers[peerId];
    if (!ps?.up) return;
    const of = ps.out.find((o) => o.fkey === family);
    if (of === undefined) return;
    // RFC 7313 §4: with enhanced route refresh the re-advertisement is framed by BoRR and EoRR,
    // so the peer can drop what it does not hear again. A request during one that is still going
    // starts a new frame: the peer treats a second BoRR as a new beginning (§4.2).
    if (enhanced) of.refresh = { borr: true, eorr: true };
    // RFC 2918 §4: the whole Adj-RIB-Out again, including what is identical to the last advertisement.
    if (of.addPath) {
      for (const [slot, ap] of of.adjAp) for (let k = 0; k < ap.length; k += 2) this.bucket(of, ap[k + 1]!).items.push(slot, ap[k]!);
    } else {
      const adj = of.adj;
      for (let i = 0; i < adj.length; i++) if (adj[i] !== 0) this.bucket(of, adj[i]! - 1).items.push(i, 0);
    }
    ps.wake();
  }

  /**
   * RFC 7313 §4.2, as the requester: the peer's BoRR. Its paths of the family are marked; the
   * ones it announces again before EoRR lose the mark, EoRR removes the rest. Meanwhile they stay
   * in use, unchanged.
   */
  refreshBegin(peerId: number, family: number): void {
    const ps = this.peers[peerId];
    const fam = tableFamily(family);
    if (!ps?.up || fam === 0) return;
    let n = 0;
    this.forPeerPaths(peerId, (ft, p) => {
      if (ft.family !== fam) return;
      ft.paths.flags[p] = ft.paths.flags[p]! | PathFlag.REFRESH;
      n++;
    });
    this.log.debug({ peer: ps.desc.address, family: fam, marked: n }, 'BoRR: paths marked');
    // RFC 7313 §4: a peer that never sends its EoRR must not keep the marked paths for ever.
    const key = peerId * 256 + fam;
    this.refreshTimers.get(key)?.cancel();
    this.refreshTimers.set(
      key,
      this.clock.setTimer(this.refreshStaleMs, () => {
        this.refreshTimers.delete(key);
        const removed = this.sweepRefresh(peerId, fam);
        this.log.warn({ peer: ps.desc.address, family: fam, removed, seconds: this.refreshStaleMs / 1000 }, 'no EoRR in time: paths not announced again removed');
      }),
    );
  }

  /** RFC 7313 §4.2: the peer's EoRR. Paths it did not announce again since its BoRR are removed. */
  refreshEnd(peerId: number, family: number): number {
    const ps = this.peers[peerId];
    const fam = tableFamily(family);
    if (!ps?.up || fam === 0) return 0;
    const key = peerId * 256 + fam;
    this.refreshTimers.get(key)?.cancel();
    this.refreshTimers.delete(key);
    const n = this.sweepRefresh(peerId, fam);
    if (n > 0) this.log.info({ peer: ps.desc.address, family: fam, removed: n }, 'EoRR: paths not announced again removed');
    return n;
  }

  /** Removes the peer's paths of one family still marked by its BoRR. */
  private sweepRefresh(peerId: number, fam: 4 | 6): number {
    let n = 0;
    this.forPeerPaths(peerId, (ft, p) => {
      if (ft.family === fam && (ft.paths.flags[p]! & PathFlag.REFRESH) !== 0) {
        this.removePath(ft, p);
        n++;
      }
    });
    this.finishBatch();
    return n;
  }

  drainOut(peerId: number, maxBytes: number): Uint8Array[] {
    const ps = this.peers[peerId];
    const out: Uint8Array[] = [];
    if (!ps?.up) return out;
    for (const of of ps.out) if (of.buckets.size === 0 && of.withdraws.pos >= of.withdraws.items.length) this.resolveAll(ps, of);
    let bytes = 0;
    for (const of of ps.out) {
      if (of.refresh?.borr !== true) continue;
      of.refresh.borr = false;
      const m = refreshMarker(of.fkey, RouteRefreshSubtype.BORR);
      out.push(m);
      bytes += m.length;
    }
    // Withdrawals first, then announcements grouped by attribute set (BIRD's bucket order).
    for (const of of ps.out) {
      bytes = this.emitWithdraws(ps, of, out, bytes, maxBytes);
      if (bytes >= maxBytes) return out;
    }
    for (const of of ps.out) {
      for (const [sid, b] of of.buckets) {
        bytes = this.emitBucket(ps, of, sid, b, out, bytes, maxBytes);
        if (b.pos >= b.items.length) of.buckets.delete(sid);
        if (bytes >= maxBytes) return out;
      }
    }
    for (const of of ps.out) {
      if (of.dumpCursor >= 0 || of.buckets.size > 0 || of.withdraws.pos < of.withdraws.items.length) continue;
      if (of.eorPending) {
        out.push(endOfRibMessage(of.family === 4 ? 1 : 2, 1));
        of.eorPending = false;
      }
      if (of.refresh !== null) {
        out.push(refreshMarker(of.fkey, RouteRefreshSubtype.EORR));
        of.refresh = null;
      }
    }
    return out;
  }

  // ---- configuration changes that keep sessions ----

  private chainOf(address: string, names: readonly string[], dir: string): PolicyChain | null {
    if (names.length === 0) return null;
    try {
      return this.policies.chain(names);
    } catch (e) {
      this.log.error({ peer: address, err: (e as Error).message }, `${dir} policy missing: rejecting every route`);
      return rejectAll();
    }
  }

  /**
   * Applies new policies, limits, reflector-client flag or next-hop-self to an Established peer.
   * Exports are re-evaluated at once (only differences go out). Adj-RIB-In is post-policy, so a
   * changed import chain needs the peer's routes again: `importChanged` tells the caller to send
   * ROUTE-REFRESH (RFC 2918). Does nothing for a peer that is not up (peerUp reads the descriptor).
   */
  configurePeer(peerId: number, s: PeerSettings): { importChanged: boolean } {
    const ps = this.peers[peerId];
    if (!ps?.up) return { importChanged: false };
    const old = ps.desc;
    const importChanged = old.importPolicies.join('\u0000') !== s.importPolicies.join('\u0000');
    const rrChanged = old.routeReflectorClient !== s.routeReflectorClient;
    const desc = fixedShape({
      ...old,
      importPolicies: [...s.importPolicies],
      exportPolicies: [...s.exportPolicies],
      maxPrefixes: s.maxPrefixes,
      routeReflectorClient: s.routeReflectorClient,
    });
    ps.desc = desc;
    ps.nextHopSelf = s.nextHopSelf;
    ps.linkLocalNextHop = s.linkLocalNextHop ?? ps.linkLocalNextHop;
    ps.importChain = this.chainOf(desc.address, desc.importPolicies, 'import');
    ps.exportChain = this.chainOf(desc.address, desc.exportPolicies, 'export');
    // The client flag also decides where this peer's own paths may be reflected to.
    this.leaveExportClass(ps);
    if (rrChanged) this.forgetExports((_, src) => src === peerId);
    this.joinExportClass(ps);
    this.reexport(rrChanged ? this.upPeers : [ps]);
    return { importChanged };
  }

  /**
   * Replaces the policy definitions (a reload). Every peer's chains are rebuilt and exports
   * re-evaluated; import results cached per attribute set are dropped. Returns the peers whose
   * import chain uses a policy that changed: they need a ROUTE-REFRESH.
   */
  setPolicies(table: PolicyTable, changed: ReadonlySet<string>): number[] {
    this.policies = table;
    this.store.forEach((a) => {
      a.importCache = null;
    });
    const refresh: number[] = [];
    for (const ps of this.upPeers) {
      ps.importChain = this.chainOf(ps.desc.address, ps.desc.importPolicies, 'import');
      ps.exportChain = this.chainOf(ps.desc.address, ps.desc.exportPolicies, 'export');
      if (ps.desc.importPolicies.some((n) => changed.has(n))) refresh.push(ps.desc.id);
    }
    this.forgetExports(() => true);
    // A peer may have gained or lost its export chain: classes are formed anew.
    for (const ps of this.upPeers) this.leaveExportClass(ps);
    for (const ps of this.upPeers) this.joinExportClass(ps);
    this.reexport(this.upPeers);
    return refresh;
  }

  /** Re-runs export for every prefix towards these peers; resolve() queues only the differences. */
  private reexport(peers: readonly PeerState[]): void {
    for (const ps of peers) {
      // The pass also visits slots advertised but now without paths (see resolveAll).
      for (const of of ps.out) of.dumpCursor = 0;
      ps.wake();
    }
  }

  /** Prefixes currently advertised to a peer (Adj-RIB-Out entries; paths under ADD-PATH). */
  advertised(peerId: number): number {
    const ps = this.peers[peerId];
    if (!ps?.up) return 0;
    let n = 0;
    for (const of of ps.out) {
      if (of.addPath) for (const ap of of.adjAp.values()) n += ap.length >> 1;
      else {
        const adj = of.adj;
        for (let i = 0; i < adj.length; i++) if (adj[i] !== 0) n++;
      }
    }
    return n;
  }

  // ---- origination, watchers, queries ----

  /** Announces a route of our own (pod blocks, service IPs). Replaces an earlier one for the prefix. */
  originate(r: Originate): void {
    const p = parsePrefix(r.prefix);
    const family = p.addr.length === 4 ? 4 : 6;
    const list: PathAttribute[] = [
      { type: 'ORIGIN', origin: 0 },
      { type: 'AS_PATH', segments: [] },
      { type: 'LOCAL_PREF', localPref: r.localPref ?? this.env.defaultLocalPref },
    ];
    if (r.med !== undefined) list.push({ type: 'MULTI_EXIT_DISC', med: r.med });
    if (r.communities && r.communities.length > 0) {
      list.push({
        type: 'COMMUNITIES',
        communities: r.communities.map((c) => {
          const v = typeof c === 'number' ? c : parseCommunity(c);
          if (v === null) throw new RangeError(`invalid community "${c}"`);
          return v;
        }),
      });
    }
    if (r.largeCommunities && r.largeCommunities.length > 0) {
      list.push({
        type: 'LARGE_COMMUNITY',
        communities: r.largeCommunities.map((c) => {
          const v = typeof c === 'string' ? parseLargeCommunity(c) : c;
          if (v === null) throw new RangeError(`invalid large community "${String(c)}"`);
          return v;
        }),
      });
    }
    if (r.nextHop !== undefined && parseIp(r.nextHop).family !== family) throw new RangeError(`next hop ${r.nextHop} is not of the family of ${r.prefix}`);
    const a = this.store.intern(family === 4 ? 1 : 2, list, r.nextHop ?? '');
    const ft = this.tableOf(family);
    this.announce(ft, this.slotOf(ft, p, true), LOCAL_PEER, 0, a, null);
    this.finishBatch();
  }

  /**
   * Originates many prefixes with one attribute set (interned once): the bulk path for pod
   * blocks and service ranges, and for benchmarks.
   */
  originateMany(attrs: Omit<Originate, 'prefix'>, prefixes: Iterable<string>): number {
    let n = 0;
    let a: Attrs | null = null;
    let fam = 0;
    for (const pfx of prefixes) {
      const p = parsePrefix(pfx);
      const family = p.addr.length === 4 ? 4 : 6;
      if (a === null || family !== fam) {
        // Interning validates attributes the way originate() does (one call per family).
        this.originate({ ...attrs, prefix: pfx });
        const ft = this.tableOf(family);
        const slot = this.slotOf(ft, p, false);
        a = this.store.get(ft.paths.attrs[ft.head[slot]!]!);
        fam = family;
        n++;
        continue;
      }
      const ft = this.tableOf(family);
      this.announce(ft, this.slotOf(ft, p, true), LOCAL_PEER, 0, a, null);
      n++;
      if ((n & 0x3fff) === 0) this.finishBatch();
    }
    this.finishBatch();
    return n;
  }

  withdrawOriginated(prefix: string): void {
    const p = parsePrefix(prefix);
    const ft = this.tableOf(p.addr.length === 4 ? 4 : 6);
    const i = this.slotOf(ft, p, false);
    if (i >= 0) this.removeFrom(ft, i, LOCAL_PEER, 0);
    this.finishBatch();
  }

  /** Best-path changes, one call per processed UPDATE (or other change) with every prefix it changed. */
  onBestChange(listener: (events: BestPathEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current best path of every prefix, for a new watcher. */
  snapshot(): BestPathEvent[] {
    const out: BestPathEvent[] = [];
    for (const ft of [this.v4, this.v6]) for (let i = 0; i < ft.hi; i++) if (ft.best[i]! >= 0) out.push(this.event(ft, i));
    return out;
  }

  /** The best path of one prefix (as snapshot() shows it), or null. */
  lookup(prefix: string): BestPathEvent | null {
    const p = parsePrefix(prefix);
    const ft = this.tableOf(p.addr.length === 4 ? 4 : 6);
    const i = this.slotOf(ft, p, false);
    return i >= 0 && ft.best[i]! >= 0 ? this.event(ft, i) : null;
  }

  /** Every path of a prefix (Adj-RIB-In entries after import policy), best marked. */
  routes(prefix: string): RouteView[] {
    const p = parsePrefix(prefix);
    const ft = this.tableOf(p.addr.length === 4 ? 4 : 6);
    const i = this.slotOf(ft, p, false);
    const out: RouteView[] = [];
    if (i < 0) return out;
    const P = ft.paths;
    for (let q = ft.head[i]!; q !== -1; q = P.next[q]!) {
      const a = this.store.get(P.attrs[q]!);
      out.push({
        peerId: P.peer[q] === LOCAL_PEER ? null : P.peer[q]!,
        pathId: P.pathId[q]!,
        stale: (P.flags[q]! & PathFlag.STALE) !== 0,
        best: ft.best[i] === q,
        nextHop: a.nextHop,
        attributes: a.attributes(),
      });
    }
    return out;
  }

  /**
   * Every prefix of a family (or both), with all its paths, optionally only one peer's (Adj-RIB-In;
   * LOCAL_PEER for our own), family by family in slot order. `fn` returning false stops the
   * walk; the result is where to go on from (`o.from`), or null when the table was walked to its end.
   */
  forEachRoute(fn: (r: RouteEntry) => boolean | void, o: { family?: 4 | 6; peerId?: number; from?: RouteCursor } = {}): RouteCursor | null {
    for (const ft of [this.v4, this.v6]) {
      if (o.family !== undefined && ft.family !== o.family) continue;
      if (o.from !== undefined && o.from.family === 6 && ft.family === 4) continue;
      const P = ft.paths;
      const start = o.from !== undefined && o.from.family === ft.family ? o.from.slot : 0;
      for (let i = start; i < ft.hi; i++) {
        const h = ft.head[i]!;
        if (h === -1) continue;
        if (o.peerId !== undefined) {
          let has = false;
          for (let q = h; q !== -1; q = P.next[q]!) if (P.peer[q] === o.peerId) has = true;
          if (!has) continue;
        }
        const e = this.entryOf(ft, i, o.peerId);
        if (fn(e) === false) return { family: ft.family, slot: i + 1, index: 0 };
      }
    }
    return null;
  }

  /** One prefix as forEachRoute shows it, or null. */
  route(prefix: string, peerId?: number): RouteEntry | null {
    const p = parsePrefix(prefix);
    const ft = this.tableOf(p.addr.length === 4 ? 4 : 6);
    const i = this.slotOf(ft, p, false);
    if (i < 0 || ft.head[i] === -1) return null;
    const e = this.entryOf(ft, i, peerId);
    return e.paths.length === 0 ? null : e;
  }

  private entryOf(ft: FamilyTable, slot: number, peerId: number | undefined): RouteEntry {
    const P = ft.paths;
    const best = ft.best[slot]!;
    const paths: RouteView[] = [];
    let multipath = 1;
    let order: number[] = [];
    for (let q = ft.head[slot]!; q !== -1; q = P.next[q]!) order.push(q);
    if (this.mp.enabled && order.length > 1) {
      const c = this.candidates(ft, slot);
      const d = decide(c, this.decision, this.mp);
      const mp = d.multipath.map((k) => c[k]!.path);
      multipath = Math.max(1, mp.length);
      order = [best, ...mp.filter((q) => q !== best), ...order.filter((q) => q !== best && !mp.includes(q))];
    } else if (best >= 0) order = [best, ...order.filter((q) => q !== best)];
    for (const q of order) {
      if (peerId !== undefined && P.peer[q] !== peerId) continue;
      const a = this.store.get(P.attrs[q]!);
      paths.push({
        peerId: P.peer[q] === LOCAL_PEER ? null : P.peer[q]!,
        pathId: P.pathId[q]!,
        stale: (P.flags[q]! & PathFlag.STALE) !== 0,
        best: best === q,
        nextHop: a.nextHop,
        attributes: a.attributes(),
      });
    }
    return {
      prefix: ft.format(slot),
      family: ft.family === 4 ? 'ipv4' : 'ipv6',
      paths,
      reason: best >= 0 ? BEST_REASONS[ft.reason[slot]!]! : null,
      multipath: peerId === undefined ? multipath : Math.min(multipath, paths.length),
    };
  }

  /** What a peer was last sent (its Adj-RIB-Out), attributes decoded from the bytes encoded for it. */
  /** Like forEachRoute, over what a peer was sent; returns where to go on from, or null at the end. */
  forEachAdjOut(
    peerId: number, fn: (e: AdjOutEntry) => boolean | void, o: { family?: 4 | 6; prefix?: string; from?: RouteCursor } = {},
  ): RouteCursor | null {
    const ps = this.peers[peerId];
    if (!ps?.up) return null;
    let only = -1;
    let onlyFam = 0;
    if (o.prefix !== undefined) {
      const p = parsePrefix(o.prefix);
      onlyFam = p.addr.length === 4 ? 4 : 6;
      only = this.slotOf(this.tableOf(onlyFam), p, false);
      if (only < 0) return null;
    }
    const ctx = ps.desc.sendCtx;
    const emit = (of: OutFamily, ft: FamilyTable, slot: number, pathId: number, sid: number): boolean => {
      const set = this.outSets.get(sid);
      const attributes = decodeOutSet(set.bytes, ctx);
      let nextHop = set.nextHop?.nextHop ?? '';
      for (const x of attributes) if (x.type === 'NEXT_HOP') nextHop = x.nextHop;
      return fn({ prefix: ft.format(slot), family: of.family === 4 ? 'ipv4' : 'ipv6', pathId, nextHop, attributes }) !== false;
    };
    const from = o.from;
    for (const of of ps.out) {
      if (o.family !== undefined && of.family !== o.family) continue;
      if (only >= 0 && of.family !== onlyFam) continue;
      if (from !== undefined && from.family === 6 && of.family === 4) continue;
      const ft = this.tableOf(of.family);
      const resume = from !== undefined && from.family === of.family;
      const lo = only >= 0 ? only : resume ? from.slot : 0;
      if (of.addPath) {
        const hi = only >= 0 ? only + 1 : ft.hi;
        for (let i = lo; i < hi; i++) {
          const ap = of.adjAp.get(i);
          if (ap === undefined) continue;
          for (let k = resume && i === from.slot ? from.index * 2 : 0; k < ap.length; k += 2) {
            if (!emit(of, ft, i, ap[k]!, ap[k + 1]!)) return { family: of.family, slot: i, index: k / 2 + 1 };
          }
        }
      } else {
        const adj = of.adj;
        const hi = only >= 0 ? Math.min(only + 1, adj.length) : adj.length;
        for (let i = lo; i < hi; i++) if (adj[i] !== 0 && !emit(of, ft, i, 0, adj[i]! - 1)) return { family: of.family, slot: i + 1, index: 0 };
      }
    }
    return null;
  }

  stats(): RibStats {
    return {
      ipv4Prefixes: this.v4.count,
      ipv6Prefixes: this.v6.count,
      paths: this.v4.paths.count + this.v6.paths.count,
      attributeSets: this.store.size,
      outSets: this.outSets.size,
      exportClasses: this.exportClasses.size,
      capacity: { v4: this.v4.cap, v6: this.v6.cap },
      peers: this.peers.flatMap((p) =>
        p ? [{ id: p.desc.id, up: p.up, accepted: p.accepted, loopDropped: p.loopDropped }] : [],
      ),
    };
  }

  // ---- ingest ----

  private tableOf(fam: number): FamilyTable {
    return fam === 4 ? this.v4 : this.v6;
  }

  private slotOf(ft: FamilyTable, p: Prefix, create: boolean): number {
    if (ft.family === 4) {
      const a = p.addr;
      const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
      const addr = (((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) & mask) >>> 0;
      return create ? ft.get4(addr, p.len) : ft.find4(addr, p.len);
    }
    return create ? ft.get6(p.addr, 0, p.len) : ft.find6(p.addr, 0, p.len);
  }

  /** RFC 4271 §9.1.2 loop checks and RFC 4456 §8: such routes are handled as withdrawn. */
  private looped(ps: PeerState, a: Attrs): boolean {
    const i = a.info;
    if (i.asns.includes(ps.desc.localAs) || i.asns.includes(this.localAs)) return true;
    if (ps.desc.ibgp) {
      if (i.originatorId === this.routerId) return true;
      if (this.env.role === 'reflector' && i.clusterIds.includes(this.env.clusterId)) return true;
    }
    return false;
  }

  private runImport(chain: PolicyChain, ps: PeerState, a: Attrs, family: 4 | 6, slot: number): Attrs | null {
    const r = chain.evaluate(routeFacts(a, family, slot < 0 ? null : this.tableOf(family).policyPrefix(slot)));
    if (!r.accept) return null;
    if (r.edits === null) return a;
    const list = applyEdits(a.attributes(), r.edits, ps.desc.localAs);
    const nh = r.edits.nextHop !== undefined && r.edits.nextHop !== 'self' && r.edits.nextHop !== 'unchanged' ? r.edits.nextHop : a.nextHop;
    return this.store.intern(a.afi, list, nh, a.linkLocal);
  }

  /** Removes the peer's path from every prefix of an NLRI field; returns the field's prefix count. */
  private withdrawField(ft: FamilyTable, peerId: number, buf: Uint8Array, s: number, e: number, addPath: boolean): number {
    const n = ft.resolveField(buf, s, e, addPath, false);
    const slots = ft.fieldSlots;
    const ids = ft.fieldIds;
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (i >= 0) this.removeFrom(ft, i, peerId, ids[k]!);
    }
    return n;
  }

  /**
   * Announces an NLRI field, or withdraws it where loop detection or import policy says so;
   * returns its prefix count. Under RFC 7606 treat-as-withdraw it withdraws the field and
   * returns 0: nothing of it counts as announced.
   */
  private announceField(ps: PeerState, scan: UpdateScan, afi: number, classic: boolean, s: number, e: number, addPath: boolean): number {
    const buf = scan.buf;
    const ft = afi === 1 ? this.v4 : this.v6;
    const id = ps.desc.id;
    // RFC 7606 §2: treat-as-withdraw.
    if (scan.treatAsWithdraw) {
      this.withdrawField(ft, id, buf, s, e, addPath);
      return 0;
    }
    const a = this.store.fromScan(scan, ps.desc.receiveCtx, ps.desc.ibgp, afi, classic);
    const family = ft.family;
    if (this.looped(ps, a)) {
      const n = this.withdrawField(ft, id, buf, s, e, addPath);
      ps.loopDropped += n;
      this.store.release(a);
      return n;
    }
    const chain = ps.importChain;
    if (chain !== null && chain.matchesPrefix) {
      // A prefix-matching policy is evaluated per prefix; a rejected new prefix frees its slot at
      // once, so each prefix is looked up only when its turn comes.
      let n = 0;
      const one = (slot: number, pathId: number): void => {
        n++;
        const r = this.runImport(chain, ps, a, family, slot);
        if (r === null) this.removeFrom(ft, slot, id, pathId);
        else {
          this.announce(ft, slot, id, pathId, r, ps);
          if (r !== a) this.store.release(r);
        }
        ft.maybeFree(slot);
      };
      if (afi === 1) forEachIpv4Prefix(buf, s, e, addPath, (x, l, pid) => one(ft.get4(x, l), pid));
      else forEachPrefixBytes(buf, s, e, addPath, (b, o, l, pid) => one(ft.get6(b, o, l), pid));
      this.store.release(a);
      return n;
    }
    let r: Attrs | null = a;
    if (chain !== null) {
      const cached = a.importCache?.get(chain.key);
      if (cached !== undefined) r = cached;
      else {
        r = this.runImport(chain, ps, a, family, -1);
        (a.importCache ??= new Map()).set(chain.key, r);
        if (r !== null) this.store.derive(a, r);
      }
    }
    let n: number;
    if (r === null) n = this.withdrawField(ft, id, buf, s, e, addPath);
    else {
      // The whole field resolved to slots in one loop, then one direct call per prefix.
      n = ft.resolveField(buf, s, e, addPath, true);
      this.announceResolved(ft, n, r, ps, addPath);
      if (r !== a) this.store.release(r);
    }
    this.store.release(a);
    return n;
  }

  /**
   * Announces the `n` prefixes resolveField left in the table's field arrays. A prefix with no
   * route and nothing pending in this batch (a new one: most of a first table) is decided here:
   * its one path is its best, so it skips the touched list and the batch's decision pass. Not
   * under ADD-PATH, where a later path of the same field could still change that best.
   */
  private announceResolved(ft: FamilyTable, n: number, a: Attrs, ps: PeerState, addPath: boolean): void {
    const slots = ft.fieldSlots;
    const ids = ft.fieldIds;
    const peerId = ps.desc.id;
    const aid = a.id;
    const fam = ft.family;
    // An int32 for the Uint8Array store: V8 would convert the field's value on every prefix.
    const famCode = fam | 0;
    const listening = this.listeners.size > 0;
    // Booleans and constants in locals: V8 would test the parameter's type on every prefix.
    const general = addPath === true;
    const touched = PrefixFlag.TOUCHED;
    // Room for every prefix's record first, so the record arrays stay put through the loop (and
    // through announce() too). The prefix arrays do not move here: only a new slot grows them.
    const P = ft.paths;
    P.reserve(n);
    const { peer, pathId, attrs, flags: pflags, prefix, fam: pfam, next } = P;
    const { head, best, bestAttrs, bestPeer, flags } = ft;
    let outs: FamilyOuts | null = null;
    let fresh = 0;
    for (let k = 0; k < n; k++) {
      const slot = slots[k]!;
      // No path and not touched: the last decision (or allocSlot) left it with no best, reason 0
      // and no BEST_STALE, so only the best path fields below need writing.
      if (general || head[slot] !== -1 || (flags[slot]! & touched) !== 0) {
        this.announce(ft, slot, peerId, ids[k]!, a, ps);
        continue;
      }
      const p = P.take();
      peer[p] = peerId;
      pathId[p] = ids[k]!;
      attrs[p] = aid;
      pflags[p] = 0;
      prefix[p] = slot;
      pfam[p] = famCode;
      next[p] = -1;
      head[slot] = p;
      best[slot] = p;
      bestAttrs[slot] = aid;
      bestPeer[slot] = peerId;
      fresh++;
      if (listening) this.events.push(this.event(ft, slot));
      outs ??= this.familyOuts(fam, peerId);
      if (outs.outs.length > 0) this.queueExports(outs, ft, slot, true, p, peerId);
    }
    if (fresh > 0) {
      this.store.ref(a, fresh);
      ps.accepted += fresh;
      this.bestChanges += fresh;
    }
  }

  private announce(ft: FamilyTable, slot: number, peerId: number, pathId: number, a: Attrs, ps: PeerState | null): void {
    const P = ft.paths;
    for (let p = ft.head[slot]!; p !== -1; p = P.next[p]!) {
      if (P.peer[p] !== peerId || P.pathId[p] !== pathId) continue;
      // RFC 4271 §9.1.4 implicit withdraw: the new route replaces the old one.
      const old = P.attrs[p]!;
      const wasStale = (P.flags[p]! & PathFlag.STALE) !== 0;
      P.flags[p] = P.flags[p]! & ~(PathFlag.STALE | PathFlag.REFRESH);
      if (old === a.id && !wasStale) return;
      if (old !== a.id) {
        this.store.ref(a);
        P.attrs[p] = a.id;
        this.store.unref(this.store.get(old));
      }
      ft.touch(slot);
      return;
    }
    const p = P.alloc();
    P.peer[p] = peerId;
    P.pathId[p] = pathId;
    P.attrs[p] = a.id;
    P.flags[p] = 0;
    P.prefix[p] = slot;
    P.fam[p] = ft.family;
    P.next[p] = ft.head[slot]!;
    ft.head[slot] = p;
    this.store.ref(a);
    if (ps !== null) ps.accepted++;
    ft.touch(slot);
  }

  private removeFrom(ft: FamilyTable, slot: number, peerId: number, pathId: number): void {
    const P = ft.paths;
    for (let p = ft.head[slot]!; p !== -1; p = P.next[p]!) {
      if (P.peer[p] === peerId && P.pathId[p] === pathId) {
        this.removePath(ft, p);
        return;
      }
    }
  }

  private removePath(ft: FamilyTable, p: number): void {
    const P = ft.paths;
    const slot = P.prefix[p]!;
    if (ft.head[slot] === p) ft.head[slot] = P.next[p]!;
    else {
      let q = ft.head[slot]!;
      while (P.next[q] !== p) q = P.next[q]!;
      P.next[q] = P.next[p]!;
    }
    const peerId = P.peer[p]!;
    if (peerId !== LOCAL_PEER) this.peers[peerId]!.accepted--;
    this.store.unref(this.store.get(P.attrs[p]!));
    P.release(p);
    ft.touch(slot);
  }

  private forPeerPaths(peerId: number, fn: (ft: FamilyTable, p: number) => void): void {
    for (const ft of [this.v4, this.v6]) {
      const P = ft.paths;
      for (let p = 0; p < P.hi; p++) if (P.fam[p] !== 0 && P.peer[p] === peerId) fn(ft, p);
    }
  }

  /** Removes the stale paths of a peer (of one family, or all with fam 0). */
  private sweepStale(ps: PeerState, fam: number): number {
    let n = 0;
    this.forPeerPaths(ps.desc.id, (ft, p) => {
      if ((ft.paths.flags[p]! & PathFlag.STALE) !== 0 && (fam === 0 || ft.family === fam)) {
        this.removePath(ft, p);
        n++;
      }
    });
    return n;
  }

  // ---- decision ----

  private candidates(ft: FamilyTable, slot: number): Candidate[] {
    const P = ft.paths;
    const out: Candidate[] = [];
    for (let p = ft.head[slot]!; p !== -1; p = P.next[p]!) {
      const peerId = P.peer[p]!;
      const local = peerId === LOCAL_PEER;
      const src = local ? undefined : this.peers[peerId]!;
      out.push({
        path: p,
        peerId,
        pathId: P.pathId[p]!,
        local,
        ibgp: src?.desc.ibgp ?? false,
        routerId: src ? src.desc.remoteRouterId >>> 0 : this.routerId,
        address: src ? src.address : 0n,
        info: this.store.get(P.attrs[p]!).info,
      });
    }
    return out;
  }

  private decideSlot(ft: FamilyTable, slot: number): void {
    const P = ft.paths;
    const h = ft.head[slot]!;
    let best = h;
    let reason = 0;
    if (h !== -1 && P.next[h] !== -1) {
      const c = this.candidates(ft, slot);
      const d = decide(c, this.decision, this.mp);
      best = c[d.best]!.path;
      reason = d.reason;
    }
    ft.best[slot] = best;
    ft.reason[slot] = reason;
    ft.bestAttrs[slot] = best === -1 ? -1 : P.attrs[best]!;
    ft.bestPeer[slot] = best === -1 ? 0 : P.peer[best]!;
    const stale = best !== -1 && (P.flags[best]! & PathFlag.STALE) !== 0;
    ft.flags[slot] = (ft.flags[slot]! & ~PrefixFlag.BEST_STALE) | (stale ? PrefixFlag.BEST_STALE : 0);
  }

  private event(ft: FamilyTable, slot: number): BestPathEvent {
    const ev: BestPathEvent = { prefix: ft.format(slot), family: ft.family === 4 ? 'ipv4' : 'ipv6', best: null, nextHops: [] };
    const b = ft.best[slot]!;
    if (b < 0) return ev;
    const P = ft.paths;
    const a = this.store.get(P.attrs[b]!);
    const i = a.info;
    const peerId = P.peer[b]!;
    const src = peerId === LOCAL_PEER ? undefined : this.peers[peerId];
    ev.best = {
      peerId: src ? peerId : null,
      peerAddress: src ? src.desc.address : null,
      nextHop: a.nextHop,
      localPref: i.localPref ?? this.decision.defaultLocalPref,
      med: i.med,
      origin: ORIGINS[i.origin] ?? 'incomplete',
      asPath: formatAsPath(i.segments),
      communities: i.communities.map(formatCommunity),
      largeCommunities: i.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`),
      ibgp: src?.desc.ibgp ?? false,
      stale: (P.flags[b]! & PathFlag.STALE) !== 0,
      reason: BEST_REASONS[ft.reason[slot]!]!,
    };
    const hops: string[] = [];
    const add = (nh: string): void => {
      if (nh !== '' && !hops.includes(nh)) hops.push(nh);
    };
    if (this.mp.enabled && P.next[ft.head[slot]!] !== -1) {
      const c = this.candidates(ft, slot);
      const d = decide(c, this.decision, this.mp);
      for (const k of d.multipath) add(this.store.get(P.attrs[c[k]!.path]!).nextHop);
    } else add(a.nextHop);
    ev.nextHops = hops;
    return ev;
  }

  /** Decides every touched prefix, reports best-path changes, queues exports. */
  private finishBatch(): void {
    const listening = this.listeners.size > 0;
    for (let f = 0; f < 2; f++) {
      const ft = f === 0 ? this.v4 : this.v6;
      const n = ft.touchedCount;
      if (n === 0) continue;
      const list = ft.takeTouched();
      // This family's Adj-RIB-Outs, gathered once per batch rather than once per prefix.
      const outs = this.familyOuts(ft.family);
      for (let k = 0; k < n; k++) {
        const slot = list[k]!;
        ft.flags[slot] = ft.flags[slot]! & ~PrefixFlag.TOUCHED;
        const pb = ft.best[slot]!;
        const pa = ft.bestAttrs[slot]!;
        const pp = ft.bestPeer[slot]!;
        const ps = ft.flags[slot]! & PrefixFlag.BEST_STALE;
        this.decideSlot(ft, slot);
        const changed = pb !== ft.best[slot] || pa !== ft.bestAttrs[slot] || pp !== ft.bestPeer[slot] || ps !== (ft.flags[slot]! & PrefixFlag.BEST_STALE);
        if (changed) this.bestChanges++;
        if (listening && (changed || this.mp.enabled)) this.events.push(this.event(ft, slot));
        const best = ft.best[slot]!;
        this.queueExports(outs, ft, slot, changed, best, best >= 0 ? ft.paths.peer[best]! : -1);
        ft.maybeFree(slot);
      }
    }
    if (this.events.length > 0) {
      const evs = this.events;
      this.events = [];
      for (const l of this.listeners) l(evs);
    }
    if (this.toWake.size > 0) {
      const ws = [...this.toWake];
      this.toWake.clear();
      for (const p of ws) p.wake();
    }
  }

  // ---- export ----

  /**
   * The Adj-RIB-Outs of a family, with the peer owning each. With `from`, for routes that peer
   * sends: its own Adj-RIB-Out is left out while its array is still empty (length 0, as for a
   * peer that came up before the table had any prefix): no route goes back to its sender and
   * there is nothing to withdraw from it. Not under ADD-PATH, whose exports are queued regardless.
   */
  private familyOuts(family: 4 | 6, from = -1): FamilyOuts {
    const outs: OutFamily[] = [];
    const owners: PeerState[] = [];
    for (const peer of this.upPeers) {
      for (const of of peer.out) {
        if (of.family !== family) continue;
        if (peer.desc.id === from && !of.addPath && of.adj.length === 0) continue;
        outs.push(of);
        owners.push(peer);
      }
    }
    return { outs, owners };
  }

  /** Queues a just-decided prefix (best path record `best` from `bestPeer`) for the peers it concerns. */
  private queueExports(x: FamilyOuts, ft: FamilyTable, slot: number, changed: boolean, best: number, bestPeer: number): void {
    const { outs, owners } = x;
    for (let j = 0; j < outs.length; j++) {
      const of = outs[j]!;
      const peer = owners[j]!;
      if (!changed && !of.addPath) continue;
      // Its own route goes nowhere back to it, and a prefix with no route goes nowhere: with
      // nothing advertised for the prefix there is nothing to do (a full table from one peer,
      // or its withdrawal, would otherwise queue every prefix).
      if (!of.addPath && (best < 0 || bestPeer === peer.desc.id) && (slot >= of.adj.length || of.adj[slot] === 0)) continue;
      this.markDirty(peer, of, ft, slot);
    }
  }

  private markDirty(ps: PeerState, of: OutFamily, ft: FamilyTable, slot: number): void {
    // The initial dump has not reached this slot yet: it will look at it anyway.
    if (of.dumpCursor >= 0 && slot >= of.dumpCursor) return;
    if (slot >= of.dirtyMark.length) of.dirtyMark = growTo(of.dirtyMark, ft.hi);
    if (of.dirtyMark[slot] !== 0) return;
    of.dirtyMark[slot] = 1;
    // Wake once when the queue goes from empty to not empty; the peer pulls the rest.
    if (of.dirtyList.length === 0) this.toWake.add(ps);
    of.dirtyList.push(slot);
    ft.outRefs[slot] = ft.outRefs[slot]! + 1;
  }

  /** Drops a peer's Adj-RIB-Out and queues, releasing the prefix slots they held. */
  private dropOut(of: OutFamily): void {
    const ft = this.tableOf(of.family);
    const release = (slot: number): void => {
      ft.outRefs[slot] = ft.outRefs[slot]! - 1;
      ft.maybeFree(slot);
    };
    for (let i = 0; i < of.adj.length; i++) {
      if (of.adj[i] === 0) continue;
      this.outSets.unref(of.adj[i]! - 1);
      release(i);
    }
    for (const [slot, ap] of of.adjAp) {
      for (let k = 1; k < ap.length; k += 2) this.outSets.unref(ap[k]!);
      release(slot);
    }
    for (const slot of of.dirtyList) release(slot);
    const w = of.withdraws;
    for (let k = w.pos; k < w.items.length; k += 2) release(w.items[k]!);
  }

  /** Forgets cached export results for (export class, source peer) pairs matching `which`. */
  private forgetExports(which: (cls: number, src: number) => boolean): void {
    this.store.forEach((a) => this.dropOutCache(a, which));
  }

  private dropOutCache(a: Attrs, which: (cls: number, src: number) => boolean): void {
    if (a.outCache === null) return;
    for (const [key, sid] of a.outCache) {
      if (!which(Math.floor(key / 65536), key % 65536)) continue;
      a.outCache.delete(key);
      if (sid >= 0) this.outSets.unref(sid);
    }
  }

  /** The export class key of a peer: everything of `to` that `exportAttributes` reads. */
  private exportClassKey(ps: PeerState): string {
    // A policy chain is the peer's own (and is rebuilt on reload): such a peer is a class alone,
    // under a new id each time, so no result computed with an older chain is found again.
    if (ps.exportChain !== null) return `own|${ps.desc.id}|${this.nextExportClass}`;
    const d = ps.desc;
    // The link-local counts only when it can be sent: peers on different links, or with the
    // option off, get different next hops for the same route (RFC 2545 §3).
    const ll = ps.linkLocalNextHop ? d.localLinkLocal ?? '' : '';
    return [d.ibgp, d.routeReflectorClient, ps.nextHopSelf, d.localAddress, ll, d.localAs, d.sendCtx.as4, d.sendCtx.extendedNextHop.has(IPV4_UNICAST)].join('|');
  }

  private joinExportClass(ps: PeerState): void {
    const key = this.exportClassKey(ps);
    let c = this.exportClasses.get(key);
    if (c === undefined) {
      c = { id: this.nextExportClass++, members: 0 };
      this.exportClasses.set(key, c);
    }
    c.members++;
    ps.exportClass = c.id;
    ps.exportClassKey = key;
  }

  /** Leaves the peer's class; the last member out takes the class's cached results with it. */
  private leaveExportClass(ps: PeerState): void {
    const key = ps.exportClassKey;
    if (key === null) return;
    const c = this.exportClasses.get(key)!;
    ps.exportClassKey = null;
    ps.exportClass = -1;
    if (--c.members > 0) return;
    this.exportClasses.delete(key);
    this.forgetExports((cls) => cls === c.id);
  }

  /** Out-set id + 1 of path `p` for peer `ps`, or 0 when it is not exported. */
  private exportPath(ps: PeerState, ft: FamilyTable, slot: number, p: number): number {
    const P = ft.paths;
    const srcId = P.peer[p]!;
    if (srcId === ps.desc.id) return 0; // not back to where it came from
    const a = this.store.get(P.attrs[p]!);
    const src = srcId === LOCAL_PEER ? null : this.peers[srcId]!;
    const chain = ps.exportChain;
    if (chain === null || !chain.matchesPrefix) {
      const key = ps.exportClass * 65536 + srcId;
      const c = a.outCache?.get(key);
      if (c !== undefined) return c + 1;
      const r = exportAttributes(this.env, src, ps, a, ft.family, null);
      let sid = -1;
      if (r !== null) {
        const s = this.outSets.intern(r.bytes, r.nextHop, ps.desc.sendCtx.as4, r.linkLocal);
        s.refs++;
        sid = s.id;
      }
      (a.outCache ??= new Map()).set(key, sid);
      return sid + 1;
    }
    const r = exportAttributes(this.env, src, ps, a, ft.family, ft.policyPrefix(slot));
    return r === null ? 0 : this.outSets.intern(r.bytes, r.nextHop, ps.desc.sendCtx.as4, r.linkLocal).id + 1;
  }

  private bucket(of: OutFamily, sid: number): { items: number[]; pos: number } {
    let b = of.buckets.get(sid);
    if (b === undefined) {
      b = { items: [], pos: 0 };
      of.buckets.set(sid, b);
    }
    return b;
  }

  private pushWithdraw(of: OutFamily, ft: FamilyTable, slot: number, pathId: number): void {
    of.withdraws.items.push(slot, pathId);
    ft.outRefs[slot] = ft.outRefs[slot]! + 1;
  }

  private resolveAll(ps: PeerState, of: OutFamily): void {
    const ft = this.tableOf(of.family);
    if (of.adj.length < ft.hi && !of.addPath) of.adj = growTo(of.adj, ft.hi);
    if (of.dumpCursor >= 0) {
      // A re-export pass (configurePeer, setPolicies) must also withdraw what lost its last path
      // meanwhile: markDirty skips slots at or past the cursor.
      const adj = of.adj;
      for (let i = of.dumpCursor; i < ft.hi; i++) {
        if (ft.head[i] !== -1 || (of.addPath ? of.adjAp.has(i) : adj[i] !== 0)) this.resolve(ps, of, ft, i);
      }
      of.dumpCursor = -1;
    }
    if (of.dirtyList.length > 0) {
      const list = of.dirtyList;
      of.dirtyList = [];
      for (const slot of list) {
        of.dirtyMark[slot] = 0;
        this.resolve(ps, of, ft, slot);
        ft.outRefs[slot] = ft.outRefs[slot]! - 1;
        ft.maybeFree(slot);
      }
    }
  }

  /** Compares what `ps` should have for a prefix with its Adj-RIB-Out and queues the difference. */
  private resolve(ps: PeerState, of: OutFamily, ft: FamilyTable, slot: number): void {
    const sets = this.outSets;
    if (!of.addPath) {
      const b = ft.best[slot]!;
      const want = b < 0 ? 0 : this.exportPath(ps, ft, slot, b);
      const cur = of.adj[slot]!;
      if (want === cur) return;
      if (want === 0) {
        this.pushWithdraw(of, ft, slot, 0);
        of.adj[slot] = 0;
        sets.unref(cur - 1);
        ft.outRefs[slot] = ft.outRefs[slot]! - 1;
        return;
      }
      this.bucket(of, want - 1).items.push(slot, 0);
      sets.ref(want - 1);
      if (cur !== 0) sets.unref(cur - 1);
      else ft.outRefs[slot] = ft.outRefs[slot]! + 1;
      of.adj[slot] = want;
      return;
    }
    // RFC 7911: every exportable path goes out under its own path identifier (its record number + 1).
    const P = ft.paths;
    const cur = of.adjAp.get(slot) ?? EMPTY_AP;
    const want: number[] = [];
    for (let p = ft.head[slot]!; p !== -1; p = P.next[p]!) {
      const sid = this.exportPath(ps, ft, slot, p);
      if (sid !== 0) want.push(p + 1, sid - 1);
    }
    for (let k = 0; k < cur.length; k += 2) {
      let still = false;
      for (let j = 0; j < want.length; j += 2) if (want[j] === cur[k]) still = true;
      if (!still) this.pushWithdraw(of, ft, slot, cur[k]!);
    }
    for (let j = 0; j < want.length; j += 2) {
      let old = -1;
      for (let k = 0; k < cur.length; k += 2) if (cur[k] === want[j]) old = cur[k + 1]!;
      if (old !== want[j + 1]) this.bucket(of, want[j + 1]!).items.push(slot, want[j]!);
      sets.ref(want[j + 1]!);
    }
    for (let k = 0; k < cur.length; k += 2) sets.unref(cur[k + 1]!);
    if (want.length > 0) {
      if (cur.length === 0) ft.outRefs[slot] = ft.outRefs[slot]! + 1;
      of.adjAp.set(slot, want);
    } else if (cur.length > 0) {
      of.adjAp.delete(slot);
      ft.outRefs[slot] = ft.outRefs[slot]! - 1;
    }
  }

  private addPrefix(b: UpdateBuilder | WithdrawBuilder, ft: FamilyTable, slot: number, pathId: number): void {
    if (ft.family === 4) b.addIpv4(ft.addr4[slot]!, ft.len[slot]!, pathId);
    else {
      const s = this.scratch;
      ft.octets(slot, s.addr);
      s.len = ft.len[slot]!;
      s.pathId = pathId;
      b.add(s);
    }
  }

  private emitWithdraws(ps: PeerState, of: OutFamily, out: Uint8Array[], bytes: number, max: number): number {
    const w = of.withdraws;
    if (w.pos >= w.items.length) return bytes;
    const ft = this.tableOf(of.family);
    const wb = new WithdrawBuilder({ ctx: ps.desc.sendCtx, afi: ft.afi, safi: 1, mp: of.mpIpv4 });
    const msg = maxMessageLength(ps.desc.sendCtx);
    const overhead = ft.family === 4 && !of.mpIpv4 ? 23 : 30;
    let n = 0;
    while (w.pos < w.items.length) {
      const slot = w.items[w.pos]!;
      const size = (of.addPath ? 5 : 1) + ((ft.len[slot]! + 7) >> 3);
      if (n > 0 || bytes > 0) {
        if (bytes + n + size + Math.ceil((n + size) / (msg - overhead)) * overhead > max) break;
      }
      this.addPrefix(wb, ft, slot, w.items[w.pos + 1]!);
      n += size;
      w.pos += 2;
      ft.outRefs[slot] = ft.outRefs[slot]! - 1;
      ft.maybeFree(slot);
    }
    if (w.pos >= w.items.length) {
      w.items = [];
      w.pos = 0;
    }
    for (const m of wb.take()) {
      out.push(m);
      bytes += m.length;
    }
    return bytes;
  }

  private emitBucket(
    ps: PeerState, of: OutFamily, sid: number, b: { items: number[]; pos: number }, out: Uint8Array[], bytes: number, max: number,
  ): number {
    const ft = this.tableOf(of.family);
    // Items whose slot has since moved to another set are stale (the newer bucket announces
    // them); when every item is, the set itself may be gone or its id reused.
    const live = (slot: number, pathId: number): boolean => {
      if (!of.addPath) return of.adj[slot] === sid + 1;
      const ap = of.adjAp.get(slot);
      if (ap === undefined) return false;
      for (let k = 0; k < ap.length; k += 2) if (ap[k] === pathId) return ap[k + 1] === sid;
      return false;
    };
    while (b.pos < b.items.length && !live(b.items[b.pos]!, b.items[b.pos + 1]!)) b.pos += 2;
    if (b.pos >= b.items.length) return bytes;
    const set = this.outSets.get(sid);
    const ub = new UpdateBuilder(
      set.nextHop === undefined
        ? { ctx: ps.desc.sendCtx, afi: ft.afi, safi: 1, attributes: set.bytes }
        : { ctx: ps.desc.sendCtx, afi: ft.afi, safi: 1, attributes: set.bytes, nextHop: set.nextHop },
    );
    const msg = maxMessageLength(ps.desc.sendCtx);
    const overhead = 23 + set.bytes.length + (set.nextHop === undefined ? 0 : set.nextHop.linkLocal === undefined ? 25 : 41);
    let n = 0;
    while (b.pos < b.items.length) {
      const slot = b.items[b.pos]!;
      if (!live(slot, b.items[b.pos + 1]!)) {
        b.pos += 2;
        continue;
      }
      const size = (of.addPath ? 5 : 1) + ((ft.len[slot]! + 7) >> 3);
      if (n > 0 || bytes > 0) {
        if (bytes + n + size + Math.ceil((n + size) / (msg - overhead)) * overhead > max) break;
      }
      this.addPrefix(ub, ft, slot, b.items[b.pos + 1]!);
      n += size;
      b.pos += 2;
    }
    for (const m of ub.take()) {
      out.push(m);
      bytes += m.length;
    }
    return bytes;
  }
}

/** A ROUTE-REFRESH message carrying an RFC 7313 marker (BoRR / EoRR) for a family. */
function refreshMarker(fkey: number, subtype: number): Uint8Array {
  return toBuffer({ type: 'ROUTE-REFRESH', afi: fkey >> 8, safi: fkey & 255, subtype });
}

/** Decodes an out-set's attribute block (encoded with the peer's send context). */
function decodeOutSet(b: Uint8Array, ctx: WireContext): PathAttribute[] {
  const out: PathAttribute[] = [];
  forEachAttr(b, (flags, code, s, e) => {
    const d = ATTR_BY_CODE[code];
    out.push(d ? d.decode(flags, b, s, e, ctx) : { type: 'UNKNOWN', flags, code, value: b.slice(s, e) });
  });
  return out;
}

function growTo<T extends Int32Array | Uint8Array>(a: T, n: number): T {
  let m = a.length || 1;
  while (m < n) m *= 2;
  const b = new (a.constructor as new (n: number) => T)(m);
  b.set(a);
  return b;
}
