// The node agent's engine: the keyed view (updates.ts), the calculation (calc.ts) and the
// three writers it drives — RouteManager (kernel routes, protocol 44), PolicyDataplane (table
// inet tern) and BgpdClient (sessions and originated paths in bgpd). Felix's shape: update()
// records and marks dirty; one throttled flush per burst recomputes only what is dirty and
// hands each writer its whole desired state (they diff against the kernel themselves).
//
// Restart without disturbance: the kernel's protocol-44 routes are read before anything is
// written. Local and blackhole routes are adopted by the route manager as they are; routes via
// other nodes are taken into the remote table as stale, so they stay desired until bgpd has
// answered (snapshot) and its sessions have converged. Nothing is deleted before every etcd
// prefix has been listed once. The nftables table is replaced atomically (one transaction), so
// its rules never disappear in between either.
import type { Etcd3 } from 'etcd3';
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import { Dataplane as CniDataplane, limitedRunner, type VethPlan } from '../cni/index.js';
import { PolicyDataplane } from '../policy/dataplane.js';
import { PolicyInputs } from '../policy/inputs.js';
import type { DesiredState } from '../policy/model.js';
import { buildTable, ruleCount } from '../policy/render.js';
import { readKernelRoutes, RouteManager, TERN_ROUTE_PROTOCOL, type RouteSpec } from '../routes/index.js';
import { BgpdClient, type BestPathUpdate } from '../bgp/client.js';
import type { DesiredPath } from '../bgp/paths.js';
import type { DesiredPeer, PeerProblem } from '../bgp/peers.js';
import { RemoteRoutes } from '../bgp/remote.js';
import { fileSecretResolver } from '../bgp/secrets.js';
import type { Keys } from '../../datastore/keys.js';
import type { Logger } from '../../log/index.js';
import { bgpDesired, desiredRoutes, nodeIps, routeFor, routeText, type NodeIps } from './calc.js';
import { agentMetrics, type AgentMetrics } from './metrics.js';
import { AgentState, type AgentUpdate, type Dirty } from './updates.js';
import { startWatchers, type Watchers } from './watch.js';
import type { ServiceProxyHook, ServiceProxyStatus } from './proxy-hook.js';

export interface AgentOptions {
  nodeName: string;
  nodeIP?: string | undefined;
  /** etcd: the agent lists and watches it. Absent: updates come only through update() (tests). */
  etcd?: { client: Etcd3; keys: Keys };
  /** "" or absent: no bgpd. */
  bgpdSocket?: string | undefined;
  netns?: string | undefined;
  resyncMs?: number;
  coalesceMs?: number;
  policy?: { enabled?: boolean; table?: string; verifyEachApply?: boolean };
  secretDir?: string | undefined;
  staleGraceMs?: number;
  staleSettleMs?: number;
  registry?: Registry;
  log: Logger;
  /** Route monitor (default on). */
  monitor?: boolean;
  /** The service proxy, when enabled (see proxy-hook.ts). */
  proxy?: ServiceProxyHook | undefined;
}

export interface AgentStatus {
  node: string;
  ready: boolean;
  synced: boolean;
  nodeIps: NodeIps;
  blocks: { cidr: string; allocated: number | undefined }[];
  localEndpoints: number;
  routesOwned: number;
  remoteRoutes: number;
  staleRemoteRoutes: number;
  policies: number;
  nftRules: number;
  /** Times the policy table was found changed by someone else and replaced. */
  policyDriftRepairs: number;
  bgpdConnected: boolean;
  peersDesired: number;
  pathsOriginated: number;
  routeFailures: number;
  problems: string[];
  lastSync: string;
  /** Present when the service proxy is on. */
  proxy?: ServiceProxyStatus;
}

export class Agent {
  readonly state: AgentState;
  private readonly policyInputs: PolicyInputs;
  readonly routes: RouteManager;
  private policy: PolicyDataplane | undefined;
  private readonly policyOpts: { table: string; verify: boolean; netns?: string };
  readonly bgpd: BgpdClient | undefined;
  private readonly remote = new RemoteRoutes();
  private readonly metrics: AgentMetrics | undefined;
  private readonly secret: (name: string, key: string) => string | undefined;
  private watchers: Watchers | undefined;

  private dirty: Dirty = { routes: true, policy: true, bgp: true };
  private timer: { kind: 'timeout'; t: NodeJS.Timeout } | { kind: 'immediate'; t: NodeJS.Immediate } | undefined;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private etcdSynced: boolean;
  private bgpdStarted = false;
  private routesComplete = false;
  private readyFlag = false;
  private firstApply = { routes: false, policy: false };
  private appliedRoutes = new Map<string, string>();
  /** The node addresses the applied routes were computed with (they filter remote next hops). */
  private routesIps = '';
  private policyState: DesiredState | undefined;
  private policyRunning: Promise<void> | undefined;
  private policyAgain = false;
  private policyRules = { state: undefined as DesiredState | undefined, count: 0 };
  private bgp: { peers: Map<string, DesiredPeer>; paths: Map<string, DesiredPath>; problems: PeerProblem[] } = { peers: new Map(), paths: new Map(), problems: [] };
  private ips: NodeIps = { all: [] };
  private convergeTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private policyDriftRepairs = 0;
  private lastSync = '';
  private stopped = false;
  private readonly cniPendingTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: AgentOptions) {
    this.state = new AgentState(opts.nodeName);
    // The agent never runs the reference calculation: no second keyed copy of every resource.
    this.policyInputs = new PolicyInputs(opts.nodeName, { snapshot: false });
    this.etcdSynced = !opts.etcd;
    this.routes = new RouteManager({
      ...(opts.netns ? { netns: opts.netns } : {}),
      coalesceMs: 1,
      resyncIntervalMs: opts.resyncMs ?? 30_000,
      monitor: opts.monitor ?? true,
    });
    const pol = opts.policy ?? {};
    this.policyOpts = { table: pol.table ?? 'tern', verify: pol.verifyEachApply ?? false, ...(opts.netns ? { netns: opts.netns } : {}) };
    if (pol.enabled ?? true) this.policy = new PolicyDataplane(this.policyOpts);
    this.secret = fileSecretResolver(opts.secretDir);
    if (opts.bgpdSocket) {
      this.bgpd = new BgpdClient({ socket: opts.bgpdSocket, log: opts.log.child({ component: 'bgpd-client' }), onBestPath: (u) => this.onBestPath(u) });
    }
    if (opts.registry) {
      this.metrics = agentMetrics(opts.registry);
      const self = this;
      // Counting rules renders the table; done when scraped, not per apply.
      new Gauge({ name: 'tern_agent_nft_rules', help: 'Rules in the policy table as last applied', registers: [opts.registry], collect() { this.set(self.nftRuleCount()); } });
    }
  }

  get ready(): boolean {
    return this.readyFlag;
  }

  /** A dataplane for CniHandler that tells the agent about veths before their endpoint is in etcd. */
  cniDataplane(maxParallel = 4): CniDataplane {
    const agent = this;
    return new (class extends CniDataplane {
      override async createVeth(p: VethPlan): Promise<void> {
        await super.createVeth(p);
        agent.cniVethCreated(p.hostIface, [p.ipv4, p.ipv6].filter((x): x is string => !!x));
      }
    })(limitedRunner(maxParallel));
  }

  private cniVethCreated(iface: string, ips: string[]): void {
    // The ADD writes the endpoint right after; until the watch delivers it these routes are
    // desired, or the route monitor would see CNI's routes as drift and the resync delete them.
    this.update({ kind: 'cni-veth', iface, ips });
    clearTimeout(this.cniPendingTimers.get(iface));
    const t = setTimeout(() => {
      this.cniPendingTimers.delete(iface);
      this.update({ kind: 'cni-veth', iface, ips: null });
    }, 60_000);
    t.unref();
    this.cniPendingTimers.set(iface, t);
  }

  async start(): Promise<void> {
    // Remote routes already in the kernel (an earlier agent's) stay until bgpd confirms them.
    for (const fam of [4, 6] as const) {
      const d = await readKernelRoutes(this.opts.netns, fam);
      for (const r of d.routes) {
        if (r.protocol !== TERN_ROUTE_PROTOCOL || r.table !== 254 || r.kind !== 'via') continue;
        const nh = r.nexthops.map((n) => n.via).filter((v): v is string => !!v);
        if (nh.length === 0) continue;
        this.remote.seed(r.dst, nh);
        this.update({ kind: 'remote', prefix: r.dst, nextHops: nh });
      }
    }
    const first = await this.routes.start();
    this.metrics?.resyncs.inc({ dataplane: 'routes' });
    this.opts.log.info({ remoteAdopted: this.remote.size, unchanged: first.unchanged }, 'route manager started; kernel routes adopted');
    // The bgpd client starts at the first flush, once etcd is listed: on connect it reconciles
    // bgpd with the desired set, and an empty one would delete the sessions and paths an earlier
    // agent left there (a restart would then withdraw this node's blocks).
    await this.opts.proxy?.start();
    this.resyncTimer = setInterval(() => {
      void this.policyResync();
      void this.opts.proxy?.resync();
    }, this.opts.resyncMs ?? 30_000);
    this.resyncTimer.unref();
    if (this.opts.etcd) {
      this.watchers = startWatchers({
        client: this.opts.etcd.client,
        keys: this.opts.etcd.keys,
        nodeName: this.opts.nodeName,
        log: this.opts.log,
        onUpdates: (us) => {
          for (const u of us) this.update(u);
        },
        onSynced: () => {
          if (!this.etcdSynced) this.opts.log.info('every etcd prefix listed; desired state complete');
          this.etcdSynced = true;
          this.schedule();
        },
      });
    }
    this.schedule();
  }

  /** Records one update (Felix's OnUpdate): nothing is computed or written here. */
  update(u: AgentUpdate): void {
    const r = this.state.apply(u);
    if (r.policy) this.policyInputs.apply(r.policy);
    const proxyDirty = this.opts.proxy?.onUpdate(u) ?? false;
    this.metrics?.updates.inc({ kind: u.kind });
    if (u.kind === 'endpoint' && u.endpoint?.spec.interfaceName && this.cniPendingTimers.has(u.endpoint.spec.interfaceName)) {
      const iface = u.endpoint.spec.interfaceName;
      clearTimeout(this.cniPendingTimers.get(iface));
      this.cniPendingTimers.delete(iface);
      this.state.apply({ kind: 'cni-veth', iface, ips: null });
    }
    this.dirty = { routes: this.dirty.routes || r.dirty.routes, policy: this.dirty.policy || r.dirty.policy, bgp: this.dirty.bgp || r.dirty.bgp };
    if (r.dirty.routes || r.dirty.policy || r.dirty.bgp || proxyDirty) this.schedule();
  }

  /** Also marks everything dirty (a full recomputation at the next flush). */
  markAllDirty(): void {
    this.dirty = { routes: true, policy: true, bgp: true };
    this.schedule();
  }

  /**
   * The flush runs once the current batch of events has been recorded (setImmediate), or
   * coalesceMs later when that is set. Updates that arrive while a flush runs are taken by the
   * next one, so a burst still costs one flush per watch response, and a lone pod does not wait
   * out a timer (that timer was most of a route's latency).
   */
  private schedule(): void {
    if (this.stopped || this.timer) return;
    const run = (): void => {
      this.timer = undefined;
      this.flush().catch((e: unknown) => this.opts.log.error({ err: (e as Error).message }, 'apply failed'));
    };
    const ms = this.opts.coalesceMs ?? 0;
    this.timer = ms > 0 ? { kind: 'timeout', t: setTimeout(run, ms) } : { kind: 'immediate', t: setImmediate(run) };
  }

  private clearSchedule(): void {
    if (this.timer?.kind === 'timeout') clearTimeout(this.timer.t);
    else if (this.timer?.kind === 'immediate') clearImmediate(this.timer.t);
    this.timer = undefined;
  }

  /** Applies what is dirty now (after a flush in flight). */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await this.flushOnce();
      } while (this.flushAgain && !this.stopped);
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    // Before every prefix is listed the view is partial: a partial view would delete routes
    // and open or close policy holes that the full one does not.
    if (!this.etcdSynced || this.stopped) return;
    const dirty = this.dirty;
    this.dirty = { routes: false, policy: false, bgp: false };
    this.ips = nodeIps(this.state, this.opts.nodeIP);
    // Routes go first: their lines reach `ip` (its stdin) in this tick, before the policy
    // calculation (synchronous, in a later tick) and the BGP calculation run, so neither holds a
    // pod's route back. The policy transaction does not wait for ip's answer either.
    let routesDone: Promise<void> | undefined;
    if (dirty.routes) {
      this.applyRoutes();
      const t0 = process.hrtime.bigint();
      routesDone = this.routes.apply().then(
        () => undefined,
        (e: unknown) => {
          this.metrics?.failures.inc({ dataplane: 'routes' });
          this.opts.log.error({ err: (e as Error).message }, 'route apply failed; the route manager retries at its next resync');
        },
      ).finally(() => {
        this.metrics?.programming.observe({ dataplane: 'routes' }, Number(process.hrtime.bigint() - t0) / 1e9);
        this.firstApply.routes = true;
      });
    }
    if (dirty.policy && this.policy) {
      this.policyInputs.apply({ kind: 'node-ips', ips: this.ips.all });
      this.kickPolicy();
    } else if (!this.policy) this.firstApply.policy = true;
    if (dirty.bgp || !this.bgpdStarted) this.applyBgp();
    await routesDone;
    // The proxy's own inputs know what changed; one transaction per batch.
    if (this.opts.proxy) void this.opts.proxy.kick().then(() => this.maybeReady());
    this.metrics?.localEndpoints.set(this.state.localEndpointCount);
    this.metrics?.routesOwned.set(this.appliedRoutes.size);
    this.metrics?.remoteRoutes.set(this.remote.size);
    this.maybeReady();
  }

  private applyRoutes(): void {
    const touched = this.state.takeTouched();
    const ipsKey = this.ips.all.join(',');
    if (!this.routesComplete) {
      const next = desiredRoutes(this.state, this.ips);
      this.routes.setDesired(next.values());
      this.routesComplete = true;
      this.routesIps = ipsKey;
      this.appliedRoutes = new Map([...next].map(([k, r]) => [k, routeText(r)]));
      return;
    }
    if (ipsKey !== this.routesIps) {
      // The node's addresses filter every remote next hop: recompute every destination.
      this.routesIps = ipsKey;
      const next = desiredRoutes(this.state, this.ips);
      const seen = new Map<string, string>();
      for (const [k, r] of next) {
        const t = routeText(r);
        seen.set(k, t);
        if (this.appliedRoutes.get(k) !== t) this.routes.upsert(r);
      }
      for (const k of this.appliedRoutes.keys()) if (!seen.has(k)) this.routes.delete({ dst: k });
      this.appliedRoutes = seen;
      return;
    }
    // Only destinations an update touched can have changed (routeFor = desiredRoutes per key).
    for (const dst of touched) {
      const r = routeFor(this.state, this.ips, dst);
      const was = this.appliedRoutes.get(dst);
      if (!r) {
        if (was !== undefined) {
          this.appliedRoutes.delete(dst);
          this.routes.delete({ dst });
        }
        continue;
      }
      const t = routeText(r);
      if (was === t) continue;
      this.appliedRoutes.set(dst, t);
      this.routes.upsert(r);
    }
  }

  private applyBgp(): void {
    this.bgp = bgpDesired(this.state, this.ips, this.secret);
    this.metrics?.bgpPeers.set(this.bgp.peers.size);
    this.metrics?.pathsOriginated.set(this.bgp.paths.size);
    this.bgpd?.setDesired(this.bgp.peers, this.bgp.paths);
    if (!this.bgpdStarted) {
      this.bgpdStarted = true;
      this.bgpd?.start();
    }
  }

  private kickPolicy(): void {
    if (this.policyRunning) {
      this.policyAgain = true;
      return;
    }
    this.policyRunning = (async () => {
      // Let the flush that kicked this finish (and its I/O callbacks run) first.
      await new Promise<void>((r) => setImmediate(r));
      do {
        this.policyAgain = false;
        await this.applyPolicyOnce();
      } while (this.policyAgain && !this.stopped);
    })().finally(() => {
      this.policyRunning = undefined;
      this.maybeReady();
    });
  }

  private async applyPolicyOnce(): Promise<void> {
    if (!this.policy || !this.policyInputs.dirty) return;
    const t0 = process.hrtime.bigint();
    // Incremental: only what the updates since the last apply touched is recomputed.
    const desired = this.policyInputs.desired();
    try {
      const r = await this.policy.apply(desired);
      this.policyState = desired;
      if (r.mode !== 'noop') this.metrics?.programming.observe({ dataplane: 'policy' }, Number(process.hrtime.bigint() - t0) / 1e9);
      if (r.errors.length > 0) this.opts.log.warn({ errors: r.errors.slice(0, 5), count: r.errors.length }, 'some policies could not be rendered (their pods stay isolated)');
      this.firstApply.policy = true;
      this.lastSync = new Date().toISOString();
    } catch (e) {
      this.metrics?.failures.inc({ dataplane: 'policy' });
      this.opts.log.error({ err: (e as Error).message }, 'policy apply failed; retrying at the next change or resync');
      // desired() cleared the dirty mark: set it again so the next change or resync retries.
      this.policyInputs.apply({ kind: 'node-ips', ips: this.ips.all });
    }
  }

  /** Periodic drift check of the nftables table: any difference is repaired by an atomic replace. */
  private async policyResync(): Promise<void> {
    if (!this.policy || !this.policyState || this.policyRunning || this.stopped) return;
    this.metrics?.resyncs.inc({ dataplane: 'policy' });
    try {
      const drift = await this.policy.check(this.policyState);
      if (drift.length === 0) return;
      this.opts.log.warn({ drift: drift.slice(0, 5), count: drift.length }, 'nftables table drifted; replacing it');
      this.policyDriftRepairs++;
      this.metrics?.driftRepairs.inc({ dataplane: 'policy' });
      await this.repairPolicy();
    } catch (e) {
      this.opts.log.error({ err: (e as Error).message }, 'policy drift check failed');
    }
  }

  /** A fresh dataplane knows nothing applied, so its first apply is a full atomic replace. */
  async repairPolicy(): Promise<void> {
    if (!this.policy || !this.policyState) return;
    const state = this.policyState;
    this.policy = new PolicyDataplane(this.policyOpts);
    this.policyRunning = this.policy.apply(state).then(
      () => undefined,
      (e: unknown) => {
        this.metrics?.failures.inc({ dataplane: 'policy' });
        this.opts.log.error({ err: (e as Error).message }, 'policy repair failed');
      },
    );
    await this.policyRunning;
    this.policyRunning = undefined;
  }

  /** Resolves when the last recorded update has reached the kernel (routes and policy) and bgpd. */
  async settled(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.timer) await new Promise((r) => setTimeout(r, (this.opts.coalesceMs ?? 0) + 1));
      if (this.flushing) await this.flushing;
      if (this.policyRunning) await this.policyRunning;
      await this.routes.settled();
      await this.opts.proxy?.settled();
      if (!this.timer && !this.flushing && !this.policyRunning) break;
    }
    await this.bgpd?.flushed();
  }

  private maybeReady(): void {
    if (this.readyFlag || !this.etcdSynced || !this.firstApply.routes || !this.firstApply.policy) return;
    if (this.opts.proxy && !this.opts.proxy.ready) return;
    this.readyFlag = true;
    this.lastSync = new Date().toISOString();
    this.opts.log.info({ routes: this.appliedRoutes.size, endpoints: this.state.localEndpointCount }, 'first full sync applied; ready');
  }

  // --- bgpd ------------------------------------------------------------------------------------

  private onBestPath(u: BestPathUpdate): void {
    this.remote.apply(u);
    this.metrics?.bgpdConnected.set(this.bgpd?.connected ? 1 : 0);
    switch (u.type) {
      case 'upsert':
        this.update({ kind: 'remote', prefix: u.prefix, nextHops: u.nextHops });
        return;
      case 'withdraw':
        this.update({ kind: 'remote', prefix: u.prefix, nextHops: [] });
        return;
      case 'snapshot-end':
        this.opts.log.info({ remote: this.remote.size, stale: this.remote.staleCount }, 'bgpd best-path snapshot complete');
        this.waitConvergence(Date.now());
        return;
      case 'connected':
      case 'disconnected':
        clearTimeout(this.convergeTimer);
        return;
      default: {
        const never: never = u;
        throw new Error(`unhandled ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Stale remote routes go once bgpd's sessions have converged: every session Established for
   * staleSettleMs (long enough for the peers' UPDATEs and End-of-RIB), or the grace period is
   * over (RFC 4724's restart time: a peer that has not come back by then is gone).
   */
  private waitConvergence(since: number): void {
    clearTimeout(this.convergeTimer);
    if (this.remote.staleCount === 0) return;
    const grace = this.opts.staleGraceMs ?? 120_000;
    const settle = this.opts.staleSettleMs ?? 3000;
    const check = async (): Promise<void> => {
      if (this.stopped || !this.remote.snapshotComplete) return;
      let converged = Date.now() - since >= grace;
      if (!converged) {
        try {
          const peers = await this.bgpd!.listPeers();
          converged = peers.every((p) => p.state === 'Established' && p.uptimeSeconds * 1000 >= settle);
        } catch {
          converged = false;
        }
      }
      if (!this.remote.snapshotComplete) return;
      if (converged) {
        const gone = this.remote.sweepStale();
        if (gone.length > 0) this.opts.log.info({ count: gone.length }, 'stale remote routes dropped: bgpd converged without them');
        for (const p of gone) this.update({ kind: 'remote', prefix: p, nextHops: [] });
        return;
      }
      this.convergeTimer = setTimeout(() => void check(), 500);
      this.convergeTimer.unref();
    };
    void check();
  }

  // --- status ----------------------------------------------------------------------------------

  private nftRuleCount(): number {
    const s = this.policyState;
    if (!s) return 0;
    if (this.policyRules.state !== s) this.policyRules = { state: s, count: ruleCount(buildTable(s, { table: this.policyOpts.table })) };
    return this.policyRules.count;
  }

  status(): AgentStatus {
    const blocks = [...this.state.affinities].sort().map((cidr) => ({ cidr, allocated: this.state.blocks.get(cidr)?.allocated }));
    const problems = [
      ...this.bgp.problems.map((p) => `${p.source}: ${p.message}`),
      ...[...(this.bgpd?.rejectedPeers.keys() ?? [])].map((a) => `bgpd refused peer ${a}`),
      ...this.routes.failures().slice(0, 10).map((f) => `route ${f.route}: ${f.message}`),
      ...this.routes.conflicts().slice(0, 10).map((c) => `route conflict: ${c.desired} vs ${c.foreign}`),
      ...(this.policyState?.errors ?? []).slice(0, 10).map((e) => `policy ${e.policy ?? e.endpoint ?? ''}: ${e.message}`),
    ];
    const proxy = this.opts.proxy?.status();
    if (proxy) problems.push(...proxy.problems.map((p) => `service proxy ${p}`));
    return {
      node: this.opts.nodeName,
      ready: this.readyFlag,
      synced: this.etcdSynced,
      nodeIps: this.ips,
      blocks,
      localEndpoints: this.state.localEndpointCount,
      routesOwned: this.appliedRoutes.size,
      remoteRoutes: this.remote.size,
      staleRemoteRoutes: this.remote.staleCount,
      policies: this.state.policies.size,
      nftRules: this.nftRuleCount(),
      policyDriftRepairs: this.policyDriftRepairs,
      bgpdConnected: this.bgpd?.connected ?? false,
      peersDesired: this.bgp.peers.size,
      pathsOriginated: this.bgp.paths.size,
      routeFailures: this.routes.failures().length,
      problems,
      lastSync: this.lastSync,
      ...(proxy ? { proxy } : {}),
    };
  }

  /** Stops watching and writing; every route and rule stays in the kernel. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearSchedule();
    clearTimeout(this.convergeTimer);
    clearInterval(this.resyncTimer);
    for (const t of this.cniPendingTimers.values()) clearTimeout(t);
    await this.watchers?.stop();
    await this.bgpd?.stop();
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.policyRunning) await this.policyRunning.catch(() => undefined);
    await this.routes.close();
    await this.opts.proxy?.stop();
  }
}

export type { RouteSpec };
