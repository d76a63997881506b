// `v1 Pod` is accepted on input only and stored as the WorkloadEndpoint it implies: Tern keeps a
// pod's network identity, not the pod. Only the fields that identity needs are read; the rest of
// a real pod manifest (images, volumes, ...) is accepted and ignored.
import { z } from 'zod';
import { parseIp } from '../../net/ip.js';
import { annotationMap, dnsLabel, dnsSubdomain, ianaSvcName, ipAddress, labelMap, portNumber, Protocol } from '../validators.js';

const ContainerPort = z.looseObject({
  name: ianaSvcName().optional(),
  containerPort: portNumber(),
  protocol: Protocol.default('TCP'),
});
const Container = z.looseObject({ ports: z.array(ContainerPort).optional() });

export const PodSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  metadata: z.looseObject({
    name: dnsSubdomain(),
    namespace: dnsLabel().default('default'),
    labels: labelMap().optional(),
    annotations: annotationMap().optional(),
    uid: z.string().optional(),
    creationTimestamp: z.string().optional(),
  }),
  spec: z.looseObject({
    nodeName: dnsSubdomain(),
    hostname: dnsLabel().optional(),
    subdomain: dnsLabel().optional(),
    serviceAccountName: dnsSubdomain().optional(),
    containers: z.array(Container).default([]),
    initContainers: z.array(Container).optional(),
  }),
  status: z
    .looseObject({
      podIP: ipAddress().optional(),
      podIPs: z.array(z.looseObject({ ip: ipAddress() })).optional(),
    })
    .optional(),
});
export type Pod = z.output<typeof PodSchema>;

/**
 * The WorkloadEndpoint document (not yet validated) for a pod: spec.nodeName → node, labels kept,
 * named container ports → ports, status.podIPs (or podIP) → ipNetworks as host routes.
 */
export function podToWorkloadEndpoint(pod: Pod): Record<string, unknown> {
  const ips = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  const ports = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]
    .flatMap((c) => c.ports ?? [])
    .filter((p): p is typeof p & { name: string } => typeof p.name === 'string' && p.name !== '')
    .map((p) => ({ name: p.name, port: p.containerPort, protocol: p.protocol }));
  const m = pod.metadata;
  return {
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
      ...(m.uid ? { uid: m.uid } : {}),
    },
    spec: {
      node: pod.spec.nodeName,
      pod: m.name,
      ipNetworks: ips.map((ip) => `${ip}/${parseIp(ip).family === 4 ? 32 : 128}`),
      ...(ports.length ? { ports } : {}),
      ...(pod.spec.hostname ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec.subdomain ? { subdomain: pod.spec.subdomain } : {}),
      ...(pod.spec.serviceAccountName ? { serviceAccountName: pod.spec.serviceAccountName } : {}),
    },
  };
}
