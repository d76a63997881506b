// RFC 4456 §8 loop prevention in the compiled daemons, fed by real BIRD 2 in namespaces this test
// creates:
//   rr   — tern-rrd, AS 65000, router id = its fabric address, cluster id 1.1.1.1; bird is a client
//   node — tern-bgpd, AS 65000 (a reflector client's view: plain iBGP to bird)
//   bird — BIRD 2, iBGP to both; its export filter writes ORIGINATOR_ID / CLUSTER_LIST on
//          static routes, as a reflector elsewhere in the AS would have
// A route whose ORIGINATOR_ID is the receiver's router id, or (at the reflector) whose
// CLUSTER_LIST holds its cluster id, must be ignored; the same routes are kept by the daemon the
// rule does not concern, and a plain route by both. Needs root, bird, birdc, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, TernDaemon, waitUntil } from '../speaker/helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let rr: Host;
let node: Host;
let birdHost: Host;
let rrd: TernDaemon;
let bgpd: TernDaemon;
let bird: Bird;

const CLUSTER = '1.1.1.1';

async function has(d: TernDaemon, prefix: string): Promise<boolean> {
  return (await d.routes({ table: 'LOC_RIB', prefix })).length === 1;
}

describe.skipIf(!isRoot)('RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST loops in tern-rrd and tern-bgpd', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.97.0.0/24');
    [rr, node, birdHost] = (await lab.addHosts([{ name: 'rr' }, { name: 'node' }, { name: 'bird' }])) as [Host, Host, Host];
    const timers = { connectRetry: 1, idleHold: 1, idleHoldMax: 2 };
    rrd = new TernDaemon(lab, rr, 'tern-rrd', 9181);
    rrd.writeConfig({
      asNumber: 65000, routerId: rr.fabricIp, clusterId: CLUSTER,
      peers: [{ address: birdHost.fabricIp, asNumber: 65000, routeReflectorClient: true, timers }],
    });
    bgpd = new TernDaemon(lab, node, 'tern-bgpd', 9182);
    bgpd.writeConfig({ asNumber: 65000, routerId: node.fabricIp, peers: [{ address: birdHost.fabricIp, asNumber: 65000, timers }] });
    bird = new Bird(lab, birdHost);
    bird.start(`
router id ${birdHost.fabricIp};
protocol device {}
protocol static s4 { ipv4; route 10.60.1.0/24 blackhole; route 10.60.2.0/24 blackhole; route 10.60.3.0/24 blackhole; route 10.60.4.0/24 blackhole; }
filter loops {
  if source != RTS_STATIC then reject;
  if net = 10.60.1.0/24 then bgp_originator_id = ${node.fabricIp};
  if net = 10.60.2.0/24 then { bgp_originator_id = 10.97.0.250; bgp_cluster_list.add(9.9.9.9); bgp_cluster_list.add(${CLUSTER}); }
  if net = 10.60.3.0/24 then bgp_originator_id = ${rr.fabricIp};
  accept;
}
protocol bgp torr {
  local ${birdHost.fabricIp} as 65000;
  neighbor ${rr.fabricIp} as 65000;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export filter loops; next hop self; };
}
protocol bgp tonode {
  local ${birdHost.fabricIp} as 65000;
  neighbor ${node.fabricIp} as 65000;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export filter loops; next hop self; };
}
`);
    await rrd.start();
    await bgpd.start();
  }, 60_000);

  afterAll(async () => {
    await rrd?.stop().catch(() => {});
    await bgpd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('BIRD really sends the attributes (checked on its side)', async () => {
    await rrd.waitEstablished(birdHost.fabricIp);
    await bgpd.waitEstablished(birdHost.fabricIp);
    const r2 = await bird.route('10.60.2.0/24', 'export', 'torr');
    expect(r2).toMatch(new RegExp(`BGP\\.cluster_list:.*${CLUSTER.replace(/\./g, '\\.')}`));
    expect(await bird.route('10.60.1.0/24', 'export', 'tonode')).toContain(`BGP.originator_id: ${node.fabricIp}`);
  });

  it('both daemons take the plain route (the control)', async () => {
    await waitUntil('10.60.4.0/24 in tern-rrd and tern-bgpd', async () => (await has(rrd, '10.60.4.0/24')) && (await has(bgpd, '10.60.4.0/24')));
  });

  it('tern-bgpd ignores ORIGINATOR_ID = its router id, keeps the others', async () => {
    await waitUntil('10.60.2/3 in tern-bgpd', async () => (await has(bgpd, '10.60.2.0/24')) && (await has(bgpd, '10.60.3.0/24')));
    expect(await has(bgpd, '10.60.1.0/24')).toBe(false);
  });

  it('tern-rrd ignores CLUSTER_LIST with its cluster id and ORIGINATOR_ID = its router id, keeps the others', async () => {
    await waitUntil('10.60.1.0/24 in tern-rrd', () => has(rrd, '10.60.1.0/24'));
    expect(await has(rrd, '10.60.2.0/24')).toBe(false);
    expect(await has(rrd, '10.60.3.0/24')).toBe(false);
    // Nothing it ignored is reflected back to its client either.
    expect(await bird.route('10.60.2.0/24', 'protocol', 'torr')).toBe('');
  });
});
