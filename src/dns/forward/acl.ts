// Who may recurse through this server. CoreDNS leaves open recursion to a Corefile `acl`
// block; a cluster DNS reachable from outside the cluster must not become an open resolver
// (amplification, RFC 5358), so the default admits only loopback and private ranges.
import { cidrContainsIp, parseCidr, parseIp, type Cidr } from '../../net/ip.js';

/** Loopback, RFC 1918, and fd00::/8 (the locally assigned half of RFC 4193 ULAs). */
export const DEFAULT_RECURSION_ACL: readonly string[] = Object.freeze([
  '127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8',
]);

export type AclResult = { ok: true; allow: (client: string | undefined) => boolean } | { ok: false; error: string };

/**
 * Builds the check. An in-process caller (no address) is allowed; an IPv4-mapped IPv6
 * address (a dual-stack socket) is checked as the IPv4 address it carries.
 */
export function recursionAcl(cidrs: readonly string[]): AclResult {
  const list: Cidr[] = [];
  for (const c of cidrs) {
    try {
      list.push(parseCidr(c.includes('/') ? c : c.includes(':') ? `${c}/128` : `${c}/32`, { strict: false }));
    } catch (e) {
      return { ok: false, error: `recursion ACL entry "${c}": ${(e as Error).message}` };
    }
  }
  // Clients repeat: remember verdicts, bounded so a spoofing flood cannot grow it.
  const memo = new Map<string, boolean>();
  const allow = (client: string | undefined): boolean => {
    if (client === undefined) return true;
    const m = memo.get(client);
    if (m !== undefined) return m;
    let verdict = false;
    try {
      const plain = client.startsWith('::ffff:') && client.includes('.') ? client.slice(7) : client;
      const ip = parseIp(plain.replace(/%.*$/, ''));
      verdict = list.some((c) => cidrContainsIp(c, ip));
    } catch {
      verdict = false;
    }
    if (memo.size >= 10_000) memo.clear();
    memo.set(client, verdict);
    return verdict;
  };
  return { ok: true, allow };
}
