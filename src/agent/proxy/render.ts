// nftables rendering of the service proxy. Pure: models in, `nft -f` text out.
//
// Layout of the proxy's own table (`table inet tern-proxy`, both families):
//
//   map service-ips-4/-6        daddr . l4proto . dport → goto svc-<h> | svl-<h> | ext-<h> | drop
//   map service-nodeports-4/-6  l4proto . dport          → goto ext-<h>
//   map no-endpoint-services-4/-6, no-endpoint-nodeports-4/-6 → goto reject-chain
//   set cluster-ips-4/-6        every cluster IP (a port no service has there is rejected)
//   set pod-cidrs-4/-6          the cluster's pod CIDRs (other sources to a cluster IP are masqueraded)
//   set local-endpoints-4/-6    endpoints on this node (external traffic to others is masqueraded)
//   set hairpin-4/-6            ep . ep for local endpoints (a pod reaching itself is masqueraded)
//   set aff-<h>-<e>             sessionAffinity ClientIP: clients pinned to one endpoint (dynamic, timeout)
//   chain svc-<h> / svl-<h>     one service port and family: all / local endpoints, DNAT
//   chain ext-<h>               node ports, external and LB IPs: traffic policy, then svc/svl
//   chain services              the verdict-map lookups, from nat-prerouting and nat-output
//   chain endpoints-check       filter input/forward/output: no-endpoint maps, unknown cluster-IP ports
//   chain masquerading          nat-postrouting: hairpin, external-to-remote, marked packets
//
// Hooks: nat prerouting and output at dstnat (-100), so DNAT happens before any filter
// chain; filter input/forward/output at filter - 10 (-10), before the policy table's forward
// chain (filter, 0), which therefore sees the endpoint's pod IP, as Kubernetes expects;
// nat postrouting at srcnat (100).
//
// Endpoint choice: a service chain holds one rule per endpoint, `numgen random mod (N-i) ==
// 0 ... dnat to ep_i`, the last one unconditional: each endpoint is chosen with probability
// 1/N. The walk is over one service's endpoints and only for a connection's first packet
// (NAT chains never see the rest); per packet there is one verdict-map lookup whatever the
// number of services. kube-proxy's layout, a `numgen random mod N vmap` to one chain per
// endpoint, measured ~85 s to load 10,000 services × 10 endpoints on this project's 2-core
// machine (100k chains), and an anonymous numgen map per service ~9 s (the kernel looks
// sets up by name linearly); this layout loads in ~3 s. See README.
//
// Marks (configurable): MASQ (default 0x4000, the bit kube-proxy uses) = masquerade in
// postrouting; EXT (default 0x8000) = arrived for a node port / external IP with
// externalTrafficPolicy Cluster, masqueraded only when its endpoint is not on this node.
// Both bits are cleared before the packet leaves postrouting.
import { createHash } from 'node:crypto';
import type { Family } from '../../net/ip.js';
import type { ProxyContext, ProxyEndpoint, ProxyState, ServiceModel, ServicePortModel } from './model.js';

export interface ProxyRenderOptions {
  /** Table name in family inet; "tern-proxy" by default. */
  table?: string;
  masqueradeMark?: number;
  externalMark?: number;
}

export const DEFAULT_TABLE = 'tern-proxy';
export const DEFAULT_MASQUERADE_MARK = 0x4000;
export const DEFAULT_EXTERNAL_MARK = 0x8000;
const TABLE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const REJECT_CHAIN = 'reject-chain';
/** Elements per `add element` command: keeps lines short enough for nft's parser buffers. */
const ELEMENT_BATCH = 2000;

interface Resolved {
  table: string;
  masq: number;
  ext: number;
}

export function resolveOptions(o: ProxyRenderOptions = {}): Resolved {
  const table = o.table ?? DEFAULT_TABLE;
  if (!TABLE_RE.test(table)) throw new Error(`invalid nftables table name "${table}"`);
  const masq = o.masqueradeMark ?? DEFAULT_MASQUERADE_MARK;
  const ext = o.externalMark ?? DEFAULT_EXTERNAL_MARK;
  for (const m of [masq, ext]) if (!Number.isInteger(m) || m <= 0 || m > 0xffffffff || (m & (m - 1)) !== 0) throw new Error(`mark 0x${m.toString(16)} must be one bit`);
  if (masq === ext) throw new Error('masquerade and external marks must differ');
  return { table, masq, ext };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const h10 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 10);
const ipk = (f: Family): string => (f === 4 ? 'ip' : 'ip6');
const addrType = (f: Family): string => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');
const epAddr = (f: Family, e: ProxyEndpoint): string => (f === 4 ? `${e.ip}:${e.port}` : `[${e.ip}]:${e.port}`);

/** Containers shared by all services, with their declarations. Elements are claimed by services. */
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

/** Everything that does not depend on a single service: base chains, helper chains, pod CIDRs. */
export function renderBase(ctx: ProxyContext, o: Resolved): { chains: BaseChain[]; podCidrs: Record<Family, string[]> } {
  const podCidrs: Record<Family, string[]> = { 4: [], 6: [] };
  for (const c of ctx.clusterCidrs) podCidrs[c.includes(':') ? 6 : 4].push(c);
  const both = o.masq | o.ext;
  const keep = hex(~both >>> 0);
  const services: string[] = [];
  for (const f of [4, 6] as const) {
    const ip = ipk(f);
    // kube-proxy's clusterCIDR rule: a non-pod source (the node, an outside client routed to
    // the cluster IP) is masqueraded, so the endpoint's reply comes back through this node.
    if (podCidrs[f].length) services.push(`${ip} daddr @cluster-ips-${f} ${ip} saddr != @pod-cidrs-${f} meta mark set meta mark | ${hex(o.masq)}`);
    services.push(`${ip} daddr . meta l4proto . th dport vmap @service-ips-${f}`);
  }
  // Node ports on every local address but loopback (reaching 127.0.0.1:nodePort would need
  // route_localnet, which kube-proxy's nftables mode dropped too).
  services.push(`fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports-4`);
  services.push(`fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @service-nodeports-6`);
  const check: string[] = [];
  for (const f of [4, 6] as const) check.push(`${ipk(f)} daddr . meta l4proto . th dport vmap @no-endpoint-services-${f}`);
  check.push(`fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports-4`);
  check.push(`fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @no-endpoint-nodeports-6`);
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
    chains: [
      { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;', rules: ['jump services'] },
      { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;', rules: ['jump services'] },
      { name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;', rules: ['jump masquerading'] },
      filter('input'),
      filter('forward'),
      filter('output'),
      { name: 'services', rules: services },
      { name: 'endpoints-check', rules: check },
      { name: 'masquerading', rules: masq },
      { name: REJECT_CHAIN, rules: ['meta l4proto tcp reject with tcp reset', 'reject'] },
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

  effective(container: string, key: string): string | undefined {
    const owners = this.m.get(container)?.get(key);
    if (!owners || owners.size === 0) return undefined;
    let best: string | undefined;
    for (const k of owners.keys()) if (best === undefined || k < best) best = k;
    return owners.get(best!);
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

  *all(): Iterable<[string, string, string]> {
    for (const [container, keys] of this.m) for (const key of keys.keys()) yield [container, key, this.effective(container, key)!];
  }

  count(container: string): number {
    return this.m.get(container)?.size ?? 0;
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
}

const elementText = (container: string, key: string, value: string): string => (container.startsWith('service-') || container.startsWith('no-endpoint-') ? `${key} : ${value}` : key);

/**
 * The proxy table as last planned: per-service fragments, claims on shared containers, the
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

  private fragment(m: ServiceModel, ctx: ProxyContext): Fragment {
    let f = this.cache.get(m);
    if (!f) this.cache.set(m, (f = renderService(m, ctx, this.opts)));
    return f;
  }

  /** A script that replaces the table atomically with exactly `state`. */
  full(state: ProxyState): Plan {
    const t = this.opts.table;
    const base = renderBase(state.context, this.opts);
    this.baseKey = JSON.stringify(base);
    this.frags = new Map();
    this.claims = new Claims();
    const out: string[] = [`add table inet ${t}`, `delete table inet ${t}`, `add table inet ${t} { comment "tern-agentd service proxy: do not edit"; }`];
    for (const [, decl] of sharedContainers()) out.push(`add ${decl.replace(/^(map|set) (\S+)/, `$1 inet ${t} $2`)}`);
    for (const f of [4, 6] as const) out.push(`add set inet ${t} pod-cidrs-${f} { type ${addrType(f)}; flags interval; ${base.podCidrs[f].length ? `elements = { ${base.podCidrs[f].join(', ')} }; ` : ''}}`);
    const keys = [...state.services.keys()].sort();
    let chains = 0;
    const ruleLines: string[] = [];
    for (const k of keys) {
      const m = state.services.get(k)!;
      const frag = this.fragment(m, state.context);
      this.frags.set(k, { model: m, frag });
      for (const [, decl] of frag.sets) out.push(`add ${decl.replace(/^set (\S+)/, `set inet ${t} $1`)}`);
      for (const [c, rules] of frag.chains) {
        out.push(`add chain inet ${t} ${c}`);
        chains++;
        for (const r of rules) ruleLines.push(`add rule inet ${t} ${c} ${r}`);
      }
      for (const [container, key, value] of frag.claims) this.claims.add(k, container, key, value);
    }
    for (const c of base.chains) out.push(c.hook ? `add chain inet ${t} ${c.name} { ${c.hook} }` : `add chain inet ${t} ${c.name}`);
    for (const c of base.chains) for (const r of c.rules) out.push(`add rule inet ${t} ${c.name} ${r}`);
    out.push(...ruleLines);
    const byContainer = new Map<string, string[]>();
    let elements = 0;
    for (const [container, key, value] of this.claims.all()) {
      const l = byContainer.get(container) ?? [];
      l.push(elementText(container, key, value));
      byContainer.set(container, l);
      elements++;
    }
    for (const [container, list] of byContainer) {
      for (let i = 0; i < list.length; i += ELEMENT_BATCH) out.push(`add element inet ${t} ${container} { ${list.slice(i, i + ELEMENT_BATCH).join(', ')} }`);
    }
    return { script: `${out.join('\n')}\n`, full: true, stats: { servicesChanged: keys.length, chainsAdded: chains, chainsRewritten: 0, chainsDeleted: 0, elementsAdded: elements, elementsDeleted: 0 } };
  }

  /** The incremental transaction from the planned state to `state` ('' when nothing changed). */
  next(state: ProxyState): Plan {
    const base = renderBase(state.context, this.opts);
    if (JSON.stringify(base) !== this.baseKey) return this.full(state);
    const t = this.opts.table;
    const changed: string[] = [];
    for (const [k, m] of state.services) if (this.frags.get(k)?.model !== m) changed.push(k);
    for (const k of this.frags.keys()) if (!state.services.has(k)) changed.push(k);
    changed.sort();
    const addSets: string[] = [];
    const addChains: string[] = [];
    const fill: string[] = [];
    const delChains: string[] = [];
    const delSets: string[] = [];
    const touched = new Map<string, Set<string>>();
    const before = new Map<string, string | undefined>();
    const touch = (container: string, key: string) => {
      let s = touched.get(container);
      if (!s) touched.set(container, (s = new Set()));
      if (!s.has(key)) {
        s.add(key);
        before.set(`${container}\u0000${key}`, this.claims.effective(container, key));
      }
    };
    const stats: DiffStats = { servicesChanged: changed.length, chainsAdded: 0, chainsRewritten: 0, chainsDeleted: 0, elementsAdded: 0, elementsDeleted: 0 };
    for (const k of changed) {
      const prev = this.frags.get(k)?.frag;
      const m = state.services.get(k);
      const next = m ? this.fragment(m, state.context) : undefined;
      const pc = prev?.chains ?? new Map<string, string[]>();
      const nc = next?.chains ?? new Map<string, string[]>();
      for (const [name, decl] of next?.sets ?? []) if (!prev?.sets.has(name)) addSets.push(`add ${decl.replace(/^set (\S+)/, `set inet ${t} $1`)}`);
      for (const name of prev?.sets.keys() ?? []) if (!next?.sets.has(name)) delSets.push(`delete set inet ${t} ${name}`);
      for (const [name, rules] of nc) {
        const old = pc.get(name);
        if (old && old.length === rules.length && old.every((r, i) => r === rules[i])) continue;
        if (old) {
          fill.push(`flush chain inet ${t} ${name}`);
          stats.chainsRewritten++;
        } else {
          addChains.push(`add chain inet ${t} ${name}`);
          stats.chainsAdded++;
        }
        for (const r of rules) fill.push(`add rule inet ${t} ${name} ${r}`);
      }
      for (const name of pc.keys()) {
        if (nc.has(name)) continue;
        fill.push(`flush chain inet ${t} ${name}`);
        delChains.push(`delete chain inet ${t} ${name}`);
        stats.chainsDeleted++;
      }
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
    const dels: string[] = [];
    const adds: string[] = [];
    for (const [container, keys] of touched) {
      const d: string[] = [];
      const a: string[] = [];
      for (const key of keys) {
        const was = before.get(`${container}\u0000${key}`);
        const now = this.claims.effective(container, key);
        if (was === now) continue;
        if (was !== undefined) d.push(key);
        if (now !== undefined) a.push(elementText(container, key, now));
      }
      if (d.length) dels.push(`delete element inet ${t} ${container} { ${d.join(', ')} }`);
      if (a.length) adds.push(`add element inet ${t} ${container} { ${a.join(', ')} }`);
      stats.elementsDeleted += d.length;
      stats.elementsAdded += a.length;
    }
    // Order inside the one transaction: what rules refer to exists before the rules, map
    // elements leave before the chains they point to, rules leave before their sets.
    const lines = [...addSets, ...addChains, ...fill, ...dels, ...adds, ...delChains, ...delSets];
    return { script: lines.length ? `${lines.join('\n')}\n` : '', full: false, stats };
  }

  /** Desired objects for drift detection: chain → rule count, container → element count, own sets. */
  expected(): { chains: Map<string, number>; elements: Map<string, number>; sets: Set<string> } {
    const base = JSON.parse(this.baseKey || '{"chains":[]}') as { chains: BaseChain[] };
    const chains = new Map<string, number>();
    for (const c of base.chains) chains.set(c.name, c.rules.length);
    const sets = new Set<string>();
    for (const { frag } of this.frags.values()) {
      for (const [c, rules] of frag.chains) chains.set(c, rules.length);
      for (const s of frag.sets.keys()) sets.add(s);
    }
    const elements = new Map<string, number>();
    for (const [c] of sharedContainers()) elements.set(c, this.claims.count(c));
    return { chains, elements, sets };
  }
}
