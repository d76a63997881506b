// The facts `tern trace` explains and the explanation it produces. Plain data: the gathering
// side (gather.ts) fills ClusterFacts and DataplaneFacts from etcd, the daemons and the
// kernel; the explaining side (explain.ts) turns them into hops without any I/O, so every
// branch of it is testable on fixtures.
import type { EndpointSlice, Namespace, NetworkPolicy, Service, WorkloadEndpoint } from '../resources/index.js';
import type { Protocol } from '../agent/policy/model.js';

/** What etcd says (plus each node's addresses, from its agent when it answers). */
export interface ClusterFacts {
  namespaces: Namespace[];
  endpoints: WorkloadEndpoint[];
  policies: NetworkPolicy[];
  services: Service[];
  slices: EndpointSlice[];
  nodes: NodeFacts[];
  /** IPAM blocks with their affine node (null: released, still holding borrowed addresses). */
  blocks: Array<{ cidr: string; node: string | null }>;
  /**
   * Names for BGP speakers that are not nodes (route reflectors, ToRs), by address or router
   * id: from the lab state's hosts, or BGPPeers' peerIP.
   */
  speakers?: Record<string, string>;
}

export interface NodeFacts {
  name: string;
  /** Every address of the node that policy treats as "this node" (the agent's nodeIps). */
  ips: string[];
  /** Node spec.bgp.routeReflectorClusterID, when the node reflects. */
  clusterId?: string;
}

/** One entry of `ip -j route show` / `ip -j route get` as iproute2 prints it. */
export interface IpRoute {
  dst?: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  prefsrc?: string;
  scope?: string;
  flags?: string[];
  metric?: number;
  nexthops?: Array<{ gateway?: string; dev?: string; weight?: number; flags?: string[] }>;
  [k: string]: unknown;
}

/** One path of bgpd's Loc-RIB, the fields the trace reads (proto Path). */
export interface BgpPathFact {
  prefix: string;
  nextHop: string;
  peerAddress: string;
  originatorId: string;
  clusterList: string[];
  asPath: number[];
  stale?: boolean;
}

export interface BgpRouteFact {
  prefix: string;
  /** Best first, as ListRoutes returns them. */
  paths: BgpPathFact[];
  bestReason?: string;
}

/** A kernel rule the trace looked for, read back with `nft -j list chain`. */
export interface NftChainFact {
  table: string;
  chain: string;
  /** Comments of the chain's rules in order, with the kernel's handles. */
  rules: Array<{ comment: string; handle?: number }>;
}

/** What one node's kernel and daemons answered; any part may be missing (not reachable). */
export interface NodeDataplane {
  /** `ip -j route show table main` (IPv4 or IPv6 as needed). */
  routes?: IpRoute[];
  /** `ip -j route get DST from SRC iif VETH`, by destination address. */
  routeGet?: Record<string, IpRoute[]>;
  /** Loc-RIB entries by prefix (empty paths: bgpd has no route for it). */
  bgp?: Record<string, BgpRouteFact>;
  /** Chains read back from the kernel, by "table/chain"; a missing chain is absent. */
  nft?: Record<string, NftChainFact | null>;
  /** Tables present in family inet (e.g. tern, tern-proxy). */
  nftTables?: string[];
  /** Why a part is missing ("bgpd: connect ENOENT ..."). */
  errors?: string[];
}

export interface DataplaneFacts {
  nodes: Record<string, NodeDataplane>;
}

/** What the user asked: POD and DEST[:PORT] resolved into a request. */
export interface TraceRequest {
  /** "ns/name" of the source pod. */
  source: string;
  dest: DestSpec;
  protocol: Protocol;
}

export type DestSpec =
  | { kind: 'pod'; ref: string; port?: number | string }
  | { kind: 'service'; ref: string; port?: number | string }
  | { kind: 'ip'; ip: string; port?: number | string };

export type HopKind =
  | 'pod veth'
  | 'service'
  | 'node route'
  | 'bgp'
  | 'dest node route'
  | 'policy egress'
  | 'policy ingress';

export interface Hop {
  hop: HopKind;
  node?: string;
  /** One line for people. */
  detail: string;
  /** False when this hop breaks the path or contradicts another source of truth. */
  ok: boolean;
  /** Structured facts behind the line, for -o json and tests. */
  data?: Record<string, unknown>;
}

export interface Verdict {
  allowed: boolean;
  /** "ns/name" of the policies that allow (or isolate, when denied). */
  policy?: string[];
  /** The rule: "ns/name ingress[0]" when allowed, the isolating drop when denied. */
  rule?: string;
  reason: string;
  /** The nftables rule that decides, and whether the kernel holds it. */
  kernel?: { node: string; chain: string; comment: string; present: boolean | null; handle?: number };
}

/** One way through: a pod, or one endpoint of a service. */
export interface TracePath {
  /** Where the packet ends: "ns/name 10.244.1.3:8080", or an external address. */
  target: string;
  targetIp: string;
  port?: number;
  hops: Hop[];
  verdict: Verdict;
}

export interface TraceResult {
  source: { ref: string; ip: string; node: string; iface?: string };
  dest: string;
  protocol: Protocol;
  port?: number;
  paths: TracePath[];
  /** Problems outside any one path (no endpoints, unresolved names). */
  notes: string[];
}

/** The kernel and daemon facts the explanation needs, so gathering asks for nothing more. */
export interface FactNeeds {
  /** Per node: addresses to `ip route get` (with the source pod as from/iif on its node). */
  routeGets: Array<{ node: string; dst: string; from?: string; iif?: string }>;
  /** Per node: Loc-RIB prefixes to read (a block); external targets add the kernel's covering prefix. */
  bgpPrefixes: Array<{ node: string; prefix: string }>;
  /** Per node: families whose main routing table is needed. */
  routeTables: Array<{ node: string; family: 4 | 6 }>;
  /** Per node: nft chains to read back. */
  chains: Array<{ node: string; table: string; chain: string }>;
  /** Nodes whose inet table list is wanted (service translation). */
  tables: string[];
}
