// tern-agentd's own configuration, added to the common daemon configuration (src/daemon/run.ts).
// File keys as below; environment TERN_<KEY> as loadConfig maps it; nodeName and nodeIP come
// from the common part (--node-name, --node-ip, TERN_NODE_NAME, TERN_NODE_IP).
import { z } from 'zod';
import { DEFAULT_SOCKET_DIR } from '../../grpc/index.js';
import { ProxyConfigSchema } from '../proxy/config.js';

export const SERVICE_PROXY_MODES = ['off', 'on'] as const;

export const AgentConfigShape = {
  /** tern-bgpd's gRPC socket; "" runs without BGP (no remote routes, nothing advertised). */
  bgpdSocket: z.string().default(`${DEFAULT_SOCKET_DIR}/bgpd.sock`),
  /**
   * Run all kernel work (routes, nftables, the route monitor) in this named namespace
   * (`ip -n`, `ip netns exec`). Leave unset when the agent itself runs in the node's namespace
   * (hostNetwork, or `ip netns exec` in the lab): CNI's veths and sysctls follow the
   * process's own namespace, so a split would put pod routes and veths in different places.
   */
  netns: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a namespace name').optional(),
  /** Full read-diff-repair of routes and of the nftables table. */
  resyncSeconds: z.number().positive().default(30),
  /** 0: apply as soon as the current batch of events is recorded; N: wait N ms to gather more. */
  coalesceMs: z.number().int().min(0).max(1000).default(0),
  policy: z
    .strictObject({
      /** Enforce NetworkPolicy (table inet <table>). */
      enabled: z.boolean().default(true),
      table: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'must be an nftables table name').default('tern'),
      /** Read the table back before every incremental change (slower; drift is found at resync otherwise). */
      verifyEachApply: z.boolean().default(false),
    })
    .prefault({}),
  /** The service proxy (src/agent/proxy): `on` implements Services here (no kube-proxy on the node). */
  serviceProxy: z.enum(SERVICE_PROXY_MODES).default('off'),
  /** Its settings (table, marks, clusterCidrs: default the IPPools' CIDRs, conntrack, healthCheckAddress). */
  proxy: ProxyConfigSchema.prefault({}),
  /** Default veth MTU reported in status; the CNI network configuration's `mtu` sets the veths. */
  mtu: z.number().int().min(68).max(65535).default(1500),
  /** Directory of secret volumes for BGPPeer passwords: <secretDir>/<secret name>/<key>. */
  secretDir: z.string().optional(),
  /** Longest time stale remote routes are kept after bgpd (re)connects without confirming them. */
  staleGraceSeconds: z.number().positive().default(120),
  /** bgpd's sessions must have been Established this long before stale routes are dropped. */
  staleSettleSeconds: z.number().min(0).default(3),
};
