// networking.k8s.io/v1 NetworkPolicy, the Kubernetes schema and validation rules
// (pkg/apis/networking/validation) with its defaulting (protocol TCP, policyTypes).
import { z } from 'zod';
import { cidrContains, parseCidr } from '../../net/ip.js';
import { LabelSelector, namespacedMeta } from '../meta.js';
import { cidr, intOrPortName, portNumber, Protocol } from '../validators.js';

export const NetworkPolicyPort = z
  .strictObject({
    protocol: Protocol.default('TCP'),
    /** A number or a named container port; absent: all ports. */
    port: intOrPortName().optional(),
    /** With a numeric port: the range port..endPort. */
    endPort: portNumber().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.endPort === undefined) return;
    if (p.port === undefined) ctx.addIssue({ code: 'custom', message: 'may not be set without port', path: ['endPort'] });
    else if (typeof p.port === 'string') ctx.addIssue({ code: 'custom', message: 'may not be set when port is a named port', path: ['endPort'] });
    else if (p.endPort < p.port) ctx.addIssue({ code: 'custom', message: `must be greater than or equal to port (${p.port})`, path: ['endPort'] });
  });

export const IPBlock = z
  .strictObject({ cidr: cidr(), except: z.array(cidr()).optional() })
  .superRefine((b, ctx) => {
    const outer = parseCidr(b.cidr);
    b.except?.forEach((e, i) => {
      const inner = parseCidr(e);
      // Kubernetes ValidateIPBlock: each except must be a strict subset of cidr.
      if (!cidrContains(outer, inner) || inner.prefixLen === outer.prefixLen) ctx.addIssue({ code: 'custom', message: `must be a strict subset of cidr ${b.cidr}`, path: ['except', i] });
    });
  });

export const NetworkPolicyPeer = z
  .strictObject({
    podSelector: LabelSelector.optional(),
    namespaceSelector: LabelSelector.optional(),
    ipBlock: IPBlock.optional(),
  })
  .superRefine((p, ctx) => {
    const n = [p.podSelector, p.namespaceSelector, p.ipBlock].filter((x) => x !== undefined).length;
    if (n === 0) ctx.addIssue({ code: 'custom', message: 'must specify podSelector, namespaceSelector or ipBlock' });
    if (p.ipBlock && n > 1) ctx.addIssue({ code: 'custom', message: 'may not be combined with podSelector or namespaceSelector', path: ['ipBlock'] });
  });

export const NetworkPolicyIngressRule = z.strictObject({
  ports: z.array(NetworkPolicyPort).optional(),
  from: z.array(NetworkPolicyPeer).optional(),
});
export const NetworkPolicyEgressRule = z.strictObject({
  ports: z.array(NetworkPolicyPort).optional(),
  to: z.array(NetworkPolicyPeer).optional(),
});

export const PolicyType = z.enum(['Ingress', 'Egress']);
export type PolicyType = z.infer<typeof PolicyType>;

export const NetworkPolicySchema = z.strictObject({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('NetworkPolicy'),
  metadata: namespacedMeta(),
  spec: z
    .strictObject({
      podSelector: LabelSelector,
      ingress: z.array(NetworkPolicyIngressRule).optional(),
      egress: z.array(NetworkPolicyEgressRule).optional(),
      policyTypes: z.array(PolicyType).optional(),
    })
    .superRefine((s, ctx) => {
      const t = s.policyTypes ?? [];
      if (t.length > 2 || new Set(t).size !== t.length) ctx.addIssue({ code: 'custom', message: 'must list Ingress and/or Egress at most once each', path: ['policyTypes'] });
    })
    // SetDefaults_NetworkPolicySpec: Ingress always, Egress when egress rules are present.
    .transform((s) => {
      const policyTypes: PolicyType[] = s.policyTypes?.length ? s.policyTypes : s.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
      return { ...s, policyTypes };
    }),
});
export type NetworkPolicy = z.output<typeof NetworkPolicySchema>;
export type NetworkPolicyPeer = z.output<typeof NetworkPolicyPeer>;
export type NetworkPolicyPort = z.output<typeof NetworkPolicyPort>;
