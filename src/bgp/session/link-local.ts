// RFC 2545 §3: the link-local address that goes beside our global IPv6 next hop when the peer is
// on a link of ours. Pure: the interface table is passed in (os.networkInterfaces() of the
// session's network namespace), so a test can hand it any table.
import type { NetworkInterfaceInfo } from 'node:os';
import { cidrContainsIp, parseCidr, parseIp, type Ip } from '../../net/ip.js';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

const LINK_LOCAL = parseCidr('fe80::/10');

function ipOf(s: string): Ip | null {
  // Node reports IPv4 over a dual-stack socket as ::ffff:a.b.c.d, and scoped addresses as fe80::1%eth0.
  const bare = s.replace(/%.*$/, '');
  try {
    return parseIp(bare);
  } catch {
    return null;
  }
}

/**
 * The link-local address of the interface that holds `localAddress`, when one of that interface's
 * prefixes holding `localAddress` also holds `peerAddress` (BIRD's `direct`). Null for IPv4
 * sessions, sessions over link-local addresses (the global next hop would itself be link-local),
 * peers beyond a router, and interfaces without a link-local address.
 */
export function directLinkLocal(localAddress: string, peerAddress: string, interfaces: InterfaceTable): string | null {
  const local = ipOf(localAddress);
  const peer = ipOf(peerAddress);
  if (local === null || peer === null || local.family !== 6 || peer.family !== 6) return null;
  // An IPv4-mapped local address is an IPv4 session.
  if (local.value >> 32n === 0xffffn) return null;
  if (cidrContainsIp(LINK_LOCAL, local)) return null;
  for (const list of Object.values(interfaces)) {
    if (list === undefined) continue;
    const own = list.find((a) => {
      if (a.family !== 'IPv6' || a.cidr === null) return false;
      const ip = ipOf(a.address);
      if (ip === null || ip.value !== local.value) return false;
      const c = parseCidr(a.cidr, { strict: false });
      return cidrContainsIp(c, peer);
    });
    if (own === undefined) continue;
    for (const a of list) {
      if (a.family !== 'IPv6') continue;
      const ip = ipOf(a.address);
      if (ip !== null && cidrContainsIp(LINK_LOCAL, ip)) return a.address.replace(/%.*$/, '');
    }
    return null;
  }
  return null;
}
