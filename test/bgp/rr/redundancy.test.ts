// Two tern-rrd reflectors with the same cluster id (1.1.1.1), peering with each other as
// non-clients, and three clients peering with both: tern-bgpd, BIRD 2 and GoBGP, each announcing
// one prefix. Stopping either reflector (SIGTERM, then kill -9 of the other after the first came
// back) must not cost any client any route: the other reflector holds every path too. Checked
// right after the stop and again after the clients' 9 s hold time has run out.
// Needs root, bird, birdc, gobgpd, gobgp, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, GoBgp, sleep, TernDaemon, waitUntil } from '../speaker/helpers.js';

const isRoot = process.getuid?.() === 0;
const HOLD = 9;
const PREFIX = { tern: '10.60.1.0/24', bird: '10.60.2.0/24', gobgp: '10.60.3.0/24' } as const;

let lab: Lab;
let h1: Host;
let h2: Host;
let ht: Host;
let hb: Host;
let hg: Host;
let rr1: TernDaemon;
let rr2: TernDaemon;
let tern: TernDaemon;
let bird: Bird;
let gobgp: GoBgp;

const rrConfig = (me: Host, other: Host): object => ({
  asNumber: 65000,
  routerId: me.fabricIp,
  role: 'reflector',
  clusterId: '1.1.1.1',
  timers: { connectRetry: 1, idleHold: 1 },
  peers: [{ address: other.fabricIp, asNumber: 65000, description: 'other reflector (non-client)' }],
  dynamicNeighbors: [{ prefix: '10.99.0.0/24', asNumber: 65000, routeReflectorClient: true }],
});

/** Which routes each client lacks (empty when every client holds every other client's prefix). */
async function missing(): Promise<string[]> {
  const out: string[] = [];
  const [tr, gr] = await Promise.all([tern.routes({}), gobgp.rib('ipv4')]);
  const tset = new Set(tr.map((r) => r.prefix));
  for (const p of [PREFIX.bird, PREFIX.gobgp]) if (!tset.has(p)) out.push(`tern lacks ${p}`);
  for (const p of [PREFIX.tern, PREFIX.bird]) if (!(p in gr)) out.push(`gobgp lacks ${p}`);
  for (const p of [PREFIX.tern, PREFIX.gobgp]) if ((await bird.route(p)) === '') out.push(`bird lacks ${p}`);
  return out;
}

describe.skipIf(!isRoot)('two tern-rrd reflectors in one cluster: losing one loses no route', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [h1, h2, ht, hb, hg] = (await lab.addHosts([{ name: 'rr1' }, { name: 'rr2' }, { name: 'tern' }, { name: 'bird' }, { name: 'gobgp' }])) as [Host, Host, Host, Host, Host];
    rr1 = new TernDaemon(lab, h1, 'tern-rrd', 9181);
    rr1.writeConfig(rrConfig(h1, h2));
    rr2 = new TernDaemon(lab, h2, 'tern-rrd', 9182);
    rr2.writeConfig(rrConfig(h2, h1));
    await Promise.all([rr1.start(), rr2.start()]);
    tern = new TernDaemon(lab, ht, 'tern-bgpd', 9183);
    tern.writeConfig({
      asNumber: 65000,
      routerId: ht.fabricIp,
      timers: { connectRetry: 1, idleHold: 1, hold: HOLD },
      peers: [h1, h2].map((h) => ({ address: h.fabricIp, asNumber: 65000 })),
      originate: [{ prefix: PREFIX.tern }],
    });
    await tern.start();
    bird = new Bird(lab, hb);
    bird.start(`
router id ${hb.fabricIp};
protocol device {}
protocol direct { ipv4; }
protocol static s4 { ipv4; route ${PREFIX.bird} blackhole; }
template bgp reflectors {
  local ${hb.fabricIp} as 65000;
  hold time ${HOLD}; connect retry time 1; error wait time 1, 2;
  ipv4 { import all; export where source = RTS_STATIC; };
}
protocol bgp refl1 from reflectors { neighbor ${h1.fabricIp} as 65000; }
protocol bgp refl2 from reflectors { neighbor ${h2.fabricIp} as 65000; }
`);
    gobgp = new GoBgp(lab, hg);
    gobgp.start(`
[global.config]
  as = 65000
  router-id = "${hg.fabricIp}"
${[h1, h2]
  .map(
    (h) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${h.fabricIp}"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = ${HOLD}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
  )
  .join('')}`);
    await waitUntil('GoBGP route added', async () => (await gobgp.c('global', 'rib', 'add', '-a', 'ipv4', PREFIX.gobgp, 'origin', 'igp')).trim() === '');
  }, 60_000);

  afterAll(async () => {
    for (const d of [tern, rr1, rr2]) await d?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('every client holds every route through both reflectors; the reflectors drop each other\'s reflections', async () => {
    for (const rr of [rr1, rr2]) {
      await waitUntil('3 clients + the other reflector Established', async () => (await rr.peers()).filter((p) => p.state === 'Established').length === 4, 30_000).catch(async (e) => {
        console.log((await rr.peers()).map((p) => `${p.config?.address} ${p.state} ${p.source} ${p.lastError} ${p.lastTransitionReason}`), await bird.c('show', 'protocols'), await gobgp.c('neighbor'));
        throw e;
      });
    }
    await waitUntil('every client has every route', async () => (await missing()).length === 0, 20_000);
    // Each reflector hears every client route twice (the client, and the other reflector's
    // reflection with CLUSTER_LIST 1.1.1.1) and keeps only the client's path.
    for (const [rr, other] of [[rr1, h2], [rr2, h1]] as const) {
      const fromOther = await rr.routes({ table: 'ADJ_RIB_IN', peer: other.fabricIp });
      expect(fromOther.map((r) => r.prefix)).toEqual([]);
      expect((await rr.peer(other.fabricIp))!.prefixesReceived).toBeGreaterThanOrEqual(3);
      for (const p of Object.values(PREFIX)) {
        const r = await rr.routes({ prefix: p });
        expect(r[0]!.paths).toHaveLength(1);
      }
    }
  }, 60_000);

  it('SIGTERM of one reflector: no client loses a route, neither at once nor after the hold time', async () => {
    await rr1.stop();
    expect(await missing()).toEqual([]);
    await sleep((HOLD + 1) * 1000);
    expect(await missing()).toEqual([]);
    expect(await bird.established('refl1')).toBe(false);
    expect(await bird.established('refl2')).toBe(true);
  }, 30_000);

  it('kill -9 of the other after the first came back: still no route lost', async () => {
    await rr1.start();
    await waitUntil('rr1 back with every client', async () => (await rr1.peers()).filter((p) => p.state === 'Established').length === 4, 30_000);
    await waitUntil('every client has every route via rr1 too', async () => (await rr1.routes({})).length >= 3 && (await missing()).length === 0);
    await rr2.proc!.stop('SIGKILL');
    expect(await missing()).toEqual([]);
    await sleep((HOLD + 1) * 1000);
    expect(await missing()).toEqual([]);
    expect(await bird.established('refl2')).toBe(false);
    expect(await gobgp.neighborState(h2.fabricIp)).not.toBe('established');
  }, 60_000);
});
