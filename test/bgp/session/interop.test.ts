// Interop of BgpSession with real BIRD 2 and GoBGP in network namespaces this test creates (Lab):
//   tern  — our SessionManager's sockets (through NetnsTransport), AS 65020 / 65010
//   bird  — BIRD 2, AS 65010: eBGP over IPv4 (hold 3 s) and iBGP over IPv6
//   gobgp — gobgpd, AS 65030: eBGP over IPv4
// Needs root, bird, birdc, gobgpd, gobgp, nft, ip. Real time: no fake clock here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionManager as SessionManagerType } from '../../../src/bgp/session/manager.js';
import { SessionManager } from '../../../src/bgp/session/manager.js';
import type { PeerDescriptor } from '../../../src/bgp/peer.js';
import type { BgpSession } from '../../../src/bgp/session/fsm.js';
import { endOfRibMessage, IPV4_UNICAST, IPV6_UNICAST, prefix, UpdateBuilder, type PathAttribute } from '../../../src/bgp/wire/index.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { recordTransitions, sleep, waitFor, waitState } from './helpers.js';
import { NetnsTransport } from './netns-transport.js';
import { RecordingRib } from './recording-rib.js';

const isRoot = process.getuid?.() === 0;

let lab: Lab;
let tern: Host;
let bird: Host;
let gobgp: Host;
let transport: NetnsTransport;
let mgr: SessionManagerType;
const rib = new RecordingRib();
let s4: BgpSession; // eBGP to BIRD over IPv4
let s6: BgpSession; // iBGP to BIRD over IPv6
let sgo: BgpSession; // eBGP to GoBGP
let log4: string[];
let birdSock = '';

async function birdc(...args: string[]): Promise<string> {
  const r = await lab.exec(bird, 'birdc', ['-s', birdSock, ...args], { allowFail: true });
  return r.stdout;
}

async function gobgpCli(...args: string[]): Promise<string> {
  const r = await lab.exec(gobgp, 'gobgp', ['-p', '50051', ...args], { allowFail: true });
  return r.stdout + r.stderr;
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The UPDATE(s) we announce to BIRD over the eBGP session, built with the negotiated send context. */
function ourUpdates(d: PeerDescriptor, prefixes: string[]): Uint8Array[] {
  const attrs: PathAttribute[] = [
    { type: 'ORIGIN', origin: 0 },
    { type: 'AS_PATH', segments: [{ type: 2, asns: [d.localAs] }] },
    { type: 'NEXT_HOP', nextHop: d.localAddress },
  ];
  const b = new UpdateBuilder({ ctx: d.sendCtx, afi: 1, attributes: attrs });
  for (const p of prefixes) b.add(prefix(p));
  return [...b.take(), endOfRibMessage(1, 1)];
}

describe.skipIf(!isRoot)('BGP session interop with BIRD 2 and GoBGP in namespaces', () => {
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    const hosts = await lab.addHosts([
      { name: 'tern', ipv6: true },
      { name: 'bird', ipv6: true },
      { name: 'gobgp' },
    ]);
    [tern, bird, gobgp] = hosts as [Host, Host, Host];
    const t6 = tern.ipv6!;
    const b6 = bird.ipv6!;
    birdSock = join(lab.dir, 'bird.ctl');
    writeFileSync(
      join(lab.dir, 'bird.conf'),
      `
router id ${bird.fabricIp};
protocol device {}
protocol direct { ipv4; ipv6; }
protocol static s4 { ipv4; route 192.0.2.0/24 blackhole; route 198.51.100.0/25 blackhole; }
protocol static s6 { ipv6; route 2001:db8:100::/48 blackhole; }
protocol bgp ebgp4 {
  local ${bird.fabricIp} as 65010;
  neighbor ${tern.fabricIp} as 65020;
  hold time 3; keepalive time 1;
  connect retry time 2; error wait time 1, 2;
  graceful restart on;
  ipv4 { import all; export where source = RTS_STATIC; };
}
protocol bgp ibgp6 {
  local ${b6} as 65010;
  neighbor ${t6} as 65010;
  connect retry time 2; error wait time 1, 2;
  ipv6 { import all; export where source = RTS_STATIC; next hop self; };
}
`,
    );
    lab.spawn(bird, 'bird', ['-f', '-c', join(lab.dir, 'bird.conf'), '-s', birdSock, '-P', join(lab.dir, 'bird.pid')]);
    writeFileSync(
      join(lab.dir, 'gobgpd.toml'),
      `
[global.config]
  as = 65030
  router-id = "${gobgp.fabricIp}"
  local-address-list = ["${gobgp.fabricIp}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${tern.fabricIp}"
    peer-as = 65020
  [neighbors.timers.config]
    connect-retry = 2
    hold-time = 30
    keepalive-interval = 10
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 60
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
`,
    );
    lab.spawn(gobgp, 'gobgpd', ['-f', join(lab.dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50051', '--pprof-disable']);

    transport = await NetnsTransport.start(tern.netns);
    lab.adopt(transport.pid!, { netns: tern.netns, command: 'netns socket helper' });
    mgr = new SessionManager({ rib, port: 179, bind: ['::'], transport });
    await mgr.start();
    const common = { routerId: tern.fabricIp, connectRetryTime: 2, idleHoldTime: 1, maxIdleHoldTime: 2, gracefulRestart: { restartTime: 120 } };
    s4 = mgr.addPeer({ ...common, address: bird.fabricIp, localAddress: tern.fabricIp, peerAs: 65010, localAs: 65020, holdTime: 3 }, { start: false });
    s6 = mgr.addPeer({ ...common, address: b6, localAddress: t6, peerAs: 65010, localAs: 65010 }, { start: false });
    sgo = mgr.addPeer({ ...common, address: gobgp.fabricIp, localAddress: tern.fabricIp, peerAs: 65030, localAs: 65020 }, { start: false });
    log4 = recordTransitions(s4);
    for (const s of [s4, s6, sgo]) s.start();
  }, 60_000);

  afterAll(async () => {
    await mgr?.stop('test over').catch(() => {});
    await transport?.close().catch(() => {});
    await lab?.destroy();
  });

  it('reaches Established with BIRD (eBGP/IPv4, iBGP/IPv6) and GoBGP, capabilities seen on both sides', async () => {
    await waitState(s4, 'Established', 20_000);
    await waitState(s6, 'Established', 20_000);
    await waitState(sgo, 'Established', 20_000);

    const n4 = s4.negotiated!;
    expect(n4.holdTime).toBe(3);
    expect(n4.keepaliveTime).toBe(1);
    expect(n4.families).toEqual([IPV4_UNICAST]);
    expect(n4.receiveCtx.as4).toBe(true);
    expect(n4.routeRefresh).toBe(true);
    expect(n4.enhancedRouteRefresh).toBe(true);
    expect(n4.gracefulRestart).not.toBeNull();
    expect(s4.peerDescriptor!.ibgp).toBe(false);
    expect(s6.peerDescriptor!.ibgp).toBe(true);
    expect(s6.negotiated!.families).toEqual([IPV6_UNICAST]);
    expect(sgo.negotiated!.gracefulRestart).not.toBeNull();

    const p = await birdc('show', 'protocols', 'all', 'ebgp4');
    expect(p).toMatch(/BGP state:\s+Established/);
    const theirs = p.slice(p.indexOf('Neighbor capabilities'));
    for (const cap of ['Multiprotocol', 'Route refresh', 'Graceful restart', '4-octet AS numbers', 'Enhanced refresh', 'Extended message'])
      expect(theirs, `BIRD sees our ${cap}`).toContain(cap);
    expect(p).toMatch(/Hold timer:\s+[\d.]+\/3/);
    const p6 = await birdc('show', 'protocols', 'all', 'ibgp6');
    expect(p6).toMatch(/BGP state:\s+Established/);

    const g = await gobgpCli('neighbor', tern.fabricIp);
    expect(g).toMatch(/BGP state = established/i);
    for (const cap of ['4-octet-as', 'route-refresh', 'graceful-restart'])
      expect(g, `GoBGP negotiated ${cap}`).toMatch(new RegExp(`\\b${cap}:\\s+advertised and received`));
    // GoBGP 3.10 does not send these two; it lists ours as received (extended message by code).
    expect(g).toMatch(/enhanced-route-refresh:\s+received/);
    expect(g).toMatch(/UnknownCapability\(6\):\s+received/);
    expect(g).toMatch(/Remote: restart time 120 sec, notification flag set/);
    // And we decoded what GoBGP sent: its FQDN and extended next hop capabilities.
    const kinds = sgo.negotiated!.remoteCapabilities.map((c) => c.kind);
    expect(kinds).toEqual(expect.arrayContaining(['fqdn', 'extended-next-hop', 'graceful-restart', 'as4']));
  });

  it('BIRD\'s static routes arrive as UPDATEs, then End-of-RIB', async () => {
    await waitFor('BIRD routes', () => rib.announced(s4.id).length >= 2 && rib.announced(s6.id).length >= 1, 10_000);
    expect(rib.announced(s4.id).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/25']);
    expect(rib.announced(s6.id)).toEqual(['2001:db8:100::/48']);
    await waitFor('End-of-RIB from BIRD', () => rib.of('endOfRib').some((c) => c.peerId === s4.id && c.family === IPV4_UNICAST), 10_000);
  });

  it('GoBGP\'s routes arrive too', async () => {
    await lab.exec(gobgp, 'gobgp', ['-p', '50051', 'global', 'rib', 'add', '-a', 'ipv4', '10.30.0.0/24']);
    await waitFor('GoBGP route', () => rib.announced(sgo.id).includes('10.30.0.0/24'), 10_000);
  });

  it('our UPDATE shows up in BIRD with our AS path and next hop', async () => {
    rib.queue(s4.id, ourUpdates(s4.peerDescriptor!, ['203.0.113.0/25', '203.0.113.128/25']));
    await waitUntil('route in BIRD', async () => (await birdc('show', 'route', '203.0.113.0/25', 'all')).includes('BGP.as_path'), 10_000);
    const r = await birdc('show', 'route', '203.0.113.0/25', 'all');
    expect(r).toMatch(/BGP\.as_path: 65020\b/);
    expect(r).toContain(`BGP.next_hop: ${tern.fabricIp}`);
    expect(r).toContain('ebgp4');
  });

  it('`birdc reload in` makes BIRD send ROUTE-REFRESH to us; `reload out` re-sends its routes', async () => {
    const before = rib.of('routeRefresh').length;
    await birdc('reload', 'in', 'ebgp4');
    await waitFor('ROUTE-REFRESH from BIRD', () => rib.of('routeRefresh').length > before, 10_000);
    expect(rib.of('routeRefresh').at(-1)).toMatchObject({ peerId: s4.id, family: IPV4_UNICAST });
    const updatesBefore = s4.counters.messagesIn.update;
    await birdc('reload', 'out', 'ebgp4');
    await waitFor('UPDATEs re-sent by BIRD', () => s4.counters.messagesIn.update > updatesBefore, 10_000);
  });

  it('`birdc restart` resets the session, which comes back to Established', async () => {
    const mark = log4.length;
    await birdc('restart', 'ebgp4');
    await waitFor('session left Established', () => log4.slice(mark).some((l) => l.startsWith('Established -> Idle')), 10_000);
    await waitState(s4, 'Established', 20_000);
    expect(log4.slice(mark).join('\n')).toMatch(/Established -> Idle \((notification-received|tcp-closed)\)/);
  });

  it('a silent cut is caught by the 3 s hold timer; the session recovers after the link is restored', async () => {
    const mark = log4.length;
    const downs = rib.of('peerDown').length;
    // RFC 8538 §4: an expired Hold Timer counts as a graceful restart only when both sides set
    // the N bit; otherwise the peer's routes are withdrawn at once.
    const nBit = !!s4.negotiated!.notificationGr;
    await lab.cutLink(tern, { mode: 'drop' });
    try {
      await waitFor('hold timer expiry', () => log4.slice(mark).includes('Established -> Idle (hold-timer-expired)'), 10_000);
      expect(s4.counters.lastError).toMatchObject({ direction: 'sent', code: 4, subcode: 0 });
      expect(rib.of('peerDown').slice(downs).find((c) => c.peerId === s4.id)).toMatchObject({ keepStale: nBit });
    } finally {
      await lab.restoreLink(tern);
    }
    await waitState(s4, 'Established', 20_000);
  });

  it('graceful restart: closeForRestart keeps our routes in BIRD while down; after reconnect + End-of-RIB the ones not re-sent are swept', async () => {
    await waitState(s4, 'Established', 20_000);
    // Announce again on this (new) session so BIRD has both routes from it.
    rib.queue(s4.id, ourUpdates(s4.peerDescriptor!, ['203.0.113.0/25', '203.0.113.128/25']));
    await waitUntil('both routes in BIRD', async () => {
      const r = await birdc('show', 'route', 'protocol', 'ebgp4');
      return r.includes('203.0.113.0/25') && r.includes('203.0.113.128/25');
    }, 10_000);
    const before = s4.peerDescriptor!;
    s4.closeForRestart();
    expect(s4.state).toBe('Idle');
    await waitUntil('BIRD noticed', async () => !/BGP state:\s+Established/.test(await birdc('show', 'protocols', 'all', 'ebgp4')), 10_000);
    // Down for longer than BIRD's hold time: the routes must still be there (stale).
    await sleep(3500);
    const during = await birdc('show', 'route', 'protocol', 'ebgp4');
    expect(during).toContain('203.0.113.0/25');
    expect(during).toContain('203.0.113.128/25');
    const proto = await birdc('show', 'protocols', 'all', 'ebgp4');
    expect(proto).not.toMatch(/BGP state:\s+Established/);

    // "Restarted": only the first route is announced again, then End-of-RIB.
    rib.queue(s4.id, ourUpdates(before, ['203.0.113.0/25']));
    s4.start();
    await waitState(s4, 'Established', 20_000);
    await waitUntil('stale route swept after End-of-RIB', async () => !(await birdc('show', 'route', 'protocol', 'ebgp4')).includes('203.0.113.128/25'), 10_000);
    expect(await birdc('show', 'route', 'protocol', 'ebgp4')).toContain('203.0.113.0/25');
  });
});
