// Reflection interop with BIRD 2 as the reflector, in network namespaces (AS 65000, iBGP):
//   brr  — BIRD route reflector, cluster id 1.1.1.1; `rr client` sessions to tern and bird,
//          a plain iBGP (non-client) session to rrd; exports its own 192.0.2.0/24 too
//   tern — tern-bgpd as a reflector client, originates 10.50.0.0/24
//   bird — BIRD client, announces 198.51.100.0/24
//   rrd  — tern-rrd with the SAME cluster id 1.1.1.1, a non-client peer of brr: everything brr
//          reflects to it carries 1.1.1.1 in CLUSTER_LIST and must be dropped (RFC 4456 §8)
// Needs root, bird, birdc, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, TernDaemon, waitUntil } from '../speaker/helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let hrr: Host;
let ht: Host;
let hb: Host;
let hrrd: Host;
let brr: Bird;
let bird: Bird;
let tern: TernDaemon;
let rrd: TernDaemon;

const reflectorConf = (): string => `
router id ${hrr.fabricIp};
protocol device {}
protocol direct { ipv4; }
protocol static s4 { ipv4; route 192.0.2.0/24 blackhole; }
template bgp rrbase {
  local ${hrr.fabricIp} as 65000;
  rr cluster id 1.1.1.1;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export all; };
}
protocol bgp ctern from rrbase { neighbor ${ht.fabricIp} as 65000; rr client; }
protocol bgp cbird from rrbase { neighbor ${hb.fabricIp} as 65000; rr client; }
protocol bgp rrd from rrbase { neighbor ${hrrd.fabricIp} as 65000; }
`;

const clientConf = (): string => `
router id ${hb.fabricIp};
protocol device {}
protocol direct { ipv4; }
protocol static s4 { ipv4; route 198.51.100.0/24 blackhole; }
protocol bgp toreflector {
  local ${hb.fabricIp} as 65000;
  neighbor ${hrr.fabricIp} as 65000;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export where source = RTS_STATIC; };
}
`;

describe.skipIf(!isRoot)('BIRD as the reflector: tern-bgpd as its client, tern-rrd in the same cluster', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [hrr, ht, hb, hrrd] = (await lab.addHosts([{ name: 'brr' }, { name: 'tern' }, { name: 'bird' }, { name: 'rrd' }])) as [Host, Host, Host, Host];
    brr = new Bird(lab, hrr);
    brr.start(reflectorConf());
    bird = new Bird(lab, hb);
    bird.start(clientConf());
    tern = new TernDaemon(lab, ht, 'tern-bgpd', 9181);
    tern.writeConfig({
      asNumber: 65000,
      routerId: ht.fabricIp,
      timers: { connectRetry: 1, idleHold: 1 },
      peers: [{ address: hrr.fabricIp, asNumber: 65000, description: 'bird-rr' }],
      originate: [{ prefix: '10.50.0.0/24' }],
    });
    rrd = new TernDaemon(lab, hrrd, 'tern-rrd', 9182);
    rrd.writeConfig({
      asNumber: 65000,
      routerId: hrrd.fabricIp,
      role: 'reflector',
      clusterId: '1.1.1.1',
      timers: { connectRetry: 1, idleHold: 1 },
      peers: [{ address: hrr.fabricIp, asNumber: 65000, description: 'bird-rr (non-client)' }],
    });
    await Promise.all([tern.start(), rrd.start()]);
  }, 60_000);

  afterAll(async () => {
    await tern?.stop().catch(() => {});
    await rrd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('tern-bgpd gets the other client\'s route with ORIGINATOR_ID and CLUSTER_LIST set by BIRD', async () => {
    await tern.waitEstablished(hrr.fabricIp).catch(async (e) => {
      console.log(await brr.c('show', 'protocols', 'all'), brr.proc?.tail(), JSON.stringify(await tern.peer(hrr.fabricIp)));
      throw e;
    });
    let paths: Awaited<ReturnType<TernDaemon['routes']>> = [];
    await waitUntil('198.51.100.0/24 at tern-bgpd', async () => (paths = await tern.routes({ prefix: '198.51.100.0/24' })).length === 1).catch(async (e) => {
      console.log(await brr.c('show', 'route', 'all'), await brr.c('show', 'protocols'), await bird.c('show', 'protocols', 'all'), await bird.c('show', 'route', 'all'));
      throw e;
    });
    const p = paths[0]!.paths[0]!;
    expect(p.originatorId).toBe(hb.fabricIp);
    expect(p.clusterList).toEqual(['1.1.1.1']);
    expect(p.nextHop).toBe(hb.fabricIp);
    expect(p.asPath).toEqual([]);
    expect(p.peerAddress).toBe(hrr.fabricIp);
  });

  it('and our route reaches the BIRD client reflected, with our router id as ORIGINATOR_ID', async () => {
    await waitUntil('10.50.0.0/24 at bird', async () => (await bird.route('10.50.0.0/24')) !== '');
    const r = await bird.route('10.50.0.0/24');
    expect(r).toContain(`BGP.originator_id: ${ht.fabricIp}`);
    expect(r).toContain('BGP.cluster_list: 1.1.1.1');
    expect(r).toContain(`BGP.next_hop: ${ht.fabricIp}`);
  });

  it('tern-rrd drops routes reflected to it by a reflector of its own cluster, keeps the reflector\'s own route', async () => {
    await rrd.waitEstablished(hrr.fabricIp);
    await waitUntil('brr\'s own route at tern-rrd', async () => (await rrd.routes({ prefix: '192.0.2.0/24' })).length === 1);
    // BIRD did send the reflected routes to tern-rrd...
    await waitUntil('brr exports both client routes to rrd', async () => {
      const out = await brr.c('show', 'route', 'export', 'rrd');
      return out.includes('198.51.100.0/24') && out.includes('10.50.0.0/24');
    });
    // (`show route export` prints attributes before BIRD adds its cluster id on the wire; the
    // received-NLRI counter below shows the reflected routes did arrive at tern-rrd.)
    // ...and tern-rrd holds neither, in its Adj-RIB-In from brr nor in its Loc-RIB.
    const own = (await rrd.routes({ prefix: '192.0.2.0/24' }))[0]!.paths[0]!;
    expect(own.clusterList).toEqual([]);
    const adjIn = await rrd.routes({ table: 'ADJ_RIB_IN', peer: hrr.fabricIp });
    const held = adjIn.map((r) => r.prefix);
    expect(held).toContain('192.0.2.0/24');
    expect(held).not.toContain('198.51.100.0/24');
    expect(held).not.toContain('10.50.0.0/24');
    expect(await rrd.routes({ prefix: '198.51.100.0/24' })).toHaveLength(0);
    expect(await rrd.routes({ prefix: '10.50.0.0/24' })).toHaveLength(0);
    const p = (await rrd.peer(hrr.fabricIp))!;
    expect(p.prefixesAccepted).toBe(held.length);
    expect(p.prefixesReceived).toBeGreaterThanOrEqual(held.length + 2);
  });
});
