// RFC 8950 on the sending side: IPv4 unicast routes whose next hop is IPv6 leave in MP_REACH_NLRI
// (AFI 1, SAFI 1, 16-octet next hop) and are withdrawn in MP_UNREACH_NLRI, but only towards a
// peer that negotiated the capability. Checked by decoding drainOut's bytes with the codec.
import { describe, expect, it } from 'vitest';
import { IPV4_UNICAST, IPV6_UNICAST, UpdateBuilder, decode, makeContext, prefix, type UpdateMessage } from '../../../src/bgp/wire/index.js';
import { attr, attrs, drain, ebgp, feed, ibgp, rib, scan, withdraw } from './helpers.js';

/** A session over IPv6 with RFC 8950 negotiated for IPv4 unicast (both directions). */
const ENH = makeContext({ as4: true, extendedNextHop: new Set([IPV4_UNICAST]) });
const PLAIN = makeContext({ as4: true });
const v6session = { localAddress: '2001:db8::254', families: [IPV4_UNICAST, IPV6_UNICAST] };

/** Every UPDATE drained for a peer, decoded with `ctx`. */
function raw(r: ReturnType<typeof rib>, id: number, ctx = ENH): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (;;) {
    const ms = r.drainOut(id, 1 << 20);
    if (ms.length === 0) return out;
    for (const m of ms) {
      const d = decode(m, 0, ctx);
      if (!d.ok) throw new Error(d.error.message);
      out.push(d.value as UpdateMessage);
    }
  }
}

describe('RFC 8950 export', () => {
  it('our IPv4 route to an eBGP peer over IPv6: MP_REACH_NLRI AFI 1 with our 16-octet IPv6 address, withdrawn in MP_UNREACH_NLRI', () => {
    const r = rib();
    r.originate({ prefix: '10.244.1.0/24' });
    r.peerUp(ebgp(1, { ...v6session, address: '2001:db8::1', receiveCtx: ENH, sendCtx: ENH }), () => {});
    const msgs = raw(r, 1);
    const reach = msgs.flatMap((u) => u.attributes).find((a) => a.type === 'MP_REACH_NLRI');
    expect(reach?.type === 'MP_REACH_NLRI' && { afi: reach.afi, safi: reach.safi, nextHop: reach.nextHop, nlri: reach.nlri.map((p) => p.len) }).toEqual({
      afi: 1, safi: 1, nextHop: '2001:db8::254', nlri: [24],
    });
    // No classic NLRI and no NEXT_HOP attribute: the route is only in MP_REACH_NLRI.
    expect(msgs.flatMap((u) => u.nlri)).toEqual([]);
    expect(msgs.flatMap((u) => u.attributes).some((a) => a.type === 'NEXT_HOP')).toBe(false);
    r.withdrawOriginated('10.244.1.0/24');
    const w = r.drainOut(1, 1 << 20);
    expect(w).toHaveLength(1);
    const wd = decode(w[0]!, 0, ENH);
    if (!wd.ok) throw new Error(wd.error.message);
    const u = wd.value as UpdateMessage;
    expect(u.withdrawn).toEqual([]);
    const unreach = u.attributes.find((a) => a.type === 'MP_UNREACH_NLRI');
    expect(unreach?.type === 'MP_UNREACH_NLRI' && { afi: unreach.afi, safi: unreach.safi, n: unreach.withdrawn.length }).toEqual({ afi: 1, safi: 1, n: 1 });
  });

  it('the same peer without the capability gets no IPv4 route (it has no IPv4 next hop to give)', () => {
    const r = rib();
    r.originate({ prefix: '10.244.1.0/24' });
    r.peerUp(ebgp(1, { ...v6session, address: '2001:db8::1', receiveCtx: PLAIN, sendCtx: PLAIN }), () => {});
    const d = drain(r, 1, PLAIN);
    expect([...d.announced.keys()]).toEqual([]);
    expect(d.eor).toBe(2);
  });

  it('an IPv4 next hop still goes in the classic fields on an extended-next-hop session', () => {
    const r = rib();
    r.originate({ prefix: '10.244.2.0/24', nextHop: '192.0.2.7' });
    r.peerUp(ibgp(1, { ...v6session, address: '2001:db8::1', receiveCtx: ENH, sendCtx: ENH }), () => {});
    const d = drain(r, 1, ENH);
    expect(attr(d.announced.get('10.244.2.0/24'), 'NEXT_HOP')?.nextHop).toBe('192.0.2.7');
    expect(d.msgs.flatMap((u) => u.attributes).some((a) => a.type === 'MP_REACH_NLRI')).toBe(false);
  });

  it('an IPv4 route learnt with an IPv6 next hop is passed on unchanged over iBGP only where RFC 8950 was negotiated', () => {
    const r = rib({ role: 'reflector', policyConfig: [{ name: 'all', default: 'accept' }] });
    r.peerUp(ibgp(1, { ...v6session, address: '2001:db8::1', receiveCtx: ENH, sendCtx: ENH, routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(2, { ...v6session, address: '2001:db8::2', receiveCtx: ENH, sendCtx: ENH }), () => {});
    r.peerUp(ibgp(3, { ...v6session, address: '2001:db8::3', receiveCtx: PLAIN, sendCtx: PLAIN }), () => {});
    drain(r, 2);
    drain(r, 3, PLAIN);
    // The received route: AFI 1 in MP_REACH_NLRI with a 16-octet next hop (the receive side).
    const b = new UpdateBuilder({ ctx: ENH, afi: 1, attributes: attrs().filter((a) => a.type !== 'NEXT_HOP'), nextHop: { nextHop: '2001:db8::99' } });
    b.add(prefix('10.9.0.0/16'));
    feed(r, 1, b.take().map((m) => scan(m, ENH)));
    expect(r.lookup('10.9.0.0/16')?.best?.nextHop).toBe('2001:db8::99');
    const to2 = drain(r, 2, ENH);
    expect(attr(to2.announced.get('10.9.0.0/16'), 'NEXT_HOP')?.nextHop).toBe('2001:db8::99');
    expect(drain(r, 3, PLAIN).announced.has('10.9.0.0/16')).toBe(false);
    // Withdrawn from the client: peer 2 hears it in MP_UNREACH_NLRI, peer 3 (never told) hears nothing.
    feed(r, 1, withdraw(['10.9.0.0/16'], ENH));
    const w2 = drain(r, 2, ENH);
    expect(w2.withdrawn).toEqual(['10.9.0.0/16']);
    expect(w2.msgs[0]!.withdrawn).toEqual([]);
    expect(drain(r, 3, PLAIN).withdrawn).toEqual([]);
  });
});
