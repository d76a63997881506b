// RouteManager: the one writer of Tern's routes in one network namespace.
//
// Felix's shape: updates only record desired state and mark keys dirty; apply() diffs the
// dirty keys against the kernel and writes the minimal change in one batch; bursts of updates
// within `coalesceMs` become one apply. The kernel is read in full (Tern's routes and, for
// conflict detection, everyone else's on the same prefixes) at start, on every periodic
// resync, and whenever the monitor shows a change Tern did not make; between reads the manager
// keeps what it read plus what it wrote successfully, so an apply of one route costs one
// netlink write, not a dump of ten thousand routes.
//
// Restart: a new manager reads the kernel before writing anything, so routes that already
// match are adopted with zero writes, and Tern routes that are not (yet) desired are kept until
// the owner says the desired state is complete (setDesired() or markSynced()): an agent that
// restarts and rebuilds its state from etcd never withdraws a pod's route in between.
// close() leaves every route in place.
import { isIP } from 'node:net';
import { TernError } from '../../errors/index.js';
import { logger } from '../../log/index.js';
import type { Family } from '../../net/ip.js';
import { classifyError, encodeOp, type MonitorEvent } from './codec.js';
import { buildView, planRoutes, type KernelView } from './diff.js';
import { createProgrammer, readKernelRoutes, type ProgrammerMode, type RouteProgrammer } from './ip.js';
import {
  MAIN_TABLE,
  TERN_ROUTE_PROTOCOL,
  asKernelRoute,
  defaultMetric,
  describeRoute,
  dstKey,
  normalizeRoute,
  routeKey,
  sameKernelRoute,
  type KernelRoute,
  type NormalRoute,
  type RouteKey,
  type RouteSpec,
} from './model.js';
import { RouteMonitor } from './monitor.js';

const log = logger('routes');

/** Chosen by bench/routes.ts: see README.md. */
export const DEFAULT_PROGRAMMER: ProgrammerMode = 'persistent';

export interface RouteManagerOptions {
  /** Network namespace (`ip -n`); the process's own namespace when absent. */
  netns?: string;
  /** Routing tables Tern owns routes in; only these are read and written. Default [254]. */
  tables?: readonly number[];
  /** How routes are written; default DEFAULT_PROGRAMMER. A RouteProgrammer instance is used as is (and closed by close()). */
  programmer?: ProgrammerMode | RouteProgrammer;
  /** Updates within this window become one apply. Default 10 ms. */
  coalesceMs?: number;
  /** Full read-diff-repair period; 0 disables. Default 30 s. */
  resyncIntervalMs?: number;
  /** Watch `ip monitor route link` and resync on changes Tern did not make. Default true. */
  monitor?: boolean;
  /** Read the whole kernel table before every apply instead of trusting what was read and written since. Default false. */
  readBeforeApply?: boolean;
  /** Address families to manage. Default both. */
  families?: readonly Family[];
}

export interface RouteFailure {
  key: RouteKey;
  route: string;
  op: 'add' | 'replace' | 'delete';
  message: string;
}

export interface RouteConflict {
  key: RouteKey;
  /** The route Tern wants. */
  desired: string;
  /** The route of another protocol on the same table and prefix. */
  foreign: string;
  foreignProtocol: number;
  /** Same metric: Tern's route is not installed. Otherwise both are, and the lower metric wins. */
  blocking: boolean;
}

export interface ApplyResult {
  /** The kernel was read (start, resync, drift, readBeforeApply). */
  kernelRead: boolean;
  adds: number;
  replaces: number;
  deletes: number;
  /** Desired routes found already correct in the kernel among the keys examined. */
  unchanged: number;
  failures: RouteFailure[];
  conflicts: number;
}

export interface RouteManagerStats {
  applies: number;
  kernelReads: number;
  /** `ip` command lines written (each is one netlink request). */
  kernelWrites: number;
  adds: number;
  replaces: number;
  deletes: number;
  failures: number;
  /** Resyncs requested because a monitor event did not match what Tern had written. */
  driftEvents: number;
  monitorEvents: number;
}

export class RouteManager {
  readonly netns: string | undefined;
  private readonly tables: ReadonlySet<number>;
  private readonly families: readonly Family[];
  private readonly coalesceMs: number;
  private readonly resyncIntervalMs: number;
  private readonly readBeforeApply: boolean;
  private readonly programmer: RouteProgrammer;
  private readonly monitor: RouteMonitor | undefined;

  private readonly desired = new Map<RouteKey, NormalRoute>();
  private readonly dirty = new Set<RouteKey>();
  /** Keys removed by delete() before the desired state is complete: deleted even so. */
  private readonly tombstones = new Set<RouteKey>();
  private readonly failed = new Map<RouteKey, RouteFailure>();
  private readonly conflictMap = new Map<RouteKey, RouteConflict[]>();
  private view: KernelView | undefined;
  private resyncWanted = false;
  private synced = false;
  private started = false;
  private closed = false;
  private applying = false;
  private queuedEvents: MonitorEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private monitorRestart: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  readonly stats: RouteManagerStats = {
    applies: 0,
    kernelReads: 0,
    kernelWrites: 0,
    adds: 0,
    replaces: 0,
    deletes: 0,
    failures: 0,
    driftEvents: 0,
    monitorEvents: 0,
  };

  constructor(opts: RouteManagerOptions = {}) {
    this.netns = opts.netns;
    this.tables = new Set(opts.tables ?? [MAIN_TABLE]);
    this.families = opts.families ?? [4, 6];
    this.coalesceMs = opts.coalesceMs ?? 10;
    this.resyncIntervalMs = opts.resyncIntervalMs ?? 30_000;
    this.readBeforeApply = opts.readBeforeApply ?? false;
    const p = opts.programmer ?? DEFAULT_PROGRAMMER;
    this.programmer = typeof p === 'string' ? createProgrammer(p, this.netns) : p;
    this.monitor =
      opts.monitor === false
        ? undefined
        : new RouteMonitor({ netns: this.netns, onEvents: (ev) => this.onMonitor(ev), onExit: () => this.onMonitorExit() });
  }

  get programmerMode(): ProgrammerMode {
    return this.programmer.mode;
  }

  /** Starts the monitor and the periodic resync, then reads the kernel and applies what is desired so far. */
  async start(): Promise<ApplyResult> {
    if (this.started) throw new TernError('TERN_ERR_ROUTE', 'route manager already started');
    this.started = true;
    // Monitor first: a change between the first read and the subscription would go unseen.
    await this.monitor?.start();
    if (this.resyncIntervalMs > 0) {
      this.resyncTimer = setInterval(() => this.requestResync(), this.resyncIntervalMs);
      this.resyncTimer.unref();
    }
    this.resyncWanted = true;
    return this.apply();
  }

  // --- desired state --------------------------------------------------------------------------

  private normalize(spec: RouteSpec, field: string): NormalRoute {
    const n = normalizeRoute(spec);
    if (!n.ok) throw new TernError('TERN_ERR_ROUTE', n.issue.message, { field: `${field}.${n.issue.field}` });
    if (!this.tables.has(n.route.table)) throw new TernError('TERN_ERR_ROUTE', `table ${n.route.table} is not managed (managed: ${[...this.tables].join(', ')})`, { field: `${field}.table` });
    if (!this.families.includes(n.route.family)) throw new TernError('TERN_ERR_ROUTE', `IPv${n.route.family} is not managed`, { field: `${field}.dst` });
    return n.route;
  }

  private put(route: NormalRoute): void {
    const key = routeKey(route);
    const old = this.desired.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(route)) return;
    this.desired.set(key, route);
    this.tombstones.delete(key);
    this.dirty.add(key);
  }

  /**
   * Replaces the whole desired state and declares it complete: from now on Tern routes that
   * are not desired are deleted. Throws (and changes nothing) when a route is invalid.
   */
  setDesired(routes: Iterable<RouteSpec>): void {
    const next = new Map<RouteKey, NormalRoute>();
    let i = 0;
    for (const spec of routes) {
      const r = this.normalize(spec, `routes[${i}]`);
      const key = routeKey(r);
      if (next.has(key)) throw new TernError('TERN_ERR_ROUTE', `two routes for table ${r.table} ${r.dst} metric ${r.metric}`, { field: `routes[${i}]` });
      next.set(key, r);
      i++;
    }
    for (const key of this.desired.keys()) if (!next.has(key)) { this.desired.delete(key); this.dirty.add(key); }
    for (const r of next.values()) this.put(r);
    this.synced = true;
    this.schedule();
  }

  /** Adds or changes one desired route. */
  upsert(spec: RouteSpec): void {
    this.put(this.normalize(spec, 'route'));
    this.schedule();
  }

  /** Removes one desired route; its kernel route is deleted even before the desired state is complete. */
  delete(sel: { dst: string; table?: number; metric?: number }): void {
    const family: Family = isIP(sel.dst.split('/')[0] ?? '') === 6 ? 6 : 4;
    // Through the normaliser so `10.1.0.5/32` and its canonical spelling are one key.
    const n = normalizeRoute({ kind: 'blackhole', dst: sel.dst, table: sel.table ?? MAIN_TABLE, metric: sel.metric ?? defaultMetric(family) });
    if (!n.ok) throw new TernError('TERN_ERR_ROUTE', n.issue.message, { field: n.issue.field });
    const key = routeKey(n.route);
    this.desired.delete(key);
    this.tombstones.add(key);
    this.dirty.add(key);
    this.schedule();
  }

  /** Declares the desired state built by upsert()/delete() complete: undesired Tern routes may now go. */
  markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.requestResync();
  }

  /** Asks for a full read and repair at the next apply. */
  requestResync(): void {
    this.resyncWanted = true;
    this.schedule();
  }

  get desiredCount(): number {
    return this.desired.size;
  }

  conflicts(): RouteConflict[] {
    return [...this.conflictMap.values()].flat();
  }

  failures(): RouteFailure[] {
    return [...this.failed.values()];
  }

  // --- applying -------------------------------------------------------------------------------

  private schedule(): void {
    if (!this.started || this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.apply().catch((e: unknown) => log.error({ err: (e as Error).message }, 'route apply failed'));
    }, this.coalesceMs);
  }

  /** Applies now (after any apply in flight); the single path by which routes are written. */
  apply(): Promise<ApplyResult> {
    if (this.closed) return Promise.reject(new TernError('TERN_ERR_ROUTE', 'route manager is closed'));
    clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.chain.then(() => this.applyOnce());
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Resolves once no apply is scheduled or running (for callers that must see the result). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.timer) {
        await new Promise((r) => setTimeout(r, this.coalesceMs + 1));
        continue;
      }
      const c = this.chain;
      await c;
      if (!this.timer && c === this.chain) return;
    }
  }

  /** Full read, diff of every key, repair. */
  resync(): Promise<ApplyResult> {
    this.resyncWanted = true;
    return this.apply();
  }

  private async readKernel(): Promise<KernelRoute[]> {
    const dumps = await Promise.all(this.families.map((f) => readKernelRoutes(this.netns, f)));
    this.stats.kernelReads++;
    for (const d of dumps) for (const e of d.errors) log.warn({ err: e }, 'ignoring a kernel route that could not be parsed');
    return dumps.flatMap((d) => d.routes);
  }

  private async applyOnce(): Promise<ApplyResult> {
    this.applying = true;
    try {
      return await this.applyInner();
    } finally {
      this.applying = false;
      const queued = this.queuedEvents;
      this.queuedEvents = [];
      if (queued.length > 0 && !this.closed) this.evaluate(queued);
    }
  }

  private async applyInner(): Promise<ApplyResult> {
    this.stats.applies++;
    const kernelRead = this.view === undefined || this.resyncWanted || this.readBeforeApply;
    let keys: Set<RouteKey>;
    if (kernelRead) {
      this.resyncWanted = false;
      this.dirty.clear();
      try {
        this.view = buildView(await this.readKernel(), this.tables);
      } catch (e) {
        this.view = undefined;
        throw e;
      }
      keys = new Set([...this.desired.keys(), ...this.view.ours.keys(), ...this.tombstones]);
    } else {
      keys = new Set(this.dirty);
      this.dirty.clear();
    }
    const view = this.view!;
    const plan = planRoutes({ desired: this.desired, view, keys, mayDelete: (k) => this.synced || this.tombstones.has(k) });
    this.recordConflicts(keys, plan.conflicts);
    for (const k of keys) if (!this.desired.has(k)) this.failed.delete(k);

    const result: ApplyResult = { kernelRead, adds: 0, replaces: 0, deletes: 0, unchanged: plan.unchanged, failures: [], conflicts: this.conflictMap.size };
    for (const k of keys) if (!view.ours.has(k) || this.desired.has(k)) this.tombstones.delete(k);
    if (plan.ops.length === 0) return result;

    const lines = plan.ops.map(encodeOp);
    this.stats.kernelWrites += lines.length;
    let errors: Map<number, string>;
    try {
      ({ errors } = await this.programmer.run(lines));
    } catch (e) {
      // Unknown how much was applied: read everything back next time.
      this.view = undefined;
      for (const k of keys) this.dirty.add(k);
      throw e;
    }
    plan.ops.forEach((op, i) => {
      const key = routeKey(op.route);
      const err = errors.get(i);
      if (err === undefined) {
        if (op.op === 'delete') {
          view.ours.delete(key);
          this.tombstones.delete(key);
          result.deletes++;
        } else {
          view.ours.set(key, asKernelRoute(op.route));
          if (op.op === 'add') result.adds++;
          else result.replaces++;
        }
        this.failed.delete(key);
        return;
      }
      const cls = classifyError(err);
      if (op.op === 'delete' && cls === 'no-such-route') {
        // Gone already (deleted by hand, or with its device): the desired outcome.
        view.ours.delete(key);
        this.tombstones.delete(key);
        return;
      }
      // `exists` on add: a route appeared since the last read (a foreign one is a conflict to
      // report, not to overwrite). Anything unexpected: the view may be wrong. Either way the
      // next apply reads the kernel. Missing devices and unreachable gateways are retried on
      // resync or when a link changes, not in a tight loop.
      if (cls === 'exists' || cls === 'other') this.resyncWanted = true;
      const f: RouteFailure = { key, route: describeRoute(op.route), op: op.op, message: err };
      this.failed.set(key, f);
      result.failures.push(f);
    });
    this.stats.adds += result.adds;
    this.stats.replaces += result.replaces;
    this.stats.deletes += result.deletes;
    this.stats.failures += result.failures.length;
    if (result.failures.length > 0) {
      log.warn({ failures: result.failures.slice(0, 10), count: result.failures.length }, 'some route writes failed');
    }
    log.debug({ adds: result.adds, replaces: result.replaces, deletes: result.deletes, kernelRead }, 'routes applied');
    if (this.resyncWanted) this.schedule();
    return result;
  }

  private recordConflicts(keys: Iterable<RouteKey>, found: Map<RouteKey, { desired: NormalRoute; foreign: KernelRoute; blocking: boolean }[]>): void {
    for (const k of keys) {
      const now = found.get(k);
      const before = this.conflictMap.get(k);
      if (!now) {
        this.conflictMap.delete(k);
        continue;
      }
      const list = now.map((c) => ({
        key: k,
        desired: describeRoute(c.desired),
        foreign: describeRoute(c.foreign),
        foreignProtocol: c.foreign.protocol,
        blocking: c.blocking,
      }));
      if (!before || JSON.stringify(before) !== JSON.stringify(list)) {
        for (const c of list) log.warn(c, c.blocking ? 'route conflict: a foreign route holds the key; Tern route not installed' : 'route conflict: a foreign route shares the prefix');
      }
      this.conflictMap.set(k, list);
    }
  }

  // --- drift ----------------------------------------------------------------------------------

  private onMonitor(events: MonitorEvent[]): void {
    this.stats.monitorEvents += events.length;
    // While a batch is in flight the view does not yet include it: judge events afterwards.
    if (this.applying) this.queuedEvents.push(...events);
    else this.evaluate(events);
  }

  private devices(): Set<string> {
    const devs = new Set<string>();
    for (const r of this.desired.values()) {
      if (r.dev) devs.add(r.dev);
      for (const nh of r.nexthops) if (nh.dev) devs.add(nh.dev);
    }
    return devs;
  }

  /** True when the event is not explained by what Tern read and wrote. */
  private isDrift(ev: MonitorEvent): boolean {
    switch (ev.kind) {
      case 'unknown':
        return false;
      case 'link':
        // IPv4 removes routes through a device that goes down or away without a route event.
        return this.devices().has(ev.ifname);
      case 'route': {
        const r = ev.route;
        if (!this.tables.has(r.table) || !this.families.includes(r.family)) return false;
        if (r.protocol !== TERN_ROUTE_PROTOCOL) {
          // Someone else's route on a prefix Tern wants: the conflict picture changed.
          for (const d of this.desired.values()) if (dstKey(d) === dstKey(r)) return true;
          return false;
        }
        const mine = this.view?.ours.get(routeKey(r));
        // A deleted route that is not the one Tern holds is an old version it replaced.
        if (ev.deleted) return mine !== undefined && sameKernelRoute(mine, r);
        return mine === undefined || !sameKernelRoute(mine, r);
      }
      default: {
        const never: never = ev;
        return Boolean(never);
      }
    }
  }

  private evaluate(events: MonitorEvent[]): void {
    const drift = events.filter((e) => this.isDrift(e));
    if (drift.length === 0) return;
    this.stats.driftEvents += drift.length;
    log.info({ first: drift[0], count: drift.length }, 'kernel routes changed outside Tern; resyncing');
    this.requestResync();
  }

  private onMonitorExit(): void {
    if (this.closed) return;
    // Events may have been missed: resync now, restart the monitor shortly.
    this.requestResync();
    this.monitorRestart = setTimeout(() => {
      if (!this.closed) void this.monitor?.start();
    }, 1000);
  }

  /** Stops timers, the monitor and the ip process. Routes stay in the kernel. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.resyncTimer);
    clearTimeout(this.monitorRestart);
    await this.chain;
    await this.monitor?.stop();
    await this.programmer.close();
  }
}

