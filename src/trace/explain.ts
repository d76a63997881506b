// The explanation of a trace: facts in, hops and a verdict out. Pure.
//
// Three steps, so gathering asks the kernel and the daemons only what the explanation reads:
//   resolve(facts, request)   → the source pod and the targets (a pod, each endpoint of a
//                                service after translation, or an outside address)
//   needs(facts, resolved)    → the routes, Loc-RIB prefixes and nft chains to read, per node
//   explain(facts, resolved, dataplane) → TraceResult: hops per target and a policy verdict
import { calculateService, podPortLookup, sliceService } from '../agent/proxy/calc.js';
import type { Proto, ServicePortModel } from '../agent/proxy/model.js';
import { TernError } from '../errors/index.js';
import { cidrContainsIp, formatIp, isIp, parseCidr, parseIp, type Family } from '../net/ip.js';
import type { Service, WorkloadEndpoint } from '../resources/index.js';
import type { BgpRouteFact, ClusterFacts, DataplaneFacts, DestSpec, FactNeeds, Hop, IpRoute, NodeDataplane, TracePath, TraceRequest, TraceResult, Verdict } from './model.js';
import { chainsOf, endOf, NodeStates, policyVerdict, type Flow, type PolicyVerdict } from './policy.js';

export const TERN_PROTOCOL = '44';

const refOf = (o: { metadata: { name: string; namespace?: string } }): string => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const canon = (ip: string): string => formatIp(parseIp(ip));
const famOf = (ip: string): Family => parseIp(ip).family;

/** A pod's single addresses, canonical. */
export function addressesOf(ep: WorkloadEndpoint): string[] {
  return (ep.spec.ipNetworks ?? []).map((n) => n.split('/')[0]!).filter(isIp).map(canon);
}

// ---------------------------------------------------------------------------------------
// Parsing the command line's POD and DEST

/** POD as `ns/name` or `name` (in `ns`). */
export function parsePodRef(text: string, ns: string): string {
  const t = text.replace(/^(pod|pods|po)\//, '');
  return t.includes('/') ? t : `${ns}/${t}`;
}

function splitPort(text: string): { host: string; port?: number | string } {
  const b = /^\[([^\]]+)\](?::([^:]+))?$/.exec(text);
  if (b) return b[2] === undefined ? { host: b[1]! } : { host: b[1]!, port: portValue(b[2]) };
  if (isIp(text)) return { host: text };
  const i = text.lastIndexOf(':');
  if (i < 0) return { host: text };
  return { host: text.slice(0, i), port: portValue(text.slice(i + 1)) };
}

function portValue(s: string): number | string {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 65535) throw new TernError('TERN_ERR_USAGE', `port ${s} is not 1-65535`);
    return n;
  }
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s)) throw new TernError('TERN_ERR_USAGE', `"${s}" is neither a port number nor a port name`);
  return s;
}

/**
 * DEST[:PORT]: `svc/name`, `name.ns.svc[.cluster.local]`, `ns/name` or `name` (a pod), an IP
 * (`[v6]:port` for IPv6 with a port). A service's ClusterIP is recognised in resolve().
 */
export function parseDest(text: string, ns: string): DestSpec {
  const { host, port } = splitPort(text);
  const withPort = <T extends object>(d: T): T & { port?: number | string } => (port === undefined ? d : { ...d, port });
  if (isIp(host)) return withPort({ kind: 'ip' as const, ip: canon(host) });
  const svc = /^(?:svc|service|services)\/(?:([^/]+)\/)?([^/]+)$/.exec(host);
  if (svc) return withPort({ kind: 'service' as const, ref: `${svc[1] ?? ns}/${svc[2]}` });
  const dns = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?\.?$/.exec(host);
  if (dns) return withPort({ kind: 'service' as const, ref: `${dns[2]}/${dns[1]}` });
  return withPort({ kind: 'pod' as const, ref: parsePodRef(host, ns) });
}

// ---------------------------------------------------------------------------------------
// Resolution

export interface Target {
  /** "ns/name 10.244.1.3:8080" or "10.0.0.1 (outside the cluster)". */
  label: string;
  ip: string;
  port?: number;
  ep?: WorkloadEndpoint;
  /** Node of the pod owning ip; undefined for outside addresses. */
  node?: string;
  /** What names the address when it is not a pod (a node's name). */
  owner?: string;
}

export interface ServiceHop {
  ref: string;
  ip: string;
  port: number;
  proto: Proto;
  model?: ServicePortModel;
  /** The endpoints a connection may go to from the source's node. */
  endpoints: Array<{ ip: string; port: number; local: boolean }>;
  sessionAffinity: boolean;
}

export interface Resolved {
  request: TraceRequest;
  source: { ep: WorkloadEndpoint; ref: string; ip: string; node: string; iface?: string };
  service?: ServiceHop;
  targets: Target[];
  notes: string[];
}

function podByIp(facts: ClusterFacts, ip: string): WorkloadEndpoint | undefined {
  const c = canon(ip);
  return facts.endpoints.find((e) => addressesOf(e).includes(c));
}

function serviceByIp(facts: ClusterFacts, ip: string): Service | undefined {
  const c = canon(ip);
  return facts.services.find((s) => [...(s.spec.clusterIPs ?? []), s.spec.clusterIP ?? '', ...(s.spec.externalIPs ?? [])].filter(isIp).map(canon).includes(c));
}

function namedPortOf(ep: WorkloadEndpoint, name: string, proto: string): number | undefined {
  return (ep.spec.ports ?? []).find((p) => p.name === name && (p.protocol ?? 'TCP') === proto)?.port;
}

function podTarget(ep: WorkloadEndpoint, ip: string, port: number | string | undefined, proto: string): Target {
  let p: number | undefined;
  if (typeof port === 'string') {
    p = namedPortOf(ep, port, proto);
    if (p === undefined) throw new TernError('TERN_ERR_NOT_FOUND', `pod ${refOf(ep)} has no ${proto} port named "${port}"`);
  } else p = port;
  const t: Target = { label: `${refOf(ep)} ${ip.includes(':') ? `[${ip}]` : ip}${p ? `:${p}` : ''}`, ip, ep, node: ep.spec.node };
  if (p !== undefined) t.port = p;
  return t;
}

function nodeOwning(facts: ClusterFacts, ip: string): string | undefined {
  const c = canon(ip);
  return facts.nodes.find((n) => n.ips.map((x) => canon(x.split('/')[0]!)).includes(c))?.name;
}

function resolveService(facts: ClusterFacts, svc: Service, srcNode: string, srcFam: Family, port: number | string | undefined, proto: string, viaIp: string | undefined, notes: string[]): ServiceHop {
  const ref = refOf(svc);
  const slices = facts.slices.filter((s) => sliceService(s) === ref);
  const model = calculateService(svc, slices, { nodeName: srcNode, clusterCidrs: [] }, podPortLookup(facts.endpoints));
  if (!model) throw new TernError('TERN_ERR_USAGE', `service ${ref} is ${svc.spec.type === 'ExternalName' ? 'an ExternalName' : 'headless'}: no address to translate; trace a pod instead`);
  const p = proto.toLowerCase() as Proto;
  const fam = viaIp ? famOf(viaIp) : srcFam;
  const candidates = model.ports.filter((x) => x.family === fam && x.proto === p);
  let sp: ServicePortModel | undefined;
  if (port === undefined) {
    sp = candidates[0];
    if (candidates.length > 1) notes.push(`service ${ref} has ${candidates.length} ${proto} ports; tracing ${sp!.port} (give DEST:PORT for another)`);
  } else if (typeof port === 'number') sp = candidates.find((x) => x.port === port);
  else {
    const named = (svc.spec.ports ?? []).find((x) => x.name === port && (x.protocol ?? 'TCP') === proto);
    sp = named ? candidates.find((x) => x.port === named.port) : undefined;
  }
  if (!sp) throw new TernError('TERN_ERR_NOT_FOUND', `service ${ref} has no IPv${fam} ${proto} port ${port ?? ''}`.trimEnd());
  const ip = viaIp ? canon(viaIp) : sp.clusterIp ?? sp.externalIps[0];
  if (!ip) throw new TernError('TERN_ERR_NOT_FOUND', `service ${ref} has no IPv${fam} address`);
  const endpoints = sp.internalLocal ? sp.localEndpoints : sp.endpoints;
  for (const e of model.errors) notes.push(`service ${ref}: ${e.message}`);
  return { ref, ip, port: sp.port, proto: p, model: sp, endpoints, sessionAffinity: sp.affinitySeconds !== undefined };
}

export function resolve(facts: ClusterFacts, req: TraceRequest): Resolved {
  const notes: string[] = [];
  const src = facts.endpoints.find((e) => refOf(e) === req.source);
  if (!src) throw new TernError('TERN_ERR_NOT_FOUND', `pod ${req.source} has no WorkloadEndpoint`);
  const srcAddrs = addressesOf(src);
  if (!srcAddrs.length) throw new TernError('TERN_ERR_NOT_FOUND', `pod ${req.source} has no address`);
  const pickSrc = (fam: Family): string => {
    const a = srcAddrs.find((x) => famOf(x) === fam);
    if (!a) throw new TernError('TERN_ERR_NOT_FOUND', `pod ${req.source} has no IPv${fam} address`);
    return a;
  };
  const proto = req.protocol;
  let targets: Target[] = [];
  let service: ServiceHop | undefined;
  let srcIp: string;
  const d = req.dest;
  if (d.kind === 'pod') {
    const ep = facts.endpoints.find((e) => refOf(e) === d.ref);
    if (!ep) throw new TernError('TERN_ERR_NOT_FOUND', `pod ${d.ref} has no WorkloadEndpoint (for a service write svc/NAME)`);
    const addrs = addressesOf(ep);
    const ip = addrs.find((a) => srcAddrs.some((s) => famOf(s) === famOf(a)));
    if (!ip) throw new TernError('TERN_ERR_NOT_FOUND', `pods ${req.source} and ${d.ref} share no address family`);
    srcIp = pickSrc(famOf(ip));
    targets = [podTarget(ep, ip, d.port, proto)];
  } else if (d.kind === 'service') {
    const [ns, name] = d.ref.split('/');
    const svc = facts.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name);
    if (!svc) throw new TernError('TERN_ERR_NOT_FOUND', `service ${d.ref} does not exist`);
    service = resolveService(facts, svc, src.spec.node, famOf(srcAddrs[0]!), d.port, proto, undefined, notes);
    srcIp = pickSrc(famOf(service.ip));
  } else {
    srcIp = pickSrc(famOf(d.ip));
    const ep = podByIp(facts, d.ip);
    const svc = ep ? undefined : serviceByIp(facts, d.ip);
    if (ep) targets = [podTarget(ep, d.ip, d.port, proto)];
    else if (svc) service = resolveService(facts, svc, src.spec.node, famOf(d.ip), d.port, proto, d.ip, notes);
    else {
      if (typeof d.port === 'string') throw new TernError('TERN_ERR_USAGE', `a port name needs a pod or a service, not ${d.ip}`);
      const owner = nodeOwning(facts, d.ip);
      const t: Target = { label: `${d.ip}${owner ? ` (node ${owner})` : ' (outside the cluster)'}`, ip: d.ip };
      if (d.port !== undefined) t.port = d.port;
      if (owner) t.owner = `node ${owner}`;
      targets = [t];
    }
  }
  if (service) {
    if (service.endpoints.length === 0) notes.push(`service ${service.ref} has no ready endpoint: new connections are rejected on the source node`);
    for (const e of service.endpoints) {
      const ep = podByIp(facts, e.ip);
      if (ep) targets.push(podTarget(ep, e.ip, e.port, proto));
      else targets.push({ label: `${e.ip}:${e.port} (not a pod)`, ip: e.ip, port: e.port });
    }
  }
  const source: Resolved['source'] = { ep: src, ref: refOf(src), ip: srcIp, node: src.spec.node };
  if (src.spec.interfaceName) source.iface = src.spec.interfaceName;
  const out: Resolved = { request: req, source, targets, notes };
  if (service) out.service = service;
  return out;
}

// ---------------------------------------------------------------------------------------
// Routes

/** Is `ip` inside the route's destination ("default", "10.0.0.0/24", or a bare address)? */
function routePrefix(r: IpRoute, fam: Family): { base: string; len: number } | undefined {
  const dst = r.dst ?? '';
  if (dst === 'default') return { base: fam === 4 ? '0.0.0.0' : '::', len: 0 };
  if (!dst) return undefined;
  const [a, l] = dst.split('/');
  if (!isIp(a!) || famOf(a!) !== fam) return undefined;
  return { base: a!, len: l === undefined ? (fam === 4 ? 32 : 128) : Number(l) };
}

/**
 * The main table's entry the kernel uses for `ip` (longest prefix, then lowest metric) —
 * the line that carries the protocol, which `ip route get` does not print.
 */
export function coveringRoute(routes: readonly IpRoute[] | undefined, ip: string): IpRoute | undefined {
  const fam = famOf(ip);
  const a = parseIp(ip);
  let best: { r: IpRoute; len: number; metric: number } | undefined;
  for (const r of routes ?? []) {
    if (r.type && !['unicast', 'blackhole', 'unreachable', 'prohibit'].includes(r.type)) continue;
    const p = routePrefix(r, fam);
    if (!p) continue;
    if (!cidrContainsIp(parseCidr(`${p.base}/${p.len}`, { strict: false }), a)) continue;
    const metric = r.metric ?? 0;
    if (!best || p.len > best.len || (p.len === best.len && metric < best.metric)) best = { r, len: p.len, metric };
  }
  return best?.r;
}

export function prefixOf(r: IpRoute, ip: string): string {
  const p = routePrefix(r, famOf(ip));
  return p ? `${canon(p.base)}/${p.len}` : String(r.dst);
}

const protoName = (p: string | undefined): string => (p === TERN_PROTOCOL || p === 'tern' ? 'tern (44)' : p ?? 'boot');

function routeText(r: IpRoute): string {
  const words: string[] = [];
  if (r.type && r.type !== 'unicast') words.push(r.type);
  words.push(r.dst ?? '?');
  if (r.gateway) words.push('via', r.gateway);
  for (const nh of r.nexthops ?? []) words.push('nexthop', 'via', nh.gateway ?? '?', ...(nh.dev ? ['dev', nh.dev] : []));
  if (r.dev) words.push('dev', r.dev);
  words.push('proto', protoName(r.protocol));
  return words.join(' ');
}

const gatewaysOf = (r: IpRoute | undefined): string[] => (r ? (r.gateway ? [r.gateway] : (r.nexthops ?? []).map((n) => n.gateway ?? '').filter(Boolean)).map(canon) : []);

function blockOf(facts: ClusterFacts, ip: string): { cidr: string; node: string | null } | undefined {
  const a = parseIp(ip);
  return facts.blocks.find((b) => {
    const c = parseCidr(b.cidr, { strict: false });
    return c.family === a.family && cidrContainsIp(c, a);
  });
}

// ---------------------------------------------------------------------------------------
// Needs

function flowOf(r: Resolved, t: Target): Flow {
  const src = endOf(r.source.ep, r.source.ip);
  const dst = t.ep ? endOf(t.ep, t.ip) : { ip: t.ip };
  return { src, dst, proto: r.request.protocol, port: t.port ?? 0 };
}

export function needs(facts: ClusterFacts, r: Resolved): FactNeeds {
  const n: FactNeeds = { routeGets: [], bgpPrefixes: [], routeTables: [], chains: [], tables: [] };
  const fam = famOf(r.source.ip);
  const states = new NodeStates(facts);
  const add = <T>(list: T[], x: T): void => {
    if (!list.some((y) => JSON.stringify(y) === JSON.stringify(x))) list.push(x);
  };
  add(n.routeTables, { node: r.source.node, family: fam });
  if (r.service) add(n.tables, r.source.node);
  for (const t of r.targets) {
    const get: FactNeeds['routeGets'][number] = { node: r.source.node, dst: t.ip, from: r.source.ip };
    if (r.source.iface) get.iif = r.source.iface;
    add(n.routeGets, get);
    const b = blockOf(facts, t.ip);
    if (b && t.node !== r.source.node) add(n.bgpPrefixes, { node: r.source.node, prefix: b.cidr });
    if (t.node && t.node !== r.source.node) {
      add(n.routeTables, { node: t.node, family: famOf(t.ip) });
      add(n.routeGets, { node: t.node, dst: t.ip });
    }
    if (t.port !== undefined) for (const c of chainsOf(policyVerdict(facts, flowOf(r, t), states))) add(n.chains, c);
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Explanation

/** Who an address is: a node, a named speaker (reflector, ToR), or the address itself. */
function speakerName(facts: ClusterFacts, addr: string): string {
  if (!addr) return 'this node';
  if (isIp(addr)) {
    const node = nodeOwning(facts, addr);
    if (node) return node;
    const c = canon(addr);
    for (const [k, v] of Object.entries(facts.speakers ?? {})) if (isIp(k) && canon(k) === c) return v;
  }
  return facts.speakers?.[addr] ?? addr;
}

/** A CLUSTER_LIST entry: the reflector node with that cluster ID, a named speaker, or the ID. */
function clusterName(facts: ClusterFacts, id: string): string {
  const node = facts.nodes.find((n) => n.clusterId === id);
  if (node) return `${node.name} (cluster ${id})`;
  const named = speakerName(facts, id);
  return named === id ? `cluster ${id}` : `${named} (cluster ${id})`;
}

export interface BgpExplanation {
  prefix: string;
  nextHop: string;
  peer: string;
  peerName: string;
  /** The node that originated the block: ORIGINATOR_ID when reflected, else the peer. */
  advertisedBy: string;
  reflectors: string[];
  clusterList: string[];
}

export function explainBgp(facts: ClusterFacts, route: BgpRouteFact | undefined): BgpExplanation | undefined {
  const best = route?.paths[0];
  if (!route || !best) return undefined;
  const peerName = speakerName(facts, best.peerAddress);
  const reflected = best.clusterList.length > 0 || (best.originatorId !== '' && speakerName(facts, best.originatorId) !== peerName);
  const advertisedBy = best.originatorId ? speakerName(facts, best.originatorId) : peerName;
  const reflectors = reflected ? [...new Set([peerName, ...best.clusterList.map((c) => clusterName(facts, c))])] : [];
  return { prefix: route.prefix, nextHop: best.nextHop, peer: best.peerAddress, peerName, advertisedBy, reflectors, clusterList: best.clusterList };
}

function podVethHop(r: Resolved, dp: NodeDataplane | undefined): Hop {
  const { source } = r;
  const data: Record<string, unknown> = { pod: source.ref, ip: source.ip, iface: source.iface ?? null };
  if (!source.iface) return { hop: 'pod veth', node: source.node, ok: false, detail: `${source.ref} ${source.ip}: its WorkloadEndpoint names no host-side interface`, data };
  const back = coveringRoute(dp?.routes, source.ip);
  data.route = back ?? null;
  if (!dp?.routes) return { hop: 'pod veth', node: source.node, ok: true, detail: `${source.ref} ${source.ip} eth0 ⇄ ${source.iface} (kernel routes not read: ${dp?.errors?.join('; ') || 'node not reachable'})`, data };
  const ok = !!back && back.dev === source.iface && prefixOf(back, source.ip).endsWith(source.ip.includes(':') ? '/128' : '/32');
  return {
    hop: 'pod veth', node: source.node, ok, data,
    detail: `${source.ref} ${source.ip} eth0 ⇄ ${source.iface}; ${ok ? `route back: ${routeText(back!)}` : back ? `route back goes elsewhere: ${routeText(back)}` : `no route back to ${source.ip}`}`,
  };
}

function serviceHop(r: Resolved, dp: NodeDataplane | undefined): Hop {
  const s = r.service!;
  const n = s.endpoints.length;
  const list = s.endpoints.map((e) => `${e.ip}:${e.port}${e.local ? ' (local)' : ''}`).join(', ');
  const how = n === 0
    ? 'no endpoint: the connection is refused on the source node'
    : n === 1
      ? 'the only endpoint'
      : s.sessionAffinity
        ? `each client sticks to one endpoint (sessionAffinity ClientIP); a first connection picks each with probability 1/${n}`
        : `each new connection picks one at random, probability 1/${n} each`;
  const proxy = dp?.nftTables === undefined ? null : dp.nftTables.includes('tern-proxy');
  const proxyText = proxy === null ? '' : proxy ? '; DNAT in the service shard table (inet tern-proxy-N)' : '; no table inet tern-proxy on this node: Tern does not translate here (another proxy must)';
  const ipText = s.ip.includes(':') ? `[${s.ip}]` : s.ip;
  return {
    hop: 'service', node: r.source.node, ok: n > 0 && proxy !== false,
    detail: `${s.ref} ${ipText}:${s.port}/${s.proto.toUpperCase()} → ${list || '(none)'}: ${how}${s.model?.internalLocal ? ' (internalTrafficPolicy Local: local endpoints only)' : ''}${proxyText}`,
    data: { service: s.ref, ip: s.ip, port: s.port, protocol: s.proto, endpoints: s.endpoints, sessionAffinity: s.sessionAffinity, proxyTable: proxy },
  };
}

function nodeRouteHop(facts: ClusterFacts, r: Resolved, t: Target, dp: NodeDataplane | undefined): { hop: Hop; route?: IpRoute; gateways: string[] } {
  const node = r.source.node;
  const got = dp?.routeGet?.[t.ip]?.[0];
  const line = coveringRoute(dp?.routes, t.ip);
  const data: Record<string, unknown> = { dst: t.ip, get: got ?? null, route: line ?? null };
  if (!got && !line) return { hop: { hop: 'node route', node, ok: false, detail: `no route to ${t.ip} read (${dp?.errors?.join('; ') || 'node not reachable'})`, data }, gateways: [] };
  const gateways = got?.gateway ? [canon(got.gateway)] : gatewaysOf(line);
  const kind = line?.type && line.type !== 'unicast' ? line.type : undefined;
  const localPod = t.node === node;
  let ok = !kind;
  let what: string;
  if (kind) what = `${kind}: the packet is dropped here`;
  else if (localPod) {
    ok = !!got?.dev && got.dev === t.ep?.spec.interfaceName;
    what = ok ? `local pod: out ${got!.dev}` : `local pod ${t.label}, but the kernel sends it out ${got?.dev ?? '?'} instead of ${t.ep?.spec.interfaceName ?? '?'}`;
  } else if (gateways.length) {
    const names = gateways.map((g) => `${g}${speakerName(facts, g) !== g ? ` (${speakerName(facts, g)})` : ''}`);
    what = `via ${names.join(', ')} dev ${got?.dev ?? line?.dev ?? '?'}`;
    if (t.node) {
      const expect = facts.nodes.find((n) => n.name === t.node)?.ips.map(canon) ?? [];
      if (expect.length && !gateways.some((g) => expect.includes(g))) {
        ok = false;
        what += `; but ${t.label} lives on ${t.node}`;
      }
    }
  } else what = `dev ${got?.dev ?? line?.dev ?? '?'} (directly connected)`;
  const lineText = line ? `; route ${routeText(line)}${line.protocol === TERN_PROTOCOL || line.protocol === 'tern' ? ' (owned by tern-agentd)' : ''}` : '';
  const external = !t.ep && !t.owner ? (line?.dst === 'default' ? ' (default route)' : '') : '';
  const route: { hop: Hop; route?: IpRoute; gateways: string[] } = { hop: { hop: 'node route', node, ok, detail: `${t.ip}: ${what}${external}${lineText}`, data }, gateways };
  if (line) route.route = line;
  return route;
}

function bgpHop(facts: ClusterFacts, r: Resolved, t: Target, dp: NodeDataplane | undefined, route: IpRoute | undefined, gateways: string[]): Hop | undefined {
  const node = r.source.node;
  const block = blockOf(facts, t.ip);
  const candidates = [block?.cidr, route ? prefixOf(route, t.ip) : undefined].filter((x): x is string => !!x);
  const fact = candidates.map((p) => dp?.bgp?.[p]).find((x) => x && x.paths.length > 0);
  const isTern = route?.protocol === TERN_PROTOCOL || route?.protocol === 'tern';
  if (!fact) {
    if (t.node === node) return undefined;
    if (!t.node && !isTern) return undefined;
    const asked = candidates.filter((p) => dp?.bgp?.[p] !== undefined);
    return {
      hop: 'bgp', node, ok: false,
      detail: dp?.bgp === undefined ? `Loc-RIB not read (${dp?.errors?.join('; ') || 'bgpd not reachable'})` : `bgpd on ${node} has no path for ${asked.join(' or ') || candidates.join(' or ') || t.ip}`,
      data: { prefixes: candidates },
    };
  }
  const e = explainBgp(facts, fact)!;
  const problems: string[] = [];
  const nhMatch = gateways.length === 0 ? null : gateways.includes(canon(e.nextHop));
  if (nhMatch === false) problems.push(`kernel route goes via ${gateways.join(', ')}`);
  if (block && block.node && block.cidr === e.prefix && block.node !== e.advertisedBy) problems.push(`IPAM gives ${block.cidr} to ${block.node}`);
  const via = e.reflectors.length ? `, reflected by ${e.reflectors.join(' → ')}` : e.peer ? ' (direct session)' : '';
  const detail = `${e.prefix} advertised by ${e.advertisedBy}${via}; best path from ${e.peer || 'local'}${e.peerName !== e.peer ? ` (${e.peerName})` : ''}, next hop ${e.nextHop}${nhMatch === true ? ' = kernel gateway' : ''}${problems.length ? `; MISMATCH: ${problems.join('; ')}` : ''}`;
  return { hop: 'bgp', node, ok: problems.length === 0, detail, data: { ...e, nextHopMatchesKernel: nhMatch, blockAffinity: block?.node ?? null, bestReason: fact.bestReason ?? '' } };
}

function destRouteHop(t: Target, dp: NodeDataplane | undefined): Hop | undefined {
  if (!t.ep || !t.node) return undefined;
  const iface = t.ep.spec.interfaceName;
  const line = coveringRoute(dp?.routes, t.ip);
  const got = dp?.routeGet?.[t.ip]?.[0];
  const data = { route: line ?? null, get: got ?? null, iface: iface ?? null };
  if (!line && !got) return { hop: 'dest node route', node: t.node, ok: false, detail: `no route to ${t.ip} read (${dp?.errors?.join('; ') || 'node not reachable'})`, data };
  const dev = got?.dev ?? line?.dev;
  const ok = !!iface && dev === iface;
  return {
    hop: 'dest node route', node: t.node, ok, data,
    detail: ok ? `${t.ip} dev ${iface} → ${t.label}${line ? `; route ${routeText(line)}` : ''}` : `${t.ip} goes out ${dev ?? '?'}${line ? ` (route ${routeText(line)})` : ''}, not ${t.label}'s veth ${iface ?? '(none)'}`,
  };
}

function kernelCheck(v: Verdict, dp: DataplaneFacts): void {
  if (!v.kernel) return;
  const chain = dp.nodes[v.kernel.node]?.nft?.[`tern/${v.kernel.chain}`];
  if (chain === undefined) return;
  const hit = chain?.rules.find((r) => r.comment === v.kernel!.comment);
  v.kernel.present = !!hit;
  if (hit?.handle !== undefined) v.kernel.handle = hit.handle;
}

function policyHops(pv: PolicyVerdict): Hop[] {
  const out: Hop[] = [];
  for (const d of [pv.egress, pv.ingress]) {
    if (!d) continue;
    const hop = d.dir === 'egress' ? 'policy egress' : 'policy ingress';
    const rule = d.allowed && d.isolated && d.described?.length ? ` [${d.described.join(' | ')}]` : '';
    const chain = d.chain ? ` (chain ${d.chain}: "${d.comment}")` : '';
    out.push({ hop, node: d.node, ok: d.allowed, detail: `${d.allowed ? 'allow' : 'DENY'}: ${d.reason}${rule}${chain}`, data: { ...d } });
  }
  return out;
}

export function explain(facts: ClusterFacts, r: Resolved, dp: DataplaneFacts): TraceResult {
  const states = new NodeStates(facts);
  const srcDp = dp.nodes[r.source.node];
  const paths: TracePath[] = r.targets.map((t) => {
    const hops: Hop[] = [podVethHop(r, srcDp)];
    if (r.service) hops.push(serviceHop(r, srcDp));
    const nr = nodeRouteHop(facts, r, t, srcDp);
    hops.push(nr.hop);
    const b = bgpHop(facts, r, t, srcDp, nr.route, nr.gateways);
    if (b) hops.push(b);
    if (t.node && t.node !== r.source.node) {
      const d = destRouteHop(t, dp.nodes[t.node]);
      if (d) hops.push(d);
    }
    let verdict: Verdict;
    if (t.port === undefined) {
      verdict = { allowed: true, reason: 'no port given: policy not evaluated (give DEST:PORT)' };
    } else {
      const pv = policyVerdict(facts, flowOf(r, t), states);
      hops.push(...policyHops(pv));
      verdict = pv.verdict;
      kernelCheck(verdict, dp);
    }
    const path: TracePath = { target: t.label, targetIp: t.ip, hops, verdict };
    if (t.port !== undefined) path.port = t.port;
    return path;
  });
  const res: TraceResult = {
    source: { ref: r.source.ref, ip: r.source.ip, node: r.source.node },
    dest: r.service ? `${r.service.ref} ${r.service.ip}:${r.service.port}` : r.targets[0]?.label ?? '',
    protocol: r.request.protocol,
    paths,
    notes: [...r.notes],
  };
  if (r.source.iface) res.source.iface = r.source.iface;
  const port = r.service?.port ?? r.targets[0]?.port;
  if (port !== undefined) res.port = port;
  return res;
}
