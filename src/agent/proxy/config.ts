// The agent's settings for the service proxy. Off by default: most clusters run kube-proxy,
// and two proxies NATing the same traffic would fight over it.
import { z } from 'zod';
import { DEFAULT_EXTERNAL_MARK, DEFAULT_MASQUERADE_MARK, DEFAULT_SHARDS, DEFAULT_TABLE, MAX_SHARDS } from './render.js';

const bit = z.number().int().refine((n) => n > 0 && n <= 0xffffffff && (n & (n - 1)) === 0, 'must be a single bit, e.g. 0x4000');

export const ProxyConfigSchema = z
  .strictObject({
    /** Implement Services in this agent (no kube-proxy on the node). */
    enabled: z.boolean().default(false),
    /** The main table; the service chains go to `<table>-0` … `<table>-<shards-1>`. */
    table: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,59}$/).default(DEFAULT_TABLE),
    /**
     * Shard tables the service chains are spread over (by a hash of namespace/name). An
     * endpoint change makes the kernel revalidate one shard; a new connection does one
     * verdict-map lookup per shard. Fixed, not derived from the number of services.
     */
    shards: z.number().int().min(1).max(MAX_SHARDS).default(DEFAULT_SHARDS),
    masqueradeMark: bit.default(DEFAULT_MASQUERADE_MARK),
    externalMark: bit.default(DEFAULT_EXTERNAL_MARK),
    /** Pod CIDRs; other sources reaching a cluster IP are masqueraded. */
    clusterCidrs: z.array(z.string()).default([]),
    /** conntrack binary, or false to never flush stale UDP entries. */
    conntrack: z.union([z.string(), z.literal(false)]).default('conntrack'),
    /** Address the health-check node ports listen on. */
    healthCheckAddress: z.string().default('0.0.0.0'),
  })
  .refine((c) => c.masqueradeMark !== c.externalMark, { message: 'masqueradeMark and externalMark must differ', path: ['externalMark'] });
export type ProxyConfig = z.output<typeof ProxyConfigSchema>;
