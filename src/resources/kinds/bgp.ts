import { z } from 'zod';
import { clusterMeta } from '../meta.js';
import { asNumber, cidr, dnsSubdomain, holdTime, ipError, keepaliveTime, portNumber, selectorString } from '../validators.js';

const U16 = 65535;
const U32 = 4294967295;

/** RFC 1997 community "aa:nn" (16:16) or RFC 8092 large community "a:b:c" (32:32:32). */
export function communityError(v: string): string | undefined {
  const parts = v.split(':');
  const max = parts.length === 2 ? U16 : parts.length === 3 ? U32 : -1;
  if (max < 0 || !parts.every((p) => /^\d+$/.test(p) && Number(p) <= max)) {
    return 'must be a standard community "aa:nn" (each 0–65535) or a large community "a:b:c" (each 0–4294967295)';
  }
  return undefined;
}

const CidrEntry = z.strictObject({ cidr: cidr() });

export const Community = z.strictObject({
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/, 'must start with a letter and contain letters, digits, "_" or "-"'),
  value: z.string().superRefine((v, ctx) => {
    const e = communityError(v);
    if (e) ctx.addIssue({ code: 'custom', message: e, continue: false });
  }),
});

/** tern.dev/v1 BGPConfiguration; the one named "default" is the cluster-wide configuration. */
export const BGPConfigurationSchema = z.strictObject({
  apiVersion: z.literal('tern.dev/v1'),
  kind: z.literal('BGPConfiguration'),
  metadata: clusterMeta(),
  spec: z
    .strictObject({
      asNumber: asNumber().default(64512),
      nodeToNodeMeshEnabled: z.boolean().default(true),
      listenPort: portNumber().default(179),
      serviceClusterIPs: z.array(CidrEntry).optional(),
      serviceExternalIPs: z.array(CidrEntry).optional(),
      serviceLoadBalancerIPs: z.array(CidrEntry).optional(),
      communities: z.array(Community).optional(),
      prefixAdvertisements: z.array(z.strictObject({ cidr: cidr(), communities: z.array(z.string()).default([]) })).optional(),
      /** Seconds. */
      keepaliveTime: keepaliveTime().optional(),
      /** Seconds; RFC 4271 §4.2. */
      holdTime: holdTime().optional(),
    })
    .superRefine((s, ctx) => {
      const names = new Set<string>();
      s.communities?.forEach((c, i) => {
        if (names.has(c.name)) ctx.addIssue({ code: 'custom', message: `duplicate community name "${c.name}"`, path: ['communities', i, 'name'] });
        names.add(c.name);
      });
      s.prefixAdvertisements?.forEach((p, i) =>
        p.communities.forEach((c, j) => {
          if (!names.has(c) && communityError(c)) {
            ctx.addIssue({ code: 'custom', message: `"${c}" is neither a community defined in spec.communities nor a community value`, path: ['prefixAdvertisements', i, 'communities', j] });
          }
        }),
      );
      checkTimers(s, ctx);
    })
    .prefault({}),
});
export type BGPConfiguration = z.output<typeof BGPConfigurationSchema>;

function checkTimers(s: { keepaliveTime?: number | undefined; holdTime?: number | undefined }, ctx: z.core.$RefinementCtx<unknown>): void {
  // RFC 4271 §10 suggests keepalive = hold/3; a keepalive at or above the hold time drops sessions.
  if (s.keepaliveTime !== undefined && s.holdTime !== undefined && s.holdTime > 0 && s.keepaliveTime >= s.holdTime) {
    ctx.addIssue({ code: 'custom', message: `must be less than holdTime (${s.holdTime})`, path: ['keepaliveTime'] });
  }
}

/** tern.dev/v1 BGPPeer: an external peer (peerIP + asNumber) or other Tern nodes (peerSelector). */
export const BGPPeerSchema = z.strictObject({
  apiVersion: z.literal('tern.dev/v1'),
  kind: z.literal('BGPPeer'),
  metadata: clusterMeta(),
  spec: z
    .strictObject({
      peerIP: z.string().optional(),
      asNumber: asNumber().optional(),
      /** The one node that peers; with neither node nor nodeSelector every node peers. */
      node: dnsSubdomain().optional(),
      nodeSelector: selectorString().optional(),
      peerSelector: selectorString().optional(),
      keepaliveTime: keepaliveTime().optional(),
      holdTime: holdTime().optional(),
      password: z.strictObject({ secretKeyRef: z.strictObject({ name: dnsSubdomain(), key: z.string().min(1, 'required') }) }).optional(),
      maxPrefixes: z.number().int('must be an integer').min(1, 'must be at least 1').optional(),
      routeReflectorClient: z.boolean().optional(),
      /** "UseNodeIP", "None" or an address of the node. */
      sourceAddress: z.string().optional(),
      /** GTSM (RFC 5082): the number of hops the peer may be away. */
      ttlSecurity: z.number().int('must be an integer').min(1, 'must be 1–255 hops').max(255, 'must be 1–255 hops').optional(),
    })
    .superRefine((s, ctx) => {
      if (s.peerSelector !== undefined) {
        if (s.peerIP !== undefined) ctx.addIssue({ code: 'custom', message: 'must not be set together with peerSelector', path: ['peerIP'] });
        if (s.asNumber !== undefined) ctx.addIssue({ code: 'custom', message: 'must not be set together with peerSelector (each node peers with its own AS)', path: ['asNumber'] });
      } else {
        if (s.peerIP === undefined) ctx.addIssue({ code: 'custom', message: 'required (or set peerSelector)', path: ['peerIP'] });
        else {
          const e = ipError(s.peerIP);
          if (e) ctx.addIssue({ code: 'custom', message: e, path: ['peerIP'] });
        }
        if (s.asNumber === undefined) ctx.addIssue({ code: 'custom', message: 'required (or set peerSelector)', path: ['asNumber'] });
      }
      if (s.node !== undefined && s.nodeSelector !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'must not be set together with node', path: ['nodeSelector'] });
      }
      if (s.sourceAddress !== undefined && s.sourceAddress !== 'UseNodeIP' && s.sourceAddress !== 'None' && ipError(s.sourceAddress)) {
        ctx.addIssue({ code: 'custom', message: 'must be "UseNodeIP", "None" or an IP address', path: ['sourceAddress'] });
      }
      checkTimers(s, ctx);
    }),
});
export type BGPPeer = z.output<typeof BGPPeerSchema>;
