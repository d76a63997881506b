// JIT warm-up of the UPDATE path. A speaker's first full table (500,000 routes from a router, the
// moment it matters most how fast they land) would otherwise run its first tens of thousands of
// prefixes in V8's interpreter and baseline code while the optimizing compiler catches up. At
// tern-bgpd's start (BgpDaemonSpec.warmUp), before any session can come up, a scratch RIB
// ingests and withdraws a small synthetic table from one eBGP peer through the same code
// (scanUpdate, Rib.update, the decision), so those functions carry type feedback and optimized
// code when real routes arrive. The scratch RIB is dropped afterwards; nothing of it reaches the
// speaker's own RIB or any peer.
import type { PeerDescriptor } from '../peer.js';
import { PolicyTable } from '../policy/index.js';
import { IPV4_UNICAST, IPV6_UNICAST, UpdateBuilder, WithdrawBuilder, endOfRibMessage, makeContext, scanUpdate, type PathAttribute } from '../wire/index.js';
import { Rib } from './index.js';

export interface WarmUpResult {
  /** Prefixes ingested over all rounds. */
  prefixes: number;
  ms: number;
  /** What the last scratch RIB held after the ingest, and IPv4 after the withdrawal. */
  held: { v4: number; v6: number; v4AfterWithdraw: number };
}

const ctx = makeContext({ as4: true });
/**
 * Prefixes per synthetic UPDATE. Few: what reaches V8's optimizing compiler is decided per call as
 * much as per loop turn, and the per-message functions (the scanner, Rib.update, the decision
 * batch) must get there during the warm-up, not during the first real table. With 10 rather
 * than a full message (about 250 /24s), the first full table compiles about 25 ms of code
 * instead of 70 ms.
 */
const PER_MESSAGE = 10;

/**
 * Attribute set number k of a synthetic table from a neighbour in AS 65010 (also what
 * bench/bgp-rib.ts feeds its RIB): a 4-octet AS in the path, MED, two communities, and for
 * IPv4 a NEXT_HOP (IPv6 takes its next hop in MP_REACH_NLRI).
 */
export function syntheticAttributes(k: number, v6: boolean): PathAttribute[] {
  const list: PathAttribute[] = [
    { type: 'ORIGIN', origin: k % 3 },
    { type: 'AS_PATH', segments: [{ type: 2, asns: [65010, 64512 + (k % 50), 4200000000 + k] }] },
    { type: 'MULTI_EXIT_DISC', med: k * 10 },
    { type: 'COMMUNITIES', communities: [65010 * 65536 + k, 65010 * 65536 + 1000] },
  ];
  if (!v6) list.splice(2, 0, { type: 'NEXT_HOP', nextHop: `192.0.2.${1 + (k % 200)}` });
  return list;
}

/** Synthetic UPDATEs: `v4` IPv4 /24 from 198.18.0.0 and `v6` IPv6 /48 from 2001:db8::, in `sets` attribute sets. */
function messages(v4: number, v6: number, sets: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < sets; k++) {
    const b = new UpdateBuilder({ ctx, afi: 1, attributes: syntheticAttributes(k, false) });
    // Out of address order, as real senders hash them.
    for (let j = k, c = 1; j < v4; j += sets, c++) {
      b.addIpv4((0xc6120000 + ((j * 40503) % 65536) * 256) >>> 0, 24);
      if (c % PER_MESSAGE === 0) b.flush();
    }
    out.push(...b.take());
  }
  const addr = new Uint8Array(16);
  addr[0] = 0x20;
  addr[1] = 0x01;
  addr[2] = 0x0d;
  addr[3] = 0xb8;
  for (let k = 0; k < sets; k++) {
    // Half with a link-local second next hop, as a directly connected router sends (RFC 2545 §3).
    const nextHop = { nextHop: `2001:db8::${(k % 100) + 1}`, ...(k % 2 === 1 ? { linkLocal: `fe80::${(k % 100) + 1}` } : {}) };
    const b = new UpdateBuilder({ ctx, afi: 2, attributes: syntheticAttributes(k, true), nextHop });
    for (let j = k, c = 1; j < v6; j += sets, c++) {
      const v = (j * 40503) % 65536;
      addr[4] = v >>> 8;
      addr[5] = v & 255;
      b.add({ addr, len: 48 });
      if (c % PER_MESSAGE === 0) b.flush();
    }
    out.push(...b.take());
  }
  return out;
}

function withdrawals(v4: number): Buffer[] {
  const b = new WithdrawBuilder({ ctx, afi: 1 });
  for (let j = 0; j < v4; j++) b.addIpv4((0xc6120000 + ((j * 40503) % 65536) * 256) >>> 0, 24);
  return b.take();
}

/**
 * Runs `rounds` ingests of `v4` + `v6` prefixes (each family closed by its End-of-RIB, then one
 * withdrawal of the IPv4 ones) through a scratch RIB, with the peer's Adj-RIB-Out drained as a
 * session does. Defaults: 2 × (10,000 + 2,000) in UPDATEs of PER_MESSAGE prefixes, 250–310 ms at
 * start on the reference machine (messages built with UpdateBuilder, which warms the send path's
 * encoder too). After it, the optimizing compiler spends about 25 ms during a first 600,000-route
 * table (`--trace-opt`) instead of 70 ms.
 */
export function warmUpUpdatePath(o: { v4?: number; v6?: number; rounds?: number } = {}): WarmUpResult {
  const v4 = o.v4 ?? 10_000;
  const v6 = o.v6 ?? 2_000;
  const rounds = o.rounds ?? 2;
  const t0 = performance.now();
  const msgs = messages(v4, v6, 40);
  const wd = withdrawals(v4);
  // A table ends with each family's End-of-RIB (RFC 4724 §2): an empty UPDATE for IPv4, an empty
  // MP_UNREACH_NLRI for IPv6, a branch of the scanner of its own.
  const eor = [endOfRibMessage(1, 1), endOfRibMessage(2, 1)];
  const peer: PeerDescriptor = {
    id: 1, address: '192.0.2.254', peerAs: 65010, localAs: 64511, remoteRouterId: 0xc00002fe, localRouterId: 0xc0000201,
    localAddress: '192.0.2.1', ibgp: false, routeReflectorClient: false, receiveCtx: ctx, sendCtx: ctx,
    families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: null, importPolicies: [], exportPolicies: [], maxPrefixes: 0,
  };
  const held = { v4: 0, v6: 0, v4AfterWithdraw: 0 };
  for (let r = 0; r < rounds; r++) {
    const rib = new Rib({ localAs: 64511, routerId: 0xc0000201, role: 'speaker', multipath: { enabled: false, maxPaths: 1 }, policies: new PolicyTable([]) });
    rib.peerUp(peer, () => {});
    // As a session does once Established: the initial dump (of an empty table here) and its
    // End-of-RIB. This moves each Adj-RIB-Out past its dump, as a real session's does, so code
    // optimized below does not rest on the dump's fields never changing.
    rib.drainOut(peer.id, 1 << 20);
    for (const m of msgs) {
      const s = scanUpdate(m, 0, ctx);
      if (s.ok) rib.update(peer.id, s.value);
    }
    for (const m of eor) {
      const s = scanUpdate(m, 0, ctx);
      if (s.ok) rib.update(peer.id, s.value);
    }
    rib.drainOut(peer.id, 1 << 20);
    const st = rib.stats();
    held.v4 = st.ipv4Prefixes;
    held.v6 = st.ipv6Prefixes;
    for (const m of wd) {
      const s = scanUpdate(m, 0, ctx);
      if (s.ok) rib.update(peer.id, s.value);
    }
    held.v4AfterWithdraw = rib.stats().ipv4Prefixes;
    rib.peerDown(peer.id, { keepStale: false, staleTimeMs: 0 });
  }
  return { prefixes: rounds * (v4 + v6), ms: performance.now() - t0, held };
}
