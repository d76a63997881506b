// tern-bgpd (the compiled daemon) against real BIRD 2 over one eBGP session on IPv6 transport,
// in namespaces this test creates:
//   tern — AS 65020, IPv4 and IPv6 unicast on the session, RFC 8950 extended next hop on
//   bird — AS 65010, `ipv4 { extended next hop on; }`
// Proves: IPv4 routes cross in both directions with IPv6 next hops (RFC 8950), and a withdrawal
// from tern reaches BIRD; RFC 7313 enhanced route refresh in both directions (BIRD's `reload in`
// asks us; a changed import policy makes us ask BIRD). Needs root, bird, birdc, ip, curl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, TernDaemon, waitUntil } from './helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let tern: Host;
let birdHost: Host;
let bgpd: TernDaemon;
let bird: Bird;

function ternConfig(importPolicy: string): object {
  return {
    asNumber: 65020,
    routerId: tern.fabricIp,
    policies: [{ name: 'all', default: 'accept' }, { name: 'all-again', default: 'accept', terms: [{ name: 'lp', then: { localPref: 150 } }] }],
    peers: [{
      address: birdHost.ipv6!, asNumber: 65010, families: ['ipv4', 'ipv6'], extendedNextHop: true,
      importPolicies: [importPolicy], exportPolicies: ['all'],
      timers: { connectRetry: 1, idleHold: 1, idleHoldMax: 2 },
    }],
    originate: [{ prefix: '10.20.8.0/24' }],
  };
}

/** tern's message counters for the BIRD peer, from the ops port's /metrics. */
async function messages(dir: 'sent' | 'received', type: string): Promise<number> {
  const r = await lab.exec(tern, 'curl', ['-s', `http://${tern.fabricIp}:9181/metrics`], { allowFail: true });
  const line = r.stdout.split('\n').find((l) => l.startsWith(`tern_bgp_messages_${dir}_total{`) && l.includes(`type="${type}"`) && l.includes(`peer="${birdHost.ipv6}"`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe.skipIf(!isRoot)('tern-bgpd and BIRD 2: extended next hop and enhanced route refresh', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.98.0.0/24');
    [tern, birdHost] = (await lab.addHosts([{ name: 'tern', ipv6: true }, { name: 'bird', ipv6: true }])) as [Host, Host];
    bird = new Bird(lab, birdHost);
    bird.start(`
router id ${birdHost.fabricIp};
protocol device {}
protocol static s4 { ipv4; route 192.0.2.0/24 blackhole; }
protocol bgp ebgp6 {
  local ${birdHost.ipv6} as 65010;
  neighbor ${tern.ipv6} as 65020;
  connect retry time 1; error wait time 1, 2;
  enable route refresh on;
  ipv4 { extended next hop on; import all; export where source = RTS_STATIC; };
  ipv6 { import all; export none; };
}
`);
    bgpd = new TernDaemon(lab, tern, 'tern-bgpd', 9181);
    bgpd.writeConfig(ternConfig('all'));
    await bgpd.start();
  }, 60_000);

  afterAll(async () => {
    await bgpd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('the session negotiates extended next hop for IPv4 and enhanced route refresh', async () => {
    const p = await bgpd.waitEstablished(birdHost.ipv6!).catch(async (e: Error) => {
      throw new Error(`${e.message}\nBIRD: ${await bird.c('show', 'protocols', 'all', 'ebgp6')}\ntern: ${JSON.stringify(await bgpd.peer(birdHost.ipv6!))}`);
    });
    expect(p.capabilities.join(' ')).toMatch(/extended-next-hop/);
    expect(p.capabilities.join(' ')).toMatch(/enhanced-route-refresh/);
    const b = await bird.c('show', 'protocols', 'all', 'ebgp6');
    expect(b).toMatch(/Enhanced refresh/);
    expect(b).toMatch(/Extended next hop/);
  });

  it('our IPv4 route reaches BIRD with our IPv6 address as next hop (MP_REACH_NLRI AFI 1)', async () => {
    await waitUntil('10.20.8.0/24 in BIRD', async () => (await bird.route('10.20.8.0/24')) !== '');
    const r = await bird.route('10.20.8.0/24');
    expect(r).toContain(`BGP.next_hop: ${tern.ipv6}`);
    expect(r).toMatch(/BGP\.as_path: 65020\s*\n/);
  });

  it("BIRD's IPv4 route reaches tern with BIRD's IPv6 address as next hop", async () => {
    let routes: Awaited<ReturnType<TernDaemon['routes']>> = [];
    await waitUntil('192.0.2.0/24 in tern', async () => (routes = await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' })).length === 1);
    expect(routes[0]!.paths[0]!.nextHop).toBe(birdHost.ipv6);
  });

  it('a route added and deleted over gRPC is announced to and withdrawn from BIRD', async () => {
    await bgpd.call('addPath', { path: { prefix: '10.20.9.0/24', communities: [], largeCommunities: [] } });
    await waitUntil('10.20.9.0/24 in BIRD', async () => (await bird.route('10.20.9.0/24')).includes(`BGP.next_hop: ${tern.ipv6}`));
    await bgpd.call('deletePath', { prefix: '10.20.9.0/24' });
    await waitUntil('10.20.9.0/24 gone from BIRD', async () => (await bird.route('10.20.9.0/24')) === '');
    expect(await bird.route('10.20.8.0/24')).not.toBe('');
  });

  it("BIRD's `reload in` gets BoRR, our routes and EoRR back; BIRD keeps our routes", async () => {
    const before = await messages('sent', 'routeRefresh');
    const since = await bird.since('ebgp6');
    await bird.c('reload', 'in', 'ebgp6');
    // One BoRR and one EoRR per family BIRD asked for (IPv4 and IPv6).
    await waitUntil('BoRR and EoRR sent', async () => (await messages('sent', 'routeRefresh')) >= before + 4);
    // Had EoRR come without the routes, BIRD would have dropped them (RFC 7313 §4.2).
    await new Promise((r) => setTimeout(r, 500));
    expect(await bird.route('10.20.8.0/24')).toContain(`BGP.next_hop: ${tern.ipv6}`);
    expect(await bird.sameSession('ebgp6', since)).toBe(true);
  });

  it('a changed import policy makes tern ask BIRD; BIRD answers with BoRR/EoRR and its route stays', async () => {
    const before = await messages('received', 'routeRefresh');
    bgpd.writeConfig(ternConfig('all-again'));
    await bgpd.call('reload', {});
    await waitUntil('BoRR and EoRR received', async () => (await messages('received', 'routeRefresh')) >= before + 2);
    let routes: Awaited<ReturnType<TernDaemon['routes']>> = [];
    await waitUntil('192.0.2.0/24 with the new policy applied', async () =>
      (routes = await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' })).length === 1 && routes[0]!.paths[0]!.localPref === 150);
    expect(routes[0]!.paths[0]!.nextHop).toBe(birdHost.ipv6);
  });
});
