// Cluster state for `npm start`. `seedCluster`: the BGP configuration, IP pools, one Node per
// node namespace (and, without daemons, a few pod addresses assigned through IPAM so a bare
// lab shows blocks in `tern ipam show`). `clusterResources`: what the running lab adds — the
// reflectors as BGPPeers (mesh off, the Calico way), example Namespaces, Services of every
// type and a NetworkPolicy. Everything goes through the Store (validation, the documented key
// layout) and Ipam (etcd transactions): the lab writes no key by hand.
import { Keys } from '../datastore/keys.js';
import { Store } from '../datastore/store.js';
import { connectEtcd } from '../datastore/client.js';
import { Ipam, formatReport } from '../ipam/index.js';

export interface SeedNode {
  name: string;
  fabricIp: string;
  /** Fabric address with prefix length, e.g. 10.99.0.21/24. */
  fabricCidr: string;
  ipv6?: string;
}

export interface SeedContext {
  /** An etcd endpoint reachable from this process (the lab's unix socket). */
  etcdEndpoint: string;
  nodes: SeedNode[];
  /** etcd key prefix; /tern/ by default. */
  prefix?: string;
  asNumber?: number;
  ipv4Pool?: string;
  ipv6Pool?: string;
  /** Sample pod addresses to assign per node through IPAM (a lab without daemons). */
  podsPerNode?: number;
  /** BGPConfiguration hold and keepalive times (seconds). */
  holdTime?: number;
  keepaliveTime?: number;
  /** Leave the IPv6 pool out (the running lab's sessions are IPv4). */
  ipv4Only?: boolean;
  /** More documents to apply after the base ones (clusterResources()). */
  extra?: unknown[];
  out?: (line: string) => void;
}

export interface SeedResult {
  applied: Array<{ kind: string; name: string; action: string }>;
  assigned: Array<{ handle: string; node: string; ipv4?: string; ipv6?: string }>;
  /** `ipam.show()` as the table `tern ipam show` prints. */
  report: string;
}

export const SAMPLE_HANDLE_PREFIX = 'lab-sample-';

export async function seedCluster(ctx: SeedContext): Promise<SeedResult> {
  const out = ctx.out ?? (() => undefined);
  const client = connectEtcd({ endpoints: [ctx.etcdEndpoint], dialTimeoutMs: 5000 });
  try {
    const keys = new Keys(ctx.prefix);
    const store = new Store(client, keys);
    const ipam = new Ipam(client, keys);
    const docs: unknown[] = [
      {
        apiVersion: 'tern.dev/v1',
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: {
          asNumber: ctx.asNumber ?? 64512,
          nodeToNodeMeshEnabled: false,
          serviceClusterIPs: [{ cidr: SERVICE_CLUSTER_CIDR }],
          serviceExternalIPs: [{ cidr: SERVICE_EXTERNAL_CIDR }],
          serviceLoadBalancerIPs: [{ cidr: SERVICE_LB_CIDR }],
          ...(ctx.holdTime !== undefined ? { holdTime: ctx.holdTime } : {}),
          ...(ctx.keepaliveTime !== undefined ? { keepaliveTime: ctx.keepaliveTime } : {}),
        },
      },
      { apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'default-ipv4' }, spec: { cidr: ctx.ipv4Pool ?? '10.244.0.0/16', blockSize: 26 } },
      ...(ctx.ipv4Only ? [] : [{ apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'default-ipv6' }, spec: { cidr: ctx.ipv6Pool ?? 'fd00:244::/48', blockSize: 122 } }]),
      ...ctx.nodes.map((n) => ({
        apiVersion: 'tern.dev/v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
        spec: {
          bgp: { ipv4Address: n.fabricCidr, ...(n.ipv6 && !ctx.ipv4Only ? { ipv6Address: `${n.ipv6}/64` } : {}) },
          addresses: [{ address: n.fabricIp, type: 'InternalIP' }],
        },
      })),
      ...(ctx.extra ?? []),
    ];
    const applied: SeedResult['applied'] = [];
    for (const d of docs) {
      const r = await store.apply(d);
      const meta = (d as { kind: string; metadata: { name: string } });
      applied.push({ kind: meta.kind, name: meta.metadata.name, action: r.action });
      out(`  ${r.action.padEnd(9)} ${meta.kind}/${meta.metadata.name}`);
    }
    const assigned: SeedResult['assigned'] = [];
    for (const n of ctx.nodes) {
      for (let i = 1; i <= (ctx.podsPerNode ?? 2); i++) {
        const handle = `${SAMPLE_HANDLE_PREFIX}${n.name}-${i}.eth0`;
        const r = await ipam.assign({ handle, node: n.name, ipv4: true, ipv6: true, attrs: { namespace: 'default', pod: `sample-${n.name}-${i}` } });
        assigned.push({ handle, node: n.name, ...(r.ipv4 ? { ipv4: r.ipv4 } : {}), ...(r.ipv6 ? { ipv6: r.ipv6 } : {}) });
      }
    }
    const report = formatReport(await ipam.show());
    return { applied, assigned, report };
  } finally {
    client.close();
  }
}

/** Service address ranges the nodes advertise (BGPConfiguration). */
export const SERVICE_CLUSTER_CIDR = '10.96.0.0/12';
export const SERVICE_EXTERNAL_CIDR = '203.0.113.0/24';
export const SERVICE_LB_CIDR = '192.0.2.0/24';

export interface LabPodPlan {
  name: string;
  namespace: string;
  node: string;
  labels: Record<string, string>;
}

/** The example workload: a frontend and a backend deployment with a pod per node, and a guest. */
export function labPods(nodes: readonly string[]): LabPodPlan[] {
  return [
    ...nodes.map((node, i) => ({ name: `web-${i + 1}`, namespace: 'frontend', node, labels: { app: 'web' } })),
    ...nodes.map((node, i) => ({ name: `api-${i + 1}`, namespace: 'backend', node, labels: { app: 'api' } })),
    { name: 'guest-1', namespace: 'guest', node: nodes[nodes.length - 1]!, labels: { app: 'guest' } },
  ];
}

export const DENY_POLICY = { name: 'api-allow-frontend', namespace: 'backend' } as const;

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });

/**
 * The running lab's resources: BGPPeers to the reflectors (every node), Namespaces, Services of
 * each type (the cluster DNS one included; LoadBalancers with externalTrafficPolicy Cluster and
 * Local) and a NetworkPolicy letting only the frontend, the backend itself and the ToR reach the
 * api pods, so guest → api is denied. The ToR's ipBlock admits it to the pod IPs only: to the
 * api ClusterIP its traffic is masqueraded to the node it enters at (sources outside the pod
 * CIDRs are, as with kube-proxy's clusterCIDR) and no longer matches once forwarded.
 */
export function clusterResources(o: { reflectors: Array<{ name: string; ip: string }>; asNumber: number; dnsHostIp: string; clusterDnsIp: string; torIp: string }): unknown[] {
  const svc = (namespace: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
  const http = [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }];
  return [
    ...o.reflectors.map((r) => ({ apiVersion: 'tern.dev/v1', kind: 'BGPPeer', metadata: { name: r.name }, spec: { peerIP: r.ip, asNumber: o.asNumber } })),
    ns('kube-system'),
    ns('frontend'),
    ns('backend'),
    ns('guest'),
    svc('kube-system', 'kube-dns', {
      clusterIP: o.clusterDnsIp,
      ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }],
    }),
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kube-dns-lab', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [o.dnsHostIp], conditions: { ready: true } }],
      ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }],
    },
    svc('backend', 'api', { type: 'ClusterIP', clusterIP: '10.96.1.10', selector: { app: 'api' }, ports: http }),
    svc('backend', 'api-headless', { clusterIP: 'None', selector: { app: 'api' }, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    svc('backend', 'db', { type: 'ExternalName', externalName: 'db.example.org' }),
    svc('frontend', 'web', { type: 'NodePort', clusterIP: '10.96.2.10', selector: { app: 'web' }, ports: [{ ...http[0], nodePort: 30080 }] }),
    svc('frontend', 'web-lb', { type: 'LoadBalancer', clusterIP: '10.96.2.20', loadBalancerIP: '192.0.2.10', externalIPs: ['203.0.113.10'], selector: { app: 'web' }, ports: [{ ...http[0], nodePort: 30081 }] }),
    // externalTrafficPolicy Local: only nodes with a web pod advertise its external and LB IPs,
    // and the pod sees the outside client's own address (no SNAT), which the ToR rows check.
    svc('frontend', 'web-local', {
      type: 'LoadBalancer',
      clusterIP: '10.96.2.30',
      loadBalancerIP: '192.0.2.11',
      externalIPs: ['203.0.113.11'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 30090,
      selector: { app: 'web' },
      ports: [{ ...http[0], nodePort: 30082 }],
    }),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: DENY_POLICY.name, namespace: DENY_POLICY.namespace },
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'frontend' } } }, { podSelector: {} }, { ipBlock: { cidr: `${o.torIp}/32` } }] },
        ],
      },
    },
  ];
}
