// The agent's calculation (pure): from the keyed view to the desired kernel routes and to
// what bgpd should do. Deterministic: iteration is over sorted keys wherever two inputs could
// claim one output, so the result depends only on the set of inputs.
import { isIP } from 'node:net';
import { calculatePaths, type DesiredPath } from '../bgp/paths.js';
import { calculatePeers, nodeAddresses, type DesiredPeer, type PeerProblem } from '../bgp/peers.js';
import type { RouteSpec } from '../routes/model.js';
import { cidrContainsIp, parseCidr, parseIp, type Cidr } from '../../net/ip.js';
import { cniDst, type AgentState } from './updates.js';

export interface NodeIps {
  v4?: string;
  v6?: string;
  /** Every address of the node that policy lets reach its pods. */
  all: string[];
}

/** The node's addresses: the configured nodeIP first, then its Node's BGP and listed addresses. */
export function nodeIps(state: AgentState, configured: string | undefined): NodeIps {
  const self = state.self;
  const a = nodeAddresses(self);
  const all = new Set<string>();
  const out: NodeIps = { all: [] };
  const take = (ip: string | undefined): void => {
    if (!ip) return;
    all.add(ip);
    if (isIP(ip) === 4) out.v4 ??= ip;
    else if (isIP(ip) === 6) out.v6 ??= ip;
  };
  take(configured);
  take(a.v4);
  take(a.v6);
  for (const x of self?.spec.addresses ?? []) if (x.type === 'InternalIP') take(x.address);
  out.all = [...all].sort();
  return out;
}

const hostPrefix = (n: string): boolean => n.endsWith('/32') || n.endsWith('/128');

/**
 * Kernel routes: a route per local pod address to its veth (CNI made them with protocol 44;
 * these adopt them), a blackhole per affine block (so addresses of the block that no pod
 * holds are dropped here instead of bouncing to the default route), and each remote prefix
 * via the nodes bgpd chose (ECMP when several). Keyed by destination.
 */
export function desiredRoutes(state: AgentState, ips: NodeIps): Map<string, RouteSpec> {
  const out = new Map<string, RouteSpec>();
  const local = state.localEndpoints().sort((x, y) => (key(x) < key(y) ? -1 : 1));
  for (const e of local) {
    const dev = e.spec.interfaceName;
    if (!dev) continue;
    for (const n of e.spec.ipNetworks) {
      // Two endpoints claiming one address (a stale record): the first by name keeps it.
      if (!out.has(n)) out.set(n, { kind: 'local', dst: n, dev });
    }
  }
  // Veths whose endpoint is not in etcd yet (the ADD is writing it right now).
  for (const iface of [...state.cniVeths.keys()].sort()) {
    for (const ip of state.cniVeths.get(iface)!) {
      const dst = cniDst(ip);
      if (!out.has(dst)) out.set(dst, { kind: 'local', dst, dev: iface });
    }
  }
  for (const b of [...state.affinities].sort()) if (!out.has(b)) out.set(b, { kind: 'blackhole', dst: b });
  const own = new Set(ips.all);
  for (const prefix of [...state.remote.keys()].sort()) {
    if (out.has(prefix)) continue;
    // Our own originations come back as best paths; routing them to ourselves would loop.
    const nh = state.remote.get(prefix)!.filter((h) => !own.has(h));
    if (nh.length === 0) continue;
    out.set(prefix, { kind: 'via', dst: prefix, nexthops: nh.map((via) => ({ via })) });
  }
  return out;
}

/**
 * The desired route of one destination: the entry desiredRoutes(state, ips) has for it (or
 * none), found through the state's claim indexes instead of a pass over every endpoint, so a
 * pod update costs its own addresses only.
 */
export function routeFor(state: AgentState, ips: NodeIps, dst: string): RouteSpec | undefined {
  const ids = state.localClaims.get(dst);
  if (ids) {
    // desiredRoutes walks local endpoints by name: the first claimant by name wins.
    let best: { k: string; dev: string } | undefined;
    for (const id of ids) {
      const e = state.endpoints.get(id);
      const dev = e?.spec.interfaceName;
      if (!e || !dev) continue;
      const k = key(e);
      if (!best || k < best.k) best = { k, dev };
    }
    if (best) return { kind: 'local', dst, dev: best.dev };
  }
  const ifaces = state.cniClaims.get(dst);
  if (ifaces && ifaces.size > 0) {
    let first: string | undefined;
    for (const i of ifaces) if (first === undefined || i < first) first = i;
    return { kind: 'local', dst, dev: first! };
  }
  if (state.affinities.has(dst)) return { kind: 'blackhole', dst };
  const hops = state.remote.get(dst);
  if (!hops) return undefined;
  const own = ips.all;
  const nh = hops.filter((h) => !own.includes(h));
  return nh.length === 0 ? undefined : { kind: 'via', dst, nexthops: nh.map((via) => ({ via })) };
}

const key = (e: { metadata: { namespace?: string | undefined; name: string } }): string => `${e.metadata.namespace ?? 'default'}/${e.metadata.name}`;

export interface BgpDesired {
  peers: Map<string, DesiredPeer>;
  paths: Map<string, DesiredPath>;
  problems: PeerProblem[];
}

/** Sessions and originated paths for bgpd. */
export function bgpDesired(state: AgentState, ips: NodeIps, secret: (name: string, key: string) => string | undefined): BgpDesired {
  const ps = calculatePeers({ nodeName: state.nodeName, nodes: state.nodes, config: state.config, peers: state.bgpPeers, secret });
  const blocks = [...state.affinities];
  const blockCidrs: Cidr[] = blocks.flatMap((b) => {
    try {
      return [parseCidr(b)];
    } catch {
      return [];
    }
  });
  // A local pod whose address came from another node's block (IPAM borrowed it): that node
  // advertises the block, so this one advertises the /32 (/128), the longer match.
  const borrowed: string[] = [];
  for (const e of state.localEndpoints()) {
    for (const n of e.spec.ipNetworks) {
      if (!hostPrefix(n)) continue;
      try {
        const ip = parseIp(n.split('/')[0]!);
        if (!blockCidrs.some((c) => cidrContainsIp(c, ip))) borrowed.push(n);
      } catch {
        /* validated on decode; unreachable */
      }
    }
  }
  const paths = calculatePaths({
    nodeName: state.nodeName,
    nodeIPv4: ips.v4,
    nodeIPv6: ips.v6,
    blocks,
    borrowed,
    config: state.config,
    services: state.services.values(),
    slices: state.slices.values(),
  });
  return { peers: ps.peers, paths, problems: ps.problems };
}

/** Stable text of a route spec, to see whether a desired route changed. */
export function routeText(r: RouteSpec): string {
  switch (r.kind) {
    case 'local':
      return `local ${r.dst} dev ${r.dev}`;
    case 'blackhole':
      return `blackhole ${r.dst}`;
    case 'via':
      return `via ${r.dst} ${r.nexthops.map((n) => n.via).join(',')}`;
    default: {
      const never: never = r;
      return JSON.stringify(never);
    }
  }
}
