// BFD for BGP in-process: configuration (YAML and gRPC PeerConfig.bfd), and two Speakers over
// loopback (127.0.0.1 <-> 127.0.0.2) whose BFD sessions run on free ports. Real sockets and
// timers; no namespaces needed. The namespace test against BIRD is bird.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/lab/ports.js';
import { BgpSchema, bfdOf, type BgpConfigInput } from '../../../src/bgp/speaker/config.js';
import { bfdBindOf } from '../../../src/bgp/speaker/bfd.js';
import { specFromProto, specToProto } from '../../../src/bgp/speaker/grpc.js';
import { Speaker } from '../../../src/bgp/speaker/speaker.js';
import { TransitionReasons } from '../../../src/bgp/session/fsm.js';
import type { PeerConfig__Output } from '../../../src/proto/gen/tern/bgp/v1/PeerConfig.js';
import { sleep, waitUntil } from '../speaker/helpers.js';

const issues = (input: unknown): string[] => {
  const r = BgpSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('BFD configuration', () => {
  it('YAML: true means the defaults (300 ms × 3), an object overrides, enabled: false is off', () => {
    const c = BgpSchema.parse({
      peers: [
        { address: '10.0.0.2', asNumber: 2, bfd: true },
        { address: '10.0.0.3', asNumber: 2, bfd: { minTxMs: 100, minRxMs: 100 } },
        { address: '10.0.0.4', asNumber: 2, bfd: { enabled: false, minTxMs: 100 } },
        { address: '10.0.0.5', asNumber: 2 },
      ],
      dynamicNeighbors: [{ prefix: '10.1.0.0/16', bfd: { multiplier: 5, graceful: true } }],
    });
    expect(bfdOf(c.peers[0]!)).toEqual({ enabled: true, minTxMs: 300, minRxMs: 300, multiplier: 3, graceful: false });
    expect(bfdOf(c.peers[1]!)).toMatchObject({ minTxMs: 100, minRxMs: 100, multiplier: 3 });
    expect(bfdOf(c.peers[2]!)).toBeNull();
    expect(bfdOf(c.peers[3]!)).toBeNull();
    expect(bfdOf(c.dynamicNeighbors[0]!)).toMatchObject({ multiplier: 5, graceful: true });
    expect(issues({ peers: [{ address: '10.0.0.2', asNumber: 2, bfd: { minTxMs: 0 } }] })).toEqual([expect.stringMatching(/^peers\.0\.bfd/)]);
    expect(issues({ peers: [{ address: '10.0.0.2', asNumber: 2, bfd: { multiplier: 3, echo: true } }] })).toEqual([expect.stringMatching(/^peers\.0\.bfd/)]);
  });

  it('gRPC: PeerConfig.bfd is accepted (zeros = defaults) and shown back', () => {
    const base = { address: '10.0.0.2', peerAs: 2, families: [], importPolicies: [], exportPolicies: [] } as unknown as PeerConfig__Output;
    const s = specFromProto({ ...base, bfd: { enabled: true, minTxMs: 100, minRxMs: 0, multiplier: 0 } });
    expect(bfdOf(s)).toMatchObject({ minTxMs: 100, minRxMs: 300, multiplier: 3 });
    expect(specToProto(s, 1).bfd).toEqual({ enabled: true, minTxMs: 100, minRxMs: 300, multiplier: 3 });
    expect(bfdOf(specFromProto({ ...base, bfd: { enabled: false, minTxMs: 100, minRxMs: 0, multiplier: 0 } }))).toBeNull();
    expect(specToProto(specFromProto(base), 1).bfd).toBeUndefined();
  });

  it('binds BFD where BGP listens; `bfd-down` is a session transition reason', () => {
    expect(bfdBindOf(['::'])).toEqual(['0.0.0.0', '::']);
    expect(bfdBindOf(['10.0.0.1', '10.0.0.1'])).toEqual(['10.0.0.1']);
    expect(TransitionReasons).toContain('bfd-down');
  });
});

describe('BFD for BGP between two speakers over loopback', () => {
  let a: Speaker;
  let b: Speaker;
  let pa = 0;
  let pb = 0;
  let fa = 0;
  let fb = 0;
  // 500 ms detection: short enough to test, long enough that a loaded 2-core machine does not
  // delay packets past it (the interop test against BIRD checks 100 ms x 3).
  const bfd = { minTxMs: 100, minRxMs: 100, multiplier: 5 };
  const cfg = (me: 1 | 2, withBfd: boolean): BgpConfigInput => ({
    asNumber: 65000 + me,
    routerId: `10.0.0.${me}`,
    listen: { address: `127.0.0.${me}`, port: me === 1 ? pa : pb },
    originate: [{ prefix: `10.${me}.0.0/24` }],
    peers: [
      {
        address: `127.0.0.${3 - me}`,
        asNumber: 65003 - me,
        port: me === 1 ? pb : pa,
        sourceAddress: `127.0.0.${me}`,
        timers: { connectRetry: 1, idleHold: 1, idleHoldMax: 1, hold: 30 },
        ...(withBfd ? { bfd } : {}),
      },
    ],
  });
  const peerOf = (s: Speaker) => s.listPeers()[0]!;

  beforeAll(async () => {
    pa = await freePort('127.0.0.1');
    pb = await freePort('127.0.0.2');
    fa = await freePort('127.0.0.1');
    fb = await freePort('127.0.0.2');
    a = new Speaker({ config: BgpSchema.parse(cfg(1, true)), bfdPort: fa, bfdPeerPort: fb });
    b = new Speaker({ config: BgpSchema.parse(cfg(2, true)), bfdPort: fb, bfdPeerPort: fa });
    await a.start();
    await b.start();
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('BGP Established and BFD Up on both; counts by state', async () => {
    await waitUntil('Established + BFD Up', () => peerOf(a).session.state === 'Established' && a.bfd.state('127.0.0.2') === 'Up' && b.bfd.state('127.0.0.1') === 'Up');
    expect(a.bfd.counts()).toEqual({ AdminDown: 0, Down: 0, Init: 0, Up: 1 });
    expect(a.bfd.list()[0]).toMatchObject({ peer: '127.0.0.2', detectMult: 5, requiredMinRxMs: 100 });
    expect(a.bfd.port).toBe(fa);
  });

  it('the neighbour switching BFD off (AdminDown) leaves the BGP session alone (RFC 5882 §3.2)', async () => {
    const est = peerOf(a).session.counters.established;
    expect(b.updatePeer({ ...BgpSchema.parse(cfg(2, false)).peers[0]! }).kind).toBe('soft');
    expect(b.bfd.state('127.0.0.1')).toBe('');
    await waitUntil('BFD Down at a', () => a.bfd.state('127.0.0.2') === 'Down', 5000, 10);
    await sleep(1200); // > the 500 ms detection time
    expect(peerOf(a).session.state).toBe('Established');
    expect(peerOf(a).session.counters.established).toBe(est);
    // On again: the session comes Up without touching BGP.
    b.updatePeer({ ...BgpSchema.parse(cfg(2, true)).peers[0]! });
    await waitUntil('BFD Up again', () => a.bfd.state('127.0.0.2') === 'Up' && b.bfd.state('127.0.0.1') === 'Up');
    expect(peerOf(a).session.counters.established).toBe(est);
  });

  it('the neighbour falling silent brings the session down at once with Cease / BFD Down; routes withdrawn; BGP reconnects', async () => {
    expect(a.rib.lookup('10.2.0.0/24')).not.toBeNull();
    const est = peerOf(a).session.counters.established;
    const seen: string[] = [];
    a.on('peer', (e: { to: string; reason: string }) => seen.push(`${e.to}:${e.reason}`));
    const t0 = performance.now();
    await b.bfd.stop({ graceful: false }); // b's BFD goes quiet as after a crash; its BGP lives on
    await waitUntil('a leaves Established', () => peerOf(a).session.state !== 'Established', 5000, 5);
    const ms = performance.now() - t0;
    console.log(`session down ${ms.toFixed(0)} ms after BFD fell silent (100 ms x 5)`);
    expect(seen[0]).toBe('Idle:bfd-down');
    expect(peerOf(a).session.lastDown).toBe('bfd-down');
    expect(a.rib.lookup('10.2.0.0/24')).toBeNull();
    // b got our NOTIFICATION: Cease (6) / BFD Down (10), RFC 9384.
    await waitUntil('b saw the NOTIFICATION', () => peerOf(b).session.counters.lastError?.direction === 'received');
    expect(peerOf(b).session.counters.lastError).toMatchObject({ code: 6, subcode: 10 });
    // BFD does not hold BGP back (as BIRD): the session comes back by ConnectRetry, BFD Down.
    await waitUntil('re-established', () => peerOf(a).session.state === 'Established' && peerOf(a).session.counters.established > est, 15_000);
    expect(a.bfd.state('127.0.0.2')).toBe('Down');
  });
});
