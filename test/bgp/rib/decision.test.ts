// The decision process, step by step: each row differs in exactly one step, and the recorded
// reason must name that step. Routes come in as UPDATEs built with the codec from mock peers.
import { describe, expect, it } from 'vitest';
import type { PeerDescriptor } from '../../../src/bgp/peer.js';
import type { PathAttribute } from '../../../src/bgp/wire/index.js';
import { announce, attrs, ebgp, feed, ibgp, rib } from './helpers.js';

const P = '10.1.0.0/24';

interface Row {
  name: string;
  reason: string;
  /** Peer 1 and peer 2 and what each sends; the winner's id. */
  peers: [PeerDescriptor, PeerDescriptor];
  send: [PathAttribute[], PathAttribute[]];
  winner: number;
  alwaysCompareMed?: boolean;
}

const rows: Row[] = [
  {
    name: 'higher LOCAL_PREF wins over a shorter AS path',
    reason: 'higher-local-pref',
    peers: [ibgp(1), ibgp(2)],
    send: [attrs({ localPref: 100, asPath: [65001] }), attrs({ localPref: 200, asPath: [65001, 65002, 65003] })],
    winner: 2,
  },
  {
    name: 'shorter AS_PATH',
    reason: 'shorter-as-path',
    peers: [ebgp(1), ebgp(2)],
    send: [attrs({ asPath: [65101, 65500] }), attrs({ asPath: [65102] })],
    winner: 2,
  },
  {
    name: 'AS_SET counts as one',
    reason: 'shorter-as-path',
    peers: [ebgp(1), ebgp(2)],
    send: [
      attrs({ segments: [{ type: 2, asns: [65101] }, { type: 1, asns: [1, 2, 3, 4] }] }),
      attrs({ asPath: [65102, 65500, 65501] }),
    ],
    winner: 1,
  },
  {
    name: 'confederation segments count zero',
    reason: 'shorter-as-path',
    peers: [ibgp(1), ibgp(2)],
    send: [
      attrs({ segments: [{ type: 3, asns: [64512, 64513, 64514] }, { type: 2, asns: [65101] }] }),
      attrs({ asPath: [65102, 65500] }),
    ],
    winner: 1,
  },
  {
    name: 'lower ORIGIN',
    reason: 'lower-origin',
    peers: [ebgp(1), ebgp(2)],
    send: [attrs({ asPath: [65101], origin: 2 }), attrs({ asPath: [65102], origin: 0 })],
    winner: 2,
  },
  {
    name: 'lower MED from the same neighbouring AS',
    reason: 'lower-med',
    peers: [ebgp(1, { peerAs: 65300 }), ebgp(2, { peerAs: 65300 })],
    send: [attrs({ asPath: [65300], med: 50 }), attrs({ asPath: [65300], med: 10 })],
    winner: 2,
  },
  {
    name: 'missing MED is the lowest value',
    reason: 'lower-med',
    peers: [ebgp(1, { peerAs: 65300 }), ebgp(2, { peerAs: 65300 })],
    send: [attrs({ asPath: [65300] }), attrs({ asPath: [65300], med: 10 })],
    winner: 1,
  },
  {
    name: 'MED not compared across neighbouring ASes: router id decides',
    reason: 'lower-router-id',
    peers: [ebgp(1), ebgp(2)],
    send: [attrs({ asPath: [65101], med: 50 }), attrs({ asPath: [65102], med: 10 })],
    winner: 1,
  },
  {
    name: 'always-compare-med compares across ASes',
    reason: 'lower-med',
    peers: [ebgp(1), ebgp(2)],
    send: [attrs({ asPath: [65101], med: 50 }), attrs({ asPath: [65102], med: 10 })],
    winner: 2,
    alwaysCompareMed: true,
  },
  {
    name: 'eBGP over iBGP',
    reason: 'ebgp-over-ibgp',
    peers: [ibgp(1), ebgp(2)],
    send: [attrs({ asPath: [65300] }), attrs({ asPath: [65102] })],
    winner: 2,
  },
  {
    name: 'lower router id',
    reason: 'lower-router-id',
    peers: [ibgp(1, { remoteRouterId: 0x0a000009 }), ibgp(2, { remoteRouterId: 0x0a000005 })],
    send: [attrs({ asPath: [65300] }), attrs({ asPath: [65300] })],
    winner: 2,
  },
  {
    name: 'ORIGINATOR_ID stands in for the router id (RFC 4456 §9)',
    reason: 'lower-router-id',
    peers: [ibgp(1, { remoteRouterId: 0x0a000001 }), ibgp(2, { remoteRouterId: 0x0a000005 })],
    send: [attrs({ asPath: [65300], originatorId: '10.0.0.200' }), attrs({ asPath: [65300] })],
    winner: 2,
  },
  {
    name: 'shorter CLUSTER_LIST',
    reason: 'shorter-cluster-list',
    peers: [ibgp(1), ibgp(2)],
    send: [
      attrs({ asPath: [65300], originatorId: '10.0.0.50', clusterList: ['1.1.1.1', '2.2.2.2'] }),
      attrs({ asPath: [65300], originatorId: '10.0.0.50', clusterList: ['3.3.3.3'] }),
    ],
    winner: 2,
  },
  {
    name: 'lower peer address',
    reason: 'lower-peer-address',
    peers: [ibgp(1, { remoteRouterId: 7, address: '192.0.2.77' }), ibgp(2, { remoteRouterId: 7, address: '192.0.2.33' })],
    send: [attrs({ asPath: [65300] }), attrs({ asPath: [65300] })],
    winner: 2,
  },
];

describe('best path (RFC 4271 §9.1.2)', () => {
  for (const row of rows) {
    for (const order of [[0, 1], [1, 0]] as const) {
      it(`${row.name} (arrival ${order.join(',')})`, () => {
        const r = rib({ alwaysCompareMed: row.alwaysCompareMed ?? false });
        for (const p of row.peers) r.peerUp(p, () => {});
        for (const i of order) feed(r, row.peers[i]!.id, announce([P], row.send[i]!));
        const b = r.lookup(P);
        expect(b?.best?.peerId).toBe(row.winner);
        expect(b?.best?.reason).toBe(row.reason);
      });
    }
  }

  it('a locally originated route beats an equal-preference learned one', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce([P], attrs({ asPath: [] })));
    r.originate({ prefix: P, nextHop: '192.0.2.254' });
    const b = r.lookup(P)!;
    expect(b.best?.peerId).toBeNull();
    expect(b.best?.reason).toBe('locally-originated');
  });

  it('a single path is the best with reason only-path; withdrawing it clears the prefix', () => {
    const r = rib();
    r.peerUp(ebgp(1), () => {});
    feed(r, 1, announce([P], attrs({ asPath: [65101] })));
    expect(r.lookup(P)?.best?.reason).toBe('only-path');
  });

  it('deterministic MED: the winner does not depend on arrival order with three paths', () => {
    // A (AS 1, MED 10) beats B (AS 1, MED 20) on MED; C (AS 2) beats B on router id but loses to A
    // on router id: pairwise comparison would be cyclic without grouping by neighbouring AS.
    const peers = [
      ebgp(1, { peerAs: 65301, remoteRouterId: 3 }),
      ebgp(2, { peerAs: 65301, remoteRouterId: 1 }),
      ebgp(3, { peerAs: 65302, remoteRouterId: 2 }),
    ];
    const sends = [attrs({ asPath: [65301], med: 10 }), attrs({ asPath: [65301], med: 20 }), attrs({ asPath: [65302] })];
    const winners = new Set<number | null | undefined>();
    for (const order of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
      const r = rib();
      for (const p of peers) r.peerUp(p, () => {});
      for (const i of order) feed(r, peers[i]!.id, announce([P], sends[i]!));
      winners.add(r.lookup(P)?.best?.peerId);
    }
    expect([...winners]).toEqual([3]);
  });
});

describe('multipath', () => {
  const setup = (relax = false, maxPaths = 4) => {
    const r = rib({ multipath: { enabled: true, maxPaths, relax } });
    const ps = [ebgp(1, { peerAs: 65300 }), ebgp(2, { peerAs: 65300 }), ebgp(3, { peerAs: 65300 }), ebgp(4), ebgp(5, { peerAs: 65300 })];
    for (const p of ps) r.peerUp(p, () => {});
    return r;
  };

  it('paths equal through the eBGP/iBGP step from the same neighbouring AS share the set; next hops deduplicated', () => {
    const r = setup();
    feed(r, 1, announce([P], attrs({ asPath: [65300, 1], nextHop: '198.51.100.1' })));
    feed(r, 2, announce([P], attrs({ asPath: [65300, 2], nextHop: '198.51.100.2' })));
    feed(r, 3, announce([P], attrs({ asPath: [65300, 3], nextHop: '198.51.100.2' }))); // same next hop as 2
    feed(r, 4, announce([P], attrs({ asPath: [65104, 4], nextHop: '198.51.100.4' }))); // other AS
    feed(r, 5, announce([P], attrs({ asPath: [65300, 5], nextHop: '198.51.100.5', med: 5 }))); // worse MED
    const b = r.lookup(P)!;
    expect(b.best?.peerId).toBe(1);
    expect(b.nextHops).toEqual(['198.51.100.1', '198.51.100.2']);
  });

  it('relax admits other neighbouring ASes; maxPaths caps the set', () => {
    const r = setup(true, 2);
    feed(r, 1, announce([P], attrs({ asPath: [65300, 1], nextHop: '198.51.100.1' })));
    feed(r, 4, announce([P], attrs({ asPath: [65104, 4], nextHop: '198.51.100.4' })));
    feed(r, 2, announce([P], attrs({ asPath: [65300, 2], nextHop: '198.51.100.2' })));
    expect(r.lookup(P)!.nextHops).toHaveLength(2);
    const r2 = setup(true, 4);
    feed(r2, 1, announce([P], attrs({ asPath: [65300, 1], nextHop: '198.51.100.1' })));
    feed(r2, 4, announce([P], attrs({ asPath: [65104, 4], nextHop: '198.51.100.4' })));
    expect(r2.lookup(P)!.nextHops.sort()).toEqual(['198.51.100.1', '198.51.100.4']);
  });

  it('a longer AS path stays out of the set', () => {
    const r = setup();
    feed(r, 1, announce([P], attrs({ asPath: [65300], nextHop: '198.51.100.1' })));
    feed(r, 2, announce([P], attrs({ asPath: [65300, 2], nextHop: '198.51.100.2' })));
    expect(r.lookup(P)!.nextHops).toEqual(['198.51.100.1']);
  });
});
