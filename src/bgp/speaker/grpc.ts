// The tern.bgp.v1.Bgp service over a Speaker: translation between protobuf messages and the
// speaker's calls, nothing more. Errors become gRPC status codes with the TernError message.
import * as grpc from '@grpc/grpc-js';
import { isTernError } from '../../errors/index.js';
import type { BgpHandlers } from '../../proto/gen/tern/bgp/v1/Bgp.js';
import type { BestPathEvent as PbBestPathEvent } from '../../proto/gen/tern/bgp/v1/BestPathEvent.js';
import type { Family__Output } from '../../proto/gen/tern/bgp/v1/Family.js';
import type { Path, Path__Output } from '../../proto/gen/tern/bgp/v1/Path.js';
import type { PeerConfig, PeerConfig__Output } from '../../proto/gen/tern/bgp/v1/PeerConfig.js';
import type { PeerState } from '../../proto/gen/tern/bgp/v1/PeerState.js';
import type { Route } from '../../proto/gen/tern/bgp/v1/Route.js';
import type { BestPathEvent, RouteCursor, RouteView } from '../rib/index.js';
import { familyName } from '../session/config.js';
import { formatCommunity, formatExtendedCommunity, prefix as parsePrefix, type Capability, type PathAttribute } from '../wire/index.js';
import { bfdOf, OriginateSchema, PeerSchema, type PeerSpec } from './config.js';
import type { PathInput, PeerEntry, PeerEvent, ReloadResult, Speaker } from './speaker.js';
import { formatIssues } from '../../config/index.js';
import { TernError } from '../../errors/index.js';
import { statusDetails } from '../../grpc/index.js';

const ORIGINS = ['igp', 'egp', 'incomplete'];

function statusOf(e: unknown): grpc.StatusObject {
  const msg = statusDetails((e as Error)?.message ?? String(e));
  if (isTernError(e)) {
    const code =
      e.code === 'TERN_ERR_NOT_FOUND' ? grpc.status.NOT_FOUND
      : e.code === 'TERN_ERR_CONFIG' || e.code === 'TERN_ERR_VALIDATION' || e.code === 'TERN_ERR_USAGE' ? grpc.status.INVALID_ARGUMENT
      : e.code === 'TERN_ERR_BGP_SESSION' ? grpc.status.FAILED_PRECONDITION
      : grpc.status.INTERNAL;
    return { code, details: msg, metadata: new grpc.Metadata() };
  }
  // RangeError: a value the codec or the RIB cannot take (bad prefix, community).
  return { code: e instanceof RangeError || e instanceof TypeError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL, details: msg, metadata: new grpc.Metadata() };
}

function unaryOf<Req, Res>(fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((r) => cb(null, r), (e: unknown) => cb(statusOf(e)));
  };
}

const famOf = (f: Family__Output | string | number): 4 | 6 | undefined =>
  f === 'IPV4_UNICAST' || f === 1 ? 4 : f === 'IPV6_UNICAST' || f === 2 ? 6 : undefined;
const pbFamily = (f: 'ipv4' | 'ipv6'): 'IPV4_UNICAST' | 'IPV6_UNICAST' => (f === 'ipv4' ? 'IPV4_UNICAST' : 'IPV6_UNICAST');

/** A protobuf PeerConfig as the YAML peer entry it stands for (validated by the same schema). */
export function specFromProto(p: PeerConfig__Output): PeerSpec {
  const reject = (field: string, what: string): never => {
    throw new TernError('TERN_ERR_CONFIG', `peer.${field}: ${what}`, { field: `peer.${field}` });
  };
  if (p.delayOpen) reject('delayOpen', 'DelayOpen is not offered by the API yet');
  const raw: Record<string, unknown> = { address: p.address, asNumber: p.peerAs };
  if (p.localAs) raw.localAs = p.localAs;
  if (p.description) raw.description = p.description;
  if (p.passive) raw.passive = true;
  if (p.sourceAddress) raw.sourceAddress = p.sourceAddress;
  if (p.port) raw.port = p.port;
  const timers: Record<string, number> = {};
  if (p.holdTimeSeconds) timers.hold = p.holdTimeSeconds;
  if (p.keepaliveSeconds) timers.keepalive = p.keepaliveSeconds;
  if (p.connectRetrySeconds) timers.connectRetry = p.connectRetrySeconds;
  if (Object.keys(timers).length > 0) raw.timers = timers;
  const fams = p.families.map(famOf).filter((f) => f !== undefined);
  if (fams.length > 0) raw.families = fams.map((f) => (f === 4 ? 'ipv4' : 'ipv6'));
  if (p.gracefulRestart) {
    const g = p.gracefulRestart;
    raw.gracefulRestart = {
      enabled: g.enabled,
      notification: g.notification,
      ...(g.restartTimeSeconds ? { restartTime: g.restartTimeSeconds } : {}),
      ...(g.staleTimeSeconds ? { staleTime: g.staleTimeSeconds } : {}),
      forwarding: g.forwardingNone ? false : g.forwardingFamilies.length === 0 ? true : g.forwardingFamilies.map(famOf).filter((f) => f !== undefined).map((f) => (f === 4 ? 'ipv4' : 'ipv6')),
    };
  }
  if (p.importPolicies.length) raw.importPolicies = p.importPolicies;
  if (p.exportPolicies.length) raw.exportPolicies = p.exportPolicies;
  if (p.maxPrefixes) raw.maxPrefixes = p.maxPrefixes;
  if (p.maxPrefixesRestartSeconds) raw.maxPrefixesRestartDelay = p.maxPrefixesRestartSeconds;
  if (p.password) raw.password = p.password;
  if (p.ttlSecurityHops) raw.ttlSecurity = p.ttlSecurityHops;
  if (p.routeReflectorClient) raw.routeReflectorClient = true;
  if (p.addPathSend || p.addPathReceive) raw.addPath = { send: p.addPathSend, receive: p.addPathReceive };
  if (p.nextHopSelf) raw.nextHopSelf = true;
  if (p.extendedNextHop) raw.extendedNextHop = true;
  if (p.noLinkLocalNextHop) raw.linkLocalNextHop = false;
  // Zero intervals and multiplier mean "the default", as elsewhere in this message.
  if (p.bfd?.enabled) {
    raw.bfd = {
      enabled: true,
      ...(p.bfd.minTxMs ? { minTxMs: p.bfd.minTxMs } : {}),
      ...(p.bfd.minRxMs ? { minRxMs: p.bfd.minRxMs } : {}),
      ...(p.bfd.multiplier ? { multiplier: p.bfd.multiplier } : {}),
    };
  }
  const r = PeerSchema.safeParse(raw);
  if (!r.success) throw new TernError('TERN_ERR_CONFIG', formatIssues('peer', r.error));
  return r.data;
}

export function specToProto(s: PeerSpec, localAs: number): PeerConfig {
  return {
    address: s.address,
    peerAs: s.asNumber,
    localAs: s.localAs ?? localAs,
    description: s.description ?? '',
    passive: s.passive ?? false,
    sourceAddress: s.sourceAddress ?? '',
    port: s.port ?? 0,
    holdTimeSeconds: s.timers?.hold ?? 0,
    keepaliveSeconds: s.timers?.keepalive ?? 0,
    connectRetrySeconds: s.timers?.connectRetry ?? 0,
    families: (s.families ?? []).map(pbFamily),
    ...(s.gracefulRestart
      ? { gracefulRestart: { enabled: s.gracefulRestart.enabled, restartTimeSeconds: s.gracefulRestart.restartTime, staleTimeSeconds: s.gracefulRestart.staleTime, notification: s.gracefulRestart.notification, ...forwardingToProto(s.gracefulRestart.forwarding) } }
      : {}),
    importPolicies: [...(s.importPolicies ?? [])],
    exportPolicies: [...(s.exportPolicies ?? [])],
    maxPrefixes: s.maxPrefixes ?? 0,
    maxPrefixesRestartSeconds: s.maxPrefixesRestartDelay ?? 0,
    routeReflectorClient: s.routeReflectorClient ?? false,
    addPathSend: s.addPath?.send ?? false,
    addPathReceive: s.addPath?.receive ?? false,
    nextHopSelf: s.nextHopSelf ?? false,
    extendedNextHop: s.extendedNextHop ?? false,
    noLinkLocalNextHop: s.linkLocalNextHop === false,
    ...bfdToProto(s),
  };
}

function forwardingToProto(f: boolean | readonly ('ipv4' | 'ipv6')[]): { forwardingFamilies: Array<'IPV4_UNICAST' | 'IPV6_UNICAST'>; forwardingNone: boolean } {
  if (typeof f === 'boolean') return { forwardingFamilies: [], forwardingNone: !f };
  return { forwardingFamilies: f.map(pbFamily), forwardingNone: f.length === 0 };
}

function bfdToProto(s: PeerSpec): Pick<PeerConfig, 'bfd'> {
  const b = bfdOf(s);
  return b === null ? {} : { bfd: { enabled: true, minTxMs: b.minTxMs, minRxMs: b.minRxMs, multiplier: b.multiplier } };
}

function capabilityText(c: Capability): string {
  switch (c.kind) {
    case 'multiprotocol': return `multiprotocol ${familyName(c.afi * 256 + c.safi)}`;
    case 'as4': return '4-octet-as';
    case 'graceful-restart': return `graceful-restart ${c.restartTime}s`;
    case 'add-path': return `add-path ${c.families.map((f) => `${familyName(f.afi * 256 + f.safi)}:${f.sendReceive === 1 ? 'receive' : f.sendReceive === 2 ? 'send' : 'both'}`).join(',')}`;
    default: return c.kind;
  }
}

export function peerState(sp: Speaker, e: PeerEntry): PeerState {
  const s = e.session;
  const neg = s.negotiated;
  const counts = sp.peerCounts(e);
  const err = s.counters.lastError;
  // Capabilities both sides announced (for add-path: what we announced, which the peer matched).
  const remoteKinds = new Set(neg?.remoteCapabilities.map((c) => c.kind) ?? []);
  const caps = neg ? neg.localCapabilities.filter((c) => remoteKinds.has(c.kind)).map(capabilityText) : [];
  const conn = s.connection();
  return {
    config: specToProto(e.spec, sp.config.asNumber),
    state: s.state,
    uptimeSeconds: (Date.now() - e.since) / 1000,
    remoteRouterId: neg ? dotted(neg.remoteRouterId) : '',
    lastError: err ? `${err.direction} ${err.code}/${err.subcode} ${err.message}` : '',
    prefixesReceived: e.received,
    prefixesAccepted: counts.accepted,
    prefixesAdvertised: counts.advertised,
    capabilities: [...new Set(caps)],
    updatesIn: s.counters.messagesIn.update,
    updatesOut: s.counters.messagesOut.update,
    flaps: s.counters.flaps,
    source: e.source,
    established: s.counters.established,
    localAddress: conn?.localAddress.replace(/^::ffff:/, '') ?? '',
    lastTransitionReason: e.lastReason,
    bfdState: sp.bfd.state(e.address),
  };
}

const dotted = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** A path's attributes as the API shows them. */
export function pathOf(prefix: string, family: 'ipv4' | 'ipv6', nextHop: string, attrs: readonly PathAttribute[], extra: Partial<Path> = {}): Path {
  const p: Path = {
    prefix,
    family: pbFamily(family),
    nextHop,
    asPath: [],
    origin: 'incomplete',
    communities: [],
    largeCommunities: [],
    extendedCommunities: [],
    originatorId: '',
    clusterList: [],
    atomicAggregate: false,
    ...extra,
  };
  for (const a of attrs) {
    switch (a.type) {
      case 'ORIGIN': p.origin = ORIGINS[a.origin] ?? 'incomplete'; break;
      case 'AS_PATH': p.asPath = a.segments.map((g) => ({ set: g.type === 1 || g.type === 4, asns: [...g.asns] })); break;
      case 'MULTI_EXIT_DISC': p.med = a.med; break;
      case 'LOCAL_PREF': p.localPref = a.localPref; break;
      case 'COMMUNITIES': p.communities = a.communities.map(formatCommunity); break;
      case 'LARGE_COMMUNITY': p.largeCommunities = a.communities.map((c) => `${c.global}:${c.local1}:${c.local2}`); break;
      case 'EXTENDED_COMMUNITIES': p.extendedCommunities = a.communities.map(formatExtendedCommunity); break;
      case 'ORIGINATOR_ID': p.originatorId = a.originatorId; break;
      case 'CLUSTER_LIST': p.clusterList = [...a.clusterIds]; break;
      case 'ATOMIC_AGGREGATE': p.atomicAggregate = true; break;
      default: break;
    }
  }
  return p;
}

function routeViewPath(sp: Speaker, prefix: string, family: 'ipv4' | 'ipv6', v: RouteView): Path {
  return pathOf(prefix, family, v.nextHop, v.attributes, { peerAddress: sp.peerAddress(v.peerId), pathId: v.pathId, stale: v.stale });
}

function bestEvent(e: BestPathEvent): PbBestPathEvent {
  if (e.best === null) return { type: 'WITHDRAW', prefix: e.prefix, family: pbFamily(e.family), nextHops: [] };
  const b = e.best;
  const path: Path = {
    prefix: e.prefix,
    family: pbFamily(e.family),
    nextHop: b.nextHop,
    asPath: b.asPath === '' ? [] : [{ set: false, asns: b.asPath.split(' ').filter((x) => /^\d+$/.test(x)).map(Number) }],
    origin: b.origin,
    localPref: b.localPref,
    ...(b.med !== null ? { med: b.med } : {}),
    communities: b.communities,
    largeCommunities: b.largeCommunities,
    peerAddress: b.peerAddress ?? '',
    stale: b.stale,
  };
  return { type: 'UPSERT', prefix: e.prefix, family: pbFamily(e.family), nextHops: e.nextHops, best: path };
}

/** Writes to a server stream, waiting for 'drain' when its buffer is full. */
async function writeAll<T>(call: grpc.ServerWritableStream<unknown, T>, items: Iterable<T>): Promise<boolean> {
  for (const it of items) {
    if (call.cancelled || call.destroyed) return false;
    if (!call.write(it)) await new Promise<void>((r) => {
      const done = (): void => {
        call.off('drain', done);
        call.off('close', done);
        call.off('cancelled', done);
        r();
      };
      call.on('drain', done);
      call.on('close', done);
      call.on('cancelled', done);
    });
  }
  return !call.cancelled;
}

/** Routes read from the RIB per ListRoutes page. */
export const LIST_PAGE = 512;

export interface ServiceHooks {
  status(): { ready: boolean; details: Record<string, string> };
  getStatus: grpc.handleUnaryCall<unknown, unknown>;
  /** Re-reads the configuration file and applies it. */
  reload(): Promise<ReloadResult>;
}

export function bgpHandlers(sp: Speaker, hooks: ServiceHooks): BgpHandlers {
  return {
    GetStatus: hooks.getStatus as BgpHandlers['GetStatus'],

    ListPeers: unaryOf((req) => ({
      peers: sp
        .listPeers()
        .filter((e) => req.address === '' || e.address === sp.peer(req.address)?.address)
        .map((e) => peerState(sp, e)),
    })),

    AddPeer: unaryOf((req) => {
      if (!req.peer) throw new TernError('TERN_ERR_CONFIG', 'peer: required', { field: 'peer' });
      return { peer: peerState(sp, sp.addPeer(specFromProto(req.peer))) };
    }),

    UpdatePeer: unaryOf((req) => {
      if (!req.peer) throw new TernError('TERN_ERR_CONFIG', 'peer: required', { field: 'peer' });
      return { peer: peerState(sp, sp.updatePeer(specFromProto(req.peer)).entry) };
    }),

    DeletePeer: unaryOf((req) => {
      if (!sp.deletePeer(req.address, req.shutdownMessage || undefined)) throw new TernError('TERN_ERR_NOT_FOUND', `no peer ${req.address}`, { field: 'address' });
      return {};
    }),

    ListRoutes: (call) => {
      const req = call.request;
      const family = famOf(req.family);
      const limit = req.limit || 0;
      const prefix = req.prefix || undefined;
      // Page by page from the RIB: a page is read in one go (the RIB does not change under it),
      // written, and the next read only when the client has taken it (write backpressure) and
      // the event loop has run, so UPDATEs keep flowing and memory holds one page, not the table.
      let page: (from: RouteCursor | undefined, max: number, out: Route[]) => RouteCursor | null;
      try {
        // A malformed prefix is the caller's mistake, not an internal error of the RIB lookup.
        if (prefix !== undefined) {
          try {
            parsePrefix(prefix);
          } catch (e) {
            throw new TernError('TERN_ERR_VALIDATION', (e as Error).message, { field: 'prefix' });
          }
        }
        const base = { ...(family ? { family } : {}), ...(prefix ? { prefix } : {}) };
        if (req.table === 'LOC_RIB' || req.table === 'ADJ_RIB_IN') {
          let peerId: number | undefined;
          if (req.table === 'ADJ_RIB_IN') {
            const e = sp.peer(req.peer);
            if (!e) throw new TernError('TERN_ERR_NOT_FOUND', `no peer ${req.peer}`, { field: 'peer' });
            peerId = e.session.id;
          }
          page = (from, max, out) =>
            sp.routes({ ...base, ...(peerId !== undefined ? { peerId } : {}), ...(from ? { from } : {}) }, (r) => {
              out.push({
                prefix: r.prefix,
                family: pbFamily(r.family),
                paths: r.paths.map((v) => routeViewPath(sp, r.prefix, r.family, v)),
                bestReason: r.reason ?? '',
                multipath: r.multipath,
              });
              return out.length < max;
            });
        } else {
          const e = sp.peer(req.peer);
          if (!e) throw new TernError('TERN_ERR_NOT_FOUND', `no peer ${req.peer}`, { field: 'peer' });
          const id = e.session.id;
          page = (from, max, out) =>
            sp.adjOut(id, { ...base, ...(from ? { from } : {}) }, (a) => {
              out.push({ prefix: a.prefix, family: pbFamily(a.family), paths: [pathOf(a.prefix, a.family, a.nextHop, a.attributes, { pathId: a.pathId, peerAddress: e.address })], bestReason: '', multipath: 0 });
              return out.length < max;
            });
        }
      } catch (e) {
        call.emit('error', statusOf(e));
        return;
      }
      void (async () => {
        let from: RouteCursor | undefined;
        let left = limit > 0 ? limit : Infinity;
        for (;;) {
          const out: Route[] = [];
          const next = page(from, Math.min(LIST_PAGE, left), out);
          left -= out.length;
          if (!(await writeAll(call, out))) return;
          if (next === null || left <= 0) break;
          from = next;
          await new Promise<void>((r) => setImmediate(r));
          if (call.cancelled || call.destroyed) return;
        }
        call.end();
      })().catch((e: unknown) => call.emit('error', statusOf(e)));
    },

    AddPath: unaryOf((req) => {
      sp.addPath(pathInput(req.path));
      return {};
    }),

    AddPaths: (call, cb) => {
      const batch: PathInput[] = [];
      let n = 0;
      let failed = false;
      const flush = (): void => {
        n += sp.addPaths(batch);
        batch.length = 0;
      };
      call.on('data', (req: { path: Path__Output | null }) => {
        if (failed) return;
        try {
          batch.push(pathInput(req.path));
          if (batch.length >= 10_000) flush();
        } catch (e) {
          failed = true;
          cb(statusOf(e));
        }
      });
      call.on('end', () => {
        if (failed) return;
        try {
          flush();
          cb(null, { count: n });
        } catch (e) {
          cb(statusOf(e));
        }
      });
    },

    DeletePath: unaryOf((req) => {
      if (!sp.deletePath(req.prefix)) throw new TernError('TERN_ERR_NOT_FOUND', `no path for ${req.prefix} added through the API`, { field: 'prefix' });
      return {};
    }),

    WatchBestPaths: (call) => {
      const family = famOf(call.request.family);
      const want = (e: BestPathEvent): boolean => family === undefined || (family === 4) === (e.family === 'ipv4');
      // Changes wait here while the snapshot (or an earlier batch) is written; the latest
      // event per prefix is what counts, so a slow reader holds at most one per prefix.
      let pending = new Map<string, BestPathEvent>();
      let writing = true;
      const pump = async (): Promise<void> => {
        writing = true;
        while (pending.size > 0 && !call.cancelled) {
          const batch = pending;
          pending = new Map();
          await writeAll(call, [...batch.values()].map(bestEvent));
        }
        writing = false;
      };
      const unsubscribe = sp.watchBest((evs) => {
        for (const e of evs) if (want(e)) {
          pending.delete(e.prefix);
          pending.set(e.prefix, e);
        }
        if (!writing) void pump();
      });
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
      const snap = sp.snapshot().filter(want).map(bestEvent);
      void writeAll(call, snap)
        .then((ok) => {
          if (ok) call.write({ type: 'SNAPSHOT_END', prefix: '', nextHops: [] });
          return pump();
        })
        .catch(() => unsubscribe());
    },

    WatchPeers: (call) => {
      const on = (ev: PeerEvent): void => {
        call.write({ peer: peerState(sp, ev.peer), previousState: ev.from, reason: ev.reason });
      };
      sp.on('peer', on);
      const off = (): void => void sp.off('peer', on);
      call.on('cancelled', off);
      call.on('close', off);
      for (const e of sp.listPeers()) call.write({ peer: peerState(sp, e), previousState: '', reason: 'snapshot' });
    },

    GetStats: unaryOf(() => {
      const s = sp.stats();
      return {
        peers: s.peers,
        peersEstablished: s.established,
        locRibPrefixes: s.ipv4Prefixes + s.ipv6Prefixes,
        locRibPaths: s.paths,
        attributeSets: s.attributeSets,
        bestPathChanges: s.bestPathChanges,
        rssBytes: process.memoryUsage.rss(),
        locRibIpv4Prefixes: s.ipv4Prefixes,
        locRibIpv6Prefixes: s.ipv6Prefixes,
        updatesReceived: s.updatesIn,
        updatesSent: s.updatesOut,
        prefixesReceived: s.prefixesReceived,
      };
    }),

    Reload: unaryOf(async () => {
      const r = await hooks.reload();
      return { changedPeers: r.changed, addedPeers: r.added, deletedPeers: r.deleted, resetPeers: r.reset };
    }),
  };
}

/** An API path as an origination (validated by the config file's schema for `originate`). */
function pathInput(p: Path__Output | null | undefined): PathInput {
  if (!p) throw new TernError('TERN_ERR_CONFIG', 'path: required', { field: 'path' });
  const raw: Record<string, unknown> = { prefix: p.prefix };
  if (p.nextHop) raw.nextHop = p.nextHop;
  if (p.communities.length) raw.communities = p.communities;
  if (p.largeCommunities.length) raw.largeCommunities = p.largeCommunities;
  if (p.med !== undefined && p.med !== null) raw.med = p.med;
  if (p.localPref !== undefined && p.localPref !== null) raw.localPref = p.localPref;
  const r = OriginateSchema.safeParse(raw);
  if (!r.success) throw new TernError('TERN_ERR_CONFIG', formatIssues('path', r.error));
  const d = r.data;
  const out: PathInput = { prefix: d.prefix };
  if (d.nextHop !== undefined) out.nextHop = d.nextHop;
  if (d.communities !== undefined) out.communities = d.communities;
  if (d.largeCommunities !== undefined) out.largeCommunities = d.largeCommunities;
  if (d.med !== undefined) out.med = d.med;
  if (d.localPref !== undefined) out.localPref = d.localPref;
  return out;
}
