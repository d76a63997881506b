// The speaker's configuration: the `bgp:` section of tern-bgpd's / tern-rrd's YAML file (the
// role of bird.conf), and the translation of one peer entry into the session's PeerConfig.
// Pure: no I/O. Errors name the field (zod paths; TernError field for the semantic checks).
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { TernError } from '../../errors/index.js';
import { cidrContainsIp, formatIp, isCidr, parseCidr, parseIp } from '../../net/ip.js';
import { PoliciesSchema, parseCommunity, parseLargeCommunity } from '../policy/index.js';
import type { PeerConfig } from '../session/config.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../wire/index.js';

const Ip = z.string().refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' });
const Asn = z.number().int().min(1).max(0xffffffff);
const Cidr = z.string().refine(isCidr, { message: 'must be a prefix (address/length, host bits zero)' });
const Community = z.string().refine((s) => parseCommunity(s) !== null, { message: 'not a community ("asn:value" or NO_EXPORT, ...)' });
const LargeCommunity = z.string().refine((s) => parseLargeCommunity(s) !== null, { message: 'not a large community ("global:local1:local2")' });
const Family = z.enum(['ipv4', 'ipv6']);

export const GracefulRestartSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** RFC 4724 §3 Restart Time we announce (seconds, ≤ 4095). */
    restartTime: z.number().int().min(1).max(4095).default(120),
    /** How long we keep a restarting peer's routes when it does not say (seconds). */
    staleTime: z.number().int().min(1).max(86400).default(360),
    /** RFC 8538 N bit. */
    notification: z.boolean().default(true),
    /**
     * RFC 4724 §3 F bit: true = every family, false = none, or the families whose forwarding
     * state survives our restart.
     */
    forwarding: z.union([z.boolean(), z.array(Family)]).default(true),
  })
  .strict();
export type GracefulRestartSettings = z.infer<typeof GracefulRestartSchema>;

export const TimersSchema = z
  .object({
    /** Proposed Hold Time; 0 = none, else ≥ 3 (RFC 4271 §4.2). */
    hold: z.number().int().min(0).max(65535).refine((v) => v === 0 || v >= 3, { message: 'must be 0 or at least 3' }).optional(),
    keepalive: z.number().int().min(1).max(21845).optional(),
    connectRetry: z.number().int().min(1).max(65535).optional(),
    /** Wait after an error before trying again (doubled per consecutive failure, up to idleHoldMax). */
    idleHold: z.number().int().min(0).max(3600).optional(),
    idleHoldMax: z.number().int().min(0).max(3600).optional(),
  })
  .strict();

/**
 * BFD for the peer (RFC 5880/5881 single hop, asynchronous mode). `true` = the defaults.
 * `graceful`: on BFD Down keep the peer's routes as stale when graceful restart was negotiated
 * (BIRD's `bfd graceful`); otherwise they are withdrawn at once (BIRD's `bfd on`).
 */
export const BfdSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Desired Min TX Interval (ms) once Up; RFC 5880 §6.8.3 keeps it ≥ 1 s while not Up. */
    minTxMs: z.number().int().min(1).max(60_000).default(300),
    /** Required Min RX Interval (ms). */
    minRxMs: z.number().int().min(1).max(60_000).default(300),
    /** Detect Mult. */
    multiplier: z.number().int().min(1).max(255).default(3),
    graceful: z.boolean().default(false),
  })
  .strict();
export type BfdSettings = z.infer<typeof BfdSchema>;

/** What a configured peer and a dynamic-neighbour range share. */
const PeerCommon = {
  localAs: Asn.optional(),
  description: z.string().max(255).optional(),
  passive: z.boolean().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  sourceAddress: Ip.optional(),
  timers: TimersSchema.optional(),
  /** Families announced in the multiprotocol capability; default: the transport's family. */
  families: z.array(Family).min(1).optional(),
  /** RFC 8950: IPv4 unicast with IPv6 next hops (capability 5), for ipv4 over an IPv6 session. */
  extendedNextHop: z.boolean().optional(),
  /** Per peer; absent = the speaker's `gracefulRestart`. */
  gracefulRestart: GracefulRestartSchema.optional(),
  importPolicies: z.array(z.string().min(1)).optional(),
  exportPolicies: z.array(z.string().min(1)).optional(),
  /** Cease / Maximum Number of Prefixes Reached (RFC 4486) above this many accepted; 0 = none. */
  maxPrefixes: z.number().int().min(0).optional(),
  /** Seconds before the session starts again after a max-prefix Cease; 0 = stays down. */
  maxPrefixesRestartDelay: z.number().int().min(0).max(86400).optional(),
  /** TCP MD5 (RFC 2385). */
  password: z.string().optional(),
  /** GTSM (RFC 5082): number of hops (1 = directly connected); 0/false = off. */
  ttlSecurity: z.union([z.boolean(), z.number().int().min(0).max(255)]).optional(),
  routeReflectorClient: z.boolean().optional(),
  addPath: z.object({ send: z.boolean().default(false), receive: z.boolean().default(false) }).strict().optional(),
  nextHopSelf: z.boolean().optional(),
  /**
   * RFC 2545 §3: with our own IPv6 next hop towards a directly connected peer, also send the
   * link-local address of that interface (32-octet next hop, BIRD's `direct`). Default true.
   */
  linkLocalNextHop: z.boolean().optional(),
  bfd: z.union([z.boolean(), BfdSchema]).optional(),
};

export const PeerSchema = z.object({ address: Ip, asNumber: Asn, ...PeerCommon }).strict();
export type PeerSpec = z.infer<typeof PeerSchema>;

export const DynamicNeighborSchema = z
  .object({
    /** Connections from this range are accepted as peers (BIRD's `neighbor range`). */
    prefix: Cidr,
    /** The AS every neighbour of the range must have; or `asRange`; neither = any AS. */
    asNumber: Asn.optional(),
    asRange: z.tuple([Asn, Asn]).optional(),
    ...PeerCommon,
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.asNumber !== undefined && d.asRange !== undefined) ctx.addIssue({ code: 'custom', path: ['asRange'], message: 'give asNumber or asRange, not both' });
    if (d.asRange && d.asRange[0] > d.asRange[1]) ctx.addIssue({ code: 'custom', path: ['asRange'], message: 'first ASN must not exceed the second' });
    if (d.passive === false) ctx.addIssue({ code: 'custom', path: ['passive'], message: 'dynamic neighbours are always passive' });
  });
export type DynamicNeighbor = z.infer<typeof DynamicNeighborSchema>;

const RouteAttrs = {
  /** Absent: next-hop-self towards each peer. */
  nextHop: Ip.optional(),
  communities: z.array(Community).optional(),
  largeCommunities: z.array(LargeCommunity).optional(),
  med: z.number().int().min(0).max(0xffffffff).optional(),
  localPref: z.number().int().min(0).max(0xffffffff).optional(),
};

export const OriginateSchema = z.object({ prefix: Cidr, ...RouteAttrs }).strict();
export type OriginateSpec = z.infer<typeof OriginateSchema>;

/** `count` consecutive prefixes of the length of `from`, starting at `from` (bulk origination). */
export const OriginateBulkSchema = z
  .object({ from: Cidr, count: z.number().int().min(1).max(16_000_000), ...RouteAttrs })
  .strict()
  .superRefine((b, ctx) => {
    if (!isCidr(b.from)) return;
    const c = parseCidr(b.from);
    const width = c.family === 4 ? 32 : 128;
    const room = (1n << BigInt(c.prefixLen)) - (c.base >> BigInt(width - c.prefixLen));
    if (BigInt(b.count) > room) ctx.addIssue({ code: 'custom', path: ['count'], message: `only ${room} prefixes of length ${c.prefixLen} follow ${b.from}` });
  });
export type OriginateBulkSpec = z.infer<typeof OriginateBulkSchema>;

export const MultipathSchema = z
  .object({
    enabled: z.boolean().default(true),
    maxPaths: z.number().int().min(1).max(64).default(8),
    /** Paths from different neighbouring ASes may share the set (BGP multipath relax). */
    relax: z.boolean().default(false),
  })
  .strict();

const ROUTER_ID_HINT = 'a dotted quad other than 0.0.0.0';

export const BgpSchema = z
  .object({
    asNumber: Asn.default(64512),
    /** BGP Identifier; default: nodeIP when IPv4, else the first non-loopback IPv4 of the host. */
    routerId: z.ipv4().refine((s) => s !== '0.0.0.0', { message: ROUTER_ID_HINT }).optional(),
    /** Old flat form of listen.port. */
    listenPort: z.number().int().min(0).max(65535).optional(),
    listen: z
      .object({
        /** One address or several; default `::` (both families). */
        address: z.union([Ip, z.array(Ip).min(1)]).default('::'),
        /** 0 = no listener: every peer must then be active. */
        port: z.number().int().min(0).max(65535).default(179),
      })
      .strict()
      .optional(),
    role: z.enum(['speaker', 'reflector']).default('speaker'),
    /** RFC 4456 §7 CLUSTER_ID; default the router id. */
    clusterId: z.ipv4().optional(),
    multipath: z.union([z.boolean(), MultipathSchema]).default(false),
    alwaysCompareMed: z.boolean().default(false),
    defaultLocalPref: z.number().int().min(0).max(0xffffffff).default(100),
    /** Defaults for every peer; `enabled: false` turns graceful restart off where a peer does not say. */
    gracefulRestart: GracefulRestartSchema.default({ enabled: true, restartTime: 120, staleTime: 360, notification: true, forwarding: true }),
    /** Defaults for every peer's timers. */
    timers: TimersSchema.optional(),
    policies: PoliciesSchema.default([]),
    peers: z.array(PeerSchema).default([]),
    dynamicNeighbors: z.array(DynamicNeighborSchema).default([]),
    originate: z.array(OriginateSchema).default([]),
    originateBulk: z.array(OriginateBulkSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.peers.forEach((p, i) => {
      if (!isIPv4(p.address) && !isIPv6(p.address)) return;
      const k = formatIp(parseIp(p.address));
      const j = seen.get(k);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['peers', i, 'address'], message: `${p.address} is also peers[${j}]` });
      seen.set(k, i);
    });
    const names = new Set(c.policies.map((p) => p.name));
    const checkNames = (list: readonly string[] | undefined, path: (string | number)[]): void =>
      list?.forEach((n, k) => {
        if (!names.has(n)) ctx.addIssue({ code: 'custom', path: [...path, k], message: `no policy named "${n}"` });
      });
    c.peers.forEach((p, i) => {
      checkNames(p.importPolicies, ['peers', i, 'importPolicies']);
      checkNames(p.exportPolicies, ['peers', i, 'exportPolicies']);
    });
    c.dynamicNeighbors.forEach((p, i) => {
      checkNames(p.importPolicies, ['dynamicNeighbors', i, 'importPolicies']);
      checkNames(p.exportPolicies, ['dynamicNeighbors', i, 'exportPolicies']);
    });
  });
export type BgpConfig = z.infer<typeof BgpSchema>;
export type BgpConfigInput = z.input<typeof BgpSchema>;

export const DEFAULT_BGP_CONFIG: BgpConfig = BgpSchema.parse({});

/** The listener: addresses and port (the flat listenPort wins when listen is absent). */
export function listenOf(c: BgpConfig): { addresses: string[]; port: number } {
  const address = c.listen?.address ?? '::';
  return { addresses: Array.isArray(address) ? address : [address], port: c.listen?.port ?? c.listenPort ?? 179 };
}

export function multipathOf(c: BgpConfig): { enabled: boolean; maxPaths: number; relax: boolean } {
  if (typeof c.multipath === 'boolean') return { enabled: c.multipath, maxPaths: 8, relax: false };
  return c.multipath;
}

function bad(field: string, msg: string): never {
  throw new TernError('TERN_ERR_CONFIG', `${field}: ${msg}`, { field });
}

/** The settings of a peer that live in the speaker (not in the session's OPEN). */
export interface SpeakerPeerSettings {
  nextHopSelf: boolean;
  linkLocalNextHop: boolean;
}

/**
 * Translates a peer entry into the session's configuration, merged with the speaker's defaults.
 * `field` prefixes error messages (e.g. "peers[2]").
 */
export function toPeerConfig(
  p: Omit<PeerSpec, 'address' | 'asNumber'> & { address: string; asNumber: number },
  c: BgpConfig,
  routerId: string,
  field: string,
): PeerConfig {
  if (p.sourceAddress !== undefined && isIPv4(p.sourceAddress) !== isIPv4(p.address))
    bad(`${field}.sourceAddress`, 'must be of the same family as address');
  const v4 = isIPv4(p.address);
  const families = (p.families ?? [v4 ? 'ipv4' : 'ipv6']).map((f) => (f === 'ipv4' ? IPV4_UNICAST : IPV6_UNICAST));
  const t = { ...c.timers, ...p.timers };
  const gr = p.gracefulRestart ?? c.gracefulRestart;
  const ap = p.addPath;
  const addPath = ap === undefined ? undefined : ap.send && ap.receive ? 'both' : ap.send ? 'send' : ap.receive ? 'receive' : undefined;
  const cfg: PeerConfig = {
    address: p.address,
    peerAs: p.asNumber,
    localAs: p.localAs ?? c.asNumber,
    routerId,
    families,
    importPolicies: p.importPolicies ?? [],
    exportPolicies: p.exportPolicies ?? [],
    maxPrefixes: p.maxPrefixes ?? 0,
    maxPrefixRestartTime: p.maxPrefixesRestartDelay ?? 0,
    routeReflectorClient: p.routeReflectorClient ?? false,
    passive: p.passive ?? false,
    // BIRD's defaults: retry a failed connection after 5 s rather than RFC 4271's 120 s.
    connectRetryTime: t.connectRetry ?? 5,
  };
  if (p.description !== undefined) cfg.description = p.description;
  if (p.port !== undefined) cfg.remotePort = p.port;
  if (p.sourceAddress !== undefined) cfg.localAddress = p.sourceAddress;
  if (t.hold !== undefined) cfg.holdTime = t.hold;
  if (t.keepalive !== undefined) cfg.keepaliveTime = t.keepalive;
  if (t.idleHold !== undefined) cfg.idleHoldTime = t.idleHold;
  if (t.idleHoldMax !== undefined) cfg.maxIdleHoldTime = t.idleHoldMax;
  if (addPath !== undefined) cfg.addPath = addPath;
  if (gr.enabled) {
    const fwd = gr.forwarding;
    cfg.gracefulRestart = {
      restartTime: gr.restartTime, staleTime: gr.staleTime, notification: gr.notification,
      forwarding: typeof fwd === 'boolean' ? fwd : fwd.map((f) => (f === 'ipv4' ? IPV4_UNICAST : IPV6_UNICAST)),
    };
  }
  if (p.extendedNextHop !== undefined) cfg.extendedNextHop = p.extendedNextHop;
  if (p.password !== undefined && p.password !== '') cfg.password = p.password;
  // `ttlSecurity: true` means a directly connected peer (1 hop), as BIRD's `ttl security on`.
  const hops = p.ttlSecurity === true ? 1 : p.ttlSecurity === false ? 0 : (p.ttlSecurity ?? 0);
  if (hops > 0) cfg.ttlSecurity = hops;
  return cfg;
}

/** A peer's BFD settings, or null when BFD is off for it. */
export function bfdOf(p: { bfd?: boolean | BfdSettings | undefined }): BfdSettings | null {
  if (p.bfd === undefined || p.bfd === false) return null;
  const b = p.bfd === true ? BfdSchema.parse({}) : p.bfd;
  return b.enabled ? b : null;
}

/** The dynamic-neighbour range an address falls in (first match), with its index. */
export function matchDynamic(c: BgpConfig, address: string): { d: DynamicNeighbor; index: number } | null {
  const ip = parseIp(address);
  for (let i = 0; i < c.dynamicNeighbors.length; i++) {
    const d = c.dynamicNeighbors[i]!;
    const r = parseCidr(d.prefix);
    if (cidrContainsIp(r, ip)) return { d, index: i };
  }
  return null;
}

/** Whether an ASN is allowed by a dynamic range (asNumber, asRange or any). */
export function dynamicAsAllowed(d: DynamicNeighbor, asn: number): boolean {
  if (d.asNumber !== undefined) return asn === d.asNumber;
  if (d.asRange !== undefined) return asn >= d.asRange[0] && asn <= d.asRange[1];
  return true;
}

/** Expands an originateBulk entry into prefix strings, lazily. */
export function* bulkPrefixes(b: OriginateBulkSpec): Generator<string> {
  const c = parseCidr(b.from);
  const width = c.family === 4 ? 32 : 128;
  if (c.family === 4) {
    // Plain numbers: 500,000 bigint formats would cost more than the routes.
    const step = 2 ** (32 - c.prefixLen);
    let v = Number(c.base);
    for (let i = 0; i < b.count; i++, v += step) yield `${Math.floor(v / 16777216)}.${Math.floor(v / 65536) % 256}.${Math.floor(v / 256) % 256}.${v % 256}/${c.prefixLen}`;
    return;
  }
  const step = 1n << BigInt(width - c.prefixLen);
  let v = c.base;
  for (let i = 0; i < b.count; i++) {
    yield `${formatIp({ family: c.family, value: v })}/${c.prefixLen}`;
    v += step;
  }
}
