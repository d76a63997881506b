// What socket options the peers' security settings ask for (pure: no sockets). The transport
// applies the result to the sockets it makes.
import { isIPv4 } from 'node:net';
import type { Md5Key } from './addon.js';

/** A peer's TCP MD5 password (RFC 2385) and GTSM hop count (RFC 5082); null = not used. */
export interface PeerSecurity {
  password: string | null;
  ttlSecurity: number | null;
}

/** RFC 5082 §3 (1): a GTSM speaker sends every segment with the maximum TTL. */
export const GTSM_TTL = 255;

/**
 * RFC 5082 §3 (2): a peer at most `hops` away, sending with TTL 255, arrives with at least
 * 256 - hops (255 for a directly connected one), as FRR's `ttl-security hops` and BIRD's
 * `ttl security` with `multihop` compute it.
 */
export function minTtlFor(hops: number): number {
  return GTSM_TTL + 1 - hops;
}

export interface ConnectSettings {
  md5: Md5Key[];
  ttl?: number;
  minTtl?: number;
}

/** Options of an outgoing socket to `peer`. */
export function connectSettings(peer: string, sec: PeerSecurity | undefined): ConnectSettings {
  const out: ConnectSettings = { md5: sec?.password ? [{ address: peer, key: sec.password }] : [] };
  if (sec?.ttlSecurity) {
    out.ttl = GTSM_TTL;
    out.minTtl = minTtlFor(sec.ttlSecurity);
  }
  return out;
}

export interface ListenerSettings {
  /** Keys of every peer the listener can accept (an IPv6 listener also takes IPv4 peers, mapped). */
  md5: Md5Key[];
  /** 255 when a peer uses GTSM, so SYN-ACKs pass its check; -1 = system default. */
  ttl: number;
  /** IP_MINTTL: the lowest any IPv4 peer may arrive with; 0 when one of them does not use GTSM. */
  minTtl: number;
  /** IPV6_MINHOPCOUNT, the same over IPv6 peers. */
  minHopCount: number;
}

/**
 * A listening socket is shared by every peer, so its TTL floor is the lowest any accepted peer
 * needs: a GTSM-only peer set drops far SYNs before a connection exists (RFC 5082 §3's
 * protection of the control plane), a mixed set leaves the check to each accepted socket.
 */
export function listenerSettings(family: 4 | 6, peers: ReadonlyMap<string, PeerSecurity>): ListenerSettings {
  const md5: Md5Key[] = [];
  let gtsm = false;
  const floor = { 4: Infinity, 6: Infinity };
  for (const [address, sec] of peers) {
    const f = isIPv4(address) ? 4 : 6;
    if (family === 4 && f === 6) continue;
    if (sec.password) md5.push({ address, key: sec.password });
    if (sec.ttlSecurity) gtsm = true;
    floor[f] = Math.min(floor[f], sec.ttlSecurity ? minTtlFor(sec.ttlSecurity) : 0);
  }
  const fin = (v: number): number => (Number.isFinite(v) ? v : 0);
  return { md5, ttl: gtsm ? GTSM_TTL : -1, minTtl: fin(floor[4]), minHopCount: fin(floor[6]) };
}

/** What an accepted connection from a peer gets: exactly that peer's check. */
export function acceptedSettings(sec: PeerSecurity | undefined): { ttl: number; minTtl: number } {
  return sec?.ttlSecurity ? { ttl: GTSM_TTL, minTtl: minTtlFor(sec.ttlSecurity) } : { ttl: -1, minTtl: 0 };
}
