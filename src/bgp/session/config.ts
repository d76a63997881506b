// Per-peer configuration of a session and its defaults. Times are in seconds, as in the RFC and
// in bird.conf; the FSM converts to milliseconds for the clock.
import { isIPv4, isIPv6 } from 'node:net';
import { TernError } from '../../errors/index.js';
import { familyKey, IPV4_UNICAST, IPV6_UNICAST, parseDotted } from '../wire/index.js';

export interface GracefulRestartConfig {
  /** RFC 4724 §3 Restart Time we announce: how long the peer should keep our routes. */
  restartTime: number;
  /** RFC 8538 N bit: graceful restart applies to NOTIFICATION too (not to Cease/Hard Reset). */
  notification: boolean;
  /**
   * RFC 4724 §3 F bit (forwarding state preserved across a restart), per family: true = every
   * announced family, false = none, a list = these familyKey(afi, safi). bgpd never touches the
   * kernel, so true is right unless the node's forwarding for a family does not survive.
   */
  forwarding: boolean | readonly number[];
  /** R bit of the first OPEN: set by a speaker that has just restarted (or after closeForRestart). */
  restarting: boolean;
  /** How long we keep a restarting peer's routes as stale when it does not say (its Restart Time is used when it does). */
  staleTime: number;
}

export interface PeerConfig {
  /** The peer's address: the session's key. IPv4 or IPv6 transport. */
  address: string;
  /** The peer's AS; 0 accepts any (for dynamic neighbours; ibgp is then decided from the OPEN). */
  peerAs: number;
  localAs: number;
  /** Our BGP Identifier, dotted quad. */
  routerId: string;
  description?: string;
  /** Only accept connections, never connect (RFC 4271 §8.1.1 PassiveTcpEstablishment). */
  passive?: boolean;
  remotePort?: number;
  /** Source address and port of outgoing connections. */
  localAddress?: string;
  localPort?: number;
  /** Proposed Hold Time; 0 = no keepalives, no hold timer. RFC 4271 §10 suggests 90. */
  holdTime?: number;
  /** KEEPALIVE interval; negotiated hold / 3 when absent. */
  keepaliveTime?: number;
  /** RFC 4271 §10: 120 s. */
  connectRetryTime?: number;
  /** RFC 4271 §8.1.1 DelayOpen / DelayOpenTime; 0 = off. */
  delayOpenTime?: number;
  /** Wait in Idle after an error before starting again (RFC 4271 §8.1.1 IdleHoldTime); doubled per consecutive failure. */
  idleHoldTime?: number;
  /** Upper bound of the doubled IdleHoldTime (DampPeerOscillations). */
  maxIdleHoldTime?: number;
  /** familyKey(afi, safi) of the families we announce (multiprotocol capability). Default IPv4 and IPv6 unicast. */
  families?: readonly number[];
  /** RFC 6793; on by default. Off only to test AS_TRANS against a 2-octet speaker. */
  as4?: boolean;
  /** RFC 2918 (code 2); on by default. */
  routeRefresh?: boolean;
  /** RFC 7313; on by default. */
  enhancedRouteRefresh?: boolean;
  /** RFC 8654; on by default. */
  extendedMessage?: boolean;
  /** RFC 8950: IPv4 unicast NLRI with IPv6 next hop; off by default. */
  extendedNextHop?: boolean;
  /** RFC 7911 for every announced family: 'receive', 'send' or 'both'. */
  addPath?: 'receive' | 'send' | 'both';
  /** RFC 4724 / 8538; absent = not advertised. */
  gracefulRestart?: Partial<GracefulRestartConfig>;
  /** RFC 9494 long-lived stale time (seconds) for every family; absent = not advertised. */
  llgrStaleTime?: number;
  /** Max accepted prefixes (enforced by the RIB); 0 = none. */
  maxPrefixes?: number;
  /** After Cease/Maximum Number of Prefixes Reached, start again after this many seconds; 0 = stay down. */
  maxPrefixRestartTime?: number;
  routeReflectorClient?: boolean;
  importPolicies?: readonly string[];
  exportPolicies?: readonly string[];
  /**
   * RFC 2385 TCP MD5 signature key shared with the peer (1–80 bytes, Linux's
   * TCP_MD5SIG_MAXKEYLEN). Needs a Transport that sets socket options (src/bgp/sockopt).
   */
  password?: string;
  /**
   * RFC 5082 GTSM: how many hops away the peer may be (1 = directly connected). We send
   * with TTL 255 and accept only segments arriving with TTL >= 256 - ttlSecurity.
   * Needs a Transport that sets socket options (src/bgp/sockopt).
   */
  ttlSecurity?: number;
}

/** The configuration with every default filled in. */
export type ResolvedPeerConfig = Required<
  Omit<PeerConfig, 'localAddress' | 'localPort' | 'gracefulRestart' | 'llgrStaleTime' | 'addPath' | 'description' | 'password' | 'ttlSecurity'>
> & {
  description: string;
  password: string | null;
  ttlSecurity: number | null;
  localAddress: string | undefined;
  localPort: number | undefined;
  gracefulRestart: GracefulRestartConfig | null;
  llgrStaleTime: number | null;
  addPath: 'receive' | 'send' | 'both' | null;
};

export const BGP_PORT = 179;

function bad(field: string, msg: string): never {
  throw new TernError('TERN_ERR_CONFIG', msg, { field });
}

const isIp = (s: string): boolean => isIPv4(s) || isIPv6(s);

export function resolvePeerConfig(c: PeerConfig): ResolvedPeerConfig {
  if (!isIp(c.address)) bad('address', `"${c.address}" is not an IP address`);
  if (c.localAddress !== undefined && !isIp(c.localAddress)) bad('localAddress', `"${c.localAddress}" is not an IP address`);
  if (c.localAddress !== undefined && isIPv4(c.localAddress) !== isIPv4(c.address)) bad('localAddress', 'must be of the same family as address');
  for (const [f, v] of [['peerAs', c.peerAs], ['localAs', c.localAs]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) bad(f, `${v} is not a 4-octet AS number`);
  }
  if (c.localAs === 0) bad('localAs', 'must not be 0');
  const id = parseDotted(c.routerId);
  if (id <= 0) bad('routerId', `"${c.routerId}" is not a non-zero dotted quad`);
  const holdTime = c.holdTime ?? 90;
  // RFC 4271 §4.2: zero or at least three seconds.
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 65535 || holdTime === 1 || holdTime === 2) bad('holdTime', `${holdTime}: must be 0 or 3..65535`);
  const as4 = c.as4 ?? true;
  if (!as4 && c.localAs > 65535) bad('as4', 'a 4-octet local AS needs the 4-octet AS capability');
  // Linux keeps at most TCP_MD5SIG_MAXKEYLEN (80) key bytes; RFC 2385 itself sets no limit.
  if (c.password !== undefined && (typeof c.password !== 'string' || c.password.length === 0 || Buffer.byteLength(c.password) > 80))
    bad('password', 'must be 1..80 bytes');
  if (c.ttlSecurity !== undefined && (!Number.isInteger(c.ttlSecurity) || c.ttlSecurity < 1 || c.ttlSecurity > 255))
    bad('ttlSecurity', `${c.ttlSecurity}: must be 1..255 hops`);
  const gr = c.gracefulRestart;
  return {
    address: c.address,
    peerAs: c.peerAs,
    localAs: c.localAs,
    routerId: c.routerId,
    description: c.description ?? '',
    passive: c.passive ?? false,
    remotePort: c.remotePort ?? BGP_PORT,
    localAddress: c.localAddress,
    localPort: c.localPort,
    holdTime,
    keepaliveTime: c.keepaliveTime ?? 0,
    connectRetryTime: c.connectRetryTime ?? 120,
    delayOpenTime: c.delayOpenTime ?? 0,
    idleHoldTime: c.idleHoldTime ?? 5,
    maxIdleHoldTime: c.maxIdleHoldTime ?? 120,
    families: c.families ?? [IPV4_UNICAST, IPV6_UNICAST],
    as4,
    routeRefresh: c.routeRefresh ?? true,
    enhancedRouteRefresh: c.enhancedRouteRefresh ?? true,
    extendedMessage: c.extendedMessage ?? true,
    extendedNextHop: c.extendedNextHop ?? false,
    addPath: c.addPath ?? null,
    gracefulRestart: gr
      ? {
          restartTime: Math.min(gr.restartTime ?? 120, 4095),
          notification: gr.notification ?? true,
          forwarding: gr.forwarding ?? true,
          restarting: gr.restarting ?? false,
          staleTime: gr.staleTime ?? 360,
        }
      : null,
    llgrStaleTime: c.llgrStaleTime ?? null,
    maxPrefixes: c.maxPrefixes ?? 0,
    maxPrefixRestartTime: c.maxPrefixRestartTime ?? 0,
    routeReflectorClient: c.routeReflectorClient ?? false,
    importPolicies: c.importPolicies ?? [],
    exportPolicies: c.exportPolicies ?? [],
    password: c.password ?? null,
    ttlSecurity: c.ttlSecurity ?? null,
  };
}

/**
 * Fields whose change leaves the session up: they matter only to the RIB (policies, limits) or
 * to people. Everything else (AS, addresses, ports, timers, capabilities) changes what was
 * negotiated, so the session is reset with Cease / Other Configuration Change (RFC 4486).
 */
const SOFT_FIELDS: ReadonlySet<keyof ResolvedPeerConfig> = new Set([
  'description',
  'importPolicies',
  'exportPolicies',
  'maxPrefixes',
  'maxPrefixRestartTime',
  'routeReflectorClient',
  'idleHoldTime',
  'maxIdleHoldTime',
]);

/** 'same', 'soft' (session kept) or 'hard' (session reset), and which fields changed. */
export function classifyChange(a: ResolvedPeerConfig, b: ResolvedPeerConfig): { kind: 'same' | 'soft' | 'hard'; fields: string[] } {
  const fields: string[] = [];
  let hard = false;
  for (const k of Object.keys(b) as (keyof ResolvedPeerConfig)[]) {
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    fields.push(k);
    if (!SOFT_FIELDS.has(k)) hard = true;
  }
  return { kind: fields.length === 0 ? 'same' : hard ? 'hard' : 'soft', fields };
}

export const familyName = (k: number): string => (k === IPV4_UNICAST ? 'ipv4-unicast' : k === IPV6_UNICAST ? 'ipv6-unicast' : `afi${k >> 8}-safi${k & 255}`);
export { familyKey };
