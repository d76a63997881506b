// Fact gathering for `tern trace` (I/O): etcd through Store and Ipam, each node's agent and
// bgpd over their gRPC sockets, and each node's kernel with `ip` and `nft` inside its network
// namespace. Every read may fail on its own; a failure is recorded in the node's `errors` and
// the explanation says which hop could not be checked, instead of the whole trace failing.
import * as grpc from '@grpc/grpc-js';
import { grpcTarget, unary } from '../grpc/index.js';
import type { Store } from '../datastore/store.js';
import type { Ipam } from '../ipam/index.js';
import type { AgentClient } from '../proto/gen/tern/agent/v1/Agent.js';
import type { NodeStatus__Output } from '../proto/gen/tern/agent/v1/NodeStatus.js';
import type { BgpClient } from '../proto/gen/tern/bgp/v1/Bgp.js';
import type { Route__Output } from '../proto/gen/tern/bgp/v1/Route.js';
import { agentProto, bgpProto } from '../proto/load.js';
import type { Node } from '../resources/index.js';
import { run } from '../sys/exec.js';
import { coveringRoute, prefixOf } from './explain.js';
import type { BgpRouteFact, ClusterFacts, DataplaneFacts, FactNeeds, IpRoute, NftChainFact, NodeDataplane, NodeFacts } from './model.js';
import type { AccessMap, NodeAccess } from './nodes.js';

const TIMEOUT_MS = 5000;

const grpcError = (e: unknown): string => (e as grpc.ServiceError).details || (e as Error).message;

/** The node's own addresses as the agent computes them when it does not answer: BGP and InternalIP addresses. */
export function nodeIpsFromResource(n: Node): string[] {
  const ips = new Set<string>();
  for (const a of [n.spec.bgp?.ipv4Address, n.spec.bgp?.ipv6Address]) if (a) ips.add(a.split('/')[0]!);
  for (const a of n.spec.addresses ?? []) if (a.type === 'InternalIP') ips.add(a.address);
  return [...ips].sort();
}

export async function agentStatus(socket: string): Promise<NodeStatus__Output> {
  const A = agentProto().tern.agent.v1.Agent;
  const c = new A(grpcTarget(socket), grpc.credentials.createInsecure()) as unknown as AgentClient;
  try {
    return await unary<object, NodeStatus__Output>(c.getNodeStatus.bind(c) as never, {}, TIMEOUT_MS);
  } finally {
    c.close();
  }
}

export async function locRib(socket: string, prefix: string): Promise<BgpRouteFact> {
  const B = bgpProto().tern.bgp.v1.Bgp;
  const c = new B(grpcTarget(socket), grpc.credentials.createInsecure()) as unknown as BgpClient;
  try {
    const routes = await new Promise<Route__Output[]>((resolve, reject) => {
      const got: Route__Output[] = [];
      const s = c.listRoutes({ table: 'LOC_RIB', prefix }, { deadline: Date.now() + TIMEOUT_MS });
      s.on('data', (r: Route__Output) => got.push(r));
      s.on('error', reject);
      s.on('end', () => resolve(got));
    });
    const r = routes[0];
    return {
      prefix,
      bestReason: r?.bestReason ?? '',
      paths: (r?.paths ?? []).map((p) => ({
        prefix: p.prefix,
        nextHop: p.nextHop,
        peerAddress: p.peerAddress,
        originatorId: p.originatorId,
        clusterList: [...p.clusterList],
        asPath: p.asPath.flatMap((s) => s.asns),
        stale: p.stale,
      })),
    };
  } finally {
    c.close();
  }
}

export interface ClusterRead {
  facts: ClusterFacts;
  /** Agent status per node that answered. */
  agents: Map<string, NodeStatus__Output>;
  errors: Map<string, string[]>;
}

/** Everything etcd holds that a trace reads, and each reachable agent's view of its node. */
export async function readCluster(store: Store, ipam: Ipam, access: AccessMap): Promise<ClusterRead> {
  const [ns, eps, pols, svcs, slices, nodes, peers, report] = await Promise.all([
    store.list('Namespace'), store.list('WorkloadEndpoint'), store.list('NetworkPolicy'), store.list('Service'),
    store.list('EndpointSlice'), store.list('Node'), store.list('BGPPeer'), ipam.show(),
  ]);
  const agents = new Map<string, NodeStatus__Output>();
  const errors = new Map<string, string[]>();
  const err = (n: string, m: string): void => void errors.set(n, [...(errors.get(n) ?? []), m]);
  await Promise.all(
    [...access.nodes].map(async ([name, a]) => {
      if (!a.agentSocket) return;
      try {
        agents.set(name, await agentStatus(a.agentSocket));
      } catch (e) {
        err(name, `agent ${a.agentSocket}: ${grpcError(e)}`);
      }
    }),
  );
  const nodeFacts: NodeFacts[] = nodes.items.map((n) => {
    const st = agents.get(n.metadata.name);
    const f: NodeFacts = { name: n.metadata.name, ips: st?.nodeIps.length ? [...st.nodeIps] : nodeIpsFromResource(n) };
    if (n.spec.bgp?.routeReflectorClusterID) f.clusterId = n.spec.bgp.routeReflectorClusterID;
    return f;
  });
  const speakers: Record<string, string> = { ...access.speakers };
  for (const p of peers.items) if (p.spec.peerIP && !(p.spec.peerIP in speakers)) speakers[p.spec.peerIP] = `bgppeer ${p.metadata.name}`;
  const blocks = [...report.pools.flatMap((p) => p.blocks), ...report.unpooled].map((b) => ({ cidr: b.cidr, node: b.node }));
  return {
    facts: { namespaces: ns.items, endpoints: eps.items, policies: pols.items, services: svcs.items, slices: slices.items, nodes: nodeFacts, blocks, speakers },
    agents,
    errors,
  };
}

function ipArgs(a: NodeAccess, args: string[]): [string, string[]] | undefined {
  if (a.netns) return ['ip', ['-n', a.netns, '-j', ...args]];
  if (a.local) return ['ip', ['-j', ...args]];
  return undefined;
}

function nftArgs(a: NodeAccess, args: string[]): [string, string[]] | undefined {
  if (a.netns) return ['ip', ['netns', 'exec', a.netns, 'nft', '-j', ...args]];
  if (a.local) return ['nft', ['-j', ...args]];
  return undefined;
}

async function json<T>(cmd: [string, string[]] | undefined): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  if (!cmd) return { ok: false, error: 'no network namespace known for this node' };
  const r = await run(cmd[0], cmd[1], { allowFail: true, timeoutMs: 10_000 });
  if (r.code !== 0) return { ok: false, error: `${cmd[0]} ${cmd[1].join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}` };
  try {
    return { ok: true, value: JSON.parse(r.stdout || 'null') as T };
  } catch (e) {
    return { ok: false, error: `${cmd[1].join(' ')}: ${(e as Error).message}` };
  }
}

/** `nft -j list chain` as the rule comments in order, with handles. */
export function chainFromJson(j: unknown, table: string, chain: string): NftChainFact {
  const items = ((j as { nftables?: Array<Record<string, unknown>> } | null)?.nftables ?? []);
  const rules: NftChainFact['rules'] = [];
  for (const it of items) {
    const r = it.rule as { chain: string; comment?: string; handle?: number } | undefined;
    if (!r || r.chain !== chain) continue;
    const x: NftChainFact['rules'][number] = { comment: r.comment ?? '' };
    if (r.handle !== undefined) x.handle = r.handle;
    rules.push(x);
  }
  return { table, chain, rules };
}

/** Reads what `needs` lists, node by node, in parallel. */
export async function readDataplane(need: FactNeeds, access: AccessMap, agents: ReadonlyMap<string, NodeStatus__Output>, prior: ReadonlyMap<string, string[]> = new Map()): Promise<DataplaneFacts> {
  const nodes = new Set<string>([
    ...need.routeGets.map((x) => x.node), ...need.routeTables.map((x) => x.node), ...need.bgpPrefixes.map((x) => x.node),
    ...need.chains.map((x) => x.node), ...need.tables,
  ]);
  const out: DataplaneFacts = { nodes: {} };
  await Promise.all(
    [...nodes].map(async (node) => {
      const a = access.nodes.get(node) ?? {};
      const d: NodeDataplane = {};
      const errors: string[] = [...(prior.get(node) ?? [])];
      // Routing table(s).
      for (const t of need.routeTables.filter((x) => x.node === node)) {
        const r = await json<IpRoute[]>(ipArgs(a, [t.family === 4 ? '-4' : '-6', 'route', 'show', 'table', 'main']));
        if (r.ok) d.routes = [...(d.routes ?? []), ...(r.value ?? [])];
        else errors.push(r.error);
      }
      // The kernel's own decision for each destination, as the pod's packet arrives on its veth.
      for (const g of need.routeGets.filter((x) => x.node === node)) {
        const withIif = g.from && g.iif ? ['from', g.from, 'iif', g.iif] : [];
        let r = await json<IpRoute[]>(ipArgs(a, ['route', 'get', g.dst, ...withIif]));
        if (!r.ok && withIif.length) r = await json<IpRoute[]>(ipArgs(a, ['route', 'get', g.dst]));
        if (r.ok) (d.routeGet ??= {})[g.dst] = r.value ?? [];
        else errors.push(r.error);
      }
      // bgpd's Loc-RIB: the blocks asked for, plus the prefix of the kernel route each
      // destination took (a ToR's default or an external prefix).
      const prefixes = new Set(need.bgpPrefixes.filter((x) => x.node === node).map((x) => x.prefix));
      for (const g of need.routeGets.filter((x) => x.node === node)) {
        const line = coveringRoute(d.routes, g.dst);
        if (line && (line.gateway || line.nexthops?.length)) prefixes.add(prefixOf(line, g.dst));
      }
      const bgpd = a.bgpdSocket ?? (agents.get(node)?.bgpdSocket || undefined);
      if (prefixes.size) {
        if (!bgpd) errors.push('bgpd: no socket known for this node');
        else {
          for (const p of prefixes) {
            try {
              (d.bgp ??= {})[p] = await locRib(bgpd, p);
            } catch (e) {
              errors.push(`bgpd ${bgpd}: ${grpcError(e)}`);
              break;
            }
          }
        }
      }
      for (const c of need.chains.filter((x) => x.node === node)) {
        const r = await json<unknown>(nftArgs(a, ['list', 'chain', 'inet', c.table, c.chain]));
        (d.nft ??= {})[`${c.table}/${c.chain}`] = r.ok ? chainFromJson(r.value, c.table, c.chain) : null;
        if (!r.ok && !/No such file or directory|does not exist/i.test(r.error)) errors.push(r.error);
      }
      if (need.tables.includes(node)) {
        const r = await json<{ nftables?: Array<{ table?: { name: string; family: string } }> }>(nftArgs(a, ['list', 'tables', 'inet']));
        if (r.ok) d.nftTables = (r.value?.nftables ?? []).map((x) => x.table?.name).filter((x): x is string => !!x);
        else errors.push(r.error);
      }
      if (errors.length) d.errors = errors;
      out.nodes[node] = d;
    }),
  );
  return out;
}
