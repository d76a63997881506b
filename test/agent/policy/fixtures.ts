// Builders for policy tests: resources go through the real schemas, so defaults
// (protocol TCP, policyTypes) are applied exactly as for stored objects.
import { NamespaceSchema, NetworkPolicySchema, WorkloadEndpointSchema, type Namespace, type NetworkPolicy, type WorkloadEndpoint } from '../../../src/resources/index.js';

export const NODE = 'node1';

export function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return NamespaceSchema.parse({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
}

export interface PodSpec {
  ns: string;
  name: string;
  labels?: Record<string, string>;
  ip: string;
  ip6?: string;
  node?: string;
  iface?: string;
  ports?: Array<{ name: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }>;
}

export function pod(p: PodSpec): WorkloadEndpoint {
  return WorkloadEndpointSchema.parse({
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: { name: p.name, namespace: p.ns, labels: p.labels ?? { pod: p.name } },
    spec: {
      node: p.node ?? NODE,
      ...(p.node && p.node !== NODE ? {} : { interfaceName: p.iface ?? `v${p.ns}${p.name}` }),
      ipNetworks: [`${p.ip}/32`, ...(p.ip6 ? [`${p.ip6}/128`] : [])],
      ...(p.ports ? { ports: p.ports } : {}),
    },
  });
}

export function netpol(namespace: string, name: string, spec: Record<string, unknown>): NetworkPolicy {
  return NetworkPolicySchema.parse({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
}

/** The upstream e2e names: namespaces x, y, z, pods a, b, c, label pod=<name>, ns label ns=<name>. */
export const E2E_NAMESPACES = ['x', 'y', 'z'] as const;
export const E2E_PODS = ['a', 'b', 'c'] as const;

export const E2E_PORTS = [
  { name: 'serve-80-tcp', port: 80, protocol: 'TCP' as const },
  { name: 'serve-81-tcp', port: 81, protocol: 'TCP' as const },
  { name: 'serve-80-udp', port: 80, protocol: 'UDP' as const },
  { name: 'serve-81-udp', port: 81, protocol: 'UDP' as const },
];

export function e2eIp(nsName: string, podName: string): { ip: string; ip6: string } {
  const n = 10 * (E2E_NAMESPACES.indexOf(nsName as 'x') + 1) + E2E_PODS.indexOf(podName as 'a');
  return { ip: `10.244.1.${n}`, ip6: `fd00:244:1::${n}` };
}
