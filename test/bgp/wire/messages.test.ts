import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONTEXT,
  IPV4_UNICAST,
  IPV6_UNICAST,
  WellKnownCommunity,
  decode,
  encodingLength,
  endOfRib,
  forTransit,
  formatAttribute,
  makeContext,
  makeOpen,
  negotiate,
  openAs,
  openCapabilities,
  prefix,
  scanUpdate,
  toBuffer,
  toTwoOctetPath,
  type BgpMessage,
  type OpenMessage,
  type UpdateMessage,
  type WireContext,
} from '../../../src/bgp/wire/index.js';
import * as F from './fixtures.js';

const AS4 = makeContext({ as4: true });

function decoded(buf: Buffer, ctx: WireContext = DEFAULT_CONTEXT): BgpMessage {
  const r = decode(buf, 0, ctx);
  if (!r.ok) throw new Error(`decode failed: ${r.error.message}`);
  return r.value;
}

/** decode → encode gives the same bytes, and encode → decode the same value. */
function roundTrip(buf: Buffer, ctx: WireContext = DEFAULT_CONTEXT): BgpMessage {
  const m = decoded(buf, ctx);
  expect(encodingLength(m, ctx)).toBe(buf.length);
  const again = toBuffer(m, ctx);
  expect(again.toString('hex')).toBe(buf.toString('hex'));
  expect(decoded(again, ctx)).toEqual(m);
  return m;
}

describe('OPEN', () => {
  it('the hand-annotated BIRD and GoBGP fixtures equal the captured bytes', () => {
    expect(F.BIRD_OPEN.toString('hex')).toBe(F.BIRD_OPEN_HEX);
    expect(F.GOBGP_OPEN.toString('hex')).toBe(F.GOBGP_OPEN_HEX);
  });

  it('decodes the OPEN BIRD 2 sends', () => {
    const m = roundTrip(F.BIRD_OPEN) as OpenMessage;
    expect(m).toMatchObject({ type: 'OPEN', version: 4, myAs: 23456, holdTime: 240, bgpId: '192.0.2.1' });
    expect(openAs(m)).toBe(4200000001);
    expect(openCapabilities(m)).toEqual([
      { kind: 'multiprotocol', afi: 1, safi: 1 },
      { kind: 'multiprotocol', afi: 2, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      {
        kind: 'graceful-restart', restartFlags: 0, restartTime: 120,
        families: [{ afi: 1, safi: 1, flags: 0 }, { afi: 2, safi: 1, flags: 0 }],
      },
      { kind: 'as4', as: 4200000001 },
      { kind: 'enhanced-route-refresh' },
      { kind: 'llgr', families: [{ afi: 1, safi: 1, flags: 0, staleTime: 3600 }, { afi: 2, safi: 1, flags: 0, staleTime: 3600 }] },
      { kind: 'fqdn', hostname: 'bird-node', domain: '' },
    ]);
  });

  it('decodes the OPEN GoBGP sends', () => {
    const m = roundTrip(F.GOBGP_OPEN) as OpenMessage;
    expect(m).toMatchObject({ myAs: 65001, holdTime: 90, bgpId: '192.0.2.2' });
    const caps = openCapabilities(m);
    expect(caps).toContainEqual({ kind: 'add-path', families: [{ afi: 1, safi: 1, sendReceive: 1 }] });
    expect(caps).toContainEqual({ kind: 'fqdn', hostname: 'vm', domain: '' });
    expect(caps).toContainEqual({ kind: 'graceful-restart', restartFlags: 0, restartTime: 120, families: [{ afi: 1, safi: 1, flags: 0 }] });
  });

  it('negotiates per-direction contexts from two OPENs', () => {
    const bird = decoded(F.BIRD_OPEN) as OpenMessage;
    const gobgp = decoded(F.GOBGP_OPEN) as OpenMessage;
    // GoBGP receives ADD-PATH on IPv4 but BIRD did not offer to send it: nothing negotiated.
    const { receive, send } = negotiate(gobgp, bird);
    expect(receive.as4).toBe(true);
    expect(receive.addPath.size).toBe(0);
    expect(send.addPath.size).toBe(0);
    expect([...receive.extendedNextHop]).toEqual([IPV4_UNICAST]);
    const local = makeOpen({ as: 65010, holdTime: 90, bgpId: '192.0.2.9', capabilities: [
      { kind: 'as4', as: 65010 }, { kind: 'extended-message' }, { kind: 'add-path', families: [{ afi: 1, safi: 1, sendReceive: 2 }] },
    ] });
    const n = negotiate(local, gobgp);
    expect([...n.send.addPath]).toEqual([IPV4_UNICAST]);
    expect(n.receive.addPath.size).toBe(0);
    expect(n.send.extendedMessage).toBe(false);
  });

  it('encodes graceful restart R and N bits (RFC 4724, RFC 8538), unknown capabilities and parameters raw', () => {
    const m: OpenMessage = {
      type: 'OPEN', version: 4, myAs: 65001, holdTime: 9, bgpId: '10.0.0.1',
      params: [
        { type: 2, capabilities: [
          { kind: 'graceful-restart', restartFlags: 0x8 | 0x4, restartTime: 4095, families: [{ afi: 2, safi: 1, flags: 0x80 }] },
          { kind: 'unknown', code: 200, value: new Uint8Array([1, 2, 3]) },
          { kind: 'route-refresh-old' },
        ] },
        { type: 9, value: new Uint8Array([0xaa]) },
      ],
    };
    const b = toBuffer(m);
    // GR value: 0xcfff = R|N flags, restart time 4095.
    expect(b.subarray(31, 35).toString('hex')).toBe('4006cfff');
    expect(decoded(b)).toEqual(m);
  });

  it('uses the RFC 9072 extended optional parameters length when parameters exceed 255 octets', () => {
    const families = Array.from({ length: 40 }, (_, i) => ({ afi: 1, safi: 1, flags: 0, staleTime: i }));
    const m = makeOpen({ as: 4200000001, holdTime: 90, bgpId: '10.0.0.1', capabilities: [{ kind: 'llgr', families: families.slice(0, 36) }, { kind: 'llgr', families: families.slice(0, 10) }] });
    const b = toBuffer(m);
    expect(b[28]).toBe(255); // Non-Ext OP Len
    expect(b[29]).toBe(255); // Non-Ext OP Type
    expect(b.readUInt16BE(30)).toBe(b.length - 32); // Extended Opt. Parm. Length
    const back = decoded(b) as OpenMessage;
    expect(back.extendedParams).toBe(true);
    expect(back.myAs).toBe(23456);
    expect(openCapabilities(back)).toEqual(openCapabilities(m));
    roundTrip(b);
  });
});

describe('KEEPALIVE, NOTIFICATION, ROUTE-REFRESH', () => {
  it('KEEPALIVE', () => {
    expect(roundTrip(F.KEEPALIVE_MSG)).toEqual({ type: 'KEEPALIVE' });
  });

  it('Cease with an RFC 8203/9003 shutdown communication', () => {
    const m = roundTrip(F.NOTIFICATION_SHUTDOWN);
    expect(m).toEqual({ type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array(0), shutdownMessage: 'maintenance' });
    const long = toBuffer({ type: 'NOTIFICATION', code: 6, subcode: 4, data: new Uint8Array(0), shutdownMessage: 'é'.repeat(200) });
    expect(long[21]).toBe(254); // cut at 255 octets on a character boundary
    expect((decoded(long) as { shutdownMessage: string }).shutdownMessage).toBe('é'.repeat(127));
  });

  it('a shutdown communication that is not UTF-8 stays raw', () => {
    const b = F.message(F.NOTIFICATION, [0x06, 0x02, 0x02, 0xc3, 0x28]);
    expect(roundTrip(b)).toEqual({ type: 'NOTIFICATION', code: 6, subcode: 2, data: new Uint8Array([0x02, 0xc3, 0x28]) });
  });

  it('other NOTIFICATIONs keep their data', () => {
    expect(roundTrip(F.NOTIFICATION_AS_PATH)).toEqual({ type: 'NOTIFICATION', code: 3, subcode: 11, data: new Uint8Array([0x40, 0x02, 0x02, 0x02, 0x00]) });
    expect(roundTrip(F.NOTIFICATION_HOLD)).toEqual({ type: 'NOTIFICATION', code: 4, subcode: 0, data: new Uint8Array(0) });
  });

  it('ROUTE-REFRESH with RFC 7313 subtypes', () => {
    expect(roundTrip(F.ROUTE_REFRESH_V4)).toEqual({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 });
    expect(roundTrip(F.ROUTE_REFRESH_BORR_V6)).toEqual({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 });
    expect(roundTrip(F.ROUTE_REFRESH_EORR_V6)).toEqual({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 2 });
  });
});

describe('UPDATE', () => {
  it('decodes every classic attribute', () => {
    const m = roundTrip(F.UPDATE_IPV4_ALL, AS4) as UpdateMessage;
    expect(m.errors).toBeUndefined();
    expect(m.withdrawn).toEqual([prefix('198.51.100.0/24')]);
    expect(m.nlri).toEqual([prefix('203.0.113.0/24'), prefix('10.1.0.0/16'), prefix('192.0.2.99/32')]);
    expect(m.attributes).toEqual([
      { type: 'ORIGIN', flags: 0x40, origin: 0 },
      { type: 'AS_PATH', flags: 0x40, segments: [{ type: 2, asns: [65001, 65002, 4200000001] }] },
      { type: 'NEXT_HOP', flags: 0x40, nextHop: '192.0.2.1' },
      { type: 'MULTI_EXIT_DISC', flags: 0x80, med: 100 },
      { type: 'LOCAL_PREF', flags: 0x40, localPref: 200 },
      { type: 'ATOMIC_AGGREGATE', flags: 0x40 },
      { type: 'AGGREGATOR', flags: 0xc0, as: 65001, address: '192.0.2.1' },
      { type: 'COMMUNITIES', flags: 0xc0, communities: [65001 * 65536 + 100, WellKnownCommunity.NO_EXPORT, WellKnownCommunity.BLACKHOLE] },
      { type: 'ORIGINATOR_ID', flags: 0x80, originatorId: '192.0.2.2' },
      { type: 'CLUSTER_LIST', flags: 0x80, clusterIds: ['192.0.2.3', '192.0.2.4'] },
      { type: 'EXTENDED_COMMUNITIES', flags: 0xc0, communities: [0x0002fde900000064n] },
      { type: 'LARGE_COMMUNITY', flags: 0xc0, communities: [{ global: 4200000001, local1: 1, local2: 2 }] },
      { type: 'UNKNOWN', flags: 0xc0, code: 254, value: new Uint8Array([0xbe, 0xef]) },
    ]);
    expect(m.attributes.map(formatAttribute)).toContain('COMMUNITIES 65001:100 NO_EXPORT BLACKHOLE');
    expect(m.attributes.map(formatAttribute)).toContain('EXTENDED_COMMUNITIES rt 65001:100');
    expect(m.attributes.map(formatAttribute)).toContain('AS_PATH 65001 65002 4200000001');
  });

  it('the same bytes under a 2-octet session have a different AS_PATH reading', () => {
    // 14 octets of 4-octet ASNs do not parse as a 2-octet path: treat-as-withdraw (RFC 7606 §7.2).
    const m = decoded(F.UPDATE_IPV4_ALL, DEFAULT_CONTEXT) as UpdateMessage;
    expect(m.treatAsWithdraw).toBe(true);
    expect(m.nlri).toEqual([]);
    expect(m.withdrawn).toHaveLength(4);
  });

  it('IPv6 MP_REACH_NLRI with link-local next hop', () => {
    const m = roundTrip(F.UPDATE_IPV6_REACH, AS4) as UpdateMessage;
    expect(m.attributes[0]).toEqual({
      type: 'MP_REACH_NLRI', flags: 0x90, afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocal: 'fe80::1',
      nlri: [prefix('2001:db8:1::/48'), prefix('2001:db8:2:3::/64')],
    });
  });

  it('IPv6 MP_UNREACH_NLRI', () => {
    const m = roundTrip(F.UPDATE_IPV6_UNREACH, AS4) as UpdateMessage;
    expect(m.attributes).toEqual([{ type: 'MP_UNREACH_NLRI', flags: 0x80, afi: 2, safi: 1, withdrawn: [prefix('2001:db8:1::/48')] }]);
  });

  it('2-octet session: AS_TRANS, AS4_PATH, AS4_AGGREGATOR, confed and set segments', () => {
    const m = roundTrip(F.UPDATE_AS2) as UpdateMessage;
    expect(m.attributes.map(formatAttribute)).toEqual([
      'ORIGIN INCOMPLETE',
      'AS_PATH (65000) 23456 65001 {65002}',
      'NEXT_HOP 192.0.2.1',
      'AGGREGATOR 23456 192.0.2.1',
      'AS4_PATH 4200000001 65001',
      'AS4_AGGREGATOR 4200000001 192.0.2.1',
    ]);
    const { asPath, as4Path } = toTwoOctetPath([{ type: 3, asns: [65000] }, { type: 2, asns: [4200000001, 65001] }]);
    expect(asPath).toEqual([{ type: 3, asns: [65000] }, { type: 2, asns: [23456, 65001] }]);
    expect(as4Path).toEqual([{ type: 2, asns: [4200000001, 65001] }]);
  });

  it('RFC 8950 IPv6 next hop for IPv4 NLRI only where negotiated', () => {
    const ctx = makeContext({ as4: true, extendedNextHop: new Set([IPV4_UNICAST]) });
    const m = roundTrip(F.UPDATE_IPV4_V6NH, ctx) as UpdateMessage;
    expect(m.attributes[0]).toMatchObject({ type: 'MP_REACH_NLRI', afi: 1, nextHop: '2001:db8::1', nlri: [prefix('198.51.100.0/24')] });
    const without = decoded(F.UPDATE_IPV4_V6NH, AS4) as UpdateMessage;
    expect(without.action).toBe('afisafi-disable');
    expect(without.errors![0]).toMatchObject({ code: 3, subcode: 9, afi: 1, safi: 1 });
  });

  it('ADD-PATH path identifiers where negotiated (RFC 7911)', () => {
    const ctx = makeContext({ addPath: new Set([IPV4_UNICAST]) });
    const m = roundTrip(F.UPDATE_ADD_PATH, ctx) as UpdateMessage;
    expect(m.withdrawn).toEqual([prefix('198.51.100.0/24', 7)]);
    expect(m.nlri).toEqual([prefix('203.0.113.0/24', 1), prefix('203.0.113.0/24', 2)]);
    // Without ADD-PATH the same octets are a malformed NLRI field: session reset (RFC 7606 §5.3).
    const r = decode(F.UPDATE_ADD_PATH, 0, DEFAULT_CONTEXT);
    expect(r.ok).toBe(false);
  });

  it('End-of-RIB markers (RFC 4724 §2)', () => {
    const v4 = scanUpdate(F.EOR_IPV4, 0, AS4);
    const v6 = scanUpdate(F.EOR_IPV6, 0, AS4);
    expect(v4.ok && endOfRib(v4.value)).toEqual({ afi: 1, safi: 1 });
    expect(v6.ok && endOfRib(v6.value)).toEqual({ afi: 2, safi: 1 });
    const notEor = scanUpdate(F.UPDATE_IPV6_UNREACH, 0, AS4);
    expect(notEor.ok && endOfRib(notEor.value)).toBeNull();
    roundTrip(F.EOR_IPV4);
    roundTrip(F.EOR_IPV6);
  });

  it('unknown attributes: optional transitive pass on with Partial, non-transitive are dropped', () => {
    const t = { type: 'UNKNOWN', flags: 0xc0, code: 99, value: new Uint8Array([1]) } as const;
    const before = { ...t };
    expect(forTransit(t)).toEqual({ ...t, flags: 0xe0 });
    expect(t).toEqual(before);
    expect(forTransit({ ...t, flags: 0x80 })).toBeNull();
    expect(forTransit({ type: 'MULTI_EXIT_DISC', med: 1 })).toEqual({ type: 'MULTI_EXIT_DISC', med: 1 });
  });

  it('encoding never mutates its input', () => {
    const m = decoded(F.UPDATE_IPV6_REACH, AS4) as UpdateMessage;
    const snapshot = structuredClone(m);
    toBuffer(m, AS4);
    toBuffer(m, AS4);
    expect(m).toEqual(snapshot);
  });

  it('the attribute key ignores NLRI and attribute order, and differs for different attributes', () => {
    const mk = (nlri: string[], medFirst: boolean, med = 5): Buffer => {
      const attrs: UpdateMessage['attributes'] = [
        { type: 'ORIGIN', origin: 0 },
        { type: 'AS_PATH', segments: [{ type: 2, asns: [65001] }] },
        { type: 'NEXT_HOP', nextHop: '192.0.2.1' },
      ];
      if (medFirst) attrs.unshift({ type: 'MULTI_EXIT_DISC', med });
      else attrs.push({ type: 'MULTI_EXIT_DISC', med });
      return toBuffer({ type: 'UPDATE', withdrawn: [], attributes: attrs, nlri: nlri.map((p) => prefix(p)) }, AS4);
    };
    const key = (b: Buffer): string => {
      const r = scanUpdate(b, 0, AS4);
      if (!r.ok) throw new Error(r.error.message);
      return r.value.attrKey;
    };
    const a = key(mk(['10.0.0.0/24'], false));
    expect(a).not.toBe('');
    expect(key(mk(['10.0.1.0/24', '10.0.2.0/24'], true))).toBe(a);
    expect(key(mk(['10.0.0.0/24'], false, 6))).not.toBe(a);
    const v6a = scanUpdate(F.UPDATE_IPV6_REACH, 0, AS4);
    expect(v6a.ok && v6a.value.attrKey).not.toContain(String.fromCharCode(0x30, 0x20, 0x01));
  });

  it('IPv6 helpers', () => {
    const ctx = makeContext({ addPath: new Set([IPV6_UNICAST]) });
    const m: UpdateMessage = {
      type: 'UPDATE', withdrawn: [], nlri: [],
      attributes: [
        { type: 'MP_REACH_NLRI', flags: 0x80, afi: 2, safi: 1, nextHop: '2001:db8::2', nlri: [prefix('::/0', 3), prefix('2001:db8::1/128', 4)] },
        { type: 'ORIGIN', flags: 0x40, origin: 1 },
        { type: 'AS_PATH', flags: 0x40, segments: [] },
      ],
    };
    const b = toBuffer(m, ctx);
    expect(decoded(b, ctx)).toEqual(m);
  });
});
