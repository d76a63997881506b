// ObjectMeta and the Kubernetes LabelSelector (matchLabels + matchExpressions), shared by kinds.
import { z } from 'zod';
import { annotationMap, dnsLabel, dnsSubdomain, labelKeyError, labelMap, labelValueError } from './validators.js';

const metaFields = {
  labels: labelMap().optional(),
  annotations: annotationMap().optional(),
  uid: z.string().optional(),
  creationTimestamp: z.string().optional(),
  /** Set on read from the key's mod_revision; on write it asks for compare-and-swap. Never stored. */
  resourceVersion: z.string().regex(/^\d+$/, 'must be a decimal etcd revision').optional(),
};

/**
 * Namespaced kinds: namespace defaults to "default". `nameRule` is the Kubernetes rule for the
 * kind's names (Services need DNS labels because their names become DNS labels).
 */
export const namespacedMeta = (nameRule: 'label' | 'subdomain' = 'subdomain') =>
  z.strictObject({
    name: nameRule === 'label' ? dnsLabel() : dnsSubdomain(),
    namespace: dnsLabel().default('default'),
    ...metaFields,
  });

export const clusterMeta = (nameRule: 'label' | 'subdomain' = 'subdomain') =>
  z.strictObject({
    name: nameRule === 'label' ? dnsLabel() : dnsSubdomain(),
    ...metaFields,
  });

export type NamespacedMeta = z.output<ReturnType<typeof namespacedMeta>>;
export type ClusterMeta = z.output<ReturnType<typeof clusterMeta>>;

export const SelectorOperator = z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export const LabelSelectorRequirement = z
  .strictObject({
    key: z.string(),
    operator: SelectorOperator,
    values: z.array(z.string()).optional(),
  })
  .superRefine((r, ctx) => {
    const ke = labelKeyError(r.key);
    if (ke) ctx.addIssue({ code: 'custom', message: ke, path: ['key'] });
    // apimachinery ValidateLabelSelectorRequirement: In/NotIn need values, Exists/DoesNotExist forbid them.
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
      ctx.addIssue({ code: 'custom', message: `must be non-empty when operator is ${r.operator}`, path: ['values'] });
    }
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) {
      ctx.addIssue({ code: 'custom', message: `must be empty when operator is ${r.operator}`, path: ['values'] });
    }
    r.values?.forEach((v, i) => {
      const ve = labelValueError(v);
      if (ve) ctx.addIssue({ code: 'custom', message: ve, path: ['values', i] });
    });
  });
export type LabelSelectorRequirement = z.output<typeof LabelSelectorRequirement>;

export const LabelSelector = z.strictObject({
  matchLabels: labelMap().optional(),
  matchExpressions: z.array(LabelSelectorRequirement).optional(),
});
export type LabelSelector = z.output<typeof LabelSelector>;

/** Kubernetes LabelSelector semantics: all terms ANDed; an empty selector matches everything. */
export function matchLabelSelector(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const get = (k: string): string | undefined => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (get(k) !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const x = get(r.key);
    const ok =
      r.operator === 'In' ? x !== undefined && (r.values ?? []).includes(x)
      : r.operator === 'NotIn' ? x === undefined || !(r.values ?? []).includes(x)
      : r.operator === 'Exists' ? x !== undefined
      : x === undefined;
    if (!ok) return false;
  }
  return true;
}

