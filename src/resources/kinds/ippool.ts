import { z } from 'zod';
import { parseCidr } from '../../net/ip.js';
import { clusterMeta } from '../meta.js';
import { cidr, selectorString } from '../validators.js';

/** Allowed block sizes per family: a block must not be larger than a /20 (v4) or /116 (v6). */
export const BLOCK_SIZE = {
  4: { min: 20, max: 32, default: 26 },
  6: { min: 116, max: 128, default: 122 },
} as const;

export const IPPoolSchema = z.strictObject({
  apiVersion: z.literal('tern.dev/v1'),
  kind: z.literal('IPPool'),
  metadata: clusterMeta(),
  spec: z
    .strictObject({
      cidr: cidr(),
      blockSize: z.number().int('must be an integer').optional(),
      /** false: a node may borrow addresses from other nodes' blocks when no block is free. */
      strictAffinity: z.boolean().default(false),
      disabled: z.boolean().default(false),
      nodeSelector: selectorString().default('all()'),
      natOutgoing: z.boolean().optional(),
    })
    .superRefine((s, ctx) => {
      const c = parseCidr(s.cidr);
      const r = BLOCK_SIZE[c.family];
      if (s.blockSize !== undefined) {
        if (s.blockSize < r.min || s.blockSize > r.max) {
          ctx.addIssue({ code: 'custom', message: `must be ${r.min}–${r.max} for an IPv${c.family} pool`, path: ['blockSize'] });
        } else if (s.blockSize < c.prefixLen) {
          ctx.addIssue({ code: 'custom', message: `must not be shorter than the pool's prefix /${c.prefixLen}`, path: ['blockSize'] });
        }
      } else if (r.default < c.prefixLen) {
        ctx.addIssue({ code: 'custom', message: `the default /${r.default} is shorter than the pool's prefix /${c.prefixLen}: set blockSize`, path: ['blockSize'] });
      }
    })
    .transform((s) => ({ ...s, blockSize: s.blockSize ?? BLOCK_SIZE[parseCidr(s.cidr).family].default })),
});
export type IPPool = z.output<typeof IPPoolSchema>;
