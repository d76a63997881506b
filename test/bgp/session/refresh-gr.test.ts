// A BgpSession wired to the real RIB, against a scripted peer over loopback TCP (time faked with
// ManualClock): RFC 7313 enhanced route refresh in both roles, and RFC 4724 §4.2 per-family
// Forwarding State (our OPEN's F bits, and the helper flushing a family the restarted peer's
// new OPEN no longer preserves).
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyTable } from '../../../src/bgp/policy/index.js';
import { Rib } from '../../../src/bgp/rib/index.js';
import type { PeerConfig } from '../../../src/bgp/session/config.js';
import { resolvePeerConfig } from '../../../src/bgp/session/config.js';
import { buildLocalOpen } from '../../../src/bgp/session/open.js';
import {
  type Capability,
  IPV4_UNICAST,
  IPV6_UNICAST,
  KEEPALIVE,
  makeContext,
  MsgType,
  type OpenMessage,
  openCapabilities,
  parseDotted,
  prefix,
  RouteRefreshSubtype,
  type RouteRefreshMessage,
  UpdateBuilder,
  type UpdateMessage,
} from '../../../src/bgp/wire/index.js';
import { establish as establishWith, PEER, peerOpen, sessionRig, STD_CAPS, waitFor, waitState, type RawPeer, type Rig } from './helpers.js';

const CTX = makeContext({ as4: true });

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const rig = (cfg: Partial<PeerConfig> = {}): Promise<Rig<Rib>> =>
  sessionRig(
    (clock) => new Rib({ localAs: 65001, routerId: parseDotted('10.0.0.1'), role: 'speaker', multipath: { enabled: false, maxPaths: 1 }, policies: new PolicyTable(), clock }),
    cleanups,
    cfg,
  );

const establish = (r: Rig<Rib>, open: OpenMessage, n = 1): Promise<RawPeer> => establishWith(r, open, { n, ctx: CTX });

const ERR: Capability = { kind: 'enhanced-route-refresh' };
const v4attrs = [
  { type: 'ORIGIN' as const, origin: 0 },
  { type: 'AS_PATH' as const, segments: [{ type: 2, asns: [65002] }] },
  { type: 'NEXT_HOP' as const, nextHop: PEER },
];

function announce(raw: RawPeer, prefixes: string[], med?: number): void {
  const attributes = med === undefined ? v4attrs : [...v4attrs, { type: 'MULTI_EXIT_DISC' as const, med }];
  const b = new UpdateBuilder({ ctx: CTX, afi: 1, attributes });
  for (const p of prefixes) b.add(prefix(p));
  for (const m of b.take()) raw.send(m);
}

/** Messages from the session until `until` matches one, as short strings. */
async function collect(raw: RawPeer, until: (s: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await raw.next();
    let s: string;
    if (m.type === MsgType.ROUTE_REFRESH) {
      const rr = m.decoded as RouteRefreshMessage;
      s = `${['REFRESH', 'BoRR', 'EoRR'][rr.subtype] ?? rr.subtype} ${rr.afi}/${rr.safi}`;
    } else if (m.type === MsgType.UPDATE) {
      const u = m.decoded as UpdateMessage;
      s = u.nlri.length + u.withdrawn.length === 0 ? 'EoR' : [...u.nlri.map((p) => `+${p.addr.join('.')}/${p.len}`), ...u.withdrawn.map((p) => `-${p.addr.join('.')}/${p.len}`)].join(' ');
    } else continue;
    out.push(s);
    if (until(s)) return out;
  }
}

/** The initial dump: up to End-of-RIB for IPv4 and for IPv6 (both negotiated). */
async function initialDump(raw: RawPeer): Promise<void> {
  let n = 0;
  await collect(raw, (s) => s === 'EoR' && ++n === 2);
}

describe('RFC 7313 enhanced route refresh, session + RIB', () => {
  it('answers a ROUTE-REFRESH with BoRR, the Adj-RIB-Out and EoRR when both announced capability 70', async () => {
    const r = await rig();
    r.rib.originate({ prefix: '10.50.0.0/24' });
    r.rib.originate({ prefix: '10.51.0.0/24' });
    const raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, ERR] }));
    expect(r.session.negotiated?.enhancedRouteRefresh).toBe(true);
    await initialDump(raw);
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.NORMAL });
    const got = await collect(raw, (s) => s.startsWith('EoRR'));
    expect(got[0]).toBe('BoRR 1/1');
    expect(got.slice(1, -1).join(' ').split(' ').sort()).toEqual(['+10.50.0.0/24', '+10.51.0.0/24']);
    expect(got.at(-1)).toBe('EoRR 1/1');
    expect(r.session.counters.messagesOut.routeRefresh).toBe(2);
  });

  it('without the capability on the peer: the routes again, no markers', async () => {
    const r = await rig();
    r.rib.originate({ prefix: '10.50.0.0/24' });
    const raw = await establish(r, peerOpen());
    expect(r.session.negotiated?.enhancedRouteRefresh).toBe(false);
    await initialDump(raw);
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.NORMAL });
    expect(await collect(raw, (s) => s.includes('10.50.0.0'))).toEqual(['+10.50.0.0/24']);
    raw.send(KEEPALIVE);
    await new Promise((res) => setTimeout(res, 100));
    expect(raw.pending.filter((m) => m.type === MsgType.ROUTE_REFRESH)).toEqual([]);
  });

  it('as requester: BoRR marks the peer\'s IPv4 routes, EoRR drops those not announced again', async () => {
    const r = await rig();
    const raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, ERR] }));
    announce(raw, ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']);
    await waitFor('three routes', () => r.rib.stats().ipv4Prefixes === 3);
    expect(r.session.requestRouteRefresh(IPV4_UNICAST)).toBe(true);
    const req = (await raw.next(MsgType.ROUTE_REFRESH)).decoded as RouteRefreshMessage;
    expect([req.afi, req.safi, req.subtype]).toEqual([1, 1, RouteRefreshSubtype.NORMAL]);
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.BORR });
    announce(raw, ['10.1.0.0/24']);
    announce(raw, ['10.2.0.0/24'], 9);
    await waitFor('re-announcement processed', () => r.rib.lookup('10.2.0.0/24')?.best?.med === 9);
    // Before EoRR nothing is removed.
    expect(r.rib.lookup('10.3.0.0/24')).not.toBeNull();
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.EORR });
    await waitFor('EoRR sweep', () => r.rib.lookup('10.3.0.0/24') === null);
    expect(r.rib.lookup('10.1.0.0/24')).not.toBeNull();
    expect(r.rib.lookup('10.2.0.0/24')).not.toBeNull();
    expect(r.session.state).toBe('Established');
  });

  it('BoRR/EoRR from a peer that did not announce capability 70 are ignored', async () => {
    const r = await rig();
    const raw = await establish(r, peerOpen());
    announce(raw, ['10.1.0.0/24', '10.3.0.0/24']);
    await waitFor('two routes', () => r.rib.stats().ipv4Prefixes === 2);
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.BORR });
    announce(raw, ['10.1.0.0/24'], 4);
    raw.send({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: RouteRefreshSubtype.EORR });
    await waitFor('all processed', () => r.session.counters.messagesIn.routeRefresh === 2 && r.rib.lookup('10.1.0.0/24')?.best?.med === 4);
    expect(r.rib.lookup('10.3.0.0/24')).not.toBeNull();
  });
});

describe('RFC 4724 §3/§4.2 Forwarding State per family', () => {
  it('our OPEN sets F per family as configured', () => {
    const grOf = (forwarding: boolean | number[]) => {
      const open = buildLocalOpen(resolvePeerConfig({ address: PEER, peerAs: 65002, localAs: 65001, routerId: '10.0.0.1', families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: { forwarding } }), false);
      const c = openCapabilities(open).find((x) => x.kind === 'graceful-restart');
      return c?.kind === 'graceful-restart' ? c.families.map((f) => `${f.afi}:${f.flags}`) : null;
    };
    expect(grOf(true)).toEqual(['1:128', '2:128']);
    expect(grOf(false)).toEqual(['1:0', '2:0']);
    expect(grOf([IPV6_UNICAST])).toEqual(['1:0', '2:128']);
  });

  it('helper: the restarted peer\'s new OPEN with F=0 for IPv4 flushes its stale IPv4 routes at once; IPv6 waits for End-of-RIB', async () => {
    const r = await rig({ gracefulRestart: { restartTime: 60 } });
    const both = { kind: 'graceful-restart' as const, restartFlags: 0, restartTime: 300, families: [{ afi: 1, safi: 1, flags: 0x80 }, { afi: 2, safi: 1, flags: 0x80 }] };
    let raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, both] }));
    announce(raw, ['10.1.0.0/24']);
    const v6 = new UpdateBuilder({ ctx: CTX, afi: 2, attributes: v4attrs.slice(0, 2), nextHop: { nextHop: '2001:db8::3' } });
    v6.add(prefix('2001:db8:1::/48'));
    for (const m of v6.take()) raw.send(m);
    await waitFor('routes in', () => r.rib.stats().ipv4Prefixes === 1 && r.rib.stats().ipv6Prefixes === 1);
    raw.close();
    await waitState(r.session, 'Idle');
    expect(r.rib.lookup('10.1.0.0/24')?.best?.stale).toBe(true);
    expect(r.rib.lookup('2001:db8:1::/48')?.best?.stale).toBe(true);
    // The peer is back with the R bit; its forwarding state survived for IPv6 only.
    r.clock.advance(1000);
    const again = { ...both, restartFlags: 0x8, families: [{ afi: 1, safi: 1, flags: 0 }, { afi: 2, safi: 1, flags: 0x80 }] };
    raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, again] }), 2);
    // No clock advance: the stale timer (300 s) has not run; the flush comes from the OPEN.
    expect(r.rib.lookup('10.1.0.0/24')).toBeNull();
    expect(r.rib.lookup('2001:db8:1::/48')?.best?.stale).toBe(true);
    raw.send({ type: 'UPDATE', withdrawn: [], attributes: [{ type: 'MP_UNREACH_NLRI', afi: 2, safi: 1, withdrawn: [] }], nlri: [] });
    await waitFor('IPv6 End-of-RIB sweep', () => r.rib.lookup('2001:db8:1::/48') === null);
  });
});
