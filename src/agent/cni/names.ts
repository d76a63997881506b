// Names and marks of what ADD creates. Pure.
import { createHash, randomBytes } from 'node:crypto';

/** Host-side veths are `tern` + 11 hex characters: 15, Linux's IFNAMSIZ limit. */
export const VETH_PREFIX = 'tern';

/**
 * The host-side veth of a pod, from sha1("<namespace>.<pod>") as Calico names `cali…`: the
 * same pod always gets the same name, so a sandbox recreated for it finds (and replaces)
 * what the old one left behind.
 */
export function hostVethName(namespace: string, pod: string): string {
  return VETH_PREFIX + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/**
 * The pod end's name while it is created: the peer is made straight inside the pod's
 * namespace and renamed to CNI_IFNAME there, so a name clash can only be with the pod's own
 * interfaces, and a failed rename leaves nothing in the host namespace.
 */
export function tmpPeerName(handle: string): string {
  return `tmp${createHash('sha1').update(handle).digest('hex').slice(0, 12)}`;
}

/** IPAM handle of one attachment (CNI's key: container ID + interface name). */
export const ipamHandle = (containerId: string, ifname: string): string => `${containerId}.${ifname}`;

/**
 * The alias (IFLA_IFALIAS) written on each host-side veth: `tern/<network>/<handle>`. DEL
 * and GC read it to tell which attachment a veth belongs to, so an old sandbox's DEL never
 * deletes the veth a newer sandbox of the same pod now uses. Neither a network name nor a
 * handle can contain "/".
 */
export function vethAlias(network: string, handle: string): string {
  return `tern/${network}/${handle}`;
}

export function parseVethAlias(alias: string | undefined): { network: string; handle: string } | undefined {
  const m = alias ? /^tern\/([^/]+)\/([^/]+)$/.exec(alias) : null;
  return m ? { network: m[1]!, handle: m[2]! } : undefined;
}

/**
 * The host side's MAC, the same on every veth as Calico's: the pod's neighbour entry for its
 * gateway is written once, permanent, and stays right whatever veth the pod ends up behind.
 */
export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';

/** The pods' IPv4 gateway: never on the wire; the host answers for it by proxy ARP. */
export const GATEWAY_V4 = '169.254.1.1';
/** The pods' IPv6 gateway: a link-local address on each host-side veth. */
export const GATEWAY_V6 = 'fe80::1';

/** A random unicast, locally administered MAC (IEEE 802: bit 0 of octet 0 clear, bit 1 set). */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
