// The two small IPAM records besides blocks. Pure codecs.
//
// Handle (keys.handle(id)): which addresses one interface of one pod holds, at most one per
// family. Written in the same transaction as the block allocations it names, so a handle and
// its addresses never exist one without the other.
//   { "handle": "c0ffee.eth0", "node": "node-a",
//     "ips": [{ "ip": "10.244.0.5", "block": "10.244.0.0/26", "ordinal": 5 }], "attrs": {...} }
//
// Affinity (keys.affinity(node, cidr)): the node's claim on a block, so a node lists its blocks
// with one prefix read instead of scanning every block. Created and deleted in the same
// transaction as the block's own `affinity` field, which stays the authority.
//   { "node": "node-a", "cidr": "10.244.0.0/26" }
import { isIp, isCidr } from '../net/ip.js';

export interface HandleIp {
  ip: string;
  block: string;
  ordinal: number;
}

export interface HandleRecord {
  handle: string;
  node: string;
  ips: HandleIp[];
  attrs?: Record<string, string>;
}

export interface AffinityRecord {
  node: string;
  cidr: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export function decodeHandle(text: string): Decoded<HandleRecord> {
  let j: Partial<HandleRecord>;
  try {
    j = JSON.parse(text) as Partial<HandleRecord>;
  } catch (e) {
    return { ok: false, error: `handle is not JSON: ${(e as Error).message}` };
  }
  if (typeof j?.handle !== 'string' || typeof j.node !== 'string' || !Array.isArray(j.ips)) {
    return { ok: false, error: 'handle record lacks handle, node or ips' };
  }
  for (const e of j.ips) {
    if (typeof e?.ip !== 'string' || !isIp(e.ip) || typeof e.block !== 'string' || !isCidr(e.block) || !Number.isInteger(e.ordinal)) {
      return { ok: false, error: `handle ${j.handle}: bad entry ${JSON.stringify(e)}` };
    }
  }
  return { ok: true, value: j as HandleRecord };
}

export function encodeHandle(h: HandleRecord): string {
  return JSON.stringify(h);
}

export function encodeAffinity(a: AffinityRecord): string {
  return JSON.stringify(a);
}

/**
 * Handle ids are `<containerID>.<ifname>` as the CNI plugin forms them. They become one etcd key
 * segment, so "/" (which would nest keys and make a prefix read of one handle match another)
 * and whitespace or control characters are refused.
 */
export function validateHandle(h: unknown): string | undefined {
  if (typeof h !== 'string' || h === '') return 'handle must be a non-empty string';
  if (h.length > 512) return 'handle is longer than 512 characters';
  // eslint-disable-next-line no-control-regex
  if (/[/\s\x00-\x1f\x7f]/.test(h)) return `handle "${h}" contains "/", whitespace or a control character`;
  return undefined;
}

/** Node names are DNS subdomains in Kubernetes; here they are key segments too. */
export function validateNode(n: unknown): string | undefined {
  if (typeof n !== 'string' || n === '') return 'node must be a non-empty string';
  if (n.length > 253 || !/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(n)) return `node name "${n}" is not a valid DNS subdomain`;
  return undefined;
}
