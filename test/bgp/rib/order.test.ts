// The same announcements in any order, with duplicates, give the same Loc-RIB and the same
// Adj-RIB-Out (Felix-style replay: reordered, duplicated).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { announce, attrs, drain, ebgp, feed, ibgp, rib } from './helpers.js';

const PREFIXES = ['10.0.0.0/24', '10.0.1.0/24', '10.0.0.0/16', '2001:db8:1::/48', '2001:db8::/32'];
const PEERS = [ebgp(1, { peerAs: 65300 }), ebgp(2, { peerAs: 65300 }), ebgp(3), ibgp(4), ibgp(5)];

interface Ann {
  peer: number;
  prefix: number;
  localPref: number;
  pathLen: number;
  med: number;
  origin: number;
}

const ann = fc.record({
  peer: fc.integer({ min: 0, max: PEERS.length - 1 }),
  prefix: fc.integer({ min: 0, max: PREFIXES.length - 1 }),
  localPref: fc.constantFrom(100, 200),
  pathLen: fc.integer({ min: 1, max: 3 }),
  med: fc.constantFrom(0, 10, 20),
  origin: fc.integer({ min: 0, max: 2 }),
});

function build(list: Ann[]) {
  const r = rib({ multipath: { enabled: true, maxPaths: 4 } });
  for (const p of PEERS) r.peerUp(p, () => {});
  r.peerUp(ibgp(9), () => {});
  drain(r, 9);
  for (const a of list) {
    const p = PEERS[a.peer]!;
    const path = [p.ibgp ? 65300 : p.peerAs, ...Array.from({ length: a.pathLen - 1 }, (_, i) => 64600 + i)];
    const prefix = PREFIXES[a.prefix]!;
    const nextHop = prefix.includes(':') ? `2001:db8::${a.peer + 1}` : `198.51.100.${a.peer + 1}`;
    feed(r, p.id, announce([prefix], attrs({ asPath: path, med: a.med, origin: a.origin, nextHop, ...(p.ibgp ? { localPref: a.localPref } : {}) })));
  }
  const out = drain(r, 9);
  return {
    loc: r.snapshot().map((e) => JSON.stringify(e)).sort(),
    out: [...out.announced.entries()].map(([k, v]) => `${k} ${JSON.stringify(v)}`).sort(),
  };
}

/** The last announcement per (peer, prefix) is what counts: keep it last when shuffling. */
function canonical(list: Ann[]): Ann[] {
  const last = new Map<string, Ann>();
  for (const a of list) last.set(`${a.peer}/${a.prefix}`, a);
  return [...last.values()];
}

describe('order independence', () => {
  it('same final announcements, shuffled and duplicated, give the same Loc-RIB and Adj-RIB-Out', () => {
    fc.assert(
      fc.property(fc.array(ann, { minLength: 1, maxLength: 25 }), fc.infiniteStream(fc.nat()), (list, rnd) => {
        const finals = canonical(list);
        const expected = build(finals);
        // Shuffle the final set, then put duplicates of some of them anywhere before their own final copy.
        const seq = [...finals];
        for (let i = seq.length - 1; i > 0; i--) {
          const j = rnd.next().value % (i + 1);
          [seq[i], seq[j]] = [seq[j]!, seq[i]!];
        }
        const withDups = seq.flatMap((a) => (rnd.next().value % 3 === 0 ? [a, a] : [a]));
        const got = build(withDups);
        expect(got.loc).toEqual(expected.loc);
        expect(got.out).toEqual(expected.out);
      }),
      { numRuns: 150 },
    );
  });
});
