// tern-bgpd (the compiled daemon) against real BIRD 2 over one eBGP session on IPv6 transport,
// in namespaces this test creates (each host has a veth to the lab's fabric bridge, so the two
// are directly connected; DAD is off there, so link-local addresses exist as soon as the link is up):
//   tern — AS 65030, announces 2001:db8:77::/48 with itself as next hop
//   bird — AS 65010, imports IPv6 unicast
// Proves RFC 2545 §3 on the sending side: BIRD receives a 32-octet next hop (tern's fabric address
// and the link-local of tern's fabric interface); after `linkLocalNextHop: false` and a reload, the
// same route comes again with the global address only, without a new session. Needs root, bird,
// birdc, ip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { Bird, TernDaemon, waitUntil } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const PREFIX = '2001:db8:77::/48';

let lab: Lab;
let tern: Host;
let birdHost: Host;
let bgpd: TernDaemon;
let bird: Bird;
let ternLinkLocal = '';

function ternConfig(linkLocalNextHop: boolean | undefined): object {
  return {
    asNumber: 65030,
    routerId: tern.fabricIp,
    peers: [{
      address: birdHost.ipv6!, asNumber: 65010, families: ['ipv6'],
      timers: { connectRetry: 1, idleHold: 1, idleHoldMax: 2 },
      ...(linkLocalNextHop === undefined ? {} : { linkLocalNextHop }),
    }],
    originate: [{ prefix: PREFIX }],
  };
}

/** The link-local address of a host's fabric interface, read from the kernel. */
async function linkLocalOf(h: Host): Promise<string> {
  const r = await lab.exec(h, 'ip', ['-6', '-o', 'addr', 'show', 'dev', h.iface, 'scope', 'link'], { allowFail: true });
  return /inet6 (fe80:[0-9a-f:]+)\//.exec(r.stdout)?.[1] ?? '';
}

/** BIRD's `BGP.next_hop:` line for the prefix: the addresses it was given, in order. */
async function birdNextHops(): Promise<string[]> {
  const line = (await bird.route(PREFIX)).split('\n').find((l) => l.includes('BGP.next_hop:'));
  return line === undefined ? [] : line.split('BGP.next_hop:')[1]!.trim().split(/\s+/);
}

describe.skipIf(!isRoot)('tern-bgpd and BIRD 2: 32-octet IPv6 next hops to a directly connected peer', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.97.0.0/24');
    [tern, birdHost] = (await lab.addHosts([{ name: 'tern', ipv6: true }, { name: 'bird', ipv6: true }])) as [Host, Host];
    await waitUntil('link-local on tern', async () => (ternLinkLocal = await linkLocalOf(tern)) !== '');
    bird = new Bird(lab, birdHost);
    bird.start(`
router id ${birdHost.fabricIp};
protocol device {}
protocol bgp ebgp6 {
  local ${birdHost.ipv6} as 65010;
  neighbor ${tern.ipv6} as 65030;
  connect retry time 1; error wait time 1, 2;
  ipv6 { import all; export none; };
}
`);
    bgpd = new TernDaemon(lab, tern, 'tern-bgpd', 9182);
    bgpd.writeConfig(ternConfig(undefined));
    await bgpd.start();
  }, 60_000);

  afterAll(async () => {
    await bgpd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('by default BIRD gets our fabric address and our link-local as next hops', async () => {
    await bgpd.waitEstablished(birdHost.ipv6!).catch(async (e: Error) => {
      throw new Error(`${e.message}\nBIRD: ${await bird.c('show', 'protocols', 'all', 'ebgp6')}`);
    });
    await waitUntil(`${PREFIX} in BIRD`, async () => (await birdNextHops()).length > 0);
    expect(ternLinkLocal).toMatch(/^fe80:/);
    expect(await birdNextHops()).toEqual([tern.ipv6, ternLinkLocal]);
  });

  it('with linkLocalNextHop: false (reloaded) the route comes again with the global address only, same session', async () => {
    const since = await bird.since('ebgp6');
    expect(since).not.toBeNaN();
    bgpd.writeConfig(ternConfig(false));
    await bgpd.call('reload', {});
    await waitUntil('16-octet next hop in BIRD', async () => (await birdNextHops()).length === 1);
    expect(await birdNextHops()).toEqual([tern.ipv6]);
    expect(await bird.sameSession('ebgp6', since)).toBe(true);
  });
});
