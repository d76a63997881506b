// tern-dnsd's configuration section (`dns:` in the YAML file). Defaults follow CoreDNS's
// Kubernetes Corefile: zone cluster.local, TTL 5, `pods insecure`, forward to the host's
// resolv.conf, cache caps 3600 s / 1800 s, metrics :9153, health :8080, ready :8181.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { daemonConfig } from '../../daemon/run.js';
import { DEFAULT_RECURSION_ACL } from '../forward/acl.js';
import { parseResolvConf, parseUpstream, type UpstreamAddress } from '../forward/resolv.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:53 or [::]:53');
const seconds = z.number().int().min(0);

export const DnsSection = z
  .object({
    zones: z.array(z.string().min(1)).min(1).default(['cluster.local']),
    /** Each address gets UDP and TCP. */
    listen: z.array(hostPort).min(1).default(['0.0.0.0:53', '[::]:53']),
    ttl: seconds.default(5),
    negativeTtl: seconds.default(5),
    pods: z.enum(['disabled', 'insecure', 'verified']).default('insecure'),
    /** Addresses of this DNS service (answers for ns.dns.<zone>). */
    nameserverIps: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
    /** "resolv.conf" (the file below), "none", or a list of IP[:port] / [IPv6]:port. */
    upstreams: z.union([z.literal('resolv.conf'), z.literal('none'), z.array(z.string()).min(1)]).default('resolv.conf'),
    resolvConf: z.string().default('/etc/resolv.conf'),
    upstreamTimeoutMs: z.number().int().positive().default(2000),
    /** Clients allowed to have out-of-zone names forwarded; others get REFUSED. */
    recursionAcl: z.array(z.string()).default([...DEFAULT_RECURSION_ACL]),
    cache: z
      .object({
        /** Answers of our own zones: bound on cached (name, type) pairs. */
        maxEntries: z.number().int().positive().default(200_000),
        /** Forwarded answers. */
        forwardMaxEntries: z.number().int().positive().default(10_000),
        maxTtl: seconds.default(3600),
        maxNegativeTtl: seconds.default(1800),
        /** RFC 8767 serve-stale window for forwarded answers (0 disables). */
        serveStaleSeconds: seconds.default(3600),
      })
      .strict()
      .prefault({}),
    autopath: z.boolean().default(false),
    /** DNS worker processes; each keeps its own index from its own watch. */
    workers: z.number().int().min(1).max(64).default(1),
    tcpIdleTimeoutMs: z.number().int().positive().default(10_000),
    maxTcpConnections: z.number().int().positive().default(1000),
    ednsBufferSize: z.number().int().min(512).max(65535).default(1232),
    /** Separate listeners like CoreDNS's health and ready plugins; "" disables one. */
    health: z.union([hostPort, z.literal('')]).default('0.0.0.0:8080'),
    ready: z.union([hostPort, z.literal('')]).default('0.0.0.0:8181'),
  })
  .strict();
export type DnsSection = z.infer<typeof DnsSection>;

/** The whole tern-dnsd schema: common settings, gRPC, ops (metrics, :9153) and `dns`. */
export const DnsdConfig = daemonConfig('tern-dnsd', '0.0.0.0:9153', { dns: DnsSection.prefault({}) });
export type DnsdConfig = z.infer<typeof DnsdConfig>;

/** "[::]:53" -> { host: "::", port: 53 }. */
export function parseListen(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(s.slice(i + 1)) };
}

/** The upstreams the configuration names; [] when forwarding is off. Throws on a bad entry. */
export function resolveUpstreams(dns: Pick<DnsSection, 'upstreams' | 'resolvConf'>, read = (f: string) => readFileSync(f, 'utf8')): UpstreamAddress[] {
  if (dns.upstreams === 'none') return [];
  const list = dns.upstreams === 'resolv.conf' ? parseResolvConf(read(dns.resolvConf)) : dns.upstreams;
  return list.map((s) => {
    const u = parseUpstream(s);
    if ('error' in u) throw new Error(u.error);
    return u;
  });
}
