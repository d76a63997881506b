import { z } from 'zod';
import { clusterMeta } from '../meta.js';
import { asNumber, dottedQuad, ipAddress, ipWithPrefix } from '../validators.js';

export const NodeAddress = z.strictObject({
  address: ipAddress(),
  type: z.enum(['InternalIP', 'ExternalIP']),
});

/** tern.dev/v1 Node: the BGP identity of a cluster node. */
export const NodeSchema = z.strictObject({
  apiVersion: z.literal('tern.dev/v1'),
  kind: z.literal('Node'),
  metadata: clusterMeta(),
  spec: z
    .strictObject({
      bgp: z
        .strictObject({
          ipv4Address: ipWithPrefix(4).optional(),
          ipv6Address: ipWithPrefix(6).optional(),
          /** Absent: the node uses BGPConfiguration "default" asNumber. */
          asNumber: asNumber().optional(),
          routeReflectorClusterID: dottedQuad().optional(),
        })
        .optional(),
      addresses: z.array(NodeAddress).optional(),
    })
    .default({}),
});
export type Node = z.output<typeof NodeSchema>;
