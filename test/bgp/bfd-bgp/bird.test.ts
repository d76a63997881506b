// BFD for BGP against BIRD 2 in network namespaces:
//   tern  — tern-bgpd, AS 65001; the BIRD peer is added over gRPC (AddPeer with PeerConfig.bfd)
//   bird  — BIRD 2, AS 65002, `protocol bfd` with 100 ms × 3 and `bfd on` in its bgp protocol
// Both sides use a 30 s hold time, so only BFD can bring the session down within a second.
// The link is cut silently (nftables drop inside the tern namespace, lab.cutLink mode 'drop').
// Needs root, bird, birdc, nft, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import type { PeerState__Output } from '../../../src/proto/gen/tern/bgp/v1/PeerState.js';
import { Bird, sleep, TernDaemon, waitUntil } from '../speaker/helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let th: Host;
let bh: Host;
let tern: TernDaemon;
let bird: Bird;

const birdConf = (): string => `
router id ${bh.fabricIp};
protocol device {}
protocol bfd {
  interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
protocol static s4 { ipv4; route 198.51.100.0/24 blackhole; }
protocol bgp tern {
  local ${bh.fabricIp} as 65002;
  neighbor ${th.fabricIp} as 65001;
  bfd on;
  hold time 30; keepalive time 10;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export where source = RTS_STATIC; };
}
`;

/** BIRD's `show bfd sessions` line for an address: its State column ('' when absent). */
async function birdBfdState(addr: string): Promise<string> {
  const out = await bird.c('show', 'bfd', 'sessions');
  const line = out.split('\n').find((l) => l.trim().startsWith(addr));
  return line?.trim().split(/\s+/)[2] ?? '';
}

async function metric(name: string): Promise<string[]> {
  const r = await lab.exec(th, 'curl', ['-s', `http://${th.fabricIp}:9191/metrics`], { allowFail: true });
  return r.stdout.split('\n').filter((l) => l.startsWith(name));
}

describe.skipIf(!isRoot)('BFD for BGP: tern-bgpd against BIRD', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [th, bh] = (await lab.addHosts([{ name: 'tern' }, { name: 'bird' }])) as [Host, Host];
    tern = new TernDaemon(lab, th, 'tern-bgpd', 9191);
    tern.writeConfig({
      asNumber: 65001,
      routerId: th.fabricIp,
      timers: { hold: 30, connectRetry: 1, idleHold: 1, idleHoldMax: 2 },
      originate: [{ prefix: '203.0.113.0/24' }],
    });
    await tern.start();
    bird = new Bird(lab, bh);
    bird.start(birdConf());
    await tern.call('addPeer', {
      peer: { address: bh.fabricIp, peerAs: 65002, description: 'bird', bfd: { enabled: true, minTxMs: 100, minRxMs: 100, multiplier: 3 } },
    });
  }, 60_000);

  afterAll(async () => {
    await tern?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('comes up Established with BFD Up on both sides; API, CLI column source and metrics show it', async () => {
    await tern.waitEstablished(bh.fabricIp);
    await waitUntil('BFD Up at tern', async () => (await tern.peer(bh.fabricIp))?.bfdState === 'Up', 15_000);
    await waitUntil('BFD Up at BIRD', async () => (await birdBfdState(th.fabricIp)) === 'Up', 15_000);
    expect(await bird.established('tern')).toBe(true);
    const p = (await tern.peer(bh.fabricIp))!;
    expect(p.config!.bfd).toMatchObject({ enabled: true, minTxMs: 100, minRxMs: 100, multiplier: 3 });
    await waitUntil('BIRD route at tern', async () => (await tern.routes({ prefix: '198.51.100.0/24' })).length === 1);
    const m = await metric('tern_bfd_sessions');
    expect(m.find((l) => l.includes('state="Up"'))).toMatch(/ 1$/);
    expect(m.find((l) => l.includes('state="Down"'))).toMatch(/ 0$/);
  });

  it('a silent cut (nftables drop) brings the BGP session down in under 1 s with 100 ms × 3; restore brings it back', async () => {
    const before = (await tern.peer(bh.fabricIp))!;
    expect(before.state).toBe('Established');
    const t0 = performance.now();
    await lab.cutLink(th, { mode: 'drop' });
    let downMs = -1;
    let p: PeerState__Output | undefined;
    // Poll over the unix socket (not affected by the drop) every 10 ms; give up after 10 s.
    while (performance.now() - t0 < 10_000) {
      p = await tern.peer(bh.fabricIp);
      if (p !== undefined && p.state !== 'Established') {
        downMs = performance.now() - t0;
        break;
      }
      await sleep(10);
    }
    console.log(`BGP session down ${downMs.toFixed(0)} ms after the cut (BFD 100 ms x 3; hold time 30 s)`);
    expect(downMs).toBeGreaterThan(0);
    expect(downMs).toBeLessThan(1000);
    expect(p!.lastTransitionReason).toBe('bfd-down');
    expect(p!.bfdState).toBe('Down');
    // BIRD's `bfd on`: routes withdrawn at once, not kept until the hold timer.
    expect(await tern.routes({ prefix: '198.51.100.0/24' })).toHaveLength(0);
    // BIRD sees the same from its side (its own BFD timed out).
    await waitUntil('BIRD session down', async () => !(await bird.established('tern')), 5000, 50);

    await lab.restoreLink(th);
    await tern.waitEstablished(bh.fabricIp, 30_000);
    await waitUntil('BFD Up again at tern', async () => (await tern.peer(bh.fabricIp))?.bfdState === 'Up', 15_000);
    await waitUntil('BFD Up again at BIRD', async () => (await birdBfdState(th.fabricIp)) === 'Up', 15_000);
    await waitUntil('BIRD route back', async () => (await tern.routes({ prefix: '198.51.100.0/24' })).length === 1);
  }, 60_000);

  it('switching BFD off over gRPC: AdminDown sent; BIRD 2.0.12 still resets BGP on it, and the session comes back without BFD', async () => {
    const est = (await tern.peer(bh.fabricIp))!.established;
    const r = await tern.call<{ peer: PeerState__Output }>('updatePeer', { peer: { address: bh.fabricIp, peerAs: 65002, description: 'bird' } });
    expect(r.peer.bfdState).toBe('');
    expect(r.peer.config!.bfd).toBeNull();
    await waitUntil('BIRD BFD session no longer Up', async () => (await birdBfdState(th.fabricIp)) !== 'Up', 5000, 50);
    // BIRD 2.0.12 reports "BFD session down" to its BGP for a neighbour's AdminDown too (later
    // BIRD releases follow RFC 5882 §3.2 here); tern-bgpd keeps no BFD and simply reconnects.
    await waitUntil('Established again', async () => {
      const p = await tern.peer(bh.fabricIp);
      return p?.state === 'Established' && (p.established > est || (await bird.established('tern')));
    }, 30_000);
    expect((await tern.peer(bh.fabricIp))!.bfdState).toBe('');
  }, 40_000);
});
