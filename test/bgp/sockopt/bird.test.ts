// TCP MD5 (RFC 2385) and GTSM (RFC 5082) against BIRD 2 in network namespaces this test
// creates (Lab). One speaker of ours (SessionManager + SockoptTransport, its sockets opened in
// the `tern` namespace, one dual-stack listener for every peer) against:
//   bird — one BIRD with an address per scenario (strict bind, so each has its own listening
//          socket and key):  B1 passive, password "s3cret"     ← we connect, same password
//                            B6 (IPv6) active, "s3cret"        → our listener, same password
//                            B3 passive, "s3cret"              ← we connect with "wrong"
//                            B4 active, "s3cret"               → our listener holds "other"
//                            B5 `ttl security on`              ↔ we use ttlSecurity 1
//   far  — BIRD two hops away (a pod behind the `router` host), `multihop 2; ttl security on`:
//          refused while we allow one hop, Established once we allow two.
// Needs root, bird, birdc, ip.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BgpSession } from '../../../src/bgp/session/fsm.js';
import { SessionManager } from '../../../src/bgp/session/manager.js';
import type { ConnectOptions, ListenOptions } from '../../../src/bgp/session/transport.js';
import { loadSockopt } from '../../../src/bgp/sockopt/addon.js';
import { SockoptTransport } from '../../../src/bgp/sockopt/transport.js';
import { type Host, Lab, type Pod } from '../../../src/lab/netns.js';
import { RecordingRib } from '../session/recording-rib.js';
import { ensureAddon, sleep, tcpExt, waitFor } from './helpers.js';

const onPath = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasBird = onPath('bird') && onPath('birdc');
const canRun = process.getuid?.() === 0 && process.platform === 'linux' && hasBird;

/** Records the sockets it hands out and accepts, so a test can look at their options. */
class RecordingTransport extends SockoptTransport {
  readonly sockets: net.Socket[] = [];
  override async connect(o: ConnectOptions): Promise<net.Socket> {
    const s = await super.connect(o);
    this.sockets.push(s);
    return s;
  }
  override async listen(o: ListenOptions): Promise<net.Server> {
    const server = await super.listen(o);
    server.on('connection', (s: net.Socket) => this.sockets.push(s));
    return server;
  }
}

// BIRD runs one session per neighbor address (its object lock), so each scenario has an
// address of its own on both sides: BIRD's B.x talks to our T.x.
const B = { out: '10.99.0.201', outBad: '10.99.0.203', inBad: '10.99.0.204', gtsm: '10.99.0.205' } as const;
const T = { out: '10.99.0.101', outBad: '10.99.0.103', inBad: '10.99.0.104', gtsm: '10.99.0.105', far: '10.99.0.106' } as const;
const FAR = '10.244.9.2';
const PASSWORD = 's3cret';

let lab: Lab;
let tern: Host;
let bird: Host;
let router: Host;
let far: Pod;
let transport: RecordingTransport;
let mgr: SessionManager;
let unfollow: () => void;
const rib = new RecordingRib();
const sessions: Record<string, BgpSession> = {};
let birdSock = '';
let farSock = '';
let started = 0;

async function birdc(sock: string, ns: Host | Pod, ...args: string[]): Promise<string> {
  const r = await lab.exec(ns, 'birdc', ['-s', sock, ...args], { allowFail: true });
  return r.stdout;
}

async function birdState(sock: string, ns: Host | Pod, proto: string): Promise<string> {
  const out = await birdc(sock, ns, 'show', 'protocols', 'all', proto);
  return /BGP state:\s+(\S+)/.exec(out)?.[1] ?? `unknown (${out.trim().split('\n').at(-1) ?? ''})`;
}

describe.skipIf(!canRun)('TCP MD5 and GTSM against BIRD 2 in namespaces', () => {
  beforeAll(async () => {
    ensureAddon();
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [tern, bird, router] = (await lab.addHosts([{ name: 'tern', ipv6: true }, { name: 'bird', ipv6: true }, { name: 'router' }])) as [Host, Host, Host];
    far = await lab.addPod(router, 'far', { ip: FAR });
    // One address per scenario on BIRD's side; the far peer is reached through the router.
    for (const a of Object.values(B)) await lab.exec(bird, 'ip', ['addr', 'add', `${a}/24`, 'dev', bird.iface]);
    for (const a of Object.values(T)) await lab.exec(tern, 'ip', ['addr', 'add', `${a}/24`, 'dev', tern.iface]);
    await lab.exec(tern, 'ip', ['route', 'add', `${FAR}/32`, 'via', router.fabricIp]);
    expect(await lab.waitPing(far, T.far, 10_000)).toBe(true);

    const timers = 'connect delay time 1; connect retry time 2; error wait time 1, 2; hold time 9; keepalive time 3;';
    const common = (k: keyof typeof B): string => `local ${B[k]} as 65010; neighbor ${T[k]} as 65020; strict bind on; ${timers}`;
    birdSock = join(lab.dir, 'bird.ctl');
    writeFileSync(
      join(lab.dir, 'bird.conf'),
      `
router id ${bird.fabricIp};
log stderr all;
protocol device {}
protocol static s4 { ipv4; route 192.0.2.0/24 blackhole; }
protocol static s6 { ipv6; route 2001:db8:7::/48 blackhole; }
protocol bgp md5_out { ${common('out')} passive on; password "${PASSWORD}"; ipv4 { import all; export all; }; }
protocol bgp md5_in6 {
  local ${bird.ipv6} as 65010; neighbor ${tern.ipv6} as 65020; strict bind on; ${timers}
  password "${PASSWORD}"; ipv6 { import all; export all; };
}
protocol bgp md5_out_bad { ${common('outBad')} passive on; password "${PASSWORD}"; ipv4 { import all; export none; }; }
protocol bgp md5_in_bad { ${common('inBad')} password "${PASSWORD}"; ipv4 { import all; export none; }; }
protocol bgp gtsm { ${common('gtsm')} ttl security on; ipv4 { import all; export all; }; }
`,
    );
    lab.spawn(bird, 'bird', ['-f', '-c', join(lab.dir, 'bird.conf'), '-s', birdSock, '-P', join(lab.dir, 'bird.pid')]);
    farSock = join(lab.dir, 'far.ctl');
    writeFileSync(
      join(lab.dir, 'far.conf'),
      `
router id ${FAR};
log stderr all;
protocol device {}
protocol bgp far {
  local ${FAR} as 65030; neighbor ${T.far} as 65020; multihop 2; ttl security on; ${timers}
  ipv4 { import all; export none; };
}
`,
    );
    lab.spawn(far, 'bird', ['-f', '-c', join(lab.dir, 'far.conf'), '-s', farSock, '-P', join(lab.dir, 'far.pid')]);

    transport = new RecordingTransport({ netns: tern.netns, connectTimeoutMs: 5000 });
    mgr = new SessionManager({ rib, port: 179, bind: ['::'], transport });
    unfollow = transport.follow(mgr);
    await mgr.start();
    const base = { localAs: 65020, routerId: tern.fabricIp, connectRetryTime: 2, idleHoldTime: 1, maxIdleHoldTime: 2, holdTime: 9 };
    const add = (name: string, cfg: Parameters<SessionManager['addPeer']>[0]): void => {
      sessions[name] = mgr.addPeer(cfg);
    };
    add('out', { ...base, address: B.out, localAddress: T.out, peerAs: 65010, password: PASSWORD });
    add('in6', { ...base, address: bird.ipv6!, localAddress: tern.ipv6!, peerAs: 65010, password: PASSWORD, passive: true });
    add('outBad', { ...base, address: B.outBad, localAddress: T.outBad, peerAs: 65010, password: 'wrong' });
    add('inBad', { ...base, address: B.inBad, localAddress: T.inBad, peerAs: 65010, password: 'other', passive: true });
    add('gtsm', { ...base, address: B.gtsm, localAddress: T.gtsm, peerAs: 65010, ttlSecurity: 1 });
    add('far', { ...base, address: FAR, localAddress: T.far, peerAs: 65030, ttlSecurity: 1 });
    started = Date.now();
  }, 120_000);

  afterAll(async () => {
    unfollow?.();
    await mgr?.stop('test over').catch(() => {});
    transport?.close();
    await lab?.destroy();
  });

  it('the transport knows every peer\'s password and hop count from the manager', () => {
    expect(transport.peer(B.out)).toEqual({ password: PASSWORD, ttlSecurity: null });
    expect(transport.peer(bird.ipv6!)).toEqual({ password: PASSWORD, ttlSecurity: null });
    expect(transport.peer(FAR)).toEqual({ password: null, ttlSecurity: 1 });
  });

  it('same password, we connect (IPv4): Established on both sides, BIRD\'s route arrives', async () => {
    await waitFor(`md5 out Established (is ${sessions.out!.state})`, () => sessions.out!.state === 'Established', 30_000, 100);
    expect(sessions.out!.connection()?.direction).toBe('out');
    expect(await birdState(birdSock, bird, 'md5_out')).toBe('Established');
    await waitFor('192.0.2.0/24 from BIRD', () => rib.announced(sessions.out!.id).includes('192.0.2.0/24'), 10_000, 100);
  });

  it('same password, BIRD connects to our listener (IPv6): Established on both sides', async () => {
    await waitFor(`md5 in6 Established (is ${sessions.in6!.state})`, () => sessions.in6!.state === 'Established', 30_000, 100);
    expect(sessions.in6!.connection()?.direction).toBe('in');
    expect(await birdState(birdSock, bird, 'md5_in6')).toBe('Established');
    await waitFor('2001:db8:7::/48 from BIRD', () => rib.announced(sessions.in6!.id).includes('2001:db8:7::/48'), 10_000, 100);
  });

  it('GTSM on both sides, one hop: Established, our socket sends TTL 255 and requires 255', async () => {
    await waitFor(`gtsm Established (is ${sessions.gtsm!.state})`, () => sessions.gtsm!.state === 'Established', 30_000, 100);
    expect(await birdState(birdSock, bird, 'gtsm')).toBe('Established');
    // Whichever connection won (ours or BIRD's into our listener), it carries the GTSM options.
    const c = sessions.gtsm!.connection()!;
    const s = transport.sockets.find((x) => !x.destroyed && x.localPort === c.localPort && x.remotePort === c.remotePort);
    const fd = (s as unknown as { _handle: { fd: number } } | undefined)?._handle.fd;
    expect(fd).toBeTypeOf('number');
    expect(loadSockopt().socketInfo(fd!)).toMatchObject({ ttl: 255, minTtl: 255 });
  });

  it('wrong passwords in either direction: no session within 10 s, the receiving kernel counts MD5 failures', async () => {
    const birdBefore = tcpExt(bird.netns);
    const ternBefore = tcpExt(tern.netns);
    const seen = new Set<string>();
    for (const s of [sessions.outBad!, sessions.inBad!]) s.on('state', (t: { to: string }) => seen.add(`${s.address} ${t.to}`));
    const until = Math.max(started + 10_000, Date.now() + 5_000);
    while (Date.now() < until) {
      expect(sessions.outBad!.state).not.toBe('Established');
      expect(sessions.inBad!.state).not.toBe('Established');
      await sleep(250);
    }
    expect([...seen].filter((x) => /OpenSent|OpenConfirm|Established/.test(x))).toEqual([]);
    expect(await birdState(birdSock, bird, 'md5_out_bad')).toMatch(/^(Connect|Active|Passive|Idle)$/);
    expect(await birdState(birdSock, bird, 'md5_in_bad')).toMatch(/^(Connect|Active|Passive|Idle)$/);
    // Our SYNs signed with "wrong" die in BIRD's kernel; BIRD's signed with "s3cret" in ours.
    expect(tcpExt(bird.netns).TCPMD5Failure! - birdBefore.TCPMD5Failure!).toBeGreaterThan(0);
    expect(tcpExt(tern.netns).TCPMD5Failure! - ternBefore.TCPMD5Failure!).toBeGreaterThan(0);
    // And the good sessions stayed up meanwhile.
    expect(sessions.out!.state).toBe('Established');
    expect(sessions.in6!.state).toBe('Established');
  }, 30_000);

  it('a GTSM peer two hops away is refused by IP_MINTTL, and accepted once we allow two hops', async () => {
    const before = tcpExt(tern.netns);
    const until = Math.max(started + 10_000, Date.now() + 5_000);
    while (Date.now() < until) {
      expect(sessions.far!.state).not.toBe('Established');
      await sleep(250);
    }
    // BIRD's own check passes our segments (TTL 255 - 1 >= 256 - 2), so on an accepted
    // connection whose OPEN reached the queue before accept() applied the floor it may get
    // to Established briefly, until its hold timer runs out on the KEEPALIVEs we drop.
    expect(tcpExt(tern.netns).TCPMinTTLDrop! - before.TCPMinTTLDrop!).toBeGreaterThan(0);

    // The config change resets the session (a transport change is 'hard'); the transport
    // follows the manager, so the new floor (TTL >= 254) is in place for the next attempt.
    const u = mgr.updatePeer({ localAs: 65020, routerId: tern.fabricIp, connectRetryTime: 2, idleHoldTime: 1, maxIdleHoldTime: 2, holdTime: 9, address: FAR, localAddress: T.far, peerAs: 65030, ttlSecurity: 2 });
    expect(u).toMatchObject({ kind: 'hard', fields: ['ttlSecurity'] });
    expect(transport.peer(FAR)).toEqual({ password: null, ttlSecurity: 2 });
    sessions.far = mgr.get(FAR)!;
    await waitFor(`far Established (is ${sessions.far.state})`, () => sessions.far!.state === 'Established', 30_000, 100);
    expect(await birdState(farSock, far, 'far')).toBe('Established');
  }, 60_000);
});
