// RFC 7313 enhanced route refresh in the RIB (both roles) and RFC 4724 §4.2 per-family
// Forwarding State on the helper side. Bytes from drainOut are decoded with the codec.
import { describe, expect, it } from 'vitest';
import type { BestPathEvent } from '../../../src/bgp/rib/index.js';
import { ManualClock } from '../../../src/clock/index.js';
import { IPV4_UNICAST, IPV6_UNICAST, decode, type BgpMessage } from '../../../src/bgp/wire/index.js';
import { CTX4, announce, attrs, ebgp, feed, ibgp, rib } from './helpers.js';

/** What a peer is sent, as short strings: `BoRR 1/1`, `EoRR 1/1`, `EoR`, `+10.0.0.0/24`, `-10.0.0.0/24`. */
function sent(r: ReturnType<typeof rib>, id: number): string[] {
  const out: string[] = [];
  for (;;) {
    const ms = r.drainOut(id, 1 << 20);
    if (ms.length === 0) return out;
    for (const m of ms) {
      const d = decode(m, 0, CTX4);
      if (!d.ok) throw new Error(d.error.message);
      const v: BgpMessage = d.value;
      if (v.type === 'ROUTE-REFRESH') {
        out.push(`${['REFRESH', 'BoRR', 'EoRR'][v.subtype] ?? v.subtype} ${v.afi}/${v.safi}`);
        continue;
      }
      if (v.type !== 'UPDATE') throw new Error(`unexpected ${v.type}`);
      const items: string[] = [];
      for (const p of v.withdrawn) items.push(`-${p.addr.join('.')}/${p.len}`);
      for (const p of v.nlri) items.push(`+${p.addr.join('.')}/${p.len}`);
      for (const a of v.attributes) {
        if (a.type === 'MP_REACH_NLRI') for (const p of a.nlri) items.push(`+${a.afi === 1 ? p.addr.join('.') : 'v6'}/${p.len}`);
        if (a.type === 'MP_UNREACH_NLRI') for (const p of a.withdrawn) items.push(`-${a.afi === 1 ? p.addr.join('.') : 'v6'}/${p.len}`);
      }
      out.push(...(items.length === 0 ? ['EoR'] : items));
    }
  }
}

describe('RFC 7313: answering a refresh request', () => {
  it('enhanced: BoRR, the whole Adj-RIB-Out of the family, EoRR, in that order; the other family untouched', () => {
    const r = rib();
    r.originate({ prefix: '10.1.0.0/24' });
    r.originate({ prefix: '10.2.0.0/24' });
    r.originate({ prefix: '2001:db8:1::/48', nextHop: '2001:db8::1' });
    r.peerUp(ebgp(1), () => {});
    sent(r, 1);
    r.routeRefresh(1, IPV4_UNICAST, true);
    const s = sent(r, 1);
    expect(s[0]).toBe('BoRR 1/1');
    expect(s.at(-1)).toBe('EoRR 1/1');
    expect(s.slice(1, -1).sort()).toEqual(['+10.1.0.0/24', '+10.2.0.0/24']);
  });

  it('changes queued during the refresh still go out, after BoRR; one BoRR and one EoRR', () => {
    const r = rib();
    r.originate({ prefix: '10.1.0.0/24' });
    r.peerUp(ebgp(1), () => {});
    sent(r, 1);
    r.routeRefresh(1, IPV4_UNICAST, true);
    r.withdrawOriginated('10.1.0.0/24');
    r.originate({ prefix: '10.3.0.0/24' });
    const s = sent(r, 1);
    expect(s[0]).toBe('BoRR 1/1');
    expect(s.filter((x) => x.startsWith('BoRR') || x.startsWith('EoRR'))).toEqual(['BoRR 1/1', 'EoRR 1/1']);
    // The refreshed Adj-RIB-Out comes before EoRR; the newer state ends up last.
    expect(s.indexOf('+10.1.0.0/24')).toBeLessThan(s.indexOf('EoRR 1/1'));
    expect(s.lastIndexOf('-10.1.0.0/24')).toBeGreaterThan(s.lastIndexOf('+10.1.0.0/24'));
    expect(s).toContain('+10.3.0.0/24');
  });

  it('plain (RFC 2918): the routes again, no markers', () => {
    const r = rib();
    r.originate({ prefix: '10.1.0.0/24' });
    r.peerUp(ebgp(1), () => {});
    sent(r, 1);
    r.routeRefresh(1, IPV4_UNICAST, false);
    expect(sent(r, 1)).toEqual(['+10.1.0.0/24']);
  });
});

describe('RFC 7313: as the requester', () => {
  it('BoRR marks the family, re-announced routes stay, EoRR removes the rest; the other family and events untouched', () => {
    const r = rib();
    const events: BestPathEvent[] = [];
    r.onBestChange((e) => events.push(...e));
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    events.length = 0;
    r.refreshBegin(1, IPV4_UNICAST);
    // Marked routes stay in use, unchanged, and nobody is told anything.
    expect(r.lookup('10.3.0.0/24')?.best?.stale).toBe(false);
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['10.2.0.0/24'], attrs({ asPath: [65101], med: 7 })));
    expect(events.map((e) => e.prefix)).toEqual(['10.2.0.0/24']);
    r.refreshEnd(1, IPV4_UNICAST);
    expect(r.lookup('10.1.0.0/24')).not.toBeNull();
    expect(r.lookup('10.2.0.0/24')?.best?.med).toBe(7);
    expect(r.lookup('10.3.0.0/24')).toBeNull();
    expect(r.lookup('2001:db8:1::/48')).not.toBeNull();
    expect(events.map((e) => `${e.prefix} ${e.best === null ? 'gone' : 'up'}`)).toEqual(['10.2.0.0/24 up', '10.3.0.0/24 gone']);
    // A second EoRR without BoRR removes nothing.
    r.refreshEnd(1, IPV4_UNICAST);
    expect(r.lookup('10.1.0.0/24')).not.toBeNull();
  });

  it('without EoRR, the marked routes go when the EoRR timer runs out; an EoRR in time stops it', () => {
    const clock = new ManualClock();
    const r = rib({ clock, refreshStaleMs: 30_000 });
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce(['10.1.0.0/24', '10.2.0.0/24'], attrs({ asPath: [65101] })));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    r.refreshBegin(1, IPV4_UNICAST);
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ asPath: [65101] })));
    clock.advance(29_999);
    expect(r.lookup('10.2.0.0/24')).not.toBeNull();
    clock.advance(1);
    expect(r.lookup('10.2.0.0/24')).toBeNull();
    expect(r.lookup('10.1.0.0/24')).not.toBeNull();
    expect(r.lookup('2001:db8:1::/48')).not.toBeNull();
    // Next round: the EoRR comes in time, and the timer must not remove anything later.
    r.refreshBegin(1, IPV6_UNICAST);
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    r.refreshEnd(1, IPV6_UNICAST);
    feed(r, 1, announce(['2001:db8:2::/48'], attrs({ asPath: [65101], nextHop: '2001:db8::1' })));
    clock.advance(60_000);
    expect(r.lookup('2001:db8:1::/48')).not.toBeNull();
    expect(r.lookup('2001:db8:2::/48')).not.toBeNull();
    expect(clock.armed).toBe(0);
  });

  it('a session going down stops the EoRR timer', () => {
    const clock = new ManualClock();
    const r = rib({ clock, refreshStaleMs: 30_000 });
    r.peerUp(ebgp(1), () => {});
    r.refreshBegin(1, IPV4_UNICAST);
    r.peerDown(1, { keepStale: false, staleTimeMs: 0 });
    expect(clock.armed).toBe(0);
  });

  it('only the peer that sent BoRR is affected', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    r.peerUp(ebgp(2), () => {});
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ asPath: [65101] })));
    feed(r, 2, announce(['10.1.0.0/24', '10.2.0.0/24'], attrs({ asPath: [65102, 65000 + 300] })));
    r.refreshBegin(2, IPV4_UNICAST);
    r.refreshEnd(2, IPV4_UNICAST);
    expect(r.routes('10.1.0.0/24').map((p) => p.peerId)).toEqual([1]);
    expect(r.lookup('10.2.0.0/24')).toBeNull();
  });
});

describe('RFC 4724 §4.2: Forwarding State per family in the restarted peer\'s OPEN', () => {
  const gr = (preserved: number[]) => ({ gracefulRestart: { peerRestartTimeSec: 120, peerPreservedFamilies: preserved } });

  it('a family now without the F bit loses its stale routes at once; a preserved one waits for End-of-RIB', () => {
    const r = rib();
    r.peerUp(ibgp(1, gr([IPV4_UNICAST, IPV6_UNICAST])), () => {});
    feed(r, 1, announce(['10.1.0.0/24'], attrs()));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ nextHop: '2001:db8::1' })));
    r.peerDown(1, { keepStale: true, staleTimeMs: 120_000 });
    expect(r.lookup('10.1.0.0/24')?.best?.stale).toBe(true);
    expect(r.lookup('2001:db8:1::/48')?.best?.stale).toBe(true);
    // The new OPEN: IPv6 with F=1, IPv4 with F=0 (or not listed).
    r.peerUp(ibgp(1, gr([IPV6_UNICAST])), () => {});
    expect(r.lookup('10.1.0.0/24')).toBeNull();
    expect(r.lookup('2001:db8:1::/48')?.best?.stale).toBe(true);
    r.endOfRib(1, IPV6_UNICAST);
    expect(r.lookup('2001:db8:1::/48')).toBeNull();
  });

  it('a new OPEN without graceful restart flushes every stale route', () => {
    const r = rib();
    r.peerUp(ibgp(1, gr([IPV4_UNICAST, IPV6_UNICAST])), () => {});
    feed(r, 1, announce(['10.1.0.0/24'], attrs()));
    feed(r, 1, announce(['2001:db8:1::/48'], attrs({ nextHop: '2001:db8::1' })));
    r.peerDown(1, { keepStale: true, staleTimeMs: 120_000 });
    r.peerUp(ibgp(1), () => {});
    expect(r.stats().ipv4Prefixes + r.stats().ipv6Prefixes).toBe(0);
  });

  it('with F set for both, stale routes wait and a re-announcement clears the flag', () => {
    const r = rib();
    r.peerUp(ibgp(1, gr([IPV4_UNICAST, IPV6_UNICAST])), () => {});
    feed(r, 1, announce(['10.1.0.0/24', '10.2.0.0/24'], attrs()));
    r.peerDown(1, { keepStale: true, staleTimeMs: 120_000 });
    r.peerUp(ibgp(1, gr([IPV4_UNICAST, IPV6_UNICAST])), () => {});
    expect(r.lookup('10.1.0.0/24')?.best?.stale).toBe(true);
    feed(r, 1, announce(['10.1.0.0/24'], attrs()));
    expect(r.lookup('10.1.0.0/24')?.best?.stale).toBe(false);
    r.endOfRib(1, IPV4_UNICAST);
    expect(r.lookup('10.2.0.0/24')).toBeNull();
    expect(r.lookup('10.1.0.0/24')).not.toBeNull();
  });
});
