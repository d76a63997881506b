// What this node originates into BGP (pure): its affine IPAM blocks, addresses of local pods
// that live in another node's block (borrowed), and service addresses per BGPConfiguration
// "default", Calico's rules:
//   serviceClusterIPs      the CIDRs as they are, from every node;
//   serviceExternalIPs     a /32 (/128) per externalIP of a service inside one of the CIDRs;
//   serviceLoadBalancerIPs a /32 (/128) per loadBalancer ingress IP (and spec.loadBalancerIP)
//                          inside one of the CIDRs;
// a service with externalTrafficPolicy Local is advertised (external and LB addresses, and its
// cluster IPs as /32 inside serviceClusterIPs) only by nodes with a ready local endpoint, so
// traffic reaches a node that can answer without a second hop and keeps its source address.
// Communities: BGPConfiguration.prefixAdvertisements, the most specific CIDR containing the
// prefix wins; names refer to spec.communities.
import type { BGPConfiguration, EndpointSlice, Service } from '../../resources/index.js';
import { SERVICE_NAME_LABEL } from '../../resources/index.js';
import { cidrContains, cidrContainsIp, parseCidr, parseIp, type Cidr } from '../../net/ip.js';

export interface DesiredPath {
  prefix: string;
  family: 'IPV4_UNICAST' | 'IPV6_UNICAST';
  nextHop: string;
  communities: string[];
  largeCommunities: string[];
  /** Why it is originated: block, borrowed, cluster-cidr, cluster-ip, external-ip, lb-ip. */
  reason: string;
}

export interface PathInput {
  nodeName: string;
  nodeIPv4?: string | undefined;
  nodeIPv6?: string | undefined;
  /** CIDRs of the IPAM blocks affine to this node. */
  blocks: Iterable<string>;
  /** Addresses (/32, /128) of local pods outside the node's own blocks. */
  borrowed?: Iterable<string>;
  config: BGPConfiguration | undefined;
  services: Iterable<Service>;
  slices: Iterable<EndpointSlice>;
}

const hostLen = (ip: string): string => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);

function safeCidr(s: string): Cidr | undefined {
  try {
    return parseCidr(s);
  } catch {
    return undefined;
  }
}

function inAny(ip: string, cidrs: readonly Cidr[]): boolean {
  let p;
  try {
    p = parseIp(ip);
  } catch {
    return false;
  }
  return cidrs.some((c) => cidrContainsIp(c, p));
}

/** Services (ns/name) with a ready endpoint on this node. */
export function servicesWithLocalEndpoints(slices: Iterable<EndpointSlice>, nodeName: string): Set<string> {
  const out = new Set<string>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    // EndpointConditions.ready: "nil should be interpreted as true" (discovery.k8s.io/v1).
    if (s.endpoints.some((e) => e.nodeName === nodeName && e.conditions?.ready !== false)) out.add(`${s.metadata.namespace ?? 'default'}/${svc}`);
  }
  return out;
}

/** Resolves prefixAdvertisements to the communities of one prefix. */
export function communitiesFor(prefix: string, config: BGPConfiguration | undefined): { communities: string[]; largeCommunities: string[] } {
  const out = { communities: [] as string[], largeCommunities: [] as string[] };
  const ads = config?.spec.prefixAdvertisements;
  if (!ads?.length) return out;
  const p = safeCidr(prefix);
  if (!p) return out;
  let best: { len: number; communities: string[] } | undefined;
  for (const a of ads) {
    const c = safeCidr(a.cidr);
    if (!c || c.family !== p.family || !cidrContains(c, p)) continue;
    if (!best || c.prefixLen > best.len) best = { len: c.prefixLen, communities: a.communities };
  }
  if (!best) return out;
  const named = new Map((config?.spec.communities ?? []).map((c) => [c.name, c.value]));
  for (const c of best.communities) {
    const v = named.get(c) ?? c;
    (v.split(':').length === 3 ? out.largeCommunities : out.communities).push(v);
  }
  out.communities = [...new Set(out.communities)].sort();
  out.largeCommunities = [...new Set(out.largeCommunities)].sort();
  return out;
}

export function calculatePaths(input: PathInput): Map<string, DesiredPath> {
  const out = new Map<string, DesiredPath>();
  const add = (prefix: string, reason: string): void => {
    const c = safeCidr(prefix);
    if (!c) return;
    const v6 = c.family === 6;
    const nextHop = v6 ? input.nodeIPv6 : input.nodeIPv4;
    // No address of that family on this node: nobody could forward to it.
    if (!nextHop) return;
    const key = `${prefix}`;
    if (out.has(key)) return;
    out.set(key, { prefix, family: v6 ? 'IPV6_UNICAST' : 'IPV4_UNICAST', nextHop, ...communitiesFor(prefix, input.config), reason });
  };
  for (const b of input.blocks) add(b, 'block');
  for (const a of input.borrowed ?? []) add(a, 'borrowed');

  const spec = input.config?.spec;
  const cidrsOf = (l: { cidr: string }[] | undefined): Cidr[] => (l ?? []).map((e) => safeCidr(e.cidr)).filter((c): c is Cidr => c !== undefined);
  const clusterCidrs = cidrsOf(spec?.serviceClusterIPs);
  const externalCidrs = cidrsOf(spec?.serviceExternalIPs);
  const lbCidrs = cidrsOf(spec?.serviceLoadBalancerIPs);
  for (const c of spec?.serviceClusterIPs ?? []) add(c.cidr, 'cluster-cidr');
  if (clusterCidrs.length + externalCidrs.length + lbCidrs.length === 0) return sorted(out);

  const local = servicesWithLocalEndpoints(input.slices, input.nodeName);
  for (const svc of input.services) {
    const id = `${svc.metadata.namespace ?? 'default'}/${svc.metadata.name}`;
    const s = svc.spec;
    if (s.type === 'ExternalName') continue;
    const isLocal = s.externalTrafficPolicy === 'Local';
    if (isLocal && !local.has(id)) continue;
    if (isLocal) {
      for (const ip of s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])) {
        if (ip !== 'None' && inAny(ip, clusterCidrs)) add(hostLen(ip), 'cluster-ip');
      }
    }
    for (const ip of s.externalIPs ?? []) if (inAny(ip, externalCidrs)) add(hostLen(ip), 'external-ip');
    if (s.type === 'LoadBalancer') {
      const lb = [...(s.loadBalancerIP ? [s.loadBalancerIP] : []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((x): x is string => !!x)];
      for (const ip of lb) if (inAny(ip, lbCidrs)) add(hostLen(ip), 'lb-ip');
    }
  }
  return sorted(out);
}

function sorted(m: Map<string, DesiredPath>): Map<string, DesiredPath> {
  return new Map([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

export function pathFingerprint(p: DesiredPath): string {
  return `${p.prefix}|${p.nextHop}|${p.communities.join(',')}|${p.largeCommunities.join(',')}`;
}

export interface PathDiff {
  add: DesiredPath[];
  delete: DesiredPath[];
}

/** AddPath for new or changed paths (it replaces), DeletePath for gone ones. */
export function diffPaths(prev: ReadonlyMap<string, DesiredPath>, next: ReadonlyMap<string, DesiredPath>): PathDiff {
  const d: PathDiff = { add: [], delete: [] };
  for (const [k, p] of next) {
    const o = prev.get(k);
    if (!o || pathFingerprint(o) !== pathFingerprint(p)) d.add.push(p);
  }
  for (const [k, p] of prev) if (!next.has(k)) d.delete.push(p);
  return d;
}
