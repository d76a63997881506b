import { z } from 'zod';
import { clusterMeta } from '../meta.js';

/** v1 Namespace: only the name and labels matter (namespaceSelector matches the labels). */
export const NamespaceSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Namespace'),
  metadata: clusterMeta('label'),
  spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
});
export type Namespace = z.output<typeof NamespaceSchema>;
