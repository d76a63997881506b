// The service proxy inside the agent (`serviceProxy: on`): kube-proxy's nftables mode, driven
// by the agent's own update stream and batches. The library (src/agent/proxy) calculates and
// renders; this file feeds it and decides when to apply:
//
// - onUpdate() records Services, EndpointSlices, WorkloadEndpoints (named target ports) and
//   IPPools (the pod CIDRs) into ProxyInputs and says whether the proxy's inputs changed; the
//   agent then schedules its coalesced flush, which calls kick(). One kick = one snapshot (only
//   dirty services recalculated) = one nft transaction; updates arriving meanwhile are
//   squashed into the next one.
// - Node ports need no node addresses: the rules match any local address but loopback
//   (`fib daddr type local`), as kube-proxy's nftables mode does without nodePortAddresses.
// - Restart without disturbance: nothing is flushed or deleted at start. The agent kicks only
//   once every etcd prefix has been listed, and the first apply replaces the table an earlier
//   agent left in one transaction (`add table; delete table; add table ...`), so the old rules
//   forward new connections until the instant the new ones do; existing connections keep
//   their conntrack NAT bindings throughout. stop() leaves the table as it is.
// - Drift: resync() (the agent's resync period) reads the table back (ProxyDataplane.check)
//   and replaces it whole on any difference.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TernError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { HealthCheckServer, healthChecks, ProxyConfigSchema, ProxyDataplane, ProxyInputs, type ProxyConfig, type ProxyState } from '../proxy/index.js';
import { assertNever, splitId, type AgentUpdate } from './updates.js';

export interface ServiceProxyStatus {
  table: string;
  /** The first full apply has been made (the agent is not ready before). */
  ready: boolean;
  /** Services with rules (headless and ExternalName have none). */
  services: number;
  /** One per service port and IP family. */
  servicePorts: number;
  /** (service port, endpoint) pairs: the DNAT targets programmed. */
  endpoints: number;
  healthCheckPorts: number[];
  driftRepairs: number;
  /** ISO time of the last transaction that changed the table (or found it in sync). */
  lastApply: string;
  /** Services whose endpoints could not all be programmed (unresolved named ports, bad addresses). */
  problems: string[];
}

export interface ServiceProxyHook {
  /** Every recorded update, in the order the agent records them; true when the proxy's inputs changed. */
  onUpdate(u: AgentUpdate): boolean;
  start(): Promise<void>;
  /**
   * Applies what changed since the last apply as one transaction (the first one: a full
   * replace). Called from the agent's flush, i.e. only once etcd has been listed. Never rejects:
   * a refused apply is retried.
   */
  kick(): Promise<void>;
  /** Drift check: the table read back; any difference repaired by a full replace. */
  resync(): Promise<void>;
  /** Resolves when no apply is running. */
  settled(): Promise<void>;
  readonly ready: boolean;
  status(): ServiceProxyStatus;
  /** Rules stay in the kernel, as with the other dataplanes. */
  stop(): Promise<void>;
}

export interface ServiceProxyOptions {
  nodeName: string;
  /** Kernel work in this named namespace (the agent's `netns`). */
  netns?: string | undefined;
  /** The agent's `proxy` settings; `enabled` is implied by `serviceProxy: on`. */
  config?: Partial<ProxyConfig>;
  registry?: Registry | undefined;
  log: Logger;
  /** Delay before a refused apply is tried again. */
  retryMs?: number;
}

export function serviceProxyHook(mode: 'off' | 'on', opts: ServiceProxyOptions): ServiceProxyHook | undefined {
  if (mode === 'off') {
    // Two switches that disagree would leave it unclear whether Services are implemented here.
    if (opts.config?.enabled) throw new TernError('TERN_ERR_CONFIG', 'proxy.enabled is true but serviceProxy is "off"; set serviceProxy: on', { field: 'serviceProxy' });
    return undefined;
  }
  return new ServiceProxy(opts);
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function proxyMetrics(registry: Registry) {
  const r = [registry];
  return {
    programming: new Histogram({ name: 'tern_agent_proxy_programming_seconds', help: 'Service proxy: calculation plus nft transaction of one batch, by mode (full, incremental)', labelNames: ['mode'], buckets: LATENCY_BUCKETS, registers: r }),
    services: new Gauge({ name: 'tern_agent_proxy_services', help: 'Services with rules in the proxy table', registers: r }),
    servicePorts: new Gauge({ name: 'tern_agent_proxy_service_ports', help: 'Service ports (per IP family) in the proxy table', registers: r }),
    endpoints: new Gauge({ name: 'tern_agent_proxy_endpoints', help: '(service port, endpoint) pairs programmed as DNAT targets', registers: r }),
    driftRepairs: new Counter({ name: 'tern_agent_proxy_drift_repairs_total', help: 'Proxy table replaced because it differed from the applied state', registers: r }),
    resyncs: new Counter({ name: 'tern_agent_proxy_resyncs_total', help: 'Proxy table read back and compared with the applied state', registers: r }),
    failures: new Counter({ name: 'tern_agent_proxy_failures_total', help: 'Proxy applies nft refused (retried)', registers: r }),
    conntrack: new Counter({ name: 'tern_agent_proxy_conntrack_deleted_total', help: 'Stale UDP conntrack entries deleted', registers: r }),
  };
}

export class ServiceProxy implements ServiceProxyHook {
  private readonly inputs: ProxyInputs;
  private readonly dp: ProxyDataplane;
  private readonly health: HealthCheckServer;
  private readonly log: Logger;
  private readonly metrics: ReturnType<typeof proxyMetrics> | undefined;
  /** Pool name → CIDR; unused when the configuration names the cluster CIDRs. */
  private readonly pools = new Map<string, string>();
  private readonly fixedCidrs: string[];
  private cidrKey = '';
  private running: Promise<void> | undefined;
  private again = false;
  private forceFull = false;
  private failed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private applied = false;
  private stopped = false;
  private counts = { services: 0, servicePorts: 0, endpoints: 0 };
  private problems: string[] = [];
  private problemsKey = '';
  private driftRepairs = 0;
  private lastApply = '';

  constructor(private readonly opts: ServiceProxyOptions) {
    const cfg = ProxyConfigSchema.parse({ ...(opts.config ?? {}), enabled: true });
    this.fixedCidrs = [...cfg.clusterCidrs];
    this.inputs = new ProxyInputs(opts.nodeName, this.fixedCidrs);
    this.cidrKey = [...this.fixedCidrs].sort().join(',');
    this.dp = new ProxyDataplane({ table: cfg.table, masqueradeMark: cfg.masqueradeMark, externalMark: cfg.externalMark, shards: cfg.shards, conntrack: cfg.conntrack, ...(opts.netns ? { netns: opts.netns } : {}) });
    this.health = new HealthCheckServer({ host: cfg.healthCheckAddress });
    this.log = opts.log;
    if (opts.registry) this.metrics = proxyMetrics(opts.registry);
  }

  get ready(): boolean {
    return this.applied;
  }

  onUpdate(u: AgentUpdate): boolean {
    switch (u.kind) {
      case 'service': {
        const [namespace, name] = splitId(u.id);
        this.inputs.apply(u.service ? { kind: 'service-upsert', service: u.service } : { kind: 'service-delete', namespace, name });
        return true;
      }
      case 'slice': {
        const [namespace, name] = splitId(u.id);
        this.inputs.apply(u.slice ? { kind: 'slice-upsert', slice: u.slice } : { kind: 'slice-delete', namespace, name });
        return true;
      }
      case 'endpoint': {
        // Named target ports resolve against the owning pod's ports, wherever it runs.
        const [namespace, name] = splitId(u.id);
        this.inputs.apply(u.endpoint ? { kind: 'pod-upsert', pod: u.endpoint } : { kind: 'pod-delete', namespace, name });
        return this.inputs.dirty;
      }
      case 'ippool':
        if (u.pool) this.pools.set(u.name, u.pool.spec.cidr);
        else this.pools.delete(u.name);
        return this.poolsChanged();
      case 'node':
      case 'affinity':
      case 'block':
      case 'namespace':
      case 'policy':
      case 'bgp-config':
      case 'bgp-peer':
      case 'remote':
      case 'cni-veth':
        return false;
      default:
        return assertNever(u);
    }
  }

  /** Every pool counts, disabled ones too: their pods keep their addresses. */
  private poolsChanged(): boolean {
    if (this.fixedCidrs.length > 0) return false;
    const cidrs = [...new Set(this.pools.values())].sort();
    const key = cidrs.join(',');
    if (key === this.cidrKey) return false;
    this.cidrKey = key;
    this.inputs.apply({ kind: 'cluster-cidrs', cidrs });
    return true;
  }

  async start(): Promise<void> {
    // Deliberately nothing in the kernel: the table an earlier agent left keeps forwarding
    // until the first apply replaces it atomically.
    this.log.info({ table: this.dp.table }, 'service proxy on; the first apply follows the etcd list');
  }

  private needsApply(): boolean {
    return !this.applied || this.inputs.dirty || this.forceFull || this.failed;
  }

  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (!this.needsApply()) return Promise.resolve();
    this.running = (async () => {
      // Let the flush that kicked this finish first (its route writes are already queued).
      await new Promise<void>((r) => setImmediate(r));
      do {
        this.again = false;
        await this.applyOnce();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async applyOnce(): Promise<void> {
    if (this.stopped || !this.needsApply()) return;
    const full = this.forceFull;
    this.forceFull = false;
    this.failed = false;
    clearTimeout(this.retryTimer);
    const t0 = performance.now();
    const state = this.inputs.snapshot();
    try {
      const r = await this.dp.apply(state, full ? { full: true } : {});
      const ms = performance.now() - t0;
      if (r.mode !== 'noop') this.metrics?.programming.observe({ mode: r.mode }, ms / 1000);
      if (r.conntrack.deleted > 0) this.metrics?.conntrack.inc(r.conntrack.deleted);
      this.count(state);
      this.lastApply = new Date().toISOString();
      this.noteProblems(r.errors.map((e) => `${e.service}: ${e.message}`));
      if (!this.applied) {
        this.applied = true;
        this.log.info({ ...this.counts, mode: r.mode, reason: r.reason, ms: Math.round(ms) }, 'service proxy: first full apply');
      } else if (r.mode !== 'noop') {
        this.log.debug({ mode: r.mode, reason: r.reason, stats: r.stats, conntrack: r.conntrack, ms: Math.round(ms) }, 'service proxy applied');
      }
      await this.health.update(healthChecks(state));
    } catch (e) {
      // The dataplane forgets what it applied after a refused full replace, so the retry is a
      // full replace of the newest state.
      this.failed = true;
      this.metrics?.failures.inc();
      this.log.error({ err: (e as Error).message }, 'service proxy apply failed; retrying');
      this.retryTimer = setTimeout(() => void this.kick(), this.opts.retryMs ?? 2000);
      this.retryTimer.unref();
    }
  }

  private count(state: ProxyState): void {
    let servicePorts = 0;
    let endpoints = 0;
    for (const m of state.services.values()) {
      servicePorts += m.ports.length;
      for (const p of m.ports) endpoints += p.endpoints.length;
    }
    this.counts = { services: state.services.size, servicePorts, endpoints };
    this.metrics?.services.set(this.counts.services);
    this.metrics?.servicePorts.set(servicePorts);
    this.metrics?.endpoints.set(endpoints);
  }

  private noteProblems(list: string[]): void {
    const key = list.join('\n');
    if (key === this.problemsKey) return;
    this.problemsKey = key;
    this.problems = list;
    if (list.length > 0) this.log.warn({ problems: list.slice(0, 5), count: list.length }, 'service proxy: some endpoints could not be programmed');
  }

  async resync(): Promise<void> {
    if (this.stopped) return;
    if (this.failed) {
      await this.kick();
      return;
    }
    if (!this.applied || this.running) return;
    this.metrics?.resyncs.inc();
    try {
      const drift = await this.dp.check();
      // An apply that started meanwhile may explain the difference; the next resync looks again.
      if (drift.length === 0 || this.running || this.stopped) return;
      this.log.warn({ drift: drift.slice(0, 5), count: drift.length }, 'service proxy table drifted; replacing it');
      this.driftRepairs++;
      this.metrics?.driftRepairs.inc();
      this.forceFull = true;
      await this.kick();
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'service proxy drift check failed');
    }
  }

  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  status(): ServiceProxyStatus {
    return {
      table: this.dp.table,
      ready: this.applied,
      ...this.counts,
      healthCheckPorts: this.health.ports(),
      driftRepairs: this.driftRepairs,
      lastApply: this.lastApply,
      problems: this.problems.slice(0, 10),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.settled();
    await this.health.close();
  }
}
