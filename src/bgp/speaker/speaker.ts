// The BGP speaker: one Rib and one SessionManager wired together, peers from configuration, from
// the API and from dynamic-neighbour ranges, our own routes, reload without needless resets.
//
// Single writer: every change to the RIB or the session table goes through a method of this
// class, on the one event loop. Sessions reach the RIB only through the RibPort adapter below,
// which also keeps the per-peer counters the API and metrics show.
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import type { Clock } from '../../clock/index.js';
import { TernError } from '../../errors/index.js';
import { logger, type Logger } from '../../log/index.js';
import type { PeerDescriptor, RibPort } from '../peer.js';
import { PolicyTable, type PolicyConfig } from '../policy/index.js';
import { LOCAL_PEER, Rib, type AdjOutEntry, type BestPathEvent, type Originate, type RouteCursor, type RouteEntry } from '../rib/index.js';
import type { BgpSession, Transition } from '../session/fsm.js';
import { canonicalAddress, SessionManager } from '../session/manager.js';
import type { PeerConfig } from '../session/config.js';
import type { Transport } from '../session/transport.js';
import { loadSockopt } from '../sockopt/addon.js';
import { SockoptTransport } from '../sockopt/transport.js';
import { IPV4_UNICAST, IPV6_UNICAST, parseDotted } from '../wire/index.js';
import { SpeakerBfd } from './bfd.js';
import {
  bfdOf,
  bulkPrefixes,
  dynamicAsAllowed,
  listenOf,
  matchDynamic,
  multipathOf,
  toPeerConfig,
  type BgpConfig,
  type OriginateSpec,
  type PeerSpec,
} from './config.js';

export type PeerSource = 'config' | 'api' | 'dynamic';

/** What the speaker knows of one peer besides its session. */
export interface PeerEntry {
  readonly address: string;
  source: PeerSource;
  spec: PeerSpec;
  cfg: PeerConfig;
  nextHopSelf: boolean;
  /** RFC 2545 §3 32-octet next hops towards this peer when it is on our link (default true). */
  linkLocalNextHop: boolean;
  readonly session: BgpSession;
  /** NLRI announced by the peer during the current session. */
  received: number;
  /** When the session entered its current state (Date.now()). */
  since: number;
  lastReason: string;
  /** Dynamic neighbours: the range's index, and the pending removal after the session ended. */
  dynamicIndex: number;
  removal: NodeJS.Timeout | null;
  /** Refused after OPEN (dynamic AS outside the range): its UPDATEs are ignored until removal. */
  refused: boolean;
}

export interface PeerEvent {
  peer: PeerEntry;
  from: string;
  to: string;
  reason: string;
}

export interface SpeakerOptions {
  config: BgpConfig;
  /** The node's address: the router id when the config has none and it is IPv4. */
  nodeIp?: string;
  transport?: Transport;
  clock?: Clock;
  log?: Logger;
  /** BFD receive port (default 3784) and the neighbours' BFD port: other values are for tests. */
  bfdPort?: number;
  bfdPeerPort?: number;
  /** RibOptions.reserve (tern-bgpd: FULL_TABLE_RESERVE). */
  ribReserve?: { v4: number; v6: number };
}

export interface ReloadResult {
  added: string[];
  deleted: string[];
  /** Settings changed; `reset` lists those whose session had to start again. */
  changed: string[];
  reset: string[];
}

export interface SpeakerStats {
  peers: number;
  established: number;
  ipv4Prefixes: number;
  ipv6Prefixes: number;
  paths: number;
  attributeSets: number;
  bestPathChanges: number;
  updatesIn: number;
  updatesOut: number;
  prefixesReceived: number;
}

/** The route of an AddPath call: an originated prefix (origination is all the API offers). */
export type PathInput = Originate;

/** Fields that need a new Rib or listener: a reload refuses to change them. */
const RESTART_FIELDS = ['asNumber', 'routerId', 'role', 'clusterId', 'multipath', 'alwaysCompareMed', 'defaultLocalPref', 'listen', 'listenPort'] as const;

/** The first non-loopback IPv4 address of the host, for the router id. */
function hostIpv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export function resolveRouterId(c: BgpConfig, nodeIp?: string): string {
  return c.routerId ?? (nodeIp !== undefined && isIPv4(nodeIp) ? nodeIp : undefined) ?? hostIpv4() ?? '127.0.0.1';
}

const toOriginate = (o: OriginateSpec): Originate => {
  const r: Originate = { prefix: o.prefix };
  if (o.nextHop !== undefined) r.nextHop = o.nextHop;
  if (o.communities !== undefined) r.communities = o.communities;
  if (o.largeCommunities !== undefined) r.largeCommunities = o.largeCommunities;
  if (o.med !== undefined) r.med = o.med;
  if (o.localPref !== undefined) r.localPref = o.localPref;
  return r;
};

const familyKeys = (c: PeerConfig): number[] => [...(c.families ?? [IPV4_UNICAST, IPV6_UNICAST])];

export class Speaker extends EventEmitter {
  readonly rib: Rib;
  readonly sessions: SessionManager;
  /** BFD sessions of the peers that ask for it (RFC 5882 §4.3). */
  readonly bfd: SpeakerBfd;
  readonly routerId: string;
  private cfg: BgpConfig;
  private readonly log: Logger;
  /** Set when this speaker made the socket-option transport (TCP MD5, GTSM) and must close it. */
  private readonly sockopt: SockoptTransport | null;
  private readonly peers = new Map<string, PeerEntry>();
  private readonly byId = new Map<number, PeerEntry>();
  /** Our routes by prefix: from the config file and from the API (the API's wins while present). */
  private readonly own = new Map<string, { config?: Originate; api?: Originate }>();
  /** originateBulk entries in force, by their JSON. */
  private bulk = new Set<string>();
  private started = false;
  private totals = { prefixesReceived: 0 };

  constructor(o: SpeakerOptions) {
    super();
    this.cfg = o.config;
    this.log = o.log ?? logger('bgp-speaker');
    this.routerId = resolveRouterId(o.config, o.nodeIp);
    const mp = multipathOf(o.config);
    const routerIdNum = parseDotted(this.routerId) >>> 0;
    this.rib = new Rib({
      localAs: o.config.asNumber,
      routerId: routerIdNum,
      ...(o.config.clusterId !== undefined ? { clusterId: parseDotted(o.config.clusterId) >>> 0 } : {}),
      role: o.config.role,
      multipath: mp,
      policies: new PolicyTable(o.config.policies),
      alwaysCompareMed: o.config.alwaysCompareMed,
      defaultLocalPref: o.config.defaultLocalPref,
      // RFC 7313 §4: the EoRR wait is the graceful-restart stale time.
      refreshStaleMs: o.config.gracefulRestart.staleTime * 1000,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.ribReserve ? { reserve: o.ribReserve } : {}),
      logger: this.log.child({ part: 'rib' }),
    });
    const listen = listenOf(o.config);
    this.sockopt = o.transport ? null : socketOptionTransport(this.log);
    const transport = o.transport ?? this.sockopt ?? undefined;
    this.sessions = new SessionManager({
      rib: this.ribPort(),
      port: listen.port,
      bind: listen.addresses,
      ...(transport ? { transport } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      resolvePeer: (addr) => this.resolveDynamic(addr),
      log: this.log.child({ part: 'sessions' }),
    });
    this.bfd = new SpeakerBfd({
      bind: listen.addresses,
      ...(o.bfdPort !== undefined ? { port: o.bfdPort } : {}),
      ...(o.bfdPeerPort !== undefined ? { peerPort: o.bfdPeerPort } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      log: this.log.child({ part: 'bfd' }),
      onDown: (address, t) => this.onBfdDown(address, t.diagName),
    });
    // The transport keeps the MD5 keys and TTL floors of the manager's peers in step with them.
    if (transport instanceof SockoptTransport) transport.follow(this.sessions);
    this.sessions.on('peer-state', (t: Transition) => this.onTransition(t));
    this.sessions.on('peer-added', (a: { address: string }) => {
      // A dynamic neighbour: resolveDynamic answered, the manager made its session.
      const p = this.pendingDynamic;
      if (p === null || p.address !== a.address) return;
      this.pendingDynamic = null;
      this.entry(a.address, 'dynamic', p.spec, p.cfg, this.sessions.get(a.address)!, p.index);
      this.log.info({ peer: a.address, range: this.cfg.dynamicNeighbors[p.index]?.prefix }, 'dynamic neighbour accepted');
    });
  }

  get config(): BgpConfig {
    return this.cfg;
  }

  // ---- life ----

  /** Loads our routes, opens the listener, starts the configured peers. */
  async start(): Promise<void> {
    // Our routes are in the RIB before any session can send its initial dump and End-of-RIB:
    // a peer that kept them across our restart (graceful restart) sweeps what that dump lacks.
    this.applyOriginate(this.cfg);
    await this.sessions.start();
    this.started = true;
    this.cfg.peers.forEach((p, i) => this.addEntry(p, 'config', `peers[${i}]`));
  }

  /** Listener addresses actually bound. */
  listening(): { address: string; port: number }[] {
    return this.sessions.listening();
  }

  /** Administrative shutdown: Cease / Administrative Shutdown (RFC 8203 message) to every peer. */
  async stop(message = 'shutting down'): Promise<void> {
    for (const e of this.peers.values()) if (e.removal) clearTimeout(e.removal);
    // BFD AdminDown first: the neighbours then leave the session to BGP (RFC 5882 §3.2).
    await this.bfd.stop();
    await this.sessions.stop(message);
    this.sockopt?.close();
  }

  /**
   * Stop for a restart (SIGTERM): sessions that negotiated graceful restart are closed without a
   * NOTIFICATION (RFC 4724 §4.1), so those peers keep our routes as stale for our Restart Time
   * and forward meanwhile; the restarted process re-announces and sends End-of-RIB. Sessions
   * without graceful restart get an administrative Cease, as in stop().
   */
  async closeForRestart(message = 'restarting'): Promise<void> {
    // AdminDown, not silence: a neighbour with BFD must not take a restart for a link failure
    // and drop the routes graceful restart is about to keep.
    await this.bfd.stop();
    for (const e of this.peers.values()) {
      if (e.removal) clearTimeout(e.removal);
      if (e.session.negotiated?.gracefulRestart) e.session.closeForRestart();
      else e.session.stop(message);
    }
    await this.sessions.stop(message);
    this.sockopt?.close();
  }

  /** toPeerConfig, refusing TCP MD5 and GTSM when the socket-option addon is not there. */
  private peerConfig(spec: Parameters<typeof toPeerConfig>[0], root: BgpConfig, field: string): PeerConfig {
    const cfg = toPeerConfig(spec, root, this.routerId, field);
    const secure = this.sessions.transport instanceof SockoptTransport;
    if (!secure && cfg.password !== undefined)
      throw new TernError('TERN_ERR_CONFIG', 'TCP MD5 (RFC 2385) needs the socket-option addon (npm run build:native)', { field: `${field}.password` });
    if (!secure && cfg.ttlSecurity !== undefined)
      throw new TernError('TERN_ERR_CONFIG', 'GTSM (RFC 5082) needs the socket-option addon (npm run build:native)', { field: `${field}.ttlSecurity` });
    return cfg;
  }

  // ---- peers ----

  private ribPort(): RibPort {
    const rib = this.rib;
    return {
      peerUp: (d, wake) => this.onPeerUp(d, wake),
      peerDown: (id, o) => {
        rib.peerDown(id, o);
        const e = this.byId.get(id);
        // A dynamic neighbour exists while it is connected; under graceful restart its stale
        // routes are kept (under this entry's peer id) until it comes back or they expire.
        if (e?.source === 'dynamic') this.scheduleRemoval(e, o.keepStale ? o.staleTimeMs : 0);
      },
      update: (id, scan) => {
        const e = this.byId.get(id);
        if (e?.refused) return { maxPrefixExceeded: false };
        const r = rib.update(id, scan);
        if (e !== undefined) {
          e.received += r.announced;
          this.totals.prefixesReceived += r.announced;
        }
        return r;
      },
      endOfRib: (id, f) => rib.endOfRib(id, f),
      routeRefresh: (id, f, enhanced) => rib.routeRefresh(id, f, enhanced),
      refreshBegin: (id, f) => rib.refreshBegin(id, f),
      refreshEnd: (id, f) => {
        rib.refreshEnd(id, f);
      },
      drainOut: (id, max) => rib.drainOut(id, max),
    };
  }

  private onPeerUp(d: PeerDescriptor, wake: () => void): void {
    const e = this.byId.get(d.id);
    if (e !== undefined) {
      e.received = 0;
      e.refused = false;
      if (e.source === 'dynamic') {
        const dn = this.cfg.dynamicNeighbors[e.dynamicIndex];
        if (dn === undefined || !dynamicAsAllowed(dn, d.peerAs)) {
          // The range admits other ASes only: the session ends once this call returns.
          this.log.warn({ peer: d.address, as: d.peerAs }, 'dynamic neighbour AS outside its range: refused');
          e.refused = true;
          setImmediate(() => this.removeEntry(e.address, 'AS not allowed by the dynamic neighbour range'));
        }
      }
    }
    this.rib.peerUp({ ...d, nextHopSelf: e?.nextHopSelf ?? false, linkLocalNextHop: e?.linkLocalNextHop ?? true }, e?.refused ? () => {} : wake);
  }

  private onTransition(t: Transition): void {
    const e = this.peers.get(t.peer);
    if (e === undefined) return;
    e.since = Date.now();
    e.lastReason = t.reason;
    if (e.source === 'dynamic') {
      if (t.to === 'Established' && e.removal) {
        clearTimeout(e.removal);
        e.removal = null;
      } else if (t.to === 'Idle' && t.from !== 'Established') this.scheduleRemoval(e, 0);
    }
    this.emit('peer', { peer: e, from: t.from, to: t.to, reason: t.reason } satisfies PeerEvent);
  }

  /**
   * BFD says the path to a peer failed: tear the BGP session down now rather than after the
   * Hold Time (RFC 5882 §4.3). The FSM sends Cease / BFD Down (RFC 9384), withdraws the peer's
   * routes (kept stale with `bfd.graceful` under graceful restart) and retries after IdleHold.
   */
  private onBfdDown(address: string, diag: string): void {
    const e = this.peers.get(canonicalAddress(address));
    if (e === undefined || e.session.state === 'Idle') return;
    this.log.warn({ peer: e.address, state: e.session.state, diag }, 'BFD down: closing the BGP session');
    e.session.bfdDown({ graceful: bfdOf(e.spec)?.graceful ?? false });
  }

  private scheduleRemoval(e: PeerEntry, ms: number): void {
    if (e.removal) clearTimeout(e.removal);
    e.removal = setTimeout(() => this.removeEntry(e.address, 'dynamic neighbour gone'), ms);
    e.removal.unref();
  }

  private resolveDynamic(addr: string): PeerConfig | undefined {
    if (!this.started) return undefined;
    const m = matchDynamic(this.cfg, addr);
    if (m === null) return undefined;
    const { prefix: _p, asNumber, asRange: _r, ...rest } = m.d;
    const spec: PeerSpec = { ...rest, address: addr, asNumber: asNumber ?? 0, passive: true };
    let cfg: PeerConfig;
    try {
      cfg = this.peerConfig({ ...spec, asNumber: asNumber ?? 0 }, this.cfg, `dynamicNeighbors[${m.index}]`);
    } catch (e) {
      this.log.warn({ peer: addr, err: (e as Error).message }, 'dynamic neighbour refused');
      return undefined;
    }
    // The manager adds the session right after this returns; the entry is made in onDynamicAdded.
    this.pendingDynamic = { address: canonicalAddress(addr), spec, cfg, index: m.index };
    return cfg;
  }

  private pendingDynamic: { address: string; spec: PeerSpec; cfg: PeerConfig; index: number } | null = null;

  /** Adds a peer from config or the API. Throws TernError naming the field. */
  private addEntry(spec: PeerSpec, source: PeerSource, field: string): PeerEntry {
    const cfg = this.peerConfig(spec, this.cfg, field);
    const address = canonicalAddress(spec.address);
    if (this.peers.has(address)) throw new TernError('TERN_ERR_BGP_SESSION', `${field}.address: peer ${address} exists`, { field: `${field}.address` });
    const session = this.sessions.addPeer(cfg, { start: false });
    const e = this.entry(address, source, spec, cfg, session, -1);
    session.start();
    return e;
  }

  private entry(address: string, source: PeerSource, spec: PeerSpec, cfg: PeerConfig, session: BgpSession, dynamicIndex: number): PeerEntry {
    const e: PeerEntry = {
      address, source, spec, cfg, nextHopSelf: spec.nextHopSelf ?? false, linkLocalNextHop: spec.linkLocalNextHop ?? true, session, received: 0,
      since: Date.now(), lastReason: '', dynamicIndex, removal: null, refused: false,
    };
    this.peers.set(address, e);
    this.byId.set(session.id, e);
    this.bfd.set(address, bfdOf(spec), spec.sourceAddress);
    session.on('notification', (n: { direction: string; code: number; subcode: number }) => this.emit('notification', { peer: e, ...n }));
    return e;
  }

  private removeEntry(address: string, message?: string): boolean {
    const e = this.peers.get(address);
    if (e === undefined) return false;
    if (e.removal) clearTimeout(e.removal);
    this.peers.delete(address);
    this.byId.delete(e.session.id);
    e.session.removeAllListeners('notification');
    this.bfd.set(address, null);
    if (message !== undefined) e.session.stop(message);
    this.sessions.deletePeer(address);
    this.emit('peer', { peer: e, from: e.session.state, to: 'Deleted', reason: 'deleted' } satisfies PeerEvent);
    return true;
  }

  /** A peer added at run time (tern-agentd's peers). Kept across reloads. */
  addPeer(spec: PeerSpec): PeerEntry {
    return this.addEntry(spec, 'api', 'peer');
  }

  /** Changes a peer's settings; the session is kept unless the OPEN or the transport changes. */
  updatePeer(spec: PeerSpec): { entry: PeerEntry; kind: 'same' | 'soft' | 'hard' } {
    const address = canonicalAddress(spec.address);
    const e = this.peers.get(address);
    if (e === undefined) throw new TernError('TERN_ERR_NOT_FOUND', `no peer ${address}`, { field: 'address' });
    const kind = this.applyPeer(e, spec, this.peerConfig(spec, this.cfg, 'peer'));
    return { entry: e, kind };
  }

  deletePeer(address: string, message?: string): boolean {
    return this.removeEntry(canonicalAddress(address), message);
  }

  peer(address: string): PeerEntry | undefined {
    return this.peers.get(canonicalAddress(address));
  }

  listPeers(): PeerEntry[] {
    return [...this.peers.values()];
  }

  /** Accepted paths (Adj-RIB-In after policy) and advertised prefixes of a peer. */
  peerCounts(e: PeerEntry): { accepted: number; advertised: number } {
    const id = e.session.id;
    const s = this.rib.stats().peers.find((p) => p.id === id);
    return { accepted: s?.up ? s.accepted : 0, advertised: this.rib.advertised(id) };
  }

  private applyPeer(e: PeerEntry, spec: PeerSpec, cfg: PeerConfig): 'same' | 'soft' | 'hard' {
    const u = this.sessions.updatePeer(cfg);
    const nhsChanged = (spec.nextHopSelf ?? false) !== e.nextHopSelf || (spec.linkLocalNextHop ?? true) !== e.linkLocalNextHop;
    const bfdChanged = JSON.stringify([bfdOf(e.spec), e.spec.sourceAddress]) !== JSON.stringify([bfdOf(spec), spec.sourceAddress]);
    if (bfdChanged) this.bfd.set(e.address, bfdOf(spec), spec.sourceAddress);
    e.spec = spec;
    e.cfg = cfg;
    e.nextHopSelf = spec.nextHopSelf ?? false;
    e.linkLocalNextHop = spec.linkLocalNextHop ?? true;
    if (u.kind === 'hard') return 'hard';
    if (u.kind === 'soft' || nhsChanged) {
      const s = e.session;
      const r = this.rib.configurePeer(s.id, {
        importPolicies: cfg.importPolicies ?? [],
        exportPolicies: cfg.exportPolicies ?? [],
        maxPrefixes: cfg.maxPrefixes ?? 0,
        routeReflectorClient: cfg.routeReflectorClient ?? false,
        nextHopSelf: e.nextHopSelf,
        linkLocalNextHop: e.linkLocalNextHop,
      });
      // Adj-RIB-In holds routes after import policy: a new policy needs them again (RFC 2918).
      if (r.importChanged) this.refreshIn(e);
      return 'soft';
    }
    return bfdChanged ? 'soft' : 'same';
  }

  /** Asks a peer to send its routes again, every negotiated family. */
  refreshIn(e: PeerEntry): void {
    for (const f of e.session.negotiated?.families ?? familyKeys(e.cfg)) e.session.requestRouteRefresh(f);
  }

  // ---- our routes ----

  /** AddPath: originate a prefix (replaces the API's earlier path for it; wins over the config's). */
  addPath(p: PathInput): void {
    this.rib.originate(p);
    const o = this.own.get(p.prefix) ?? {};
    o.api = p;
    this.own.set(p.prefix, o);
  }

  /** AddPaths: many at once; consecutive paths with the same attributes share one interned set. */
  addPaths(paths: Iterable<PathInput>): number {
    let n = 0;
    let group: PathInput[] = [];
    const flush = (): void => {
      if (group.length === 0) return;
      const { prefix: _p, ...attrs } = group[0]!;
      n += this.rib.originateMany(attrs, group.map((g) => g.prefix));
      for (const g of group) {
        const o = this.own.get(g.prefix) ?? {};
        o.api = g;
        this.own.set(g.prefix, o);
      }
      group = [];
    };
    let key = '';
    for (const p of paths) {
      const { prefix: _p, ...attrs } = p;
      const k = JSON.stringify(attrs);
      if (k !== key || group.length >= 65536) flush();
      key = k;
      group.push(p);
    }
    flush();
    return n;
  }

  /** DeletePath: withdraws the API's path; the config's path for the prefix, if any, comes back. */
  deletePath(prefix: string): boolean {
    const o = this.own.get(prefix);
    if (o?.api === undefined) return false;
    delete o.api;
    if (o.config !== undefined) this.rib.originate(o.config);
    else {
      this.own.delete(prefix);
      this.rib.withdrawOriginated(prefix);
    }
    return true;
  }

  private applyOriginate(c: BgpConfig): void {
    const next = new Map(c.originate.map((o) => [o.prefix, toOriginate(o)]));
    for (const [prefix, o] of this.own) {
      if (o.config === undefined || next.has(prefix)) continue;
      delete o.config;
      if (o.api === undefined) {
        this.own.delete(prefix);
        this.rib.withdrawOriginated(prefix);
      }
    }
    for (const [prefix, r] of next) {
      const o = this.own.get(prefix) ?? {};
      const same = o.config !== undefined && JSON.stringify(o.config) === JSON.stringify(r);
      o.config = r;
      this.own.set(prefix, o);
      if (!same && o.api === undefined) this.rib.originate(r);
    }
    // Bulk ranges are not kept per prefix (that is their point): one entry per range.
    const keys = new Set(c.originateBulk.map((b) => JSON.stringify(b)));
    for (const k of this.bulk) {
      if (keys.has(k)) continue;
      for (const pfx of bulkPrefixes(JSON.parse(k) as BgpConfig['originateBulk'][number])) if (!this.own.has(pfx)) this.rib.withdrawOriginated(pfx);
    }
    for (const b of c.originateBulk) {
      const k = JSON.stringify(b);
      if (this.bulk.has(k)) continue;
      const { from: _f, count: _c, ...attrs } = b;
      const n = this.rib.originateMany(toOriginate({ prefix: b.from, ...attrs }), bulkPrefixes(b));
      this.log.info({ from: b.from, count: n }, 'originated a bulk range');
    }
    this.bulk = keys;
  }

  // ---- reload ----

  /**
   * Applies a new configuration. Peers from the API are kept; config peers are added, deleted or
   * changed, each change classified as the session sees it (soft keeps the session). Changed
   * policy definitions are re-applied: exports at once, imports by ROUTE-REFRESH to the peers
   * using them. Fields that need a new table or listener (RESTART_FIELDS) are refused.
   */
  reload(next: BgpConfig): ReloadResult {
    for (const f of RESTART_FIELDS) {
      if (JSON.stringify(this.cfg[f]) !== JSON.stringify(next[f]))
        throw new TernError('TERN_ERR_CONFIG', `bgp.${f}: changing it needs a restart; the running configuration is kept`, { field: `bgp.${f}` });
    }
    // Validate every peer before touching anything: a reload applies whole or not at all.
    const nextPeers = new Map<string, { spec: PeerSpec; cfg: PeerConfig }>();
    next.peers.forEach((p, i) => nextPeers.set(canonicalAddress(p.address), { spec: p, cfg: this.peerConfig(p, next, `peers[${i}]`) }));
    const prev = this.cfg;
    this.cfg = next;
    const res: ReloadResult = { added: [], deleted: [], changed: [], reset: [] };

    const changedPolicies = diffPolicies(prev.policies, next.policies);
    if (changedPolicies.size > 0) {
      const refresh = this.rib.setPolicies(new PolicyTable(next.policies), changedPolicies);
      for (const id of refresh) {
        const e = this.byId.get(id);
        if (e) this.refreshIn(e);
      }
    }
    for (const [address, e] of [...this.peers]) {
      if (e.source === 'config' && !nextPeers.has(address)) {
        this.removeEntry(address, 'peer removed from the configuration');
        res.deleted.push(address);
      }
    }
    for (const [address, { spec, cfg }] of nextPeers) {
      const e = this.peers.get(address);
      if (e === undefined) {
        const session = this.sessions.addPeer(cfg, { start: false });
        this.entry(address, 'config', spec, cfg, session, -1);
        session.start();
        res.added.push(address);
        continue;
      }
      e.source = 'config';
      const kind = this.applyPeer(e, spec, cfg);
      if (kind !== 'same') res.changed.push(address);
      if (kind === 'hard') res.reset.push(address);
    }
    for (const [address, e] of [...this.peers]) {
      if (e.source !== 'dynamic') continue;
      const m = matchDynamic(next, address);
      if (m === null) {
        this.removeEntry(address, 'dynamic neighbour range removed');
        res.deleted.push(address);
        continue;
      }
      const { prefix: _p, asNumber, asRange: _r, ...rest } = m.d;
      const spec: PeerSpec = { ...rest, address, asNumber: asNumber ?? 0, passive: true };
      e.dynamicIndex = m.index;
      const kind = this.applyPeer(e, spec, this.peerConfig(spec, next, `dynamicNeighbors[${m.index}]`));
      if (kind !== 'same') res.changed.push(address);
      if (kind === 'hard') res.reset.push(address);
    }
    this.applyOriginate(next);
    this.log.info(res, 'configuration reloaded');
    return res;
  }

  // ---- queries ----

  /** Loc-RIB (or one peer's Adj-RIB-In with peerId), optionally one family or one prefix. */
  /**
   * Lists routes; fn returning false stops the walk. Returns where it stopped (pass it as
   * `from` to go on: a page), or null when nothing is left.
   */
  routes(
    o: { family?: 4 | 6; prefix?: string; peerId?: number; limit?: number; from?: RouteCursor },
    fn: (r: RouteEntry) => boolean | void,
  ): RouteCursor | null {
    if (o.prefix !== undefined) {
      const r = this.rib.route(o.prefix, o.peerId);
      if (r !== null) fn(r);
      return null;
    }
    let n = 0;
    const limit = o.limit ?? 0;
    return this.rib.forEachRoute(
      (r) => fn(r) !== false && (limit === 0 || ++n < limit),
      { ...(o.family !== undefined ? { family: o.family } : {}), ...(o.peerId !== undefined ? { peerId: o.peerId } : {}), ...(o.from !== undefined ? { from: o.from } : {}) },
    );
  }

  adjOut(
    peerId: number, o: { family?: 4 | 6; prefix?: string; limit?: number; from?: RouteCursor }, fn: (e: AdjOutEntry) => boolean | void,
  ): RouteCursor | null {
    let n = 0;
    const limit = o.limit ?? 0;
    return this.rib.forEachAdjOut(
      peerId,
      (e) => fn(e) !== false && (limit === 0 || ++n < limit),
      { ...(o.family !== undefined ? { family: o.family } : {}), ...(o.prefix !== undefined ? { prefix: o.prefix } : {}), ...(o.from !== undefined ? { from: o.from } : {}) },
    );
  }

  /** The address of a peer id (LOCAL_PEER and unknown ids give ''). */
  peerAddress(id: number | null): string {
    if (id === null || id === LOCAL_PEER) return '';
    return this.byId.get(id)?.address ?? '';
  }

  /** Best-path changes; the listener is called once per processed UPDATE with what it changed. */
  watchBest(fn: (events: BestPathEvent[]) => void): () => void {
    return this.rib.onBestChange(fn);
  }

  snapshot(): BestPathEvent[] {
    return this.rib.snapshot();
  }

  stats(): SpeakerStats {
    const r = this.rib.stats();
    let est = 0;
    let inU = 0;
    let outU = 0;
    for (const e of this.peers.values()) {
      if (e.session.state === 'Established') est++;
      inU += e.session.counters.messagesIn.update;
      outU += e.session.counters.messagesOut.update;
    }
    return {
      peers: this.peers.size,
      established: est,
      ipv4Prefixes: r.ipv4Prefixes,
      ipv6Prefixes: r.ipv6Prefixes,
      paths: r.paths,
      attributeSets: r.attributeSets,
      bestPathChanges: this.rib.bestChanges,
      updatesIn: inU,
      updatesOut: outU,
      prefixesReceived: this.totals.prefixesReceived,
    };
  }
}

/** Names of policies added, removed or changed between two configurations. */
function diffPolicies(a: readonly PolicyConfig[], b: readonly PolicyConfig[]): Set<string> {
  const am = new Map(a.map((p) => [p.name, JSON.stringify(p)]));
  const bm = new Map(b.map((p) => [p.name, JSON.stringify(p)]));
  const out = new Set<string>();
  for (const [n, v] of am) if (bm.get(n) !== v) out.add(n);
  for (const n of bm.keys()) if (!am.has(n)) out.add(n);
  return out;
}

/**
 * The socket-option transport when the addon is built: every session then can use TCP MD5 and
 * GTSM, including peers added later over gRPC. Without the addon, plain TCP (and such peers are
 * refused with a message saying how to build it).
 */
function socketOptionTransport(log: Logger): SockoptTransport | null {
  try {
    loadSockopt();
    return new SockoptTransport({ log: log.child({ part: 'sockopt' }) });
  } catch (e) {
    log.info({ reason: (e as Error).message }, 'TCP MD5 and GTSM unavailable');
    return null;
  }
}
