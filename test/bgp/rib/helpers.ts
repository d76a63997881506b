// Shared pieces of the RIB tests: peer descriptors (no sockets: the RIB only sees these), UPDATEs
// built with the codec, and decoding of what drainOut produced.
import type { PeerDescriptor } from '../../../src/bgp/peer.js';
import { PolicyTable, parsePolicies } from '../../../src/bgp/policy/index.js';
import { Rib, type RibOptions } from '../../../src/bgp/rib/index.js';
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  UpdateBuilder,
  WithdrawBuilder,
  decode,
  formatPrefix,
  makeContext,
  parseDotted,
  prefix,
  scanUpdate,
  type PathAttribute,
  type UpdateMessage,
  type UpdateScan,
  type WireContext,
} from '../../../src/bgp/wire/index.js';

export const CTX4 = makeContext({ as4: true });
export const LOCAL_AS = 65000;
export const ROUTER_ID = parseDotted('10.0.0.1');

export function peer(id: number, o: Partial<PeerDescriptor> = {}): PeerDescriptor {
  const ibgp = o.ibgp ?? (o.peerAs === undefined || o.peerAs === LOCAL_AS);
  return {
    id,
    address: `192.0.2.${id}`,
    peerAs: ibgp ? LOCAL_AS : 65100 + id,
    localAs: LOCAL_AS,
    remoteRouterId: parseDotted(`10.9.0.${id}`),
    localRouterId: ROUTER_ID,
    localAddress: '192.0.2.254',
    ibgp,
    routeReflectorClient: false,
    receiveCtx: CTX4,
    sendCtx: CTX4,
    families: [IPV4_UNICAST, IPV6_UNICAST],
    gracefulRestart: null,
    importPolicies: [],
    exportPolicies: [],
    maxPrefixes: 0,
    ...o,
  };
}

export const ebgp = (id: number, o: Partial<PeerDescriptor> = {}): PeerDescriptor => peer(id, { ibgp: false, peerAs: 65100 + id, ...o });
export const ibgp = (id: number, o: Partial<PeerDescriptor> = {}): PeerDescriptor => peer(id, { ibgp: true, peerAs: LOCAL_AS, ...o });

export function rib(o: Partial<RibOptions> & { policyConfig?: unknown } = {}): Rib {
  const policies = o.policyConfig !== undefined ? parsePolicies(o.policyConfig) : (o.policies ?? new PolicyTable());
  return new Rib({
    localAs: LOCAL_AS,
    routerId: ROUTER_ID,
    role: 'speaker',
    multipath: { enabled: false, maxPaths: 1 },
    logger: undefined,
    ...o,
    policies,
  });
}

/** Standard attributes for an IPv4 announcement; override or add by type. */
export function attrs(o: {
  asPath?: number[];
  segments?: { type: number; asns: number[] }[];
  nextHop?: string;
  origin?: number;
  med?: number;
  localPref?: number;
  communities?: number[];
  originatorId?: string;
  clusterList?: string[];
  extra?: PathAttribute[];
} = {}): PathAttribute[] {
  const list: PathAttribute[] = [
    { type: 'ORIGIN', origin: o.origin ?? 0 },
    { type: 'AS_PATH', segments: o.segments ?? (o.asPath && o.asPath.length > 0 ? [{ type: 2, asns: o.asPath }] : []) },
    { type: 'NEXT_HOP', nextHop: o.nextHop ?? '192.0.2.100' },
  ];
  if (o.med !== undefined) list.push({ type: 'MULTI_EXIT_DISC', med: o.med });
  if (o.localPref !== undefined) list.push({ type: 'LOCAL_PREF', localPref: o.localPref });
  if (o.communities) list.push({ type: 'COMMUNITIES', communities: o.communities });
  if (o.originatorId) list.push({ type: 'ORIGINATOR_ID', originatorId: o.originatorId });
  if (o.clusterList) list.push({ type: 'CLUSTER_LIST', clusterIds: o.clusterList });
  list.push(...(o.extra ?? []));
  return list;
}

export function scan(buf: Uint8Array, ctx: WireContext = CTX4): UpdateScan {
  const r = scanUpdate(buf, 0, ctx);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** One UPDATE announcing IPv4 or IPv6 prefixes (UpdateBuilder); IPv6 takes the next hop from attrs' NEXT_HOP. */
export function announce(prefixes: string[], list: PathAttribute[], ctx: WireContext = CTX4, pathIds?: number[]): UpdateScan[] {
  const v6 = prefixes[0]!.includes(':');
  let b: UpdateBuilder;
  if (v6) {
    const nh = list.find((a) => a.type === 'NEXT_HOP');
    const nextHop = nh && nh.type === 'NEXT_HOP' && nh.nextHop.includes(':') ? nh.nextHop : '2001:db8::100';
    b = new UpdateBuilder({ ctx, afi: 2, attributes: list.filter((a) => a.type !== 'NEXT_HOP'), nextHop: { nextHop } });
  } else b = new UpdateBuilder({ ctx, afi: 1, attributes: list });
  prefixes.forEach((p, i) => b.add(prefix(p, pathIds?.[i])));
  return b.take().map((m) => scan(m, ctx));
}

export function withdraw(prefixes: string[], ctx: WireContext = CTX4, pathIds?: number[]): UpdateScan[] {
  const b = new WithdrawBuilder({ ctx, afi: prefixes[0]!.includes(':') ? 2 : 1 });
  prefixes.forEach((p, i) => b.add(prefix(p, pathIds?.[i])));
  return b.take().map((m) => scan(m, ctx));
}

export function feed(r: Rib, peerId: number, scans: UpdateScan[]): { maxPrefixExceeded: boolean; announced: number } {
  let exceeded = false;
  let announced = 0;
  for (const s of scans) {
    const u = r.update(peerId, s);
    exceeded = u.maxPrefixExceeded || exceeded;
    announced += u.announced;
  }
  return { maxPrefixExceeded: exceeded, announced };
}

export interface Decoded {
  msgs: UpdateMessage[];
  /** Announced prefix (with " path N" under ADD-PATH) → attributes. */
  announced: Map<string, PathAttribute[]>;
  withdrawn: string[];
  eor: number;
}

/** Pulls everything queued for a peer and decodes it with the codec. */
export function drain(r: Rib, peerId: number, ctx: WireContext = CTX4, maxBytes = 1 << 20): Decoded {
  const out: Decoded = { msgs: [], announced: new Map(), withdrawn: [], eor: 0 };
  for (;;) {
    const ms = r.drainOut(peerId, maxBytes);
    if (ms.length === 0) break;
    for (const m of ms) {
      const d = decode(m, 0, ctx);
      if (!d.ok) throw new Error(d.error.message);
      const u = d.value as UpdateMessage;
      if (u.errors) throw new Error(`decoded with errors: ${u.errors.map((e) => e.message).join('; ')}`);
      out.msgs.push(u);
      const mpReach = u.attributes.find((a) => a.type === 'MP_REACH_NLRI');
      const mpUnreach = u.attributes.find((a) => a.type === 'MP_UNREACH_NLRI');
      const rest = u.attributes.filter((a) => a.type !== 'MP_REACH_NLRI' && a.type !== 'MP_UNREACH_NLRI');
      const isEor = u.withdrawn.length === 0 && u.nlri.length === 0 && (u.attributes.length === 0 || (u.attributes.length === 1 && mpUnreach?.type === 'MP_UNREACH_NLRI' && mpUnreach.withdrawn.length === 0));
      if (isEor) {
        out.eor++;
        continue;
      }
      for (const p of u.withdrawn) out.withdrawn.push(formatPrefix(p));
      if (mpUnreach?.type === 'MP_UNREACH_NLRI') for (const p of mpUnreach.withdrawn) out.withdrawn.push(formatPrefix(p));
      for (const p of u.nlri) out.announced.set(formatPrefix(p), rest);
      if (mpReach?.type === 'MP_REACH_NLRI') {
        const withNh: PathAttribute[] = [...rest, { type: 'NEXT_HOP', nextHop: mpReach.nextHop }];
        for (const p of mpReach.nlri) out.announced.set(formatPrefix(p), withNh);
      }
    }
  }
  return out;
}

export function attr<T extends PathAttribute['type']>(list: PathAttribute[] | undefined, type: T): Extract<PathAttribute, { type: T }> | undefined {
  return list?.find((a) => a.type === type) as Extract<PathAttribute, { type: T }> | undefined;
}

export const asns = (list: PathAttribute[] | undefined): number[] => attr(list, 'AS_PATH')?.segments.flatMap((s) => s.asns) ?? [];
