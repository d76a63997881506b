import { z } from 'zod';
import { parseCidr } from '../../net/ip.js';
import { namespacedMeta } from '../meta.js';
import { cidr, dnsLabel, dnsSubdomain, ianaSvcName, portNumber, Protocol } from '../validators.js';

export const WorkloadPort = z.strictObject({
  name: ianaSvcName(),
  port: portNumber(),
  protocol: Protocol.default('TCP'),
});

/** tern.dev/v1 WorkloadEndpoint: a pod's network identity (name = pod name). */
export const WorkloadEndpointSchema = z
  .strictObject({
    apiVersion: z.literal('tern.dev/v1'),
    kind: z.literal('WorkloadEndpoint'),
    metadata: namespacedMeta(),
    spec: z
      .strictObject({
        node: dnsSubdomain(),
        pod: dnsSubdomain().optional(),
        containerID: z.string().min(1, 'must not be empty').optional(),
        /** Host-side veth; Linux IFNAMSIZ allows 15 characters. */
        interfaceName: z.string().regex(/^[^\s/:]{1,15}$/, 'must be a Linux interface name (1–15 characters, no "/", ":" or spaces)').optional(),
        mac: z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be a MAC address like 0a:58:0a:f4:01:05').optional(),
        ipNetworks: z.array(cidr()).default([]),
        ports: z.array(WorkloadPort).optional(),
        hostname: dnsLabel().optional(),
        subdomain: dnsLabel().optional(),
        serviceAccountName: dnsSubdomain().optional(),
      })
      .superRefine((s, ctx) => {
        // One address per family at most, as a pod has (Kubernetes dual-stack: podIPs ≤ 2, one each).
        const fams = s.ipNetworks.map((n) => parseCidr(n).family);
        if (fams.length > 2 || new Set(fams).size !== fams.length) {
          ctx.addIssue({ code: 'custom', message: 'must hold at most one IPv4 and one IPv6 network', path: ['ipNetworks'] });
        }
        const seen = new Set<string>();
        s.ports?.forEach((p, i) => {
          if (seen.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate port name "${p.name}"`, path: ['ports', i, 'name'] });
          seen.add(p.name);
        });
      }),
  })
  .transform((w) => ({ ...w, spec: { ...w.spec, pod: w.spec.pod ?? w.metadata.name } }));
export type WorkloadEndpoint = z.output<typeof WorkloadEndpointSchema>;
