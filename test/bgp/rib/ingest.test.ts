// Receiving: withdrawals, implicit withdraw, treat-as-withdraw, loops, 2-octet peers, max-prefix,
// graceful restart, best-path events, attribute interning.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock/index.js';
import type { BestPathEvent } from '../../../src/bgp/rib/index.js';
import { IPV4_UNICAST, encode, makeContext, parseDotted, prefix } from '../../../src/bgp/wire/index.js';
import { CTX4, LOCAL_AS, announce, attrs, drain, ebgp, feed, ibgp, rib, scan, withdraw } from './helpers.js';

describe('Adj-RIB-In and Loc-RIB', () => {
  it('announces, replaces (implicit withdraw) and withdraws, for IPv4 and IPv6', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101], med: 5 })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    expect(r.stats()).toMatchObject({ ipv4Prefixes: 2, ipv6Prefixes: 1, paths: 3 });
    expect(r.lookup('2001:db8:1::/48')?.best?.nextHop).toBe('2001:db8::1');

    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], med: 7 })));
    expect(r.routes('10.0.0.0/24')).toHaveLength(1);
    expect(r.lookup('10.0.0.0/24')?.best?.med).toBe(7);

    feed(r, 1, withdraw(['10.0.0.0/24']));
    feed(r, 1, withdraw(['2001:db8:1::/48']));
    expect(r.lookup('10.0.0.0/24')).toBeNull();
    expect(r.lookup('2001:db8:1::/48')).toBeNull();
    expect(r.stats()).toMatchObject({ ipv4Prefixes: 1, ipv6Prefixes: 0, paths: 1 });
    expect(r.stats().peers[0]!.accepted).toBe(1);
  });

  it('a peer withdrawing routes that were never sent back to it queues nothing: every prefix slot is freed at once', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    // Past the initial dump (its End-of-RIB only), as a live session is.
    expect(r.drainOut(1, 1 << 20)).toHaveLength(2);
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    expect(r.drainOut(1, 1 << 20)).toEqual([]);
    feed(r, 1, withdraw(['10.0.0.0/24', '10.0.1.0/24']));
    feed(r, 1, withdraw(['2001:db8:1::/48']));
    expect(r.stats()).toMatchObject({ ipv4Prefixes: 0, ipv6Prefixes: 0, paths: 0 });
    expect(r.drainOut(1, 1 << 20)).toEqual([]);
  });

  it('update() counts the prefixes announced: both families, loops included, treat-as-withdraw and withdrawals not', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    expect(feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101] }))).announced).toBe(2);
    expect(feed(r, 1, announce(['2001:db8:1::/48', '2001:db8:2::/48', '2001:db8:3::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' }))).announced).toBe(3);
    expect(feed(r, 1, announce(['10.0.2.0/24'], attrs({ asPath: [65101, LOCAL_AS] }))).announced).toBe(1);
    const bad = announce(['10.0.3.0/24'], [{ type: 'ORIGIN', origin: 7 }, ...attrs({ asPath: [65101] }).slice(1)]);
    expect(feed(r, 1, bad).announced).toBe(0);
    expect(feed(r, 1, withdraw(['10.0.0.0/24'])).announced).toBe(0);
  });

  it('interns identical attribute sets once and frees them with the last path', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ebgp(2), () => {});
    const a = attrs({ asPath: [65101, 65200] });
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], a));
    feed(r, 2, announce(['10.0.2.0/24'], a));
    feed(r, 1, announce(['10.0.3.0/24'], attrs({ asPath: [65101] })));
    expect(r.stats().attributeSets).toBe(2);
    feed(r, 1, withdraw(['10.0.0.0/24', '10.0.1.0/24', '10.0.3.0/24']));
    expect(r.stats().attributeSets).toBe(1);
    r.peerDown(2, { keepStale: false, staleTimeMs: 0 });
    expect(r.stats()).toMatchObject({ attributeSets: 0, paths: 0, ipv4Prefixes: 0 });
  });

  it('host bits past the prefix length are ignored (same prefix)', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['2001:db8:1::/47'], attrs({ asPath: [65101] })));
    expect(r.lookup('2001:db8::/47')).not.toBeNull();
  });

  it('treat-as-withdraw (RFC 7606) removes the routes the UPDATE names', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    // ORIGIN 7 is an undefined value: RFC 7606 §7.1 treat-as-withdraw.
    const bad = announce(['10.0.0.0/24'], [{ type: 'ORIGIN', origin: 7 }, ...attrs({ asPath: [65101] }).slice(1)]);
    expect(bad[0]!.treatAsWithdraw).toBe(true);
    feed(r, 1, bad);
    expect(r.lookup('10.0.0.0/24')).toBeNull();
  });

  it('own AS in AS_PATH: handled as a withdrawal and counted', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101, LOCAL_AS, 65200] })));
    expect(r.lookup('10.0.0.0/24')).toBeNull();
    expect(r.lookup('10.0.1.0/24')).toBeNull();
    expect(r.stats().peers[0]!.loopDropped).toBe(2);
    expect(r.stats().attributeSets).toBe(0);
  });

  it('ORIGINATOR_ID equal to our router id is a loop; CLUSTER_LIST with our cluster id too (reflector)', () => {
    const r = rib({ role: 'reflector', clusterId: parseDotted('10.255.0.1') });
    r.peerUp(ibgp(1, { routeReflectorClient: true }), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ originatorId: '10.0.0.1' })));
    feed(r, 1, announce(['10.0.1.0/24'], attrs({ originatorId: '10.0.0.9', clusterList: ['10.9.9.9', '10.255.0.1'] })));
    feed(r, 1, announce(['10.0.2.0/24'], attrs({ originatorId: '10.0.0.9', clusterList: ['10.9.9.9'] })));
    expect(r.lookup('10.0.0.0/24')).toBeNull();
    expect(r.lookup('10.0.1.0/24')).toBeNull();
    expect(r.lookup('10.0.2.0/24')).not.toBeNull();
    expect(r.stats().peers[0]!.loopDropped).toBe(2);
  });

  it('a reflector client (speaker role) also ignores ORIGINATOR_ID equal to its router id (RFC 4456 §8)', () => {
    const r = rib();
    r.peerUp(ibgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ originatorId: '10.0.0.1', clusterList: ['10.255.0.1'] })));
    feed(r, 1, announce(['10.0.1.0/24'], attrs({ originatorId: '10.0.0.9', clusterList: ['10.255.0.1'] })));
    expect(r.lookup('10.0.0.0/24')).toBeNull();
    expect(r.lookup('10.0.1.0/24')).not.toBeNull();
    expect(r.stats().peers[0]!.loopDropped).toBe(1);
  });

  it('LOCAL_PREF from an eBGP peer is ignored', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], localPref: 900 })));
    expect(r.lookup('10.0.0.0/24')?.best?.localPref).toBe(100);
  });

  it('a 2-octet peer: AS_PATH with AS_TRANS is merged with AS4_PATH (RFC 6793 §4.2.3)', () => {
    const ctx2 = makeContext({ as4: false });
    const r = rib();
    r.peerUp(ebgp(1, { peerAs: 65101, receiveCtx: ctx2, sendCtx: ctx2 }), () => {});
    const list = attrs({ asPath: [65101, 23456, 65200] });
    list.push({ type: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001, 65200] }] });
    feed(r, 1, announce(['10.0.0.0/24'], list, ctx2));
    expect(r.lookup('10.0.0.0/24')?.best?.asPath).toBe('65101 4200000001 65200');
  });

  it('ADD-PATH receive keeps one path per path id', () => {
    const ctxAp = makeContext({ as4: true, addPath: new Set([IPV4_UNICAST]) });
    const r = rib();
    r.peerUp(ibgp(1, { receiveCtx: ctxAp }), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '10.0.0.0/24'], attrs({ nextHop: '192.0.2.10' }), ctxAp, [1, 2]));
    expect(r.routes('10.0.0.0/24')).toHaveLength(2);
    expect(r.lookup('10.0.0.0/24')?.best?.reason).toBe('lower-path-id');
    feed(r, 1, withdraw(['10.0.0.0/24'], ctxAp, [1]));
    expect(r.routes('10.0.0.0/24').map((x) => x.pathId)).toEqual([2]);
  });

  it('max-prefix is reported by update()', () => {
    const r = rib();
    r.peerUp(ebgp(1, { maxPrefixes: 3 }), () => {});
    expect(feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24'], attrs({ asPath: [65101] }))).maxPrefixExceeded).toBe(false);
    expect(feed(r, 1, announce(['10.0.3.0/24'], attrs({ asPath: [65101] }))).maxPrefixExceeded).toBe(true);
  });
});

describe('best-path events', () => {
  it('one batch per UPDATE, only for prefixes whose best path changed; snapshot for new watchers', () => {
    const r = rib();
    const batches: BestPathEvent[][] = [];
    r.onBestChange((evs) => batches.push(evs));
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ebgp(2), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101], nextHop: '198.51.100.1' })));
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => e.prefix)).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(batches[0]![0]).toMatchObject({ family: 'ipv4', nextHops: ['198.51.100.1'], best: { peerId: 1, asPath: '65101' } });

    // A worse path: no change of best, no event.
    feed(r, 2, announce(['10.0.0.0/24'], attrs({ asPath: [65102, 65300], nextHop: '198.51.100.2' })));
    expect(batches).toHaveLength(1);
    // The same announcement again: nothing changes.
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101], nextHop: '198.51.100.1' })));
    expect(batches).toHaveLength(1);

    feed(r, 1, withdraw(['10.0.0.0/24', '10.0.1.0/24']));
    expect(batches).toHaveLength(2);
    const [a, b] = batches[1]!;
    expect(a).toMatchObject({ prefix: '10.0.0.0/24', best: { peerId: 2 }, nextHops: ['198.51.100.2'] });
    expect(b).toMatchObject({ prefix: '10.0.1.0/24', best: null, nextHops: [] });

    expect(r.snapshot().map((e) => [e.prefix, e.best?.peerId])).toEqual([['10.0.0.0/24', 2]]);
  });

  it('a new prefix is decided as it is announced; repeated in its field, pending in the batch or under ADD-PATH, the batch decides it once', () => {
    const ctxAp = makeContext({ as4: true, addPath: new Set([IPV4_UNICAST]) });
    const r = rib();
    const batches: BestPathEvent[][] = [];
    r.onBestChange((evs) => batches.push(evs));
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ibgp(2, { receiveCtx: ctxAp }), () => {});
    r.peerUp(ibgp(9), () => {});
    drain(r, 9);
    const changes0 = r.bestChanges;
    // The same new prefix twice in one NLRI field: one path, one event, one route out.
    feed(r, 1, announce(['10.0.0.0/24', '10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101], nextHop: '198.51.100.1' })));
    expect(r.routes('10.0.0.0/24')).toHaveLength(1);
    expect(batches.at(-1)!.map((e) => e.prefix)).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(r.stats().peers.find((p) => p.id === 1)!.accepted).toBe(2);
    expect(r.bestChanges - changes0).toBe(2);
    expect([...drain(r, 9).announced.keys()].sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    // Withdrawn and announced again in one UPDATE: pending in the batch, so decided with it.
    const buf = new Uint8Array(4096);
    const len = encode({ type: 'UPDATE', withdrawn: [prefix('10.0.1.0/24')], attributes: attrs({ asPath: [65101, 65200], nextHop: '198.51.100.1' }), nlri: [prefix('10.0.1.0/24')] }, buf, 0, CTX4);
    feed(r, 1, [scan(buf.subarray(0, len))]);
    expect(batches.at(-1)!.map((e) => [e.prefix, e.best?.asPath])).toEqual([['10.0.1.0/24', '65101 65200']]);
    expect(r.routes('10.0.1.0/24')).toHaveLength(1);
    expect(drain(r, 9).announced.get('10.0.1.0/24')).toBeDefined();
    // A new prefix under two ADD-PATH ids in one field: decided once, with both paths in view.
    const before = batches.length;
    feed(r, 2, announce(['10.0.2.0/24', '10.0.2.0/24'], attrs({ nextHop: '192.0.2.10' }), ctxAp, [2, 1]));
    expect(batches.length - before).toBe(1);
    expect(batches.at(-1)!.map((e) => [e.prefix, e.best?.reason])).toEqual([['10.0.2.0/24', 'lower-path-id']]);
    expect(r.routes('10.0.2.0/24')).toHaveLength(2);
  });

  it('originate / withdrawOriginated', () => {
    const r = rib();
    const seen: BestPathEvent[] = [];
    r.onBestChange((evs) => seen.push(...evs));
    r.originate({ prefix: '10.244.1.0/26', communities: ['65000:7'], med: 3 });
    r.originate({ prefix: '2001:db8:244::/64', nextHop: '2001:db8::9' });
    expect(seen.map((e) => e.prefix)).toEqual(['10.244.1.0/26', '2001:db8:244::/64']);
    expect(seen[0]!.best).toMatchObject({ peerId: null, communities: ['65000:7'], med: 3, localPref: 100, origin: 'igp' });
    r.withdrawOriginated('10.244.1.0/26');
    expect(seen[2]).toMatchObject({ prefix: '10.244.1.0/26', best: null });
    expect(() => r.originate({ prefix: '10.0.0.0/33' })).toThrow();
  });
});

describe('graceful restart (helper side, RFC 4724 §4.2)', () => {
  const setup = () => {
    const clock = new ManualClock();
    const r = rib({ clock });
    const gr = { peerRestartTimeSec: 120, peerPreservedFamilies: [IPV4_UNICAST] };
    r.peerUp(ebgp(1, { gracefulRestart: gr }), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    return { r, clock, gr };
  };

  it('keeps preserved families stale, drops the others; End-of-RIB sweeps what was not refreshed', () => {
    const { r, gr } = setup();
    const events: BestPathEvent[] = [];
    r.onBestChange((e) => events.push(...e));
    r.peerDown(1, { keepStale: true, staleTimeMs: 60_000 });
    expect(r.lookup('10.0.0.0/24')?.best?.stale).toBe(true);
    expect(r.lookup('2001:db8:1::/48')).toBeNull();
    expect(events.filter((e) => e.best?.stale).map((e) => e.prefix).sort()).toEqual(['10.0.0.0/24', '10.0.1.0/24']);

    r.peerUp(ebgp(1, { gracefulRestart: gr }), () => {});
    feed(r, 1, announce(['10.0.0.0/24'], attrs({ asPath: [65101] })));
    expect(r.lookup('10.0.0.0/24')?.best?.stale).toBe(false);
    expect(r.lookup('10.0.1.0/24')?.best?.stale).toBe(true);
    r.endOfRib(1, IPV4_UNICAST);
    expect(r.lookup('10.0.1.0/24')).toBeNull();
    expect(r.lookup('10.0.0.0/24')?.best?.stale).toBe(false);
  });

  it('the stale timer sweeps when End-of-RIB never comes', () => {
    const { r, clock } = setup();
    r.peerDown(1, { keepStale: true, staleTimeMs: 60_000 });
    clock.advance(59_999);
    expect(r.lookup('10.0.0.0/24')).not.toBeNull();
    clock.advance(1);
    expect(r.lookup('10.0.0.0/24')).toBeNull();
    expect(r.stats().paths).toBe(0);
  });

  it('a plain peerDown withdraws at once', () => {
    const { r, clock } = setup();
    r.peerDown(1, { keepStale: false, staleTimeMs: 0 });
    expect(r.stats()).toMatchObject({ paths: 0, ipv4Prefixes: 0, ipv6Prefixes: 0 });
    expect(clock.armed).toBe(0);
  });
});
