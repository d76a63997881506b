// Peer-set and advertisement calculation as tables: each case is the etcd view in, the
// sessions / prefixes out. Resources go through the real schemas (validateResource), so the
// defaults applied are the ones etcd readers get.
import { describe, expect, it } from 'vitest';
import { calculatePaths, diffPaths } from '../../../src/agent/bgp/paths.js';
import { calculatePeers, diffPeers, type DesiredPeer } from '../../../src/agent/bgp/peers.js';
import { RemoteRoutes } from '../../../src/agent/bgp/remote.js';
import { validateResource, type BGPConfiguration, type BGPPeer, type EndpointSlice, type Node, type Service } from '../../../src/resources/index.js';

function res<T>(doc: unknown): T {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}
const node = (name: string, v4: string, extra: { labels?: Record<string, string>; as?: number; rr?: string; v6?: string } = {}): Node =>
  res({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name, labels: extra.labels ?? {} }, spec: { bgp: { ipv4Address: `${v4}/24`, ...(extra.v6 ? { ipv6Address: `${extra.v6}/64` } : {}), ...(extra.as ? { asNumber: extra.as } : {}), ...(extra.rr ? { routeReflectorClusterID: extra.rr } : {}) } } });
const config = (spec: Record<string, unknown>): BGPConfiguration => res({ apiVersion: 'tern.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec });
const peer = (name: string, spec: Record<string, unknown>): BGPPeer => res({ apiVersion: 'tern.dev/v1', kind: 'BGPPeer', metadata: { name }, spec });
const nodes = (...ns: Node[]) => new Map(ns.map((n) => [n.metadata.name, n]));
const peers = (...ps: BGPPeer[]) => new Map(ps.map((p) => [p.metadata.name, p]));
const noSecret = () => undefined;
const summary = (m: Map<string, DesiredPeer>) => [...m.values()].map((p) => `${p.address} as${p.peerAs}${p.routeReflectorClient ? ' rrc' : ''}${p.password ? ` pw=${p.password}` : ''}${p.holdTimeSeconds ? ` hold=${p.holdTimeSeconds}` : ''}${p.maxPrefixes ? ` max=${p.maxPrefixes}` : ''}`).sort();

const N1 = node('node1', '10.0.0.1', { labels: { rack: 'a' }, v6: 'fd00::1' });
const N2 = node('node2', '10.0.0.2', { labels: { rack: 'a' }, as: 65002, v6: 'fd00::2' });
const N3 = node('node3', '10.0.0.3', { labels: { rack: 'b' } });
const RR = node('rr1', '10.0.0.10', { labels: { 'route-reflector': 'true' }, rr: '1.0.0.1' });

describe('peer set', () => {
  const cases: { name: string; self?: string; nodes: Node[]; config?: BGPConfiguration; peers?: BGPPeer[]; secret?: (n: string, k: string) => string | undefined; want: string[]; problems?: number }[] = [
    { name: 'mesh by default: every other node, its own AS or the global one, per family both have', nodes: [N1, N2, N3], want: ['10.0.0.2 as65002', '10.0.0.3 as64512', 'fd00::2 as65002'] },
    { name: 'mesh with a global AS', nodes: [N1, N3], config: config({ asNumber: 65100 }), want: ['10.0.0.3 as65100'] },
    { name: 'mesh timers from BGPConfiguration', nodes: [N1, N3], config: config({ holdTime: 9, keepaliveTime: 3 }), want: ['10.0.0.3 as64512 hold=9'] },
    { name: 'mesh off, no peers: no sessions', nodes: [N1, N2, N3], config: config({ nodeToNodeMeshEnabled: false }), want: [] },
    { name: 'mesh off, global peer (neither node nor nodeSelector)', nodes: [N1, N2], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000 })], want: ['10.0.0.254 as65000'] },
    { name: 'node-specific peer for this node', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, node: 'node1' })], want: ['10.0.0.254 as65000'] },
    { name: 'node-specific peer for another node', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, node: 'node2' })], want: [] },
    { name: 'nodeSelector matching this node', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000, nodeSelector: "rack == 'a'" }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000, nodeSelector: "rack == 'b'" })], want: ['10.0.0.250 as65000'] },
    {
      name: 'peerSelector: route reflectors as peers, from a client',
      nodes: [N1, N2, RR],
      config: config({ nodeToNodeMeshEnabled: false }),
      peers: [peer('to-rr', { peerSelector: "has(route-reflector)" })],
      want: ['10.0.0.10 as64512'],
    },
    {
      name: 'peerSelector from the reflector: non-reflector nodes become its clients',
      self: 'rr1',
      nodes: [N1, N3, RR],
      config: config({ nodeToNodeMeshEnabled: false }),
      peers: [peer('rr-clients', { nodeSelector: 'has(route-reflector)', peerSelector: '!has(route-reflector)' })],
      want: ['10.0.0.1 as64512 rrc', '10.0.0.3 as64512 rrc'],
    },
    { name: 'keepalive/hold, maxPrefixes, routeReflectorClient from the BGPPeer', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, holdTime: 30, keepaliveTime: 10, maxPrefixes: 100, routeReflectorClient: true })], want: ['10.0.0.254 as65000 rrc hold=30 max=100'] },
    { name: 'password from the secret directory', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, password: { secretKeyRef: { name: 'bgp', key: 'tor' } } })], secret: (n, k) => (n === 'bgp' && k === 'tor' ? 's3cret' : undefined), want: ['10.0.0.254 as65000 pw=s3cret'] },
    { name: 'missing secret: peer left out and reported', nodes: [N1], config: config({ nodeToNodeMeshEnabled: false }), peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000, password: { secretKeyRef: { name: 'bgp', key: 'tor' } } })], want: [], problems: 1 },
    { name: 'mesh plus an external peer', nodes: [N1, N3], peers: [peer('tor', { peerIP: '10.0.0.254', asNumber: 65000 })], want: ['10.0.0.254 as65000', '10.0.0.3 as64512'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = calculatePeers({ nodeName: c.self ?? 'node1', nodes: nodes(...c.nodes), config: c.config, peers: peers(...(c.peers ?? [])), secret: c.secret ?? noSecret });
      expect(summary(r.peers)).toEqual([...c.want].sort());
      expect(r.problems.length).toBe(c.problems ?? 0);
    });
  }

  it('does not depend on the order nodes and peers arrived in', () => {
    const ps = [peer('a', { peerIP: '10.0.0.254', asNumber: 65000 }), peer('b', { peerIP: '10.0.0.254', asNumber: 65001 })];
    const one = calculatePeers({ nodeName: 'node1', nodes: nodes(N1, N2, N3), config: undefined, peers: peers(...ps), secret: noSecret });
    const two = calculatePeers({ nodeName: 'node1', nodes: nodes(N3, N2, N1), config: undefined, peers: peers(...[...ps].reverse()), secret: noSecret });
    expect(JSON.stringify([...one.peers])).toBe(JSON.stringify([...two.peers]));
    expect(one.peers.get('10.0.0.254')?.peerAs).toBe(65000);
    expect(one.problems).toHaveLength(1);
  });
});

describe('peer diff: a change touches only the affected sessions', () => {
  const base = () => calculatePeers({ nodeName: 'node1', nodes: nodes(N1, N2, N3), config: config({ nodeToNodeMeshEnabled: false }), peers: peers(peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000 }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000 })), secret: noSecret }).peers;
  const cases: { name: string; change: BGPPeer[]; meshOn?: boolean; want: { add: string[]; update: string[]; delete: string[] } }[] = [
    { name: 'same input: no calls', change: [peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000 }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000 })], want: { add: [], update: [], delete: [] } },
    { name: 'one peer timer changed: one UpdatePeer', change: [peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000, holdTime: 30 }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000 })], want: { add: [], update: ['10.0.0.250'], delete: [] } },
    { name: 'one peer removed: one DeletePeer', change: [peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000 })], want: { add: [], update: [], delete: ['10.0.0.251'] } },
    { name: 'peer address changed: delete old, add new', change: [peer('tor-a', { peerIP: '10.0.0.252', asNumber: 65000 }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000 })], want: { add: ['10.0.0.252'], update: [], delete: ['10.0.0.250'] } },
    { name: 'mesh switched on: the nodes are added, the peers kept', meshOn: true, change: [peer('tor-a', { peerIP: '10.0.0.250', asNumber: 65000 }), peer('tor-b', { peerIP: '10.0.0.251', asNumber: 65000 })], want: { add: ['10.0.0.2', '10.0.0.3', 'fd00::2'], update: [], delete: [] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const next = calculatePeers({ nodeName: 'node1', nodes: nodes(N1, N2, N3), config: config({ nodeToNodeMeshEnabled: c.meshOn ?? false }), peers: peers(...c.change), secret: noSecret }).peers;
      const d = diffPeers(base(), next);
      expect({ add: d.add.map((p) => p.address), update: d.update.map((p) => p.address), delete: d.delete }).toEqual(c.want);
    });
  }
});

const svc = (name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): Service => res({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }], ...spec }, ...(status ? { status } : {}) });
const slice = (svcName: string, eps: { node: string; ready?: boolean }[]): EndpointSlice =>
  res({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svcName}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': svcName } }, addressType: 'IPv4', endpoints: eps.map((e, i) => ({ addresses: [`10.244.9.${i + 1}`], nodeName: e.node, ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })), ports: [{ port: 80 }] });

describe('originated paths', () => {
  const cfg = config({ serviceClusterIPs: [{ cidr: '10.96.0.0/12' }], serviceExternalIPs: [{ cidr: '192.0.2.0/24' }], serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/24' }] });
  const cases: { name: string; config?: BGPConfiguration; services?: Service[]; slices?: EndpointSlice[]; blocks?: string[]; borrowed?: string[]; want: string[] }[] = [
    { name: 'blocks with this node as next hop', blocks: ['10.244.1.0/26', 'fd00:244::/122'], want: ['10.244.1.0/26 via 10.0.0.1 block', 'fd00:244::/122 via fd00::1 block'] },
    { name: 'a borrowed address as /32', blocks: ['10.244.1.0/26'], borrowed: ['10.244.7.9/32'], want: ['10.244.1.0/26 via 10.0.0.1 block', '10.244.7.9/32 via 10.0.0.1 borrowed'] },
    { name: 'cluster CIDR as is, no per-service /32 for Cluster policy', config: cfg, services: [svc('web', { clusterIP: '10.96.0.10' })], want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr'] },
    { name: 'external IP inside the CIDR: /32; outside: nothing', config: cfg, services: [svc('web', { clusterIP: '10.96.0.10', externalIPs: ['192.0.2.5', '203.0.113.5'] })], want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr', '192.0.2.5/32 via 10.0.0.1 external-ip'] },
    { name: 'load balancer ingress IP inside the CIDR: /32', config: cfg, services: [svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.11' }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } })], want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr', '198.51.100.7/32 via 10.0.0.1 lb-ip'] },
    { name: 'Local policy without a local endpoint: nothing for the service', config: cfg, services: [svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.11', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.6'] }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } })], slices: [slice('lb', [{ node: 'node2' }])], want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr'] },
    { name: 'Local policy with a not-ready local endpoint: nothing', config: cfg, services: [svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.11', externalTrafficPolicy: 'Local' }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } })], slices: [slice('lb', [{ node: 'node1', ready: false }])], want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr'] },
    {
      name: 'Local policy with a ready local endpoint: LB, external and cluster IP /32',
      config: cfg,
      services: [svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.11', externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.6'] }, { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } })],
      slices: [slice('lb', [{ node: 'node2' }, { node: 'node1' }])],
      want: ['10.96.0.0/12 via 10.0.0.1 cluster-cidr', '10.96.0.11/32 via 10.0.0.1 cluster-ip', '192.0.2.6/32 via 10.0.0.1 external-ip', '198.51.100.7/32 via 10.0.0.1 lb-ip'],
    },
    { name: 'no service ranges configured: only blocks', services: [svc('web', { clusterIP: '10.96.0.10', externalIPs: ['192.0.2.5'] })], blocks: ['10.244.1.0/26'], want: ['10.244.1.0/26 via 10.0.0.1 block'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = calculatePaths({ nodeName: 'node1', nodeIPv4: '10.0.0.1', nodeIPv6: 'fd00::1', blocks: c.blocks ?? [], borrowed: c.borrowed ?? [], config: c.config, services: c.services ?? [], slices: c.slices ?? [] });
      expect([...r.values()].map((p) => `${p.prefix} via ${p.nextHop} ${p.reason}`).sort()).toEqual([...c.want].sort());
    });
  }

  it('communities from prefixAdvertisements: most specific CIDR, names resolved, large ones apart', () => {
    const c = config({
      communities: [{ name: 'blocks', value: '65000:100' }, { name: 'big', value: '65000:1:2' }],
      prefixAdvertisements: [{ cidr: '10.244.0.0/16', communities: ['blocks', 'big'] }, { cidr: '10.244.1.0/24', communities: ['65000:200'] }],
    });
    const r = calculatePaths({ nodeName: 'node1', nodeIPv4: '10.0.0.1', blocks: ['10.244.1.0/26', '10.244.2.0/26', '10.245.0.0/26'], config: c, services: [], slices: [] });
    expect(r.get('10.244.1.0/26')).toMatchObject({ communities: ['65000:200'], largeCommunities: [] });
    expect(r.get('10.244.2.0/26')).toMatchObject({ communities: ['65000:100'], largeCommunities: ['65000:1:2'] });
    expect(r.get('10.245.0.0/26')).toMatchObject({ communities: [], largeCommunities: [] });
  });

  it('path diff: only new or changed paths are added, only gone ones deleted', () => {
    const a = calculatePaths({ nodeName: 'node1', nodeIPv4: '10.0.0.1', blocks: ['10.244.1.0/26', '10.244.2.0/26'], config: undefined, services: [], slices: [] });
    const b = calculatePaths({ nodeName: 'node1', nodeIPv4: '10.0.0.1', blocks: ['10.244.2.0/26', '10.244.3.0/26'], config: undefined, services: [], slices: [] });
    const d = diffPaths(a, b);
    expect(d.add.map((p) => p.prefix)).toEqual(['10.244.3.0/26']);
    expect(d.delete.map((p) => p.prefix)).toEqual(['10.244.1.0/26']);
  });
});

describe('remote routes across a bgpd restart', () => {
  it('keeps stale routes through an empty snapshot, drops them only when swept after it', () => {
    const r = new RemoteRoutes();
    r.seed('10.244.2.0/26', ['10.0.0.2']);
    r.apply({ type: 'connected' });
    expect(r.sweepStale()).toEqual([]); // snapshot not ended: nothing may go
    r.apply({ type: 'upsert', prefix: '10.244.3.0/26', nextHops: ['10.0.0.3', '10.0.0.2'] });
    r.apply({ type: 'snapshot-end' });
    expect(r.staleCount).toBe(1);
    r.apply({ type: 'upsert', prefix: '10.244.2.0/26', nextHops: ['10.0.0.2'] }); // confirmed after the snapshot
    expect(r.sweepStale()).toEqual([]);
    r.apply({ type: 'disconnected', reason: 'bgpd restarted' });
    r.apply({ type: 'connected' });
    r.apply({ type: 'snapshot-end' });
    expect(r.size).toBe(2);
    expect(r.sweepStale().sort()).toEqual(['10.244.2.0/26', '10.244.3.0/26']);
    expect(r.size).toBe(0);
  });
});
