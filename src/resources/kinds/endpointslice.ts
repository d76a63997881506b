import { z } from 'zod';
import { dns1123SubdomainError, ipError } from '../validators.js';
import { namespacedMeta } from '../meta.js';
import { dnsLabel, dnsSubdomain, portNumber, Protocol } from '../validators.js';

/** The label naming the Service an EndpointSlice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const Endpoint = z.strictObject({
  addresses: z.array(z.string()).min(1, 'must hold at least one address').max(100, 'must hold at most 100 addresses'),
  conditions: z
    .strictObject({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() })
    .optional(),
  hostname: dnsLabel().optional(),
  nodeName: dnsSubdomain().optional(),
  zone: z.string().optional(),
  targetRef: z
    .strictObject({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional(), uid: z.string().optional() })
    .optional(),
});

export const EndpointPort = z.strictObject({
  name: z.string().optional(),
  protocol: Protocol.default('TCP'),
  /** Absent: every port (Kubernetes semantics for a nil port). */
  port: portNumber().optional(),
  appProtocol: z.string().optional(),
});

/** discovery.k8s.io/v1 EndpointSlice, in the Kubernetes form (no spec: fields at top level). */
export const EndpointSliceSchema = z
  .strictObject({
    apiVersion: z.literal('discovery.k8s.io/v1'),
    kind: z.literal('EndpointSlice'),
    metadata: namespacedMeta(),
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
    endpoints: z.array(Endpoint).max(1000, 'must hold at most 1000 endpoints').default([]),
    ports: z.array(EndpointPort).max(100, 'must hold at most 100 ports').optional(),
  })
  .superRefine((s, ctx) => {
    s.endpoints.forEach((ep, i) =>
      ep.addresses.forEach((a, j) => {
        const e = s.addressType === 'FQDN' ? dns1123SubdomainError(a) : ipError(a, s.addressType === 'IPv4' ? 4 : 6);
        if (e) ctx.addIssue({ code: 'custom', message: `${e} (addressType is ${s.addressType})`, path: ['endpoints', i, 'addresses', j] });
      }),
    );
    const names = new Set<string>();
    s.ports?.forEach((p, i) => {
      const n = p.name ?? '';
      // Kubernetes: port names are empty or DNS labels, and unique within the slice.
      if (n !== '' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) ctx.addIssue({ code: 'custom', message: 'must be empty or a DNS-1123 label', path: ['ports', i, 'name'] });
      if (names.has(n)) ctx.addIssue({ code: 'custom', message: `duplicate port name "${n}"`, path: ['ports', i, 'name'] });
      names.add(n);
    });
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(svc)) {
      ctx.addIssue({ code: 'custom', message: 'must name a Service (a DNS-1123 label)', path: ['metadata', 'labels', SERVICE_NAME_LABEL] });
    }
  });
export type EndpointSlice = z.output<typeof EndpointSliceSchema>;
