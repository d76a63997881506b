// RFC 2545 §3 on the sending side: when we are the next hop of an IPv6 route towards a peer on our
// link (the session found a link-local address, PeerDescriptor.localLinkLocal), MP_REACH_NLRI
// carries 32 octets: our session address and that link-local. Everything else stays 16 octets.
// Checked by decoding drainOut's bytes with the codec.
import { describe, expect, it } from 'vitest';
import type { RibPeer } from '../../../src/bgp/rib/index.js';
import { UpdateBuilder, formatPrefix, makeContext, prefix, scanUpdate } from '../../../src/bgp/wire/index.js';
import { announce, attrs, drain, ebgp, feed, ibgp, rib } from './helpers.js';

const CTX = makeContext({ as4: true });
const onLink = { address: '2001:db8:1::2', localAddress: '2001:db8:1::1', localLinkLocal: 'fe80::1' };

/** MP_REACH_NLRI next hops per announced IPv6 prefix, as the peer decodes them. */
function mpNextHops(r: ReturnType<typeof rib>, id: number): Map<string, { nextHop: string; linkLocal: string | undefined }> {
  const out = new Map<string, { nextHop: string; linkLocal: string | undefined }>();
  for (const u of drain(r, id, CTX).msgs) {
    for (const a of u.attributes) {
      if (a.type !== 'MP_REACH_NLRI') continue;
      for (const p of a.nlri) out.set(formatPrefix(p), { nextHop: a.nextHop, linkLocal: a.linkLocal });
    }
  }
  return out;
}

/** The single announced prefix's next hops. */
function only(m: Map<string, { nextHop: string; linkLocal: string | undefined }>): { nextHop: string; linkLocal: string | undefined } {
  expect(m.size).toBe(1);
  return [...m.values()][0]!;
}

const up = (r: ReturnType<typeof rib>, d: RibPeer): void => r.peerUp(d, () => {});

describe('32-octet IPv6 next hops (RFC 2545 §3)', () => {
  it('eBGP peer on our link: our own route goes with our address and our link-local', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    up(r, ebgp(1, onLink));
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: 'fe80::1' });
  });

  it('eBGP: a route learnt from another peer (next hop set to us) also gets the link-local', () => {
    const r = rib({ policyConfig: [{ name: 'all', default: 'accept' }] });
    up(r, ebgp(2, { address: '2001:db8:2::2', localAddress: '2001:db8:2::1' }));
    up(r, ebgp(1, { ...onLink, exportPolicies: ['all'] }));
    mpNextHops(r, 1);
    feed(r, 2, announce(['2001:db8:200::/48'], attrs({ asPath: [65102], nextHop: '2001:db8:2::2' })));
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: 'fe80::1' });
  });

  it('the option off: 16 octets, and turning it on again re-sends with 32', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    up(r, { ...ebgp(1, onLink), linkLocalNextHop: false });
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: undefined });
    r.configurePeer(1, { importPolicies: [], exportPolicies: [], maxPrefixes: 0, routeReflectorClient: false, nextHopSelf: false, linkLocalNextHop: true });
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: 'fe80::1' });
  });

  it('no link-local found by the session (peer not on our link): 16 octets', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    up(r, ebgp(1, { address: '2001:db8:9::2', localAddress: '2001:db8:1::1' }));
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: undefined });
  });

  it('iBGP with the next hop passed on unchanged: 16 octets, and a received link-local is not passed on', () => {
    const r = rib();
    up(r, ebgp(2, { address: '2001:db8:2::2', localAddress: '2001:db8:2::1' }));
    up(r, ibgp(1, onLink));
    mpNextHops(r, 1);
    // The eBGP peer sends 32 octets: its global address and its own link-local.
    const list = attrs({ asPath: [65102] }).filter((a) => a.type !== 'NEXT_HOP');
    const b = new UpdateBuilder({ ctx: CTX, afi: 2, attributes: list, nextHop: { nextHop: '2001:db8:2::2', linkLocal: 'fe80::2' } });
    b.add(prefix('2001:db8:200::/48'));
    for (const m of b.take()) {
      const s = scanUpdate(m, 0, CTX);
      if (!s.ok) throw new Error(s.error.message);
      r.update(2, s.value);
    }
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:2::2', linkLocal: undefined });
  });

  it('iBGP: our own route without a next hop, and next-hop-self, get the link-local', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    up(r, ibgp(1, onLink));
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '2001:db8:1::1', linkLocal: 'fe80::1' });
    up(r, ebgp(2, { address: '2001:db8:2::2', localAddress: '2001:db8:2::1' }));
    up(r, { ...ibgp(3, { address: '2001:db8:1::3', localAddress: '2001:db8:1::1', localLinkLocal: 'fe80::1' }), nextHopSelf: true });
    mpNextHops(r, 3);
    feed(r, 2, announce(['2001:db8:200::/48'], attrs({ asPath: [65102], nextHop: '2001:db8:2::2' })));
    expect(mpNextHops(r, 3).get('2001:db8:200::/48')).toEqual({ nextHop: '2001:db8:1::1', linkLocal: 'fe80::1' });
    // Without next-hop-self the learnt next hop goes on unchanged: 16 octets.
    expect(mpNextHops(r, 1).get('2001:db8:200::/48')).toEqual({ nextHop: '2001:db8:2::2', linkLocal: undefined });
  });

  it('an IPv6 route over an IPv4 session keeps the 16-octet IPv4-mapped next hop (::ffff:192.0.2.254)', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    up(r, ebgp(1));
    expect(only(mpNextHops(r, 1))).toEqual({ nextHop: '::ffff:c000:2fe', linkLocal: undefined });
  });

  it('peers alike but on different links get their own link-local (export class and out-set keys)', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:100::/48' });
    // Same local address, AS and capabilities: only the link-local tells them apart.
    up(r, ebgp(1, { ...onLink, localLinkLocal: 'fe80::1' }));
    up(r, ebgp(2, { ...onLink, address: '2001:db8:1::3', localLinkLocal: 'fe80::a' }));
    up(r, { ...ebgp(3, { ...onLink, address: '2001:db8:1::4' }), linkLocalNextHop: false });
    expect(only(mpNextHops(r, 1)).linkLocal).toBe('fe80::1');
    expect(only(mpNextHops(r, 2)).linkLocal).toBe('fe80::a');
    expect(only(mpNextHops(r, 3)).linkLocal).toBeUndefined();
    expect(drain(r, 1).announced.size).toBe(0);
  });
});
