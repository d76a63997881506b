// The agent's inputs as one discriminated union, and the keyed view they land in (Felix's
// OnUpdate: record, mark dirty, nothing else). Every update names its key and carries the
// object or null (deleted), so a stream that ends in the same objects ends in the same view
// whatever the order of keys, however many times an update repeats, and whether the
// intermediate versions of one key were seen or squashed.
import type { BGPConfiguration, BGPPeer, EndpointSlice, IPPool, Namespace, NetworkPolicy, Node, Service, WorkloadEndpoint } from '../../resources/index.js';
import type { PolicyUpdate } from '../policy/inputs.js';

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
        return { dirty: { routes: true, policy: false, bgp: true } };
      case 'block':
        setOrDelete(this.blocks, u.cidr, u.block);
        return { dirty: none };
      case 'endpoint': {
        const old = this.endpoints.get(u.id);
        setOrDelete(this.endpoints, u.id, u.endpoint);
        const local = old?.spec.node === this.nodeName || u.endpoint?.spec.node === this.nodeName;
        const [namespace, name] = splitId(u.id);
        return {
          dirty: { routes: local, policy: true, bgp: local },
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
        return { dirty: { ...none, routes: true } };
      case 'cni-veth':
        setOrDelete(this.cniVeths, u.iface, u.ips);
        return { dirty: { ...none, routes: true } };
      default:
        return assertNever(u);
    }
  }

  get config(): BGPConfiguration | undefined {
    return this.bgpConfigs.get('default');
  }

  get self(): Node | undefined {
    return this.nodes.get(this.nodeName);
  }

  localEndpoints(): WorkloadEndpoint[] {
    const out: WorkloadEndpoint[] = [];
    for (const e of this.endpoints.values()) if (e.spec.node === this.nodeName) out.push(e);
    return out;
  }
}

export function splitId(id: string): [string, string] {
  const i = id.indexOf('/');
  return i < 0 ? ['default', id] : [id.slice(0, i), id.slice(i + 1)];
}
