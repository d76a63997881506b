// The agent's inputs as one discriminated union, and the keyed view they land in (Felix's
// OnUpdate: record, mark dirty, nothing else). Every update names its key and carries the
// object or null (deleted), so a stream that ends in the same objects ends in the same view
// whatever the order of keys, however many times an update repeats, and whether the
// intermediate versions of one key were seen or squashed.
import type { BGPConfiguration, BGPPeer, EndpointSlice, IPPool, Namespace, NetworkPolicy, Node, Service, WorkloadEndpoint } from '../../resources/index.js';
import type { PolicyUpdate } from '../policy/inputs.js';
import { cidrContainsIp, parseCidr, parseIp, type Cidr } from '../../net/ip.js';

/** What the agent keeps of an IPAM block record: who it is affine to and how full it is. */
export interface BlockSummary {
  cidr: string;
  affinity: string | null;
  allocated: number;
}

export type AgentUpdate =
  | { kind: 'node'; name: string; node: Node | null }
  | { kind: 'affinity'; cidr: string; present: boolean }
  | { kind: 'block'; cidr: string; block: BlockSummary | null }
  | { kind: 'endpoint'; id: string; endpoint: WorkloadEndpoint | null }
  | { kind: 'namespace'; name: string; namespace: Namespace | null }
  | { kind: 'policy'; id: string; policy: NetworkPolicy | null }
  | { kind: 'service'; id: string; service: Service | null }
  | { kind: 'slice'; id: string; slice: EndpointSlice | null }
  | { kind: 'bgp-config'; name: string; config: BGPConfiguration | null }
  | { kind: 'bgp-peer'; name: string; peer: BGPPeer | null }
  /** The pod CIDRs: the service proxy masquerades other sources reaching a cluster IP. */
  | { kind: 'ippool'; name: string; pool: IPPool | null }
  /** A best path from bgpd (nextHops empty: withdrawn). */
  | { kind: 'remote'; prefix: string; nextHops: readonly string[] }
  /** A veth tern-cni's ADD just made, before its WorkloadEndpoint reaches the watch (null: forget it). */
  | { kind: 'cni-veth'; iface: string; ips: readonly string[] | null };

/** Which parts of the desired state an update can change. */
export interface Dirty {
  routes: boolean;
  policy: boolean;
  bgp: boolean;
}

export function assertNever(x: never): never {
  throw new Error(`unhandled agent update ${JSON.stringify(x)}`);
}

/** The key of an update: two updates with one key replace each other. */
export function updateKey(u: AgentUpdate): string {
  switch (u.kind) {
    case 'node':
    case 'namespace':
    case 'bgp-config':
    case 'bgp-peer':
    case 'ippool':
      return `${u.kind}/${u.name}`;
    case 'affinity':
    case 'block':
      return `${u.kind}/${u.cidr}`;
    case 'endpoint':
    case 'policy':
    case 'service':
    case 'slice':
      return `${u.kind}/${u.id}`;
    case 'remote':
      return `remote/${u.prefix}`;
    case 'cni-veth':
      return `cni-veth/${u.iface}`;
    default:
      return assertNever(u);
  }
}

const setOrDelete = <V>(m: Map<string, V>, k: string, v: V | null): void => {
  if (v === null) m.delete(k);
  else m.set(k, v);
};

export class AgentState {
  readonly nodes = new Map<string, Node>();
  readonly affinities = new Set<string>();
  readonly blocks = new Map<string, BlockSummary>();
  /**
   * This node's WorkloadEndpoints only: other nodes' pods matter to the policy calculation
   * and the service proxy, which keep their own views, so holding them here too would cost
   * a map entry per pod of the cluster for nothing.
   */
  readonly endpoints = new Map<string, WorkloadEndpoint>();
  readonly namespaces = new Map<string, Namespace>();
  readonly policies = new Map<string, NetworkPolicy>();
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice>();
  readonly bgpConfigs = new Map<string, BGPConfiguration>();
  readonly bgpPeers = new Map<string, BGPPeer>();
  readonly ipPools = new Map<string, IPPool>();
  readonly remote = new Map<string, readonly string[]>();
  readonly cniVeths = new Map<string, readonly string[]>();
  /** Route destination → ids of local endpoints with a veth claiming it (calc.ts routeFor). */
  readonly localClaims = new Map<string, Set<string>>();
  /** Route destination → veths of cniVeths claiming it. */
  readonly cniClaims = new Map<string, Set<string>>();
  /** Route destinations whose desired route may have changed since takeTouched(). */
  private touched = new Set<string>();
  private affineCidrs: Cidr[] | undefined;

  constructor(readonly nodeName: string) {}

  /**
   * Records one update; returns what it dirtied plus the policy library's own update (the
   * policy calculation keeps its keyed view in src/agent/policy/inputs.ts).
   */
  apply(u: AgentUpdate): { dirty: Dirty; policy?: PolicyUpdate } {
    const none: Dirty = { routes: false, policy: false, bgp: false };
    switch (u.kind) {
      case 'node': {
        setOrDelete(this.nodes, u.name, u.node);
        const self = u.name === this.nodeName;
        // Another node's labels and addresses matter to BGP only; this node's also to routes
        // (next hops to filter) and policy (the node's addresses may reach its pods).
        return { dirty: { routes: self, policy: self, bgp: true } };
      }
      case 'affinity':
        if (u.present) this.affinities.add(u.cidr);
        else this.affinities.delete(u.cidr);
        this.affineCidrs = undefined;
        this.touched.add(u.cidr);
        return { dirty: { routes: true, policy: false, bgp: true } };
      case 'block':
        setOrDelete(this.blocks, u.cidr, u.block);
        return { dirty: none };
      case 'endpoint': {
        const old = this.endpoints.get(u.id);
        const mine = u.endpoint?.spec.node === this.nodeName ? u.endpoint : null;
        if (old) this.claimLocal(u.id, old, false);
        setOrDelete(this.endpoints, u.id, mine);
        if (mine) this.claimLocal(u.id, mine, true);
        const local = old !== undefined || mine !== null;
        const [namespace, name] = splitId(u.id);
        return {
          // BGP reads local pods only for addresses outside this node's blocks (borrowed), so
          // a pod inside them leaves the originated paths as they are.
          dirty: { routes: local, policy: true, bgp: (old !== undefined && this.borrows(old)) || (mine !== null && this.borrows(mine)) },
          policy: u.endpoint ? { kind: 'endpoint-upsert', endpoint: u.endpoint } : { kind: 'endpoint-delete', namespace, name },
        };
      }
      case 'namespace':
        setOrDelete(this.namespaces, u.name, u.namespace);
        return { dirty: { ...none, policy: true }, policy: u.namespace ? { kind: 'namespace-upsert', namespace: u.namespace } : { kind: 'namespace-delete', name: u.name } };
      case 'policy': {
        setOrDelete(this.policies, u.id, u.policy);
        const [namespace, name] = splitId(u.id);
        return { dirty: { ...none, policy: true }, policy: u.policy ? { kind: 'policy-upsert', policy: u.policy } : { kind: 'policy-delete', namespace, name } };
      }
      case 'service':
        setOrDelete(this.services, u.id, u.service);
        return { dirty: { ...none, bgp: true } };
      case 'slice':
        setOrDelete(this.slices, u.id, u.slice);
        return { dirty: { ...none, bgp: true } };
      case 'bgp-config':
        setOrDelete(this.bgpConfigs, u.name, u.config);
        return { dirty: { ...none, bgp: true } };
      case 'bgp-peer':
        setOrDelete(this.bgpPeers, u.name, u.peer);
        return { dirty: { ...none, bgp: true } };
      case 'ippool':
        // Only the service proxy reads pools; it tracks its own dirtiness.
        setOrDelete(this.ipPools, u.name, u.pool);
        return { dirty: none };
      case 'remote':
        setOrDelete(this.remote, u.prefix, u.nextHops.length > 0 ? [...u.nextHops].sort() : null);
        this.touched.add(u.prefix);
        return { dirty: { ...none, routes: true } };
      case 'cni-veth': {
        const old = this.cniVeths.get(u.iface);
        if (old) for (const d of old) unclaim(this.cniClaims, cniDst(d), u.iface, this.touched);
        setOrDelete(this.cniVeths, u.iface, u.ips);
        if (u.ips) for (const d of u.ips) claim(this.cniClaims, cniDst(d), u.iface, this.touched);
        return { dirty: { ...none, routes: true } };
      }
      default:
        return assertNever(u);
    }
  }

  private claimLocal(id: string, e: WorkloadEndpoint, add: boolean): void {
    // Without a veth there is no route to claim (desiredRoutes skips such endpoints).
    if (!e.spec.interfaceName) return;
    for (const n of e.spec.ipNetworks) {
      if (add) claim(this.localClaims, n, id, this.touched);
      else unclaim(this.localClaims, n, id, this.touched);
    }
  }

  /** True when one of a local pod's host addresses lies outside every block affine to this node. */
  private borrows(e: WorkloadEndpoint): boolean {
    this.affineCidrs ??= [...this.affinities].flatMap((b) => {
      try {
        return [parseCidr(b)];
      } catch {
        return [];
      }
    });
    return e.spec.ipNetworks.some((n) => {
      if (!n.endsWith('/32') && !n.endsWith('/128')) return false;
      try {
        const ip = parseIp(n.slice(0, n.indexOf('/')));
        return !this.affineCidrs!.some((c) => cidrContainsIp(c, ip));
      } catch {
        return false;
      }
    });
  }

  /** The route destinations touched since the last call (and forgets them). */
  takeTouched(): Set<string> {
    const t = this.touched;
    this.touched = new Set();
    return t;
  }

  get config(): BGPConfiguration | undefined {
    return this.bgpConfigs.get('default');
  }

  get self(): Node | undefined {
    return this.nodes.get(this.nodeName);
  }

  localEndpoints(): WorkloadEndpoint[] {
    return [...this.endpoints.values()];
  }

  get localEndpointCount(): number {
    return this.endpoints.size;
  }
}

/** The route destination of an address CNI reported (a bare address is a host route). */
export const cniDst = (ip: string): string => (ip.includes('/') ? ip : `${ip}/${ip.includes(':') ? 128 : 32}`);

function claim(m: Map<string, Set<string>>, dst: string, who: string, touched: Set<string>): void {
  let s = m.get(dst);
  if (!s) m.set(dst, (s = new Set()));
  s.add(who);
  touched.add(dst);
}

function unclaim(m: Map<string, Set<string>>, dst: string, who: string, touched: Set<string>): void {
  const s = m.get(dst);
  if (!s) return;
  s.delete(who);
  if (s.size === 0) m.delete(dst);
  touched.add(dst);
}

export function splitId(id: string): [string, string] {
  const i = id.indexOf('/');
  return i < 0 ? ['default', id] : [id.slice(0, i), id.slice(i + 1)];
}
