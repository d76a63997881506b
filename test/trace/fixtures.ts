// A small two-node cluster as facts: what etcd, the agents, bgpd and the kernel would say.
import type { EndpointSlice, Namespace, NetworkPolicy, Service, WorkloadEndpoint } from '../../src/resources/index.js';
import type { ClusterFacts, DataplaneFacts, IpRoute } from '../../src/trace/index.js';

export function wep(name: string, node: string, ip: string, iface: string, labels: Record<string, string>, ports?: Array<{ name: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }>): WorkloadEndpoint {
  return {
    apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns1', labels },
    spec: { node, interfaceName: iface, ipNetworks: [`${ip}/32`], ...(ports ? { ports: ports.map((p) => ({ protocol: 'TCP' as const, ...p })) } : {}) },
  } as WorkloadEndpoint;
}

export function policy(name: string, spec: Record<string, unknown>): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'ns1' }, spec } as unknown as NetworkPolicy;
}

export const ns1: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } } as Namespace;

export const pa = wep('pa', 'node1', '10.244.0.2', 'tpa', { app: 'a' });
export const pd = wep('pd', 'node1', '10.244.0.3', 'tpd', { app: 'd' });
export const pb = wep('pb', 'node2', '10.244.1.2', 'tpb', { app: 'b' }, [{ name: 'http', port: 8080 }]);
export const pc = wep('pc', 'node2', '10.244.1.3', 'tpc', { app: 'b' });

export const web: Service = {
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }], selector: { app: 'b' }, sessionAffinity: 'None' },
} as unknown as Service;

export const webSlice: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['10.244.1.2'], conditions: { ready: true }, nodeName: 'node2', targetRef: { kind: 'Pod', name: 'pb', namespace: 'ns1' } },
    { addresses: ['10.244.0.3'], conditions: { ready: true }, nodeName: 'node1', targetRef: { kind: 'Pod', name: 'pd', namespace: 'ns1' } },
  ],
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
} as unknown as EndpointSlice;

export function cluster(policies: NetworkPolicy[] = []): ClusterFacts {
  return {
    namespaces: [ns1],
    endpoints: [pa, pb, pc, pd],
    policies,
    services: [web],
    slices: [webSlice],
    nodes: [{ name: 'node1', ips: ['10.99.0.21'] }, { name: 'node2', ips: ['10.99.0.22'] }],
    blocks: [{ cidr: '10.244.0.0/26', node: 'node1' }, { cidr: '10.244.1.0/26', node: 'node2' }],
    speakers: { '10.99.0.11': 'rr1', '10.99.0.254': 'tor' },
  };
}

const node1Routes: IpRoute[] = [
  { dst: 'default', gateway: '10.99.0.254', dev: 'eth0' },
  { dst: '10.99.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.99.0.21' },
  { type: 'blackhole', dst: '10.244.0.0/26', protocol: '44' },
  { dst: '10.244.0.2', dev: 'tpa', protocol: '44', scope: 'link' },
  { dst: '10.244.0.3', dev: 'tpd', protocol: '44', scope: 'link' },
  { dst: '10.244.1.0/26', gateway: '10.99.0.22', dev: 'eth0', protocol: '44', flags: ['onlink'] },
];
const node2Routes: IpRoute[] = [
  { dst: '10.99.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.99.0.22' },
  { dst: '10.244.0.0/26', gateway: '10.99.0.21', dev: 'eth0', protocol: '44', flags: ['onlink'] },
  { type: 'blackhole', dst: '10.244.1.0/26', protocol: '44' },
  { dst: '10.244.1.2', dev: 'tpb', protocol: '44', scope: 'link' },
  { dst: '10.244.1.3', dev: 'tpc', protocol: '44', scope: 'link' },
];

export const reflected = { nextHop: '10.99.0.22', peerAddress: '10.99.0.11', originatorId: '10.99.0.22', clusterList: ['10.99.0.11'], asPath: [] };
export const meshPath = { nextHop: '10.99.0.22', peerAddress: '10.99.0.22', originatorId: '', clusterList: [], asPath: [] };

export function dataplane(bgpPath: typeof reflected = reflected): DataplaneFacts {
  const get = (dst: string, r: IpRoute): IpRoute[] => [{ dst, ...r }];
  return {
    nodes: {
      node1: {
        routes: node1Routes,
        routeGet: {
          '10.244.1.2': get('10.244.1.2', { gateway: '10.99.0.22', dev: 'eth0' }),
          '10.244.1.3': get('10.244.1.3', { gateway: '10.99.0.22', dev: 'eth0' }),
          '10.244.0.3': get('10.244.0.3', { dev: 'tpd' }),
          '10.2.3.4': get('10.2.3.4', { gateway: '10.99.0.254', dev: 'eth0' }),
          '10.1.2.3': get('10.1.2.3', { gateway: '10.99.0.254', dev: 'eth0' }),
        },
        bgp: { '10.244.1.0/26': { prefix: '10.244.1.0/26', paths: [{ prefix: '10.244.1.0/26', ...bgpPath }] } },
        nftTables: ['tern', 'tern-proxy'],
      },
      node2: {
        routes: node2Routes,
        routeGet: { '10.244.1.2': get('10.244.1.2', { dev: 'tpb' }), '10.244.1.3': get('10.244.1.3', { dev: 'tpc' }) },
      },
    },
  };
}
