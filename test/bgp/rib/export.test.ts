// Sending: what each kind of peer receives, checked by decoding drainOut's bytes with the codec.
import { describe, expect, it } from 'vitest';
import {
  AttrFlag,
  IPV4_UNICAST,
  IPV6_UNICAST,
  WellKnownCommunity,
  decode,
  makeContext,
} from '../../../src/bgp/wire/index.js';
import { CTX4, LOCAL_AS, announce, asns, attr, attrs, drain, ebgp, feed, ibgp, rib, withdraw } from './helpers.js';

const ALL = [{ name: 'all', default: 'accept' }];

describe('eBGP export', () => {
  it('by default only locally originated routes go to eBGP peers (RFC 8212 spirit), then End-of-RIB', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    r.originate({ prefix: '10.244.0.0/24', med: 5 });
    r.peerUp(ebgp(2), () => {});
    const d = drain(r, 2);
    expect([...d.announced.keys()]).toEqual(['10.244.0.0/24']);
    expect(d.eor).toBe(2);
    const a = d.announced.get('10.244.0.0/24');
    expect(asns(a)).toEqual([LOCAL_AS]);
    expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('192.0.2.254');
    expect(attr(a, 'LOCAL_PREF')).toBeUndefined();
    expect(attr(a, 'MULTI_EXIT_DISC')?.med).toBe(5); // our own MED goes out
  });

  it('with an accepting policy: prepend own AS, next-hop-self, no LOCAL_PREF, received MED not passed on', () => {
    const r = rib({ policyConfig: ALL });
    r.peerUp(ibgp(1), () => {});
    r.peerUp(ebgp(2, { exportPolicies: ['all'] }), () => {});
    drain(r, 2);
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65300], localPref: 300, med: 40, nextHop: '192.0.2.50', originatorId: '10.1.1.1' })));
    const d = drain(r, 2);
    const a = d.announced.get('10.0.0.0/24');
    expect(asns(a)).toEqual([LOCAL_AS, 65300]);
    expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('192.0.2.254');
    expect(attr(a, 'LOCAL_PREF')).toBeUndefined();
    expect(attr(a, 'MULTI_EXIT_DISC')).toBeUndefined();
    expect(attr(a, 'ORIGINATOR_ID')).toBeUndefined();
  });

  it('an export policy may set the MED towards eBGP', () => {
    const r = rib({ policyConfig: [{ name: 'med', default: 'accept', terms: [{ then: { med: 77 } }] }] });
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ebgp(2, { exportPolicies: ['med'] }), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], med: 40 })));
    expect(attr(drain(r, 2).announced.get('10.0.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(77);
  });

  it('is not sent back to the peer it came from', () => {
    const r = rib({ policyConfig: ALL });
    r.peerUp(ebgp(1, { exportPolicies: ['all'] }), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    expect(drain(r, 1).announced.size).toBe(0);
  });

  it('IPv6 over MP_REACH_NLRI with the IPv4-mapped session address as next hop', () => {
    const r = rib();
    r.originate({ prefix: '2001:db8:244::/48' });
    r.peerUp(ebgp(2), () => {});
    const a = drain(r, 2).announced.get('2001:db8:244::/48');
    expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('::ffff:c000:2fe') // ::ffff:192.0.2.254;
    r.peerUp(ebgp(3, { localAddress: '2001:db8::fe' }), () => {});
    expect(attr(drain(r, 3).announced.get('2001:db8:244::/48'), 'NEXT_HOP')?.nextHop).toBe('2001:db8::fe');
  });
});

describe('iBGP export', () => {
  it('speaker: eBGP routes go to iBGP with next hop kept and LOCAL_PREF 100 added; iBGP routes are not re-advertised', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2), () => {});
    r.peerUp(ibgp(3), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], nextHop: '198.51.100.1', med: 9 })));
    feed(r, 2, announce(['10.0.9.0/24'], attrs({ asPath: [], nextHop: '192.0.2.2' })));
    const d = drain(r, 3);
    expect([...d.announced.keys()]).toEqual(['10.0.0.0/24']);
    const a = d.announced.get('10.0.0.0/24');
    expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('198.51.100.1');
    expect(attr(a, 'LOCAL_PREF')?.localPref).toBe(100);
    expect(attr(a, 'MULTI_EXIT_DISC')?.med).toBe(9);
    expect(asns(a)).toEqual([65101]);
  });

  it('locally originated routes without a next hop get next-hop-self', () => {
    const r = rib();
    r.originate({ prefix: '10.244.0.0/26', localPref: 150 });
    r.peerUp(ibgp(2), () => {});
    const a = drain(r, 2).announced.get('10.244.0.0/26');
    expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('192.0.2.254');
    expect(attr(a, 'LOCAL_PREF')?.localPref).toBe(150);
    expect(asns(a)).toEqual([]);
  });
});

describe('route reflector (RFC 4456 §8)', () => {
  const CLUSTER = 0x0aff0001;
  const setup = () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER });
    r.peerUp(ibgp(1, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(2, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(3), () => {}); // non-client
    r.peerUp(ibgp(4), () => {}); // non-client
    r.peerUp(ebgp(5), () => {});
    for (const id of [1, 2, 3, 4, 5]) drain(r, id);
    return r;
  };

  it('client routes go to clients and non-clients, with ORIGINATOR_ID and CLUSTER_LIST', () => {
    const r = setup();
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ nextHop: '192.0.2.1' })));
    for (const id of [2, 3, 4]) {
      const a = drain(r, id).announced.get('10.1.0.0/24');
      expect(attr(a, 'ORIGINATOR_ID')?.originatorId).toBe('10.9.0.1');
      expect(attr(a, 'CLUSTER_LIST')?.clusterIds).toEqual(['10.255.0.1']);
      expect(attr(a, 'NEXT_HOP')?.nextHop).toBe('192.0.2.1');
    }
    expect(drain(r, 1).announced.size).toBe(0);
  });

  it('non-client routes go to clients only; existing ORIGINATOR_ID kept, our cluster id prepended', () => {
    const r = setup();
    feed(r, 3, announce(['10.3.0.0/24'], attrs({ originatorId: '10.7.7.7', clusterList: ['10.8.8.8'] })));
    for (const id of [1, 2]) {
      const a = drain(r, id).announced.get('10.3.0.0/24');
      expect(attr(a, 'ORIGINATOR_ID')?.originatorId).toBe('10.7.7.7');
      expect(attr(a, 'CLUSTER_LIST')?.clusterIds).toEqual(['10.255.0.1', '10.8.8.8']);
    }
    expect(drain(r, 4).announced.size).toBe(0);
  });

  it('eBGP routes go to every iBGP peer, without reflector attributes', () => {
    const r = setup();
    feed(r, 5, announce(['10.5.0.0/24'], attrs({ asPath: [65105] })));
    for (const id of [1, 2, 3, 4]) {
      const a = drain(r, id).announced.get('10.5.0.0/24');
      expect(a).toBeDefined();
      expect(attr(a, 'ORIGINATOR_ID')).toBeUndefined();
    }
  });

  it('ADD-PATH send: every path of a prefix with its own path id; withdrawing one withdraws its id', () => {
    const ctxAp = makeContext({ as4: true, addPath: new Set([IPV4_UNICAST]) });
    const r = setup();
    r.peerUp(ibgp(6, { routeReflectorClient: true, sendCtx: ctxAp }), () => {});
    drain(r, 6, ctxAp);
    feed(r, 1, announce(['10.9.0.0/24'], attrs({ nextHop: '192.0.2.1' })));
    feed(r, 2, announce(['10.9.0.0/24'], attrs({ nextHop: '192.0.2.2' })));
    const d = drain(r, 6, ctxAp);
    const ids = [...d.announced.keys()];
    expect(ids).toHaveLength(2);
    expect(new Set(ids.map((k) => k.split(' path ')[0]))).toEqual(new Set(['10.9.0.0/24']));
    const hops = ids.map((k) => attr(d.announced.get(k), 'NEXT_HOP')?.nextHop).sort();
    expect(hops).toEqual(['192.0.2.1', '192.0.2.2']);
    // A client without ADD-PATH gets the best path only.
    expect(drain(r, 3).announced.size).toBe(1);

    feed(r, 2, withdraw(['10.9.0.0/24']));
    const w = drain(r, 6, ctxAp);
    const gone = ids.find((k) => attr(d.announced.get(k), 'NEXT_HOP')?.nextHop === '192.0.2.2');
    expect(w.withdrawn).toEqual([gone]);
    expect(w.announced.size).toBe(0);
  });
});

describe('well-known communities', () => {
  const cases: Array<[string, number, { ebgp: boolean; ibgp: boolean }]> = [
    ['NO_EXPORT', WellKnownCommunity.NO_EXPORT, { ebgp: false, ibgp: true }],
    ['NO_ADVERTISE', WellKnownCommunity.NO_ADVERTISE, { ebgp: false, ibgp: false }],
    ['NO_EXPORT_SUBCONFED', WellKnownCommunity.NO_EXPORT_SUBCONFED, { ebgp: false, ibgp: true }],
    ['none', 65000 * 65536 + 1, { ebgp: true, ibgp: true }],
  ];
  for (const [name, c, want] of cases) {
    it(`${name}: eBGP ${want.ebgp ? 'yes' : 'no'}, iBGP ${want.ibgp ? 'yes' : 'no'}`, () => {
      const r = rib({ policyConfig: ALL });
      r.peerUp(ebgp(1), () => {});
      r.peerUp(ebgp(2, { exportPolicies: ['all'] }), () => {});
      r.peerUp(ibgp(3), () => {});
      feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], communities: [c] })));
      expect(drain(r, 2).announced.has('10.0.0.0/24')).toBe(want.ebgp);
      expect(drain(r, 3).announced.has('10.0.0.0/24')).toBe(want.ibgp);
    });
  }
});

describe('attribute translation', () => {
  it('unknown optional transitive attributes pass with Partial set; unknown non-transitive ones are dropped', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2), () => {});
    const extra = [
      { type: 'UNKNOWN' as const, flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, code: 99, value: new Uint8Array([1, 2, 3]) },
      { type: 'UNKNOWN' as const, flags: AttrFlag.OPTIONAL, code: 98, value: new Uint8Array([4]) },
    ];
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], extra })));
    const a = drain(r, 2).announced.get('10.0.0.0/24')!;
    const unknown = a.filter((x) => x.type === 'UNKNOWN');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ code: 99, value: new Uint8Array([1, 2, 3]) });
    expect(unknown[0]!.type === 'UNKNOWN' && unknown[0]!.flags & AttrFlag.PARTIAL).toBeTruthy();
  });

  it('a 2-octet peer gets AS_TRANS in AS_PATH and the true path in AS4_PATH (RFC 6793 §4.2.2)', () => {
    const ctx2 = makeContext({ as4: false });
    const r = rib({ policyConfig: ALL });
    r.peerUp(ebgp(1, { peerAs: 4200000001 }), () => {});
    r.peerUp(ebgp(2, { sendCtx: ctx2, receiveCtx: ctx2, exportPolicies: ['all'] }), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [4200000001, 65200] })));
    const a = drain(r, 2, ctx2).announced.get('10.0.0.0/24');
    expect(asns(a)).toEqual([LOCAL_AS, 23456, 65200]);
    expect(attr(a, 'AS4_PATH')?.segments.flatMap((s) => s.asns)).toEqual([LOCAL_AS, 4200000001, 65200]);
    // A 4-octet peer sees the real path and no AS4_PATH.
    r.peerUp(ebgp(3, { exportPolicies: ['all'] }), () => {});
    const b = drain(r, 3).announced.get('10.0.0.0/24');
    expect(asns(b)).toEqual([LOCAL_AS, 4200000001, 65200]);
    expect(attr(b, 'AS4_PATH')).toBeUndefined();
  });
});

describe('Adj-RIB-Out and UPDATE generation', () => {
  const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);

  it('groups prefixes by attribute set into full messages; withdrawals packed too', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    const ps = many(3000);
    feed(r, 1, announce(ps.slice(0, 1500), attrs({ asPath: [65101], nextHop: '198.51.100.1' })));
    feed(r, 1, announce(ps.slice(1500), attrs({ asPath: [65101], nextHop: '198.51.100.2' })));
    r.peerUp(ibgp(2), () => {});
    const d = drain(r, 2);
    expect(d.announced.size).toBe(3000);
    // 1500 /24 at 4 octets each need 2 messages per set at 4096 octets.
    expect(d.msgs.length - d.eor).toBe(4);
    feed(r, 1, withdraw(ps));
    const w = drain(r, 2);
    expect(new Set(w.withdrawn)).toEqual(new Set(ps));
    expect(w.msgs.length).toBeLessThanOrEqual(4);
  });

  it('re-announcing identical attributes sends nothing; a change costs one UPDATE', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    expect(drain(r, 2).announced.size).toBe(1);
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    expect(drain(r, 2).msgs).toHaveLength(0);
    // A change that does not change what peer 2 sees (a worse second path) is suppressed too.
    r.peerUp(ebgp(3), () => {});
    feed(r, 3, announce(['10.0.0.0/24'], attrs({ asPath: [65103, 1, 2] })));
    expect(drain(r, 2).msgs).toHaveLength(0);
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], med: 1 })));
    expect(drain(r, 2).msgs).toHaveLength(1);
  });

  it('drainOut is pull-based and bounded by maxBytes; a slow peer queues prefixes, not bytes', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    let wakes = 0;
    r.peerUp(ibgp(2), () => { wakes++; });
    expect(wakes).toBe(1);
    expect(drain(r, 2).eor).toBe(2);
    const ps = many(5000);
    feed(r, 1, announce(ps, attrs({ asPath: [65101] })));
    let calls = 0;
    let prefixes = 0;
    for (let ms = r.drainOut(2, 8192); ms.length > 0; ms = r.drainOut(2, 8192)) {
      calls++;
      expect(ms.reduce((n, m) => n + m.length, 0)).toBeLessThanOrEqual(8192 + 4096);
      for (const m of ms) {
        const u = decode(m, 0, CTX4);
        if (u.ok && u.value.type === 'UPDATE') prefixes += u.value.nlri.length;
      }
    }
    expect(prefixes).toBe(5000);
    expect(calls).toBeGreaterThan(2);
    // Nothing was pushed: the peer pulled; one wake for the UPDATE that made output.
    expect(wakes).toBe(2);
  });

  it('route refresh re-sends the whole Adj-RIB-Out of the family', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    drain(r, 2);
    r.routeRefresh(2, IPV4_UNICAST);
    const d = drain(r, 2);
    expect([...d.announced.keys()].sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    r.routeRefresh(2, IPV6_UNICAST);
    expect([...drain(r, 2).announced.keys()]).toEqual(['2001:db8:1::/48']);
  });

  it('a withdrawal and a re-announcement between two drains end in the right state', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    drain(r, 2);
    feed(r, 1, withdraw(['10.0.0.0/24']));
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], med: 3 })));
    const d = drain(r, 2);
    expect(d.withdrawn).toEqual([]);
    expect(attr(d.announced.get('10.0.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(3);
    feed(r, 1, withdraw(['10.0.0.0/24']));
    expect(drain(r, 2).withdrawn).toEqual(['10.0.0.0/24']);
    expect(r.stats().ipv4Prefixes).toBe(0);
  });
});
