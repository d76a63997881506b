// nftables rendering of the service proxy. Pure: models in, `nft -f` text out.
//
// The proxy owns K+1 tables in family inet (K = `shards`, fixed by configuration, 8 by
// default). Each service lives in exactly one shard, chosen by a stable hash of its
// `namespace/name`:
//
//   table inet tern-proxy         (node-wide state; small, whatever the number of services)
//     set cluster-ips-4/-6        every cluster IP (a port no service has there is rejected)
//     set pod-cidrs-4/-6          the cluster's pod CIDRs (other sources to a cluster IP are masqueraded)
//     set local-endpoints-4/-6    endpoints on this node (external traffic to others is masqueraded)
//     set hairpin-4/-6            ep . ep for local endpoints (a pod reaching itself is masqueraded)
//     map no-endpoint-services-4/-6, no-endpoint-nodeports-4/-6 → goto reject-chain
//     chain nat-prerouting/-output  dstnat - 1: masquerade mark for non-pod sources to cluster IPs
//     chain filter-input/-forward/-output  filter - 10 → endpoints-check (no-endpoint maps,
//                                 unknown cluster-IP ports) → reject-chain
//     chain nat-postrouting       srcnat → masquerading (hairpin, external-to-remote, marked)
//
//   table inet tern-proxy-<i>     i = 0..K-1, the services hashed to shard i
//     map service-ips-4/-6        daddr . l4proto . dport → goto svc-<h> | svl-<h> | ext-<h> | drop
//     map service-nodeports-4/-6  l4proto . dport          → goto ext-<h>
//     set pod-cidrs-4/-6          a copy (sets cannot be referenced across tables)
//     set aff-<h>-<e>             sessionAffinity ClientIP: clients pinned to one endpoint (dynamic, timeout)
//     chain svc-<h> / svl-<h>     one service port and family: all / local endpoints, DNAT
//     chain ext-<h>               node ports, external and LB IPs: traffic policy, then svc/svl
//     chain nat-prerouting/-output  dstnat → services (the verdict-map lookups)
//
// Why shards: a transaction that adds a rule with a NAT, jump or goto expression, or a
// verdict-map element with a goto, makes the kernel validate the whole table it touches
// (nft_table_validate walks every base chain and everything reachable from it), and only
// that table. With one table, one endpoint change among 10,000 services × 10 endpoints
// revalidated 10,000 chains and 100,000 rules: ~55 ms of a 64–68 ms change (p50, persistent
// `nft -i`, this project's 2-core machine, kernel 6.18, nft 1.0.6). With K shards it
// revalidates ~1/K of them, while nft's cache dump grows by ~0.4 ms per table: K = 8 gives
// 21–23 ms p50 and 37–43 ms p99 (K = 4: 28–29 / 42–50 ms, K = 16: 22–25 / 42–52 ms;
// src/agent/proxy/README.md). K is fixed, not derived from the number of services: a new
// connection does K verdict-map lookups (one per shard's nat chain; the first DNAT ends the
// walk of the hook), established packets none.
//
// Hooks: the main table's nat prerouting/output at dstnat - 1 set the masquerade mark while
// the destination is still the cluster IP; the shards' nat prerouting/output at dstnat DNAT,
// so DNAT happens before any filter chain; filter input/forward/output at filter - 10 (-10),
// before the policy table's forward chain (filter, 0), which therefore sees the endpoint's
// pod IP, as Kubernetes expects; nat postrouting at srcnat (100).
//
// Endpoint choice: a service chain holds one rule per endpoint, `numgen random mod (N-i) ==
// 0 ... dnat to ep_i`, the last one unconditional: each endpoint is chosen with probability
// 1/N. The walk is over one service's endpoints and only for a connection's first packet
// (NAT chains never see the rest). kube-proxy's layout, a `numgen random mod N vmap` to one
// chain per endpoint, measured ~85 s to load 10,000 services × 10 endpoints on this
// project's 2-core machine (100k chains), an anonymous numgen map per service ~7.8 s (and
// 55 ms per change: anonymous sets make nft's cache dump huge), a named map per service ~9 s
// (the kernel looks sets up by name linearly); this layout loads in ~3 s. See README.
//
// Shared elements (cluster IPs, verdict-map keys, local endpoints) are claimed per service;
// when two services claim one key, the smallest `ns/name` wins, across shards too: a
// verdict-map key lives in the shard of the service that wins it.
//
// Marks (configurable): MASQ (default 0x4000, the bit kube-proxy uses) = masquerade in
// postrouting; EXT (default 0x8000) = arrived for a node port / external IP with
// externalTrafficPolicy Cluster, masqueraded only when its endpoint is not on this node.
// Both bits are cleared before the packet leaves postrouting.
import { createHash } from 'node:crypto';
import type { Family } from '../../net/ip.js';
import type { ProxyContext, ProxyEndpoint, ProxyState, ServiceModel, ServicePortModel } from './model.js';

export interface ProxyRenderOptions {
  /** Name of the main table in family inet; "tern-proxy" by default. Shards are `<table>-<i>`. */
  table?: string;
  masqueradeMark?: number;
  externalMark?: number;
  /** Number of shard tables the service chains are spread over; DEFAULT_SHARDS by default. */
  shards?: number;
}

export const DEFAULT_TABLE = 'tern-proxy';
export const DEFAULT_MASQUERADE_MARK = 0x4000;
export const DEFAULT_EXTERNAL_MARK = 0x8000;
/** Chosen from the measurements of K = 4, 8, 16 in README.md. */
export const DEFAULT_SHARDS = 8;
export const MAX_SHARDS = 64;
const TABLE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const REJECT_CHAIN = 'reject-chain';
/** Elements per `add element` command: keeps lines short enough for nft's parser buffers. */
const ELEMENT_BATCH = 2000;

export interface Resolved {
  table: string;
  masq: number;
  ext: number;
  shards: number;
}

export function resolveOptions(o: ProxyRenderOptions = {}): Resolved {
  const table = o.table ?? DEFAULT_TABLE;
  const shards = o.shards ?? DEFAULT_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new Error(`shards must be an integer from 1 to ${MAX_SHARDS}, not ${shards}`);
  if (!TABLE_RE.test(table) || shardTable(table, shards - 1).length > 64) throw new Error(`invalid nftables table name "${table}"`);
  const masq = o.masqueradeMark ?? DEFAULT_MASQUERADE_MARK;
  const ext = o.externalMark ?? DEFAULT_EXTERNAL_MARK;
  for (const m of [masq, ext]) if (!Number.isInteger(m) || m <= 0 || m > 0xffffffff || (m & (m - 1)) !== 0) throw new Error(`mark 0x${m.toString(16)} must be one bit`);
  if (masq === ext) throw new Error('masquerade and external marks must differ');
  return { table, masq, ext, shards };
}

/**
 * The shard of a service: FNV-1a (32 bit) of its `namespace/name`, modulo the shard count.
 * Stable across restarts and versions, so an agent restart finds each service where the last
 * one put it (a changed count is a full reload anyway).
 */
export function shardOf(serviceKey: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serviceKey.length; i++) {
    h ^= serviceKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

export const shardTable = (table: string, i: number): string => `${table}-${i}`;
/** True for the main table and for a shard of it of any count (`<table>-<n>`). */
export const isProxyTable = (table: string, name: string): boolean =>
  name === table || (name.startsWith(`${table}-`) && /^\d+$/.test(name.slice(table.length + 1)));

/** The main table and every shard table, in that order. */
export const proxyTables = (o: Pick<Resolved, 'table' | 'shards'>): string[] => [o.table, ...Array.from({ length: o.shards }, (_, i) => shardTable(o.table, i))];

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const h10 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 10);
const ipk = (f: Family): string => (f === 4 ? 'ip' : 'ip6');
const addrType = (f: Family): string => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');
const epAddr = (f: Family, e: ProxyEndpoint): string => (f === 4 ? `${e.ip}:${e.port}` : `[${e.ip}]:${e.port}`);

/** Containers whose elements live in the shard of the service owning them; the rest live in the main table. */
const SHARD_CONTAINERS = new Set(['service-ips-4', 'service-ips-6', 'service-nodeports-4', 'service-nodeports-6']);
export const inShard = (container: string): boolean => SHARD_CONTAINERS.has(container);

/** Containers whose elements services claim, with their declarations (`inShard` says which table). */
export function sharedContainers(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const f of [4, 6] as const) {
    const a = addrType(f);
    out.push([`service-ips-${f}`, `map service-ips-${f} { type ${a} . inet_proto . inet_service : verdict; }`]);
    out.push([`no-endpoint-services-${f}`, `map no-endpoint-services-${f} { type ${a} . inet_proto . inet_service : verdict; }`]);
    out.push([`service-nodeports-${f}`, `map service-nodeports-${f} { type inet_proto . inet_service : verdict; }`]);
    out.push([`no-endpoint-nodeports-${f}`, `map no-endpoint-nodeports-${f} { type inet_proto . inet_service : verdict; }`]);
    out.push([`cluster-ips-${f}`, `set cluster-ips-${f} { type ${a}; }`]);
    out.push([`local-endpoints-${f}`, `set local-endpoints-${f} { type ${a}; }`]);
    out.push([`hairpin-${f}`, `set hairpin-${f} { type ${a} . ${a}; }`]);
  }
  return out;
}

export interface BaseChain {
  name: string;
  hook?: string;
  rules: string[];
}

/**
 * Everything that does not depend on a single service: the main table's chains, the chains
 * every shard has, pod CIDRs (declared in every table).
 */
export function renderBase(ctx: ProxyContext, o: Resolved): { main: BaseChain[]; shard: BaseChain[]; podCidrs: Record<Family, string[]> } {
  const podCidrs: Record<Family, string[]> = { 4: [], 6: [] };
  for (const c of ctx.clusterCidrs) podCidrs[c.includes(':') ? 6 : 4].push(c);
  const both = o.masq | o.ext;
  const keep = hex(~both >>> 0);
  // kube-proxy's clusterCIDR rule: a non-pod source (the node, an outside client routed to
  // the cluster IP) is masqueraded, so the endpoint's reply comes back through this node. It
  // runs at dstnat - 1, in the main table (which holds the sets), while the destination is
  // still the cluster IP: the shards DNAT at dstnat.
  const mark: string[] = [];
  for (const f of [4, 6] as const) {
    const ip = ipk(f);
    if (podCidrs[f].length) mark.push(`${ip} daddr @cluster-ips-${f} ${ip} saddr != @pod-cidrs-${f} meta mark set meta mark | ${hex(o.masq)}`);
  }
  const services: string[] = [];
  for (const f of [4, 6] as const) services.push(`${ipk(f)} daddr . meta l4proto . th dport vmap @service-ips-${f}`);
  // Node ports on every local address but loopback (reaching 127.0.0.1:nodePort would need
  // route_localnet, which kube-proxy's nftables mode dropped too). The address match comes
  // first: it carries the family check, so a packet pays one route (fib) lookup per shard,
  // not two.
  services.push(`ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @service-nodeports-4`);
  services.push(`ip6 daddr != ::1 fib daddr type local meta l4proto . th dport vmap @service-nodeports-6`);
  const check: string[] = [];
  for (const f of [4, 6] as const) check.push(`${ipk(f)} daddr . meta l4proto . th dport vmap @no-endpoint-services-${f}`);
  check.push(`ip daddr != 127.0.0.0/8 fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports-4`);
  check.push(`ip6 daddr != ::1 fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports-6`);
  // A cluster IP answers only on its service's ports; anything else is refused at once
  // instead of being routed on (kube-proxy nftables `cluster-ips-check`).
  for (const f of [4, 6] as const) check.push(`${ipk(f)} daddr @cluster-ips-${f} goto ${REJECT_CHAIN}`);
  const masq: string[] = [];
  for (const f of [4, 6] as const) masq.push(`ct status dnat ${ipk(f)} saddr . ${ipk(f)} daddr @hairpin-${f} meta mark set meta mark | ${hex(o.masq)}`);
  for (const f of [4, 6] as const) masq.push(`meta mark & ${hex(o.ext)} == ${hex(o.ext)} ${ipk(f)} daddr != @local-endpoints-${f} meta mark set meta mark | ${hex(o.masq)}`);
  masq.push(`meta mark & ${hex(o.masq)} == 0 meta mark set meta mark & ${keep} return`);
  masq.push(`meta mark set meta mark & ${keep} masquerade fully-random`);
  const filter = (hook: string) => ({ name: `filter-${hook}`, hook: `type filter hook ${hook} priority filter - 10; policy accept;`, rules: ['ct state new jump endpoints-check'] });
  return {
    podCidrs,
    main: [
      { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat - 1; policy accept;', rules: ['jump cluster-ip-masq'] },
      { name: 'nat-output', hook: 'type nat hook output priority -101; policy accept;', rules: ['jump cluster-ip-masq'] },
      { name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: ['jump masquerading'] },
      filter('input'),
      filter('forward'),
      filter('output'),
      { name: 'cluster-ip-masq', rules: mark },
      { name: 'endpoints-check', rules: check },
      { name: 'masquerading', rules: masq },
      { name: REJECT_CHAIN, rules: ['meta l4proto tcp reject with tcp reset', 'reject'] },
    ],
    shard: [
      { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: ['jump services'] },
      { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;', rules: ['jump services'] },
      { name: 'services', rules: services },
    ],
  };
}

/** What one service contributes: its own chains and sets, and claims on shared containers. */
export interface Fragment {
  /** chain name → rules */
  chains: Map<string, string[]>;
  /** set name → declaration (`set NAME { ... }`) */
  sets: Map<string, string>;
  /** [container, element key, value ('' for sets)] */
  claims: Array<[string, string, string]>;
}

export const chainNames = (p: ServicePortModel): { svc: string; svl: string; ext: string } => {
  const h = h10(`${p.id}|${p.family}`);
  return { svc: `svc-${h}`, svl: `svl-${h}`, ext: `ext-${h}` };
};

function affinitySet(p: ServicePortModel, e: ProxyEndpoint): string {
  return `aff-${h10(`${p.id}|${p.family}|${p.affinitySeconds}`)}-${h10(`${e.ip}|${e.port}`).slice(0, 8)}`;
}

function groupRules(p: ServicePortModel, eps: ProxyEndpoint[], sets: Map<string, string>): string[] {
  const ip = ipk(p.family);
  const l4 = `meta l4proto ${p.proto}`;
  const rules: string[] = [];
  const aff = p.affinitySeconds !== undefined;
  if (aff) {
    for (const e of eps) {
      const s = affinitySet(p, e);
      sets.set(s, `set ${s} { type ${addrType(p.family)}; flags dynamic,timeout; timeout ${p.affinitySeconds}s; }`);
      rules.push(`${l4} ${ip} saddr @${s} update @${s} { ${ip} saddr } dnat ${ip} to ${epAddr(p.family, e)}`);
    }
  }
  eps.forEach((e, i) => {
    const pick = i < eps.length - 1 ? ` numgen random mod ${eps.length - i} == 0` : '';
    const upd = aff ? ` update @${affinitySet(p, e)} { ${ip} saddr }` : '';
    rules.push(`${l4}${pick}${upd} dnat ${ip} to ${epAddr(p.family, e)}`);
  });
  return rules;
}

export function renderService(m: ServiceModel, ctx: ProxyContext, o: Resolved): Fragment {
  const chains = new Map<string, string[]>();
  const sets = new Map<string, string>();
  const claims: Array<[string, string, string]> = [];
  const hasPodCidrs = (f: Family) => ctx.clusterCidrs.some((c) => c.includes(':') === (f === 6));
  for (const p of m.ports) {
    const f = p.family;
    const ip = ipk(f);
    const n = chainNames(p);
    const all = p.endpoints;
    const loc = p.localEndpoints;
    const reject = `goto ${REJECT_CHAIN}`;
    const useAll = () => {
      if (!chains.has(n.svc)) chains.set(n.svc, groupRules(p, all, sets));
      return `goto ${n.svc}`;
    };
    const useLocal = () => {
      if (!chains.has(n.svl)) chains.set(n.svl, groupRules(p, loc, sets));
      return `goto ${n.svl}`;
    };
    for (const e of all) {
      if (!e.local) continue;
      claims.push([`local-endpoints-${f}`, e.ip, '']);
      claims.push([`hairpin-${f}`, `${e.ip} . ${e.ip}`, '']);
    }
    if (p.clusterIp) {
      claims.push([`cluster-ips-${f}`, p.clusterIp, '']);
      const key = `${p.clusterIp} . ${p.proto} . ${p.port}`;
      if (all.length === 0) claims.push([`no-endpoint-services-${f}`, key, reject]);
      else if (!p.internalLocal) claims.push([`service-ips-${f}`, key, useAll()]);
      // internalTrafficPolicy Local without a local endpoint: dropped, not rejected, as in
      // kube-proxy (the service has endpoints, just none this client may use).
      else claims.push([`service-ips-${f}`, key, loc.length ? useLocal() : 'drop']);
    }
    if (p.externalIps.length === 0 && p.nodePort === undefined) continue;
    if (all.length === 0) {
      for (const x of p.externalIps) claims.push([`no-endpoint-services-${f}`, `${x} . ${p.proto} . ${p.port}`, reject]);
      if (p.nodePort !== undefined) claims.push([`no-endpoint-nodeports-${f}`, `${p.proto} . ${p.nodePort}`, reject]);
      continue;
    }
    const ext: string[] = [];
    if (!p.externalLocal) {
      ext.push(`meta mark set meta mark | ${hex(o.ext)} ${useAll()}`);
    } else {
      // Pods and the node itself reach external addresses with Cluster semantics (kube-proxy
      // "short-circuit"); the node's own traffic is masqueraded so replies return to it.
      if (hasPodCidrs(f)) ext.push(`${ip} saddr @pod-cidrs-${f} ${useAll()}`);
      ext.push(`fib saddr type local meta mark set meta mark | ${hex(o.masq)} ${useAll()}`);
      ext.push(loc.length ? useLocal() : 'drop');
    }
    chains.set(n.ext, ext);
    for (const x of p.externalIps) claims.push([`service-ips-${f}`, `${x} . ${p.proto} . ${p.port}`, `goto ${n.ext}`]);
    if (p.nodePort !== undefined) claims.push([`service-nodeports-${f}`, `${p.proto} . ${p.nodePort}`, `goto ${n.ext}`]);
  }
  return { chains, sets, claims };
}

/** Which service owns each element of a shared container; the smallest service key wins a conflict. */
class Claims {
  private readonly m = new Map<string, Map<string, Map<string, string>>>();

  effective(container: string, key: string): { owner: string; value: string } | undefined {
    const owners = this.m.get(container)?.get(key);
    if (!owners || owners.size === 0) return undefined;
    let best: string | undefined;
    for (const k of owners.keys()) if (best === undefined || k < best) best = k;
    return { owner: best!, value: owners.get(best!)! };
  }

  add(svc: string, container: string, key: string, value: string): void {
    let c = this.m.get(container);
    if (!c) this.m.set(container, (c = new Map()));
    let o = c.get(key);
    if (!o) c.set(key, (o = new Map()));
    o.set(svc, value);
  }

  remove(svc: string, container: string, key: string): void {
    const c = this.m.get(container);
    const o = c?.get(key);
    o?.delete(svc);
    if (o && o.size === 0) c!.delete(key);
  }

  *all(): Iterable<[string, string, { owner: string; value: string }]> {
    for (const [container, keys] of this.m) for (const key of keys.keys()) yield [container, key, this.effective(container, key)!];
  }
}

export interface DiffStats {
  servicesChanged: number;
  chainsAdded: number;
  chainsRewritten: number;
  chainsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
}

export interface Plan {
  script: string;
  full: boolean;
  stats: DiffStats;
  /** Tables the transaction writes, sorted (a full load: every proxy table, and stale shards it deletes). */
  tables: string[];
}

/** What check() compares one table against. */
export interface ExpectedTable {
  /** chain → rule count */
  chains: Map<string, number>;
  /** shared container declared in this table → element count */
  elements: Map<string, number>;
  /** affinity sets */
  sets: Set<string>;
}

const elementText = (container: string, key: string, value: string): string => (container.startsWith('service-') || container.startsWith('no-endpoint-') ? `${key} : ${value}` : key);

/**
 * The proxy tables as last planned: per-service fragments, claims on shared containers, the
 * base. full() rebuilds everything; next() produces the incremental transaction from the
 * services whose model object changed. Both record the new state as planned: when nft
 * refuses a transaction, the caller must fall back to full().
 */
export class ProxyTable {
  readonly opts: Resolved;
  private frags = new Map<string, { model: ServiceModel; frag: Fragment }>();
  private claims = new Claims();
  private baseKey = '';
  private readonly cache = new WeakMap<ServiceModel, Fragment>();

  constructor(opts: ProxyRenderOptions = {}) {
    this.opts = resolveOptions(opts);
  }

  /** Every table this plan owns: the main one, then the shards. */
  get tables(): string[] {
    return proxyTables(this.opts);
  }

  /** The shard table holding a service's chains and verdict-map keys. */
  tableOf(serviceKey: string): string {
    return shardTable(this.opts.table, shardOf(serviceKey, this.opts.shards));
  }

  private where(container: string, owner: string): string {
    return inShard(container) ? this.tableOf(owner) : this.opts.table;
  }

  private fragment(m: ServiceModel, ctx: ProxyContext): Fragment {
    let f = this.cache.get(m);
    if (!f) this.cache.set(m, (f = renderService(m, ctx, this.opts)));
    return f;
  }

  /**
   * A script that replaces every proxy table atomically with exactly `state`. `stale`: other
   * tables to delete in the same transaction (shards of a larger shard count).
   */
  full(state: ProxyState, opts: { stale?: readonly string[] } = {}): Plan {
    const t = this.opts.table;
    const tables = this.tables;
    const base = renderBase(state.context, this.opts);
    this.baseKey = JSON.stringify([base, this.opts.shards]);
    this.frags = new Map();
    this.claims = new Claims();
    const stale = (opts.stale ?? []).filter((x) => !tables.includes(x));
    const out: string[] = [];
    for (const x of [...tables, ...stale]) out.push(`add table inet ${x}`, `delete table inet ${x}`);
    out.push(`add table inet ${t} { comment "tern-agentd service proxy: do not edit"; }`);
    for (let i = 0; i < this.opts.shards; i++) out.push(`add table inet ${shardTable(t, i)} { comment "tern-agentd service proxy, shard ${i} of ${this.opts.shards}: do not edit"; }`);
    for (const x of tables) {
      const shard = x !== t;
      for (const [name, decl] of sharedContainers()) if (inShard(name) === shard) out.push(`add ${decl.replace(/^(map|set) (\S+)/, `$1 inet ${x} $2`)}`);
      for (const f of [4, 6] as const) out.push(`add set inet ${x} pod-cidrs-${f} { type ${addrType(f)}; flags interval; ${base.podCidrs[f].length ? `elements = { ${base.podCidrs[f].join(', ')} }; ` : ''}}`);
    }
    const keys = [...state.services.keys()].sort();
    let chains = 0;
    const ruleLines: string[] = [];
    for (const k of keys) {
      const m = state.services.get(k)!;
      const frag = this.fragment(m, state.context);
      const st = this.tableOf(k);
      this.frags.set(k, { model: m, frag });
      for (const [, decl] of frag.sets) out.push(`add ${decl.replace(/^set (\S+)/, `set inet ${st} $1`)}`);
      for (const [c, rules] of frag.chains) {
        out.push(`add chain inet ${st} ${c}`);
        chains++;
        for (const r of rules) ruleLines.push(`add rule inet ${st} ${c} ${r}`);
      }
      for (const [container, key, value] of frag.claims) this.claims.add(k, container, key, value);
    }
    const baseChains: Array<[string, BaseChain]> = [...base.main.map((c): [string, BaseChain] => [t, c]), ...tables.slice(1).flatMap((x) => base.shard.map((c): [string, BaseChain] => [x, c]))];
    for (const [x, c] of baseChains) out.push(c.hook ? `add chain inet ${x} ${c.name} { ${c.hook} }` : `add chain inet ${x} ${c.name}`);
    for (const [x, c] of baseChains) for (const r of c.rules) out.push(`add rule inet ${x} ${c.name} ${r}`);
    out.push(...ruleLines);
    const byContainer = new Map<string, string[]>();
    let elements = 0;
    for (const [container, key, { owner, value }] of this.claims.all()) {
      const at = `${this.where(container, owner)} ${container}`;
      const l = byContainer.get(at) ?? [];
      l.push(elementText(container, key, value));
      byContainer.set(at, l);
      elements++;
    }
    for (const [at, list] of byContainer) {
      for (let i = 0; i < list.length; i += ELEMENT_BATCH) out.push(`add element inet ${at} { ${list.slice(i, i + ELEMENT_BATCH).join(', ')} }`);
    }
    return {
      script: `${out.join('\n')}\n`,
      full: true,
      stats: { servicesChanged: keys.length, chainsAdded: chains, chainsRewritten: 0, chainsDeleted: 0, elementsAdded: elements, elementsDeleted: 0 },
      tables: [...tables, ...stale].sort(),
    };
  }

  /** The incremental transaction from the planned state to `state` ('' when nothing changed). */
  next(state: ProxyState): Plan {
    const base = renderBase(state.context, this.opts);
    if (JSON.stringify([base, this.opts.shards]) !== this.baseKey) return this.full(state);
    const changed: string[] = [];
    for (const [k, m] of state.services) if (this.frags.get(k)?.model !== m) changed.push(k);
    for (const k of this.frags.keys()) if (!state.services.has(k)) changed.push(k);
    changed.sort();
    const addSets: string[] = [];
    const addChains: string[] = [];
    const fill: string[] = [];
    const delChains: string[] = [];
    const delSets: string[] = [];
    const written = new Set<string>();
    const touched = new Map<string, Set<string>>();
    // Where an element was and what it said, as `table \0 value`: a key whose winner moves to
    // a service in another shard leaves one shard's map for the other's.
    const before = new Map<string, string | undefined>();
    const placed = (container: string, key: string): string | undefined => {
      const e = this.claims.effective(container, key);
      return e && `${this.where(container, e.owner)}\u0000${e.value}`;
    };
    const touch = (container: string, key: string) => {
      let s = touched.get(container);
      if (!s) touched.set(container, (s = new Set()));
      if (!s.has(key)) {
        s.add(key);
        before.set(`${container}\u0000${key}`, placed(container, key));
      }
    };
    const stats: DiffStats = { servicesChanged: changed.length, chainsAdded: 0, chainsRewritten: 0, chainsDeleted: 0, elementsAdded: 0, elementsDeleted: 0 };
    for (const k of changed) {
      const st = this.tableOf(k);
      const prev = this.frags.get(k)?.frag;
      const m = state.services.get(k);
      const next = m ? this.fragment(m, state.context) : undefined;
      const pc = prev?.chains ?? new Map<string, string[]>();
      const nc = next?.chains ?? new Map<string, string[]>();
      const before0 = addSets.length + addChains.length + fill.length + delChains.length + delSets.length;
      for (const [name, decl] of next?.sets ?? []) if (!prev?.sets.has(name)) addSets.push(`add ${decl.replace(/^set (\S+)/, `set inet ${st} $1`)}`);
      for (const name of prev?.sets.keys() ?? []) if (!next?.sets.has(name)) delSets.push(`delete set inet ${st} ${name}`);
      for (const [name, rules] of nc) {
        const old = pc.get(name);
        if (old && old.length === rules.length && old.every((r, i) => r === rules[i])) continue;
        if (old) {
          fill.push(`flush chain inet ${st} ${name}`);
          stats.chainsRewritten++;
        } else {
          addChains.push(`add chain inet ${st} ${name}`);
          stats.chainsAdded++;
        }
        for (const r of rules) fill.push(`add rule inet ${st} ${name} ${r}`);
      }
      for (const name of pc.keys()) {
        if (nc.has(name)) continue;
        fill.push(`flush chain inet ${st} ${name}`);
        delChains.push(`delete chain inet ${st} ${name}`);
        stats.chainsDeleted++;
      }
      if (addSets.length + addChains.length + fill.length + delChains.length + delSets.length > before0) written.add(st);
      for (const [c, key] of prev?.claims ?? []) {
        touch(c, key);
        this.claims.remove(k, c, key);
      }
      for (const [c, key, value] of next?.claims ?? []) {
        touch(c, key);
        this.claims.add(k, c, key, value);
      }
      if (m && next) this.frags.set(k, { model: m, frag: next });
      else this.frags.delete(k);
    }
    const dels = new Map<string, string[]>();
    const adds = new Map<string, string[]>();
    const push = (m: Map<string, string[]>, at: string, x: string) => {
      const l = m.get(at);
      if (l) l.push(x);
      else m.set(at, [x]);
    };
    for (const [container, keys] of touched) {
      for (const key of keys) {
        const was = before.get(`${container}\u0000${key}`);
        const now = placed(container, key);
        if (was === now) continue;
        if (was !== undefined) {
          const table = was.slice(0, was.indexOf('\u0000'));
          push(dels, `${table} ${container}`, key);
          written.add(table);
          stats.elementsDeleted++;
        }
        if (now !== undefined) {
          const i = now.indexOf('\u0000');
          push(adds, `${now.slice(0, i)} ${container}`, elementText(container, key, now.slice(i + 1)));
          written.add(now.slice(0, i));
          stats.elementsAdded++;
        }
      }
    }
    // Order inside the one transaction: what rules refer to exists before the rules, map
    // elements leave before the chains they point to, rules leave before their sets.
    const lines = [
      ...addSets,
      ...addChains,
      ...fill,
      ...[...dels].map(([at, d]) => `delete element inet ${at} { ${d.join(', ')} }`),
      ...[...adds].map(([at, a]) => `add element inet ${at} { ${a.join(', ')} }`),
      ...delChains,
      ...delSets,
    ];
    return { script: lines.length ? `${lines.join('\n')}\n` : '', full: false, stats, tables: [...written].sort() };
  }

  /** Desired objects for drift detection, per table: chain → rule count, container → element count, own sets. */
  expected(): Map<string, ExpectedTable> {
    const out = new Map<string, ExpectedTable>();
    if (!this.baseKey) return out;
    const [base] = JSON.parse(this.baseKey) as [{ main: BaseChain[]; shard: BaseChain[] }, number];
    const t = this.opts.table;
    for (const x of this.tables) {
      const shard = x !== t;
      const e: ExpectedTable = { chains: new Map(), elements: new Map(), sets: new Set() };
      for (const c of shard ? base.shard : base.main) e.chains.set(c.name, c.rules.length);
      for (const [name] of sharedContainers()) if (inShard(name) === shard) e.elements.set(name, 0);
      out.set(x, e);
    }
    for (const [k, { frag }] of this.frags) {
      const e = out.get(this.tableOf(k))!;
      for (const [c, rules] of frag.chains) e.chains.set(c, rules.length);
      for (const s of frag.sets.keys()) e.sets.add(s);
    }
    for (const [container, , { owner }] of this.claims.all()) {
      const e = out.get(this.where(container, owner))!;
      e.elements.set(container, (e.elements.get(container) ?? 0) + 1);
    }
    return out;
  }
}
