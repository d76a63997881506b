// tern-bgpd (the compiled daemon) against real BIRD 2 and GoBGP in network namespaces this test
// creates (Lab):
//   tern  — tern-bgpd, AS 65020: eBGP/IPv4 to BIRD (hold 3 s), iBGP/IPv6 to BIRD (local AS 65010),
//           eBGP/IPv4 to GoBGP (config), iBGP/IPv6 to GoBGP (local AS 65030, added over gRPC)
//   bird  — BIRD 2, AS 65010
//   gobgp — gobgpd, AS 65030
// Routes are checked on the far side with birdc / gobgp, ours through the gRPC API and `tern bgp`.
// Needs root, bird, birdc, gobgpd, gobgp, nft, ip. Real time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../../src/cli/index.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import type { BestPathEvent__Output } from '../../../src/proto/gen/tern/bgp/v1/BestPathEvent.js';
import type { ReloadResponse__Output } from '../../../src/proto/gen/tern/bgp/v1/ReloadResponse.js';
import { Bird, GoAttr, GoBgp, type GoPath, sleep, TernDaemon, waitUntil } from './helpers.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let tern: Host;
let birdHost: Host;
let goHost: Host;
let bgpd: TernDaemon;
let bird: Bird;
let gobgp: GoBgp;

const attr = (p: GoPath, type: number) => p.attrs.find((a) => a.type === type);

function ternConfig(o: { birdExport?: string[]; extraOriginate?: object[]; drop102?: boolean; gobgpDescription?: string } = {}): object {
  return {
    asNumber: 65020,
    routerId: tern.fabricIp,
    multipath: { enabled: true, relax: true },
    gracefulRestart: { enabled: true, restartTime: 120 },
    policies: [{ name: 'all', default: 'accept' }, {
      name: 'no-192', default: 'accept',
      terms: [{ name: 'drop', match: { prefixes: [{ prefix: '192.0.2.0/24' }] }, then: { action: 'reject' } }],
    }],
    peers: [
      { address: birdHost.fabricIp, asNumber: 65010, description: 'bird-ebgp4', timers: { hold: 3, connectRetry: 1, idleHold: 1, idleHoldMax: 2 }, ...(o.birdExport ? { exportPolicies: o.birdExport } : {}) },
      { address: birdHost.ipv6!, asNumber: 65010, localAs: 65010, description: 'bird-ibgp6', timers: { connectRetry: 1, idleHold: 1, idleHoldMax: 2 } },
      { address: goHost.fabricIp, asNumber: 65030, description: o.gobgpDescription ?? 'gobgp-ebgp4', timers: { connectRetry: 1, idleHold: 1, idleHoldMax: 2 } },
    ],
    originate: [
      { prefix: '10.20.1.0/24', communities: ['65020:1'], largeCommunities: ['65020:1:1'], med: 50 },
      ...(o.drop102 ? [] : [{ prefix: '10.20.2.0/24' }]),
      { prefix: 'fd20:1::/48', localPref: 200, communities: ['65020:6'] },
      ...(o.extraOriginate ?? []),
    ],
  };
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    stdout: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
    stdin: process.stdin,
    env: {},
  } as unknown as CliIO;
  const code = await runCli([...argv, '--socket', bgpd.socket], io);
  return { code, out, err };
}

describe.skipIf(!isRoot)('tern-bgpd with BIRD 2 and GoBGP in namespaces', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [tern, birdHost, goHost] = (await lab.addHosts([
      { name: 'tern', ipv6: true },
      { name: 'bird', ipv6: true },
      { name: 'gobgp', ipv6: true },
    ])) as [Host, Host, Host];
    bird = new Bird(lab, birdHost);
    bird.start(`
router id ${birdHost.fabricIp};
protocol device {}
protocol direct { ipv4; ipv6; }
protocol static s4 { ipv4; route 192.0.2.0/24 blackhole; route 198.51.100.0/25 blackhole; }
protocol static s4b { disabled; ipv4; route 198.51.100.0/24 blackhole; }
protocol static s6 { ipv6; route 2001:db8:100::/48 blackhole; }
filter out4 {
  if source != RTS_STATIC then reject;
  bgp_community.add((65010,7)); bgp_large_community.add((65010,7,7)); bgp_med = 33; bgp_origin = ORIGIN_IGP;
  accept;
}
protocol bgp ebgp4 {
  local ${birdHost.fabricIp} as 65010;
  neighbor ${tern.fabricIp} as 65020;
  hold time 3; keepalive time 1;
  connect retry time 1; error wait time 1, 2;
  graceful restart on;
  ipv4 { import all; export filter out4; };
}
protocol bgp ibgp6 {
  local ${birdHost.ipv6} as 65010;
  neighbor ${tern.ipv6} as 65010;
  connect retry time 1; error wait time 1, 2;
  graceful restart on;
  ipv6 { import all; export where source = RTS_STATIC; next hop self; };
}
`);
    gobgp = new GoBgp(lab, goHost);
    gobgp.start(`
[global.config]
  as = 65030
  router-id = "${goHost.fabricIp}"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${tern.fabricIp}"
    peer-as = 65020
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${tern.ipv6}"
    peer-as = 65030
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`);
    bgpd = new TernDaemon(lab, tern, 'tern-bgpd');
    bgpd.writeConfig(ternConfig());
    await bgpd.start();
  }, 60_000);

  afterAll(async () => {
    await bgpd?.stop().catch(() => {});
    await lab?.destroy();
  });

  it('sessions reach Established: BIRD eBGP/IPv4 and iBGP/IPv6, GoBGP eBGP/IPv4 from config and iBGP/IPv6 added over gRPC', async () => {
    const added = await bgpd.call<{ peer: { source: string } }>('addPeer', {
      peer: { address: goHost.ipv6, peerAs: 65030, localAs: 65030, description: 'gobgp-ibgp6', connectRetrySeconds: 1 },
    });
    expect(added.peer.source).toBe('api');
    const p4 = await bgpd.waitEstablished(birdHost.fabricIp);
    await bgpd.waitEstablished(birdHost.ipv6!);
    await bgpd.waitEstablished(goHost.fabricIp);
    await bgpd.waitEstablished(goHost.ipv6!);
    expect(p4.capabilities).toEqual(expect.arrayContaining(['route-refresh', '4-octet-as', 'graceful-restart 120s']));
    expect(p4.remoteRouterId).toBe(birdHost.fabricIp);
    expect(await bird.c('show', 'protocols', 'all', 'ebgp4')).toMatch(/Hold timer:\s+[\d.]+\/3/);
    expect(await gobgp.neighborState(tern.ipv6!)).toMatch(/established/i);
  });

  it('our routes reach BIRD and GoBGP with AS path, next hop, communities, large communities, MED, and LOCAL_PREF on iBGP', async () => {
    // An AddPath route next to the configured ones.
    await bgpd.call('addPath', { path: { prefix: '10.20.3.0/24', communities: ['65020:3'], largeCommunities: [] } });
    await waitUntil('10.20.1.0/24 and 10.20.3.0/24 in BIRD', async () => (await bird.route('10.20.1.0/24')) !== '' && (await bird.route('10.20.3.0/24')) !== '');
    const b = await bird.route('10.20.1.0/24');
    expect(b).toMatch(/BGP\.as_path: 65020\s*\n/);
    expect(b).toContain(`BGP.next_hop: ${tern.fabricIp}`);
    expect(b).toContain('BGP.med: 50');
    expect(b).toContain('BGP.community: (65020,1)');
    expect(b).toContain('BGP.large_community: (65020, 1, 1)');
    expect(await bird.route('10.20.3.0/24')).toContain('BGP.community: (65020,3)');

    await waitUntil('fd20:1::/48 in BIRD (iBGP)', async () => (await bird.route('fd20:1::/48')) !== '');
    const b6 = await bird.route('fd20:1::/48');
    expect(b6).toContain('BGP.local_pref: 200');
    expect(b6).toMatch(/BGP\.as_path:\s*\n/);
    expect(b6).toContain(`BGP.next_hop: ${tern.ipv6}`);
    expect(b6).toContain('BGP.community: (65020,6)');

    await waitUntil('10.20.1.0/24 in GoBGP', async () => (await gobgp.rib('ipv4'))['10.20.1.0/24'] !== undefined);
    const g = (await gobgp.rib('ipv4'))['10.20.1.0/24']![0]!;
    expect(attr(g, GoAttr.AS_PATH)?.as_paths?.[0]?.asns).toEqual([65020]);
    expect(attr(g, GoAttr.NEXT_HOP)?.nexthop).toBe(tern.fabricIp);
    expect(attr(g, GoAttr.MED)?.metric).toBe(50);
    expect(attr(g, GoAttr.COMMUNITIES)?.communities).toEqual([65020 * 65536 + 1]);
    expect(attr(g, GoAttr.LARGE_COMMUNITY)?.value).toEqual([{ ASN: 65020, LocalData1: 1, LocalData2: 1 }]);
    await waitUntil('fd20:1::/48 in GoBGP (iBGP)', async () => (await gobgp.rib('ipv6'))['fd20:1::/48'] !== undefined);
    const g6 = (await gobgp.rib('ipv6'))['fd20:1::/48']![0]!;
    expect(attr(g6, GoAttr.LOCAL_PREF)?.value).toBe(200);
    expect(attr(g6, GoAttr.AS_PATH)?.as_paths ?? []).toEqual([]);
  });

  it('their routes reach us with their attributes (BIRD eBGP and iBGP, GoBGP eBGP)', async () => {
    await gobgp.c('global', 'rib', 'add', '-a', 'ipv4', '10.30.0.0/24', 'community', '65030:3', 'large-community', '65030:3:3', 'med', '30');
    await waitUntil('all three in our Loc-RIB', async () => {
      const r = await bgpd.routes({ table: 'LOC_RIB', family: 'FAMILY_UNSPECIFIED' });
      const have = new Set(r.map((x) => x.prefix));
      return have.has('192.0.2.0/24') && have.has('2001:db8:100::/48') && have.has('10.30.0.0/24');
    });
    const [r4] = await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' });
    const p = r4!.paths[0]!;
    expect(p.asPath).toEqual([{ set: false, asns: [65010] }]);
    expect(p.nextHop).toBe(birdHost.fabricIp);
    expect(p.med).toBe(33);
    expect(p.communities).toEqual(['65010:7']);
    expect(p.largeCommunities).toEqual(['65010:7:7']);
    expect(p.peerAddress).toBe(birdHost.fabricIp);
    const [r6] = await bgpd.routes({ table: 'LOC_RIB', prefix: '2001:db8:100::/48' });
    expect(r6!.paths[0]!.localPref).toBe(100);
    expect(r6!.paths[0]!.nextHop).toBe(birdHost.ipv6);
    const [rg] = await bgpd.routes({ table: 'LOC_RIB', prefix: '10.30.0.0/24' });
    expect(rg!.paths[0]).toMatchObject({ med: 30, communities: ['65030:3'], largeCommunities: ['65030:3:3'], nextHop: goHost.fabricIp });
    // eBGP without an export policy gets only our own routes: GoBGP's route stays away from BIRD.
    await sleep(500);
    expect(await bird.route('10.30.0.0/24')).toBe('');
  });

  it('ListRoutes filters by family, prefix, Adj-RIB-In and Adj-RIB-Out of a peer', async () => {
    const v6 = await bgpd.routes({ table: 'LOC_RIB', family: 'IPV6_UNICAST' });
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every((r) => r.family === 'IPV6_UNICAST')).toBe(true);
    expect(v6.map((r) => r.prefix)).toContain('fd20:1::/48');
    const limited = await bgpd.routes({ table: 'LOC_RIB', limit: 2 });
    expect(limited).toHaveLength(2);
    const adjIn = await bgpd.routes({ table: 'ADJ_RIB_IN', peer: birdHost.fabricIp });
    expect(adjIn.map((r) => r.prefix).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/25']);
    expect(adjIn.every((r) => r.paths.every((p) => p.peerAddress === birdHost.fabricIp))).toBe(true);
    const adjOut = await bgpd.routes({ table: 'ADJ_RIB_OUT', peer: birdHost.fabricIp });
    expect(adjOut.map((r) => r.prefix).sort()).toEqual(['10.20.1.0/24', '10.20.2.0/24', '10.20.3.0/24']);
    const out1 = adjOut.find((r) => r.prefix === '10.20.1.0/24')!.paths[0]!;
    expect(out1.asPath).toEqual([{ set: false, asns: [65020] }]);
    expect(out1.nextHop).toBe(tern.fabricIp);
    expect(out1.localPref).toBeUndefined();
    const outV6 = await bgpd.routes({ table: 'ADJ_RIB_OUT', peer: birdHost.ipv6!, prefix: 'fd20:1::/48' });
    expect(outV6[0]!.paths[0]!.localPref).toBe(200);
  });

  it('WatchBestPaths: snapshot, SNAPSHOT_END, then changes with multipath next hops as BIRD and GoBGP announce and withdraw', async () => {
    const w = bgpd.watchBest('IPV4_UNICAST');
    try {
      await waitUntil('SNAPSHOT_END', () => w.events.some((e) => e.type === 'SNAPSHOT_END'));
      const end = w.events.findIndex((e) => e.type === 'SNAPSHOT_END');
      const snap = w.events.slice(0, end);
      expect(snap.map((e) => e.prefix)).toEqual(expect.arrayContaining(['192.0.2.0/24', '10.30.0.0/24', '10.20.1.0/24']));
      expect(snap.every((e) => e.family === 'IPV4_UNICAST' && e.type === 'UPSERT')).toBe(true);
      const last = (pfx: string): BestPathEvent__Output | undefined => w.events.slice(end + 1).filter((e) => e.prefix === pfx).at(-1);
      const P = '198.51.100.0/24';
      await bird.c('enable', 's4b');
      await waitUntil('UPSERT from BIRD', () => last(P)?.type === 'UPSERT' && last(P)!.nextHops.join() === birdHost.fabricIp);
      await gobgp.c('global', 'rib', 'add', '-a', 'ipv4', P, 'origin', 'igp');
      await waitUntil('both next hops', () => last(P)?.nextHops.length === 2);
      expect([...last(P)!.nextHops].sort()).toEqual([birdHost.fabricIp, goHost.fabricIp].sort());
      await bird.c('disable', 's4b');
      await waitUntil('GoBGP only', () => last(P)?.nextHops.join() === goHost.fabricIp);
      await gobgp.c('global', 'rib', 'del', '-a', 'ipv4', P);
      await waitUntil('WITHDRAW', () => last(P)?.type === 'WITHDRAW');
    } finally {
      w.cancel();
    }
  });

  it('DeletePath withdraws from BIRD; `birdc reload in` makes BIRD ask for our routes again (ROUTE-REFRESH)', async () => {
    await bgpd.call('deletePath', { prefix: '10.20.3.0/24' });
    await waitUntil('10.20.3.0/24 gone from BIRD', async () => (await bird.route('10.20.3.0/24')) === '');
    const before = (await bgpd.peer(birdHost.fabricIp))!.updatesOut;
    await bird.c('reload', 'in', 'ebgp4');
    await waitUntil('UPDATEs re-sent to BIRD', async () => (await bgpd.peer(birdHost.fabricIp))!.updatesOut > before);
  });

  it('a soft change (import policy) keeps the session and re-reads BIRD\'s routes through ROUTE-REFRESH', async () => {
    const since = await bird.since('ebgp4');
    const peer = (await bgpd.peer(birdHost.fabricIp))!;
    const cfg = { ...peer.config!, importPolicies: ['no-192'], families: [], gracefulRestart: null };
    await bgpd.call('updatePeer', { peer: cfg });
    await waitUntil('192.0.2.0/24 dropped by the new import policy', async () => (await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' })).length === 0);
    expect((await bgpd.routes({ table: 'LOC_RIB', prefix: '198.51.100.0/25' })).length).toBe(1);
    await bgpd.call('updatePeer', { peer: { ...cfg, importPolicies: [] } });
    await waitUntil('192.0.2.0/24 back', async () => (await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' })).length === 1);
    expect(await bird.sameSession('ebgp4', since)).toBe(true);
    expect((await bgpd.peer(birdHost.fabricIp))!.established).toBe(peer.established);
  });

  it('Reload: an export policy lets GoBGP\'s route through to BIRD, a new route appears; no session resets; the gRPC peer stays', async () => {
    const since4 = await bird.since('ebgp4');
    const since6 = await bird.since('ibgp6');
    bgpd.writeConfig(ternConfig({ birdExport: ['all'], extraOriginate: [{ prefix: '10.20.4.0/24' }] }));
    const r = await bgpd.call<ReloadResponse__Output>('reload', {});
    expect(r.changedPeers).toEqual([birdHost.fabricIp]);
    expect(r.resetPeers).toEqual([]);
    expect(r.addedPeers).toEqual([]);
    expect(r.deletedPeers).toEqual([]);
    await waitUntil('GoBGP route at BIRD', async () => (await bird.route('10.30.0.0/24')) !== '');
    expect(await bird.route('10.30.0.0/24')).toMatch(/BGP\.as_path: 65020 65030\s*\n/);
    await waitUntil('10.20.4.0/24 at BIRD', async () => (await bird.route('10.20.4.0/24')) !== '');
    expect(await bird.sameSession('ebgp4', since4)).toBe(true);
    expect(await bird.sameSession('ibgp6', since6)).toBe(true);
    expect((await bgpd.peer(goHost.ipv6!))?.state).toBe('Established');
  });

  it('SIGHUP reloads the file: a removed route is withdrawn, a description change resets nothing', async () => {
    const since4 = await bird.since('ebgp4');
    const goEst = (await bgpd.peer(goHost.fabricIp))!.established;
    bgpd.writeConfig(ternConfig({ birdExport: ['all'], gobgpDescription: 'renamed' }));
    process.kill(bgpd.pid, 'SIGHUP');
    await waitUntil('10.20.4.0/24 withdrawn from BIRD', async () => (await bird.route('10.20.4.0/24')) === '');
    await waitUntil('description applied', async () => (await bgpd.peer(goHost.fabricIp))!.config!.description === 'renamed');
    expect(await bird.sameSession('ebgp4', since4)).toBe(true);
    expect((await bgpd.peer(goHost.fabricIp))!.established).toBe(goEst);
  });

  it('`tern bgp` prints peers and routes as tables and JSON; announce and withdraw reach BIRD', async () => {
    const peers = await cli('bgp', 'peers');
    expect(peers.code, peers.err).toBe(0);
    expect(peers.out.split('\n')[0]).toMatch(/^PEER\s+AS\s+STATE\s+SINCE\s+RCVD\/ACC\/ADV\s+SOURCE\s+BFD\s+INFO/);
    expect(peers.out).toMatch(new RegExp(`${birdHost.fabricIp.replace(/\./g, '\\.')}\\s+65010\\s+Established\\s+\\d\\d:\\d\\d:\\d\\d\\s+\\d+/2/\\d+\\s+config`));
    expect(peers.out).toMatch(/gobgp-ibgp6|api/);
    const json = await cli('bgp', 'peers', '-o', 'json');
    const list = JSON.parse(json.out) as { state: string; config: { address: string } }[];
    expect(list.find((p) => p.config.address === birdHost.fabricIp)?.state).toBe('Established');
    const one = await cli('bgp', 'peers', birdHost.fabricIp);
    expect(one.out).toMatch(/capabilities\s+.*route-refresh/);
    const rib = await cli('bgp', 'rib', '192.0.2.0/24');
    expect(rib.out).toMatch(/^\*>\s+192\.0\.2\.0\/24\s+10\.99\.0\.\d+\s+65010\s+33\s+I\s+65010:7 65010:7:7\s+10\.99\.0\.\d+$/m);
    const adjOut = await cli('bgp', 'adj-out', birdHost.fabricIp, '--family', 'ipv4');
    expect(adjOut.out).toMatch(/10\.20\.1\.0\/24\s+\S+\s+65020\s+50\s+I\s+65020:1 65020:1:1/);
    const adjIn = await cli('bgp', 'adj-in', goHost.fabricIp, '-o', 'json');
    expect((JSON.parse(adjIn.out) as { prefix: string }[]).map((r) => r.prefix)).toContain('10.30.0.0/24');
    const ann = await cli('bgp', 'announce', '10.20.9.0/24', '--community', '65020:9', '--large-community', '65020:9:9', '--med', '9');
    expect(ann.code, ann.err).toBe(0);
    await waitUntil('announced route at BIRD', async () => (await bird.route('10.20.9.0/24')).includes('BGP.large_community: (65020, 9, 9)'));
    expect(await bird.route('10.20.9.0/24')).toContain('BGP.med: 9');
    expect((await cli('bgp', 'withdraw', '10.20.9.0/24')).code).toBe(0);
    await waitUntil('withdrawn at BIRD', async () => (await bird.route('10.20.9.0/24')) === '');
    const bad = await cli('bgp', 'announce', 'not-a-prefix');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/path: prefix: must be a prefix/);
  });

  it('metrics and health on the ops port', async () => {
    const get = async (path: string): Promise<string> =>
      (await lab.exec(tern, process.execPath, ['-e', `fetch('http://${tern.fabricIp}:9180${path}').then(async (r) => console.log(r.status, await r.text()))`])).stdout;
    expect(await get('/ready')).toMatch(/^200 OK/);
    const m = await get('/metrics');
    // Label order is prom-client's business: match each sample by its labels in any order.
    const sample = (name: string, labels: Record<string, string>): number[] =>
      m.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))).map((l) => Number(l.split(' ').at(-1)));
    expect(sample('tern_bgp_peers', { state: 'Established', daemon: 'tern-bgpd' })).toEqual([4]);
    expect(sample('tern_bgp_peer_prefixes_accepted', { peer: birdHost.fabricIp })).toEqual([2]);
    expect(sample('tern_bgp_peer_prefixes_advertised', { peer: birdHost.fabricIp })[0]).toBeGreaterThan(0);
    expect(sample('tern_bgp_messages_received_total', { peer: birdHost.fabricIp, type: 'update' })[0]).toBeGreaterThan(0);
    expect(sample('tern_bgp_best_path_changes_total', {})[0]).toBeGreaterThan(0);
  });

  it('DeletePeer at run time ends the GoBGP iBGP session', async () => {
    await bgpd.call('deletePeer', { address: goHost.ipv6, shutdownMessage: 'bye' });
    expect(await bgpd.peer(goHost.ipv6!)).toBeUndefined();
    await waitUntil('GoBGP saw it', async () => !/established/i.test(await gobgp.neighborState(tern.ipv6!)));
  });

  it('`birdc restart` resets the session; it comes back with the routes', async () => {
    const flaps = (await bgpd.peer(birdHost.fabricIp))!.flaps;
    await bird.c('restart', 'ebgp4');
    await waitUntil('flap seen', async () => (await bgpd.peer(birdHost.fabricIp))!.flaps > flaps);
    await bgpd.waitEstablished(birdHost.fabricIp);
    await waitUntil('routes back', async () => (await bgpd.routes({ table: 'LOC_RIB', prefix: '192.0.2.0/24' })).length === 1 && (await bird.route('10.20.1.0/24')) !== '');
  });

  it('a silent cut is caught by the 3 s hold timer; the session recovers when the link is back', async () => {
    await lab.cutLink(tern, { mode: 'drop' });
    try {
      await waitUntil('hold timer expiry', async () => {
        const p = (await bgpd.peer(birdHost.fabricIp))!;
        return p.state !== 'Established' && p.lastError.startsWith('sent 4/0');
      }, 15_000);
    } finally {
      await lab.restoreLink(tern);
    }
    await bgpd.waitEstablished(birdHost.fabricIp);
  });

  it('graceful restart: after kill -9 BIRD keeps our routes (stale); we come back, send End-of-RIB, and what we no longer announce is swept', async () => {
    await waitUntil('our routes in BIRD', async () => (await bird.route('10.20.1.0/24')) !== '' && (await bird.route('10.20.2.0/24')) !== '');
    process.kill(bgpd.pid, 'SIGKILL');
    await bgpd.proc!.wait();
    await waitUntil('BIRD noticed', async () => !(await bird.established('ebgp4')));
    // Longer than BIRD's hold time: the routes are kept by graceful restart, not by a live session.
    await sleep(4000);
    expect(await bird.route('10.20.1.0/24')).not.toBe('');
    expect(await bird.route('10.20.2.0/24')).not.toBe('');
    bgpd.writeConfig(ternConfig({ birdExport: ['all'], drop102: true }));
    await bgpd.start();
    await bgpd.waitEstablished(birdHost.fabricIp);
    await waitUntil('10.20.2.0/24 swept after End-of-RIB', async () => (await bird.route('10.20.2.0/24')) === '');
    expect(await bird.route('10.20.1.0/24')).toContain('BGP.med: 50');
  });

  it('max-prefix: above the limit we send Cease / Maximum Number of Prefixes Reached', async () => {
    const peer = (await bgpd.waitEstablished(birdHost.fabricIp))!;
    await bgpd.call('updatePeer', { peer: { ...peer.config!, maxPrefixes: 1, families: [], gracefulRestart: null } });
    await bird.c('reload', 'out', 'ebgp4');
    // Cease 6/1, or 6/9 (Hard Reset carrying 6/1) when the RFC 8538 N bit was negotiated.
    await waitUntil('left Established', async () => (await bgpd.peer(birdHost.fabricIp))!.state !== 'Established');
    await waitUntil('Cease sent', async () => /^sent 6\/(1|9)\b/.test((await bgpd.peer(birdHost.fabricIp))!.lastError));
    await waitUntil('BIRD saw it', async () => /Maximum number of prefixes reached|Hard reset/i.test(await bird.c('show', 'protocols', 'all', 'ebgp4')));
  });
});
