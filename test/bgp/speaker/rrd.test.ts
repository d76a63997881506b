// tern-rrd (the compiled daemon, role reflector) with real clients in network namespaces:
//   rr    — tern-rrd, AS 65000, cluster id 1.1.1.1; bird1 configured, everything else in
//           10.99.0.0/24 accepted as a dynamic neighbour (RFC 4456 client, ADD-PATH send)
//   bird1 — BIRD 2 client (configured peer)
//   bird2 — BIRD 2 client (dynamic neighbour)
//   gobgp — gobgpd client asking for ADD-PATH receive (dynamic neighbour)
// Needs root, bird, birdc, gobgpd, gobgp, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, GoAttr, GoBgp, TernDaemon, waitUntil } from './helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let rr: Host;
let b1: Host;
let b2: Host;
let go: Host;
let rrd: TernDaemon;
let bird1: Bird;
let bird2: Bird;
let gobgp: GoBgp;

function birdClient(h: Host, statics: string[]): string {
  return `
router id ${h.fabricIp};
protocol device {}
protocol direct { ipv4; }
protocol static s4 { ipv4; ${statics.map((s) => `route ${s} blackhole;`).join(' ')} }
protocol bgp rrs {
  local ${h.fabricIp} as 65000;
  neighbor ${rr.fabricIp} as 65000;
  connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export where source = RTS_STATIC; next hop self; };
}
`;
}

describe.skipIf(!isRoot)('tern-rrd reflecting between BIRD and GoBGP clients', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [rr, b1, b2, go] = (await lab.addHosts([{ name: 'rr' }, { name: 'bird1' }, { name: 'bird2' }, { name: 'gobgp' }])) as [Host, Host, Host, Host];
    rrd = new TernDaemon(lab, rr, 'tern-rrd', 9181);
    rrd.writeConfig({
      asNumber: 65000,
      routerId: rr.fabricIp,
      clusterId: '1.1.1.1',
      peers: [{ address: b1.fabricIp, asNumber: 65000, routeReflectorClient: true, passive: true, description: 'bird1' }],
      dynamicNeighbors: [{ prefix: '10.99.0.0/24', asNumber: 65000, routeReflectorClient: true, addPath: { send: true } }],
    });
    await rrd.start();
    bird1 = new Bird(lab, b1);
    bird1.start(birdClient(b1, ['203.0.113.0/24']));
    bird2 = new Bird(lab, b2);
    bird2.start(birdClient(b2, ['203.0.113.0/24', '198.51.100.0/24']));
    gobgp = new GoBgp(lab, go);
    gobgp.start(`
[global.config]
  as = 65000
  router-id = "${go.fabricIp}"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${rr.fabricIp}"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      receive = true
`);
  }, 60_000);

  afterAll(async () => {
    await rrd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('accepts the configured client and two dynamic neighbours from the range', async () => {
    await rrd.waitEstablished(b1.fabricIp, 8000).catch(async (e) => {
      console.log(rrd.proc!.tail().slice(-3000), await bird1.c('show', 'protocols', 'all', 'rrs'));
      throw e;
    });
    const d2 = await rrd.waitEstablished(b2.fabricIp);
    const dg = await rrd.waitEstablished(go.fabricIp);
    expect((await rrd.peer(b1.fabricIp))!.source).toBe('config');
    expect(d2.source).toBe('dynamic');
    expect(dg.source).toBe('dynamic');
    expect(dg.config!.routeReflectorClient).toBe(true);
    expect(dg.capabilities.some((c) => c.startsWith('add-path'))).toBe(true);
    expect(d2.capabilities.some((c) => c.startsWith('add-path'))).toBe(false);
  });

  it('reflects client routes with ORIGINATOR_ID and CLUSTER_LIST (seen with `birdc show route all`)', async () => {
    await gobgp.c('global', 'rib', 'add', '-a', 'ipv4', '10.40.0.0/24', 'origin', 'igp');
    await waitUntil('bird2 and GoBGP routes at bird1', async () => (await bird1.route('198.51.100.0/24')) !== '' && (await bird1.route('10.40.0.0/24')) !== '');
    const r = await bird1.route('198.51.100.0/24');
    expect(r).toContain(`BGP.originator_id: ${b2.fabricIp}`);
    expect(r).toContain('BGP.cluster_list: 1.1.1.1');
    expect(r).toContain(`BGP.next_hop: ${b2.fabricIp}`);
    expect(r).toMatch(/BGP\.as_path:\s*\n/);
    const g = await bird1.route('10.40.0.0/24');
    expect(g).toContain(`BGP.originator_id: ${go.fabricIp}`);
    expect(g).toContain('BGP.cluster_list: 1.1.1.1');
    // And back to a dynamic client: bird1's route at bird2.
    await waitUntil('bird1 route at bird2', async () => (await bird2.route('203.0.113.0/24', 'protocol', 'rrs')).includes(`BGP.originator_id: ${b1.fabricIp}`));
  });

  it('ADD-PATH: the GoBGP client gets both paths of 203.0.113.0/24 (bird1 and bird2)', async () => {
    await waitUntil('two paths in GoBGP', async () => ((await gobgp.rib('ipv4'))['203.0.113.0/24'] ?? []).length === 2, 20_000);
    const paths = (await gobgp.rib('ipv4'))['203.0.113.0/24']!;
    const hops = paths.map((p) => p.attrs.find((a) => a.type === GoAttr.NEXT_HOP)?.nexthop).sort();
    expect(hops).toEqual([b1.fabricIp, b2.fabricIp].sort());
    const text = await gobgp.c('global', 'rib', '-a', 'ipv4', '203.0.113.0/24');
    expect(text.split('\n').filter((l) => l.includes(b1.fabricIp) || l.includes(b2.fabricIp)).length).toBe(2);
    // Our own view: two paths in the Loc-RIB, both in GoBGP's Adj-RIB-Out under their own path ids.
    const out = await rrd.routes({ table: 'ADJ_RIB_OUT', peer: go.fabricIp, prefix: '203.0.113.0/24' });
    expect(out).toHaveLength(2);
    expect(new Set(out.map((r) => r.paths[0]!.pathId)).size).toBe(2);
  });

  it('a dynamic neighbour that goes away is removed; its routes are withdrawn from the others', async () => {
    await bird2.c('disable', 'rrs');
    await waitUntil('bird2 gone from the peer list', async () => (await rrd.peer(b2.fabricIp)) === undefined);
    await waitUntil('its route withdrawn at bird1', async () => (await bird1.route('198.51.100.0/24')) === '');
    await bird2.c('enable', 'rrs');
    await rrd.waitEstablished(b2.fabricIp);
  });
});
