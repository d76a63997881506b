// Builders for Services, EndpointSlices and WorkloadEndpoints, parsed through the real
// schemas so defaults (targetPort, ipFamilies, externalTrafficPolicy) are the stored ones.
import { EndpointSliceSchema, ServiceSchema, WorkloadEndpointSchema, type EndpointSlice, type Service, type WorkloadEndpoint } from '../../../src/resources/index.js';

export function service(ns: string, name: string, spec: Record<string, unknown>, status?: Record<string, unknown>): Service {
  return ServiceSchema.parse({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec, ...(status ? { status } : {}) });
}

export interface Ep {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export function slice(ns: string, svc: string, name: string, family: 4 | 6, eps: Ep[], ports: Array<{ name?: string; port?: number; protocol?: string }>): EndpointSlice {
  return EndpointSliceSchema.parse({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: family === 4 ? 'IPv4' : 'IPv6',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      conditions: { ready: e.ready ?? true, ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
    })),
    ports,
  });
}

export function pod(ns: string, name: string, node: string, ips: string[], ports: Array<{ name: string; port: number; protocol?: string }>): WorkloadEndpoint {
  return WorkloadEndpointSchema.parse({
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: { namespace: ns, name },
    spec: { node, ipNetworks: ips.map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)), ports },
  });
}
