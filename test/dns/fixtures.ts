// Kubernetes-form objects (the stored shapes) for DNS tests, the fuzz script and benchmarks.
import type { IndexEvent } from '../../src/dns/index/index.js';

export function namespace(name: string): IndexEvent {
  return { type: 'put', kind: 'Namespace', obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } };
}

export function service(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): IndexEvent {
  return {
    type: 'put',
    kind: 'Service',
    obj: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, uid: `uid-${name}`, labels: { app: name } }, spec },
  };
}

export interface Ep {
  ip: string | string[];
  ready?: boolean;
  hostname?: string;
}

export function slice(
  ns: string,
  name: string,
  svc: string,
  eps: Ep[],
  ports: { name?: string; port: number; protocol?: string }[],
  addressType: 'IPv4' | 'IPv6' | 'FQDN' = 'IPv4',
): IndexEvent {
  return {
    type: 'put',
    kind: 'EndpointSlice',
    obj: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
      addressType,
      endpoints: eps.map((e) => ({
        addresses: Array.isArray(e.ip) ? e.ip : [e.ip],
        conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
        ...(e.hostname ? { hostname: e.hostname } : {}),
        nodeName: 'node-1',
        targetRef: { kind: 'Pod', name: `pod-${String(e.ip)}`, namespace: ns },
      })),
      ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
    },
  };
}

export function pod(ns: string, name: string, ipNetworks: string[]): IndexEvent {
  return {
    type: 'put',
    kind: 'WorkloadEndpoint',
    obj: {
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name, namespace: ns, labels: { app: name } },
      spec: { node: 'node-1', interfaceName: 'cali0123456789a', mac: '02:00:00:00:00:01', ipNetworks },
    },
  };
}

/** The cluster most table tests run against. */
export function clusterFixture(): IndexEvent[] {
  const big = Array.from({ length: 100 }, (_, i) => ({ ip: `172.18.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  return [
    namespace('default'),
    namespace('ns1'),
    namespace('emptyns'),
    service('ns1', 'svc1', {
      type: 'ClusterIP', clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'],
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'dns', protocol: 'UDP', port: 53 }, { port: 9000 }],
    }),
    service('ns1', 'dual', {
      clusterIP: '10.0.0.2', clusterIPs: ['10.0.0.2', 'fd00::2'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack',
      ports: [{ name: 'http', port: 80 }],
    }),
    service('ns1', 'v6only', { clusterIP: 'fd00::3', clusterIPs: ['fd00::3'], ports: [{ name: 'http', port: 80 }] }),
    service('ns1', 'hdls', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
    slice('ns1', 'hdls-a', 'hdls', [
      { ip: '172.17.0.1', hostname: 'pod-a' },
      { ip: '172.17.0.2' },
      { ip: '172.17.0.3', ready: false },
    ], [{ name: 'http', port: 8080 }]),
    slice('ns1', 'hdls-b', 'hdls', [{ ip: '172.17.0.2' }, { ip: '172.17.0.4', hostname: 'pod-d' }], [{ name: 'http', port: 8080 }]),
    slice('ns1', 'hdls-v6', 'hdls', [{ ip: 'fd00:1::5', hostname: 'pod-e' }], [{ name: 'http', port: 8080 }], 'IPv6'),
    service('ns1', 'pnr', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'peer', port: 2380 }] }),
    slice('ns1', 'pnr-x', 'pnr', [{ ip: '172.17.1.1', ready: false, hostname: 'etcd-0' }, { ip: '172.17.1.2', hostname: 'etcd-1' }], [{ name: 'peer', port: 2380 }]),
    service('ns1', 'nohosts', { clusterIP: 'None' }),
    service('ns1', 'ext', { type: 'ExternalName', externalName: 'example.net' }),
    service('ns1', 'extin', { type: 'ExternalName', externalName: 'svc1.ns1.svc.cluster.local' }),
    service('ns1', 'extgone', { type: 'ExternalName', externalName: 'missing.ns1.svc.cluster.local.' }),
    service('ns1', 'big', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
    slice('ns1', 'big-1', 'big', big, [{ name: 'http', port: 80 }]),
    pod('ns1', 'web-0', ['10.244.1.5/32', 'fd00:244::5/128']),
    pod('default', 'client', ['10.244.2.9/32']),
  ];
}

/** Service number i of a synthetic cluster: 100 namespaces, every fourth service headless. */
export function scaleService(i: number): IndexEvent {
  const ns = `team-${i % 100}`;
  const name = `service-${i}`;
  const headless = i % 4 === 0;
  const ip = `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  return service(ns, name, {
    type: 'ClusterIP', clusterIP: headless ? 'None' : ip, clusterIPs: [headless ? 'None' : ip],
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'metrics', protocol: 'TCP', port: 9090 }],
    selector: { app: name }, sessionAffinity: 'None',
  });
}

/** The EndpointSlice of service i with `eps` endpoints (hostnames on headless services). */
export function scaleSlice(i: number, eps: number): IndexEvent {
  const ns = `team-${i % 100}`;
  const name = `service-${i}`;
  const headless = i % 4 === 0;
  const list: Ep[] = [];
  for (let j = 0; j < eps; j++) {
    const n = i * eps + j;
    list.push({ ip: `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, hostname: headless ? `${name}-${j}` : undefined });
  }
  return slice(ns, `${name}-abcde`, name, list, [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }]);
}
