// BgpSession against scripted BGP speakers and against another BgpSession, over real loopback
// TCP; only time is faked (ManualClock), so 90-second timers expire at once and no assertion
// depends on how fast the machine is.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock/index.js';
import type { PeerConfig } from '../../../src/bgp/session/config.js';
import { SessionManager } from '../../../src/bgp/session/manager.js';
import {
  AS_TRANS,
  CeaseSubcode,
  endOfRibMessage,
  ErrCode,
  familyKey,
  GR_NOTIFICATION,
  GR_RESTART,
  IPV4_UNICAST,
  IPV6_UNICAST,
  KEEPALIVE,
  makeContext,
  MsgType,
  type OpenMessage,
  OpenSubcode,
  openCapabilities,
  prefix,
  toBuffer,
  UpdateBuilder,
  type UpdateMessage,
} from '../../../src/bgp/wire/index.js';
import { establish, freePort, LOCAL, PEER, peerOpen, RawListener, RawPeer, recordTransitions, sessionRig, sleep, STD_CAPS, waitFor, waitState, type Rig } from './helpers.js';
import { RecordingRib } from './recording-rib.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const rig = (cfg: Partial<PeerConfig> = {}, opts: { pumpPaceMs?: number } = {}): Promise<Rig<RecordingRib>> =>
  sessionRig(() => new RecordingRib(), cleanups, cfg, opts);

describe('BgpSession: active session against a scripted peer', () => {
  it('goes Idle -> Connect -> OpenSent -> OpenConfirm -> Established, negotiating hold time and capabilities', async () => {
    const r = await rig({ holdTime: 90, gracefulRestart: { restartTime: 60 } });
    r.session.start();
    const raw = await r.listener.accept();
    const ours = await raw.open();
    expect(ours.holdTime).toBe(90);
    expect(ours.bgpId).toBe('10.0.0.1');
    const kinds = openCapabilities(ours).map((c) => c.kind);
    expect(kinds).toEqual(expect.arrayContaining(['multiprotocol', 'route-refresh', 'enhanced-route-refresh', 'extended-message', 'graceful-restart', 'as4']));
    expect(r.session.state).toBe('OpenSent');
    raw.send(peerOpen({ holdTime: 30, capabilities: [...STD_CAPS, { kind: 'graceful-restart', restartFlags: GR_NOTIFICATION, restartTime: 45, families: [{ afi: 1, safi: 1, flags: 0x80 }] }] }));
    await raw.next(MsgType.KEEPALIVE);
    await waitState(r.session, 'OpenConfirm');
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
    expect(r.log).toEqual([
      'Idle -> Connect (start)',
      'Connect -> OpenSent (tcp-connected)',
      'OpenSent -> OpenConfirm (open-received)',
      'OpenConfirm -> Established (keepalive-received)',
    ]);
    const n = r.session.negotiated!;
    expect(n.holdTime).toBe(30);
    expect(n.keepaliveTime).toBe(10);
    expect(n.families.sort()).toEqual([IPV4_UNICAST, IPV6_UNICAST].sort());
    expect(n.receiveCtx.as4).toBe(true);
    expect(n.gracefulRestart).toEqual({ peerRestartTimeSec: 45, peerPreservedFamilies: [IPV4_UNICAST], peerRestarting: false });
    const up = r.rib.of('peerUp');
    expect(up).toHaveLength(1);
    expect(up[0]!.peer).toMatchObject({ id: 7, address: PEER, peerAs: 65002, localAs: 65001, ibgp: false, localAddress: LOCAL, remoteRouterId: 0x0a000002 });
    expect(r.session.counters.messagesOut.open).toBe(1);
    expect(r.session.counters.messagesIn.keepalive).toBe(1);
    r.clock.advance(1000);
    expect(r.session.uptimeMs()).toBe(1000);
  });

  it('sends KEEPALIVEs every hold/3 and stays up while the peer does', async () => {
    const r = await rig({ holdTime: 9 });
    const raw = await establish(r, peerOpen({ holdTime: 9 }));
    const before = r.session.counters.messagesOut.keepalive;
    for (let i = 0; i < 4; i++) {
      r.clock.advance(3000);
      await raw.next(MsgType.KEEPALIVE);
      raw.send(KEEPALIVE);
      await waitFor('keepalive counted', () => r.session.counters.messagesIn.keepalive >= i + 2);
    }
    expect(r.session.counters.messagesOut.keepalive - before).toBe(4);
    expect(r.session.state).toBe('Established');
  });

  it('hold timer expiry sends NOTIFICATION 4 and withdraws the peer (no graceful restart)', async () => {
    const r = await rig({ holdTime: 9 });
    const raw = await establish(r, peerOpen({ holdTime: 9 }));
    r.clock.advance(9000);
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.HOLD_TIMER_EXPIRED, 0]);
    expect(r.session.state).toBe('Idle');
    expect(r.log.at(-1)).toBe('Established -> Idle (hold-timer-expired)');
    expect(r.rib.of('peerDown')).toEqual([{ fn: 'peerDown', peerId: 7, keepStale: false, staleTimeMs: 0 }]);
    expect(r.session.counters.flaps).toBe(1);
    expect(r.session.counters.lastError).toMatchObject({ direction: 'sent', code: 4 });
    // IdleHoldTimer (1 s) then a new connection.
    r.clock.advance(1000);
    expect(r.log.at(-1)).toBe('Idle -> Connect (auto-start)');
    await r.listener.accept(2);
  });

  it.each([
    { name: 'but no N bit, hold expiry withdraws the routes (RFC 8538 §4) and TCP loss keeps them stale', flags: 0, afterHold: { keepStale: false, staleTimeMs: 0 } },
    { name: "and the N bit, hold expiry and TCP loss keep the routes stale for the peer's restart time", flags: GR_NOTIFICATION, afterHold: { keepStale: true, staleTimeMs: 33_000 } },
  ])('with graceful restart $name', async ({ flags, afterHold }) => {
    const gr = { kind: 'graceful-restart' as const, restartFlags: flags, restartTime: 33, families: [{ afi: 1, safi: 1, flags: 0x80 }] };
    const r = await rig({ holdTime: 9, gracefulRestart: { restartTime: 60 } });
    let raw = await establish(r, peerOpen({ holdTime: 9, capabilities: [...STD_CAPS, gr] }));
    r.clock.advance(9000);
    await raw.notification();
    expect(r.rib.of('peerDown').at(-1)).toMatchObject(afterHold);
    r.clock.advance(1000);
    raw = await r.listener.accept(2);
    await raw.open();
    raw.send(peerOpen({ holdTime: 9, capabilities: [...STD_CAPS, gr] }));
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
    raw.close();
    await waitState(r.session, 'Idle');
    expect(r.log.at(-1)).toBe('Established -> Idle (tcp-closed)');
    expect(r.rib.of('peerDown').at(-1)).toMatchObject({ keepStale: true, staleTimeMs: 33_000 });
  });

  it('connect failure goes to Active; ConnectRetry expiry goes back to Connect and retries', async () => {
    const port = await freePort(PEER);
    const r = await rig({ remotePort: port, connectRetryTime: 5 });
    r.session.start();
    await waitState(r.session, 'Active');
    expect(r.log).toEqual(['Idle -> Connect (start)', 'Connect -> Active (tcp-connect-failed)']);
    r.clock.advance(5000);
    expect(r.log[2]).toBe('Active -> Connect (connect-retry-expired)');
    expect(r.session.counters.connectRetryCounter).toBe(1);
    await waitState(r.session, 'Active');
    r.clock.advance(5000);
    await waitState(r.session, 'Active');
    expect(r.session.counters.connectRetryCounter).toBe(2);
  });

  it('a passive session never connects and waits in Active', async () => {
    const r = await rig({ passive: true });
    r.session.start();
    expect(r.log).toEqual(['Idle -> Active (start-passive)']);
    r.clock.advance(600_000);
    await sleep(50);
    expect(r.listener.accepted).toHaveLength(0);
    expect(r.session.state).toBe('Active');
    // It takes a connection handed to it (by the SessionManager, normally).
    const srv = net.createServer((sock) => r.session.acceptConnection(sock));
    await new Promise<void>((res) => srv.listen(0, LOCAL, () => res()));
    cleanups.push(() => new Promise<void>((res) => srv.close(() => res())));
    const raw = await RawPeer.connect(LOCAL, (srv.address() as net.AddressInfo).port, PEER);
    cleanups.push(() => raw.close());
    await raw.open();
    raw.send(peerOpen());
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
    expect(r.log.slice(1)).toEqual(['Active -> OpenSent (tcp-accepted)', 'OpenSent -> OpenConfirm (open-received)', 'OpenConfirm -> Established (keepalive-received)']);
  });

  it('DelayOpen: waits for the peer\'s OPEN, then answers OPEN + KEEPALIVE and goes to OpenConfirm', async () => {
    const r = await rig({ delayOpenTime: 5 });
    r.session.start();
    const raw = await r.listener.accept();
    await sleep(50);
    expect(raw.pending).toHaveLength(0);
    expect(r.session.state).toBe('Connect');
    raw.send(peerOpen());
    await raw.open();
    await raw.next(MsgType.KEEPALIVE);
    await waitState(r.session, 'OpenConfirm');
    expect(r.log.at(-1)).toBe('Connect -> OpenConfirm (open-received-delayed)');
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
  });

  it('DelayOpen: sends its OPEN when the DelayOpenTimer expires', async () => {
    const r = await rig({ delayOpenTime: 5 });
    r.session.start();
    const raw = await r.listener.accept();
    await waitFor('connection registered', () => r.clock.armed > 0 && r.session.connection() !== null);
    r.clock.advance(4999);
    await sleep(30);
    expect(raw.pending).toHaveLength(0);
    r.clock.advance(1);
    await raw.open();
    expect(r.log.at(-1)).toBe('Connect -> OpenSent (delay-open-expired)');
  });

  it('an UPDATE in OpenConfirm is an FSM error (RFC 6608 subcode 2)', async () => {
    const r = await rig();
    r.session.start();
    const raw = await r.listener.accept();
    await raw.open();
    raw.send(peerOpen());
    await waitState(r.session, 'OpenConfirm');
    raw.send(endOfRibMessage(1, 1));
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.FSM, 2]);
    expect(r.log.at(-1)).toBe('OpenConfirm -> Idle (fsm-error)');
  });

  it('hold timer in OpenSent (no OPEN from the peer) expires after the large hold time', async () => {
    const r = await rig();
    r.session.start();
    const raw = await r.listener.accept();
    await raw.open();
    r.clock.advance(240_000);
    const n = await raw.notification();
    expect(n.code).toBe(ErrCode.HOLD_TIMER_EXPIRED);
    expect(r.log.at(-1)).toBe('OpenSent -> Idle (hold-timer-expired)');
  });

  it('TCP loss in OpenSent goes to Active with ConnectRetry running', async () => {
    const r = await rig();
    r.session.start();
    const raw = await r.listener.accept();
    await raw.open();
    raw.close();
    await waitState(r.session, 'Active');
    expect(r.log.at(-1)).toBe('OpenSent -> Active (tcp-closed)');
    r.clock.advance(5000);
    await r.listener.accept(2);
  });
});

describe('BgpSession: OPEN errors', () => {
  const encodeWith = (m: OpenMessage, patch: (b: Buffer) => void): Buffer => {
    const b = toBuffer(m);
    patch(b);
    return b;
  };
  const cases: { name: string; cfg?: Partial<PeerConfig>; open: () => Buffer; code: number; subcode: number }[] = [
    { name: 'unsupported version', open: () => encodeWith(peerOpen(), (b) => void (b[19] = 3)), code: 2, subcode: OpenSubcode.UNSUPPORTED_VERSION },
    { name: 'peer AS differs', open: () => toBuffer(peerOpen({ as: 65099 })), code: 2, subcode: OpenSubcode.BAD_PEER_AS },
    {
      name: 'AS_TRANS without the 4-octet AS capability',
      cfg: { peerAs: 4_200_000_001 },
      open: () => toBuffer(peerOpen({ as: AS_TRANS, capabilities: STD_CAPS.filter((c) => c.kind !== 'as4') })),
      code: 2,
      subcode: OpenSubcode.BAD_PEER_AS,
    },
    { name: 'BGP Identifier 0.0.0.0', open: () => toBuffer(peerOpen({ bgpId: '0.0.0.0' })), code: 2, subcode: OpenSubcode.BAD_BGP_IDENTIFIER },
    {
      name: 'internal peer with our BGP Identifier',
      cfg: { peerAs: 65001 },
      open: () => toBuffer(peerOpen({ as: 65001, bgpId: '10.0.0.1' })),
      code: 2,
      subcode: OpenSubcode.BAD_BGP_IDENTIFIER,
    },
    { name: 'hold time 1', open: () => toBuffer(peerOpen({ holdTime: 1 })), code: 2, subcode: OpenSubcode.UNACCEPTABLE_HOLD_TIME },
    { name: 'hold time 2', open: () => toBuffer(peerOpen({ holdTime: 2 })), code: 2, subcode: OpenSubcode.UNACCEPTABLE_HOLD_TIME },
    {
      name: 'unsupported optional parameter',
      open: () => toBuffer({ ...peerOpen(), params: [{ type: 1, value: new Uint8Array([1, 2]) }] }),
      code: 2,
      subcode: OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
    },
    { name: 'bad marker', open: () => encodeWith(peerOpen(), (b) => void (b[3] = 0)), code: 1, subcode: 1 },
    { name: 'bad message type', open: () => encodeWith(peerOpen(), (b) => void (b[18] = 9)), code: 1, subcode: 3 },
  ];
  for (const c of cases) {
    it(`${c.name} -> NOTIFICATION ${c.code}/${c.subcode}`, async () => {
      const r = await rig(c.cfg);
      r.session.start();
      const raw = await r.listener.accept();
      await raw.open();
      raw.send(c.open());
      const n = await raw.notification();
      expect([n.code, n.subcode]).toEqual([c.code, c.subcode]);
      await waitState(r.session, 'Idle');
      expect(r.log.at(-1)).toMatch(/^OpenSent -> Idle \((open-error|header-error)\)$/);
      expect(r.rib.of('peerUp')).toHaveLength(0);
    });
  }

  it('accepts a 4-octet AS sent as AS_TRANS with the capability, and equal Identifiers between ASes (RFC 6286)', async () => {
    const r = await rig({ peerAs: 4_200_000_001 });
    await establish(r, peerOpen({ as: 4_200_000_001, bgpId: '10.0.0.1' }));
    expect(r.rib.of('peerUp')[0]!.peer.peerAs).toBe(4_200_000_001);
  });

  it('our OPEN says AS_TRANS for a 4-octet local AS', async () => {
    const r = await rig({ localAs: 4_200_000_009 });
    r.session.start();
    const raw = await r.listener.accept();
    const o = await raw.open();
    expect(o.myAs).toBe(AS_TRANS);
    expect(openCapabilities(o).find((c) => c.kind === 'as4')).toEqual({ kind: 'as4', as: 4_200_000_009 });
  });

  it('hold time 0 from the peer: no keepalives, no hold timer', async () => {
    const r = await rig();
    const raw = await establish(r, peerOpen({ holdTime: 0 }));
    expect(r.session.negotiated!.holdTime).toBe(0);
    const k = r.session.counters.messagesOut.keepalive;
    r.clock.advance(3_600_000);
    await sleep(30);
    expect(r.session.state).toBe('Established');
    expect(r.session.counters.messagesOut.keepalive).toBe(k);
    expect(raw.closed).toBe(false);
  });
});

describe('BgpSession: Established', () => {
  const v4attrs = [
    { type: 'ORIGIN' as const, origin: 0 },
    { type: 'AS_PATH' as const, segments: [{ type: 2, asns: [65002] }] },
    { type: 'NEXT_HOP' as const, nextHop: '127.0.0.3' },
  ];

  it('hands UPDATEs, End-of-RIB and ROUTE-REFRESH to the RIB', async () => {
    const r = await rig();
    const raw = await establish(r);
    raw.ctx = makeContext({ as4: true });
    const b = new UpdateBuilder({ ctx: raw.ctx, afi: 1, attributes: v4attrs });
    b.add(prefix('10.1.0.0/16'));
    b.add(prefix('10.2.3.0/24'));
    for (const m of b.take()) raw.send(m);
    const v6 = new UpdateBuilder({ ctx: raw.ctx, afi: 2, attributes: v4attrs.slice(0, 2), nextHop: { nextHop: '2001:db8::3' } });
    v6.add(prefix('2001:db8:1::/48'));
    for (const m of v6.take()) raw.send(m);
    raw.send(endOfRibMessage(1, 1));
    raw.send(endOfRibMessage(2, 1));
    raw.send({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 0 });
    await waitFor('route refresh', () => r.rib.of('routeRefresh').length === 1);
    expect(r.rib.announced()).toEqual(['10.1.0.0/16', '10.2.3.0/24', '2001:db8:1::/48']);
    expect(r.rib.updates[1]!.mpNextHop).toBe('2001:db8::3');
    expect(r.rib.of('endOfRib').map((c) => c.family)).toEqual([IPV4_UNICAST, IPV6_UNICAST]);
    expect(r.rib.of('routeRefresh')[0]!.family).toBe(IPV6_UNICAST);
    expect(r.session.counters.messagesIn.update).toBe(4);
    expect(r.session.counters.messagesIn.routeRefresh).toBe(1);
  });

  it('a malformed UPDATE (session-reset) sends NOTIFICATION 3 and goes Idle', async () => {
    const r = await rig();
    const raw = await establish(r);
    // Withdrawn Routes Length overruns the message: RFC 7606 §5.3 session reset, 3/1.
    const bad = Buffer.from(endOfRibMessage(1, 1));
    bad.writeUInt16BE(200, 19);
    raw.send(bad);
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.UPDATE_MESSAGE, 1]);
    expect(r.log.at(-1)).toBe('Established -> Idle (update-error)');
    expect(r.rib.of('peerDown')).toHaveLength(1);
  });

  it('max-prefix exceeded: Cease 1 with AFI/SAFI/limit, restart after the configured delay', async () => {
    const r = await rig({ maxPrefixes: 2, maxPrefixRestartTime: 30 });
    const raw = await establish(r);
    raw.ctx = makeContext({ as4: true });
    const b = new UpdateBuilder({ ctx: raw.ctx, afi: 1, attributes: v4attrs });
    for (const p of ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']) b.add(prefix(p));
    for (const m of b.take()) raw.send(m);
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.MAX_PREFIXES]);
    expect([...n.data]).toEqual([0, 1, 1, 0, 0, 0, 2]);
    expect(r.log.at(-1)).toBe('Established -> Idle (max-prefix)');
    r.clock.advance(29_999);
    expect(r.session.state).toBe('Idle');
    r.clock.advance(1);
    expect(r.log.at(-1)).toBe('Idle -> Connect (auto-start)');
  });

  it('writes what drainOut gives, pausing on backpressure and resuming on drain', async () => {
    const r = await rig();
    const raw = await establish(r);
    raw.ctx = makeContext({ as4: true });
    raw.socket.pause();
    const ctx = r.session.peerDescriptor!.sendCtx;
    const msgs: Uint8Array[] = [];
    // About 10 MB: more than loopback's socket buffers take, so write() must report them full.
    for (let i = 0; i < 200; i++) {
      const b = new UpdateBuilder({ ctx, afi: 1, attributes: v4attrs });
      for (let j = 0; j < 10_000; j++) b.addIpv4(((10 << 24) | (i << 14) | j) >>> 0, 32);
      msgs.push(...b.take());
    }
    r.rib.queue(7, msgs);
    // The kernel buffers fill: the session must stop pulling with messages still queued.
    await waitFor('session paused by backpressure', () => r.rib.queued(7) > 0 && r.rib.drainCalls > 0 && r.session.counters.messagesOut.update > 0);
    await sleep(50);
    expect(r.rib.queued(7)).toBeGreaterThan(0);
    raw.socket.resume();
    await waitFor('every UPDATE received', () => raw.pending.filter((m) => m.type === MsgType.UPDATE).length === msgs.length, 15_000);
    expect(r.rib.queued(7)).toBe(0);
    const first = raw.pending.find((m) => m.type === MsgType.UPDATE)!.decoded as UpdateMessage;
    expect(first.nlri.length).toBeGreaterThan(500);
  });

  it('pumps are paced: a lone change goes out at once, changes soon after it wait and leave together', async () => {
    // A pace of 2 s, far above any scheduling delay, so nothing here depends on the machine's speed.
    const r = await rig({}, { pumpPaceMs: 2000 });
    const raw = await establish(r);
    raw.ctx = makeContext({ as4: true });
    const ctx = r.session.peerDescriptor!.sendCtx;
    const update = (n: number): Uint8Array => {
      const b = new UpdateBuilder({ ctx, afi: 1, attributes: v4attrs });
      b.addIpv4(((10 << 24) | n) >>> 0, 32);
      return b.take()[0]!;
    };
    const updates = () => raw.pending.filter((m) => m.type === MsgType.UPDATE).length;
    const pumpsBefore = r.rib.drainCalls;
    r.rib.queue(7, [update(1)]);
    await waitFor('the first UPDATE, sent at once', () => updates() === 1);
    r.rib.queue(7, [update(2)]);
    await sleep(20);
    r.rib.queue(7, [update(3)]);
    await sleep(200);
    // Within the pace after a send: both wait.
    expect(updates()).toBe(1);
    expect(r.rib.queued(7)).toBe(2);
    await waitFor('the next two UPDATEs', () => updates() === 3, 5000);
    // One pump for the first, one for the two that waited (each pump ends on an empty drainOut).
    expect(r.rib.drainCalls - pumpsBefore).toBe(4);
  });

  it('stop(message) sends Cease / Administrative Shutdown with the RFC 8203 communication', async () => {
    const r = await rig();
    const raw = await establish(r);
    r.session.stop('maintenance window 42');
    const n = await raw.notification();
    expect([n.code, n.subcode, n.shutdownMessage]).toEqual([6, 2, 'maintenance window 42']);
    expect(r.log.at(-1)).toBe('Established -> Idle (stop)');
    r.clock.advance(600_000);
    expect(r.session.state).toBe('Idle');
    expect(r.rib.of('peerDown')[0]).toMatchObject({ keepStale: false });
  });

  it('RFC 8538: with the N bit, stop() sends Hard Reset; a received non-hard NOTIFICATION keeps routes stale, Hard Reset does not', async () => {
    const grN = { kind: 'graceful-restart' as const, restartFlags: GR_NOTIFICATION, restartTime: 50, families: [{ afi: 1, safi: 1, flags: 0x80 }] };
    const r = await rig({ gracefulRestart: { restartTime: 60, notification: true } });
    let raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, grN] }));
    expect(r.session.negotiated!.notificationGr).toBe(true);
    raw.send({ type: 'NOTIFICATION', code: ErrCode.CEASE, subcode: CeaseSubcode.OUT_OF_RESOURCES, data: new Uint8Array(0) });
    await waitState(r.session, 'Idle');
    expect(r.rib.of('peerDown').at(-1)).toMatchObject({ keepStale: true, staleTimeMs: 50_000 });
    r.clock.advance(1000);
    raw = await r.listener.accept(2);
    await raw.open();
    raw.send(peerOpen({ capabilities: [...STD_CAPS, grN] }));
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
    raw.send({ type: 'NOTIFICATION', code: ErrCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: new Uint8Array([6, 4]) });
    await waitState(r.session, 'Idle');
    expect(r.rib.of('peerDown').at(-1)).toMatchObject({ keepStale: false });
    r.clock.advance(2000);
    raw = await r.listener.accept(3);
    await raw.open();
    raw.send(peerOpen({ capabilities: [...STD_CAPS, grN] }));
    raw.send(KEEPALIVE);
    await waitState(r.session, 'Established');
    r.session.stop('bye');
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.HARD_RESET]);
    // The inner NOTIFICATION: Cease / Administrative Shutdown with its communication.
    expect([...n.data.subarray(0, 3)]).toEqual([6, 2, 3]);
    expect(Buffer.from(n.data.subarray(3)).toString()).toBe('bye');
  });

  it('closeForRestart closes without NOTIFICATION; the next OPEN carries the R bit', async () => {
    const r = await rig({ gracefulRestart: { restartTime: 90 } });
    const grPeer = { kind: 'graceful-restart' as const, restartFlags: 0, restartTime: 40, families: [{ afi: 1, safi: 1, flags: 0x80 }] };
    const raw = await establish(r, peerOpen({ capabilities: [...STD_CAPS, grPeer] }));
    r.session.closeForRestart();
    await raw.waitClosed();
    expect(raw.pending.filter((m) => m.type === MsgType.NOTIFICATION)).toHaveLength(0);
    expect(r.log.at(-1)).toBe('Established -> Idle (graceful-restart)');
    r.clock.advance(600_000);
    expect(r.session.state).toBe('Idle');
    r.session.start();
    const raw2 = await r.listener.accept(2);
    const o = await raw2.open();
    const gr = openCapabilities(o).find((c) => c.kind === 'graceful-restart');
    expect(gr && gr.kind === 'graceful-restart' && gr.restartFlags & GR_RESTART).toBeTruthy();
    expect(gr && gr.kind === 'graceful-restart' && gr.restartTime).toBe(90);
  });
});

describe('Connection collision (RFC 4271 §6.8)', () => {
  /**
   * Our session (10.0.0.5) connects to the raw peer, and the raw peer connects to our
   * listener; the raw peer then sends its OPEN with `peerId` on both connections.
   */
  async function collide(peerId: string) {
    const clock = new ManualClock();
    const rib = new RecordingRib();
    const listener = await RawListener.listen(PEER);
    cleanups.push(() => listener.close());
    const port = await freePort(LOCAL);
    const mgr = new SessionManager({ rib, port, bind: [LOCAL], clock, random: () => 0.9999 });
    await mgr.start();
    cleanups.push(() => mgr.stop());
    const s = mgr.addPeer({ address: PEER, remotePort: listener.port, localAddress: LOCAL, peerAs: 65002, localAs: 65001, routerId: '10.0.0.5' });
    const log = recordTransitions(s);
    const outgoing = await listener.accept(); // the session's connection
    await outgoing.open();
    const incoming = await RawPeer.connect(LOCAL, port, PEER); // the peer's connection
    cleanups.push(() => incoming.close());
    await incoming.open();
    incoming.send(peerOpen({ bgpId: peerId }));
    outgoing.send(peerOpen({ bgpId: peerId }));
    return { s, log, outgoing, incoming, rib };
  }

  it('peer Identifier higher: keeps the peer\'s connection, Cease 7 on ours', async () => {
    const { s, outgoing, incoming } = await collide('10.0.0.9');
    const n = await outgoing.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.CONNECTION_COLLISION]);
    await incoming.next(MsgType.KEEPALIVE);
    incoming.send(KEEPALIVE);
    await waitState(s, 'Established');
    expect(s.connection()!.direction).toBe('in');
    await outgoing.waitClosed();
    expect(incoming.pending.filter((m) => m.type === MsgType.NOTIFICATION)).toHaveLength(0);
  });

  it('peer Identifier lower: keeps our connection, Cease 7 on the peer\'s', async () => {
    const { s, outgoing, incoming } = await collide('10.0.0.2');
    const n = await incoming.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.CONNECTION_COLLISION]);
    await outgoing.next(MsgType.KEEPALIVE);
    outgoing.send(KEEPALIVE);
    await waitState(s, 'Established');
    expect(s.connection()!.direction).toBe('out');
    await incoming.waitClosed();
    expect(outgoing.closed).toBe(false);
  });

  it('two BgpSessions connecting to each other at once end with one connection', async () => {
    const clock = new ManualClock();
    const [ribA, ribB] = [new RecordingRib(), new RecordingRib()];
    const [A, B] = ['127.0.0.1', '127.0.0.2'];
    const [portA, portB] = [await freePort(A), await freePort(B)];
    const ma = new SessionManager({ rib: ribA, port: portA, bind: [A], clock, random: () => 0.9999 });
    const mb = new SessionManager({ rib: ribB, port: portB, bind: [B], clock, random: () => 0.9999 });
    await ma.start();
    await mb.start();
    cleanups.push(() => ma.stop(), () => mb.stop());
    const sa = ma.addPeer({ address: B, remotePort: portB, localAddress: A, peerAs: 65000, localAs: 65000, routerId: '1.1.1.1' }, { start: false });
    const sb = mb.addPeer({ address: A, remotePort: portA, localAddress: B, peerAs: 65000, localAs: 65000, routerId: '2.2.2.2' }, { start: false });
    sa.start();
    sb.start();
    await waitState(sa, 'Established');
    await waitState(sb, 'Established');
    const ca = sa.connection()!;
    const cb = sb.connection()!;
    // The same TCP connection seen from both ends.
    expect([ca.localPort, ca.remotePort]).toEqual([cb.remotePort, cb.localPort]);
    expect(ribA.of('peerUp')[0]!.peer.ibgp).toBe(true);
    await sleep(50);
    expect(sa.state).toBe('Established');
    expect(sb.state).toBe('Established');
  });
});

describe('SessionManager', () => {
  it('closes connections from unknown addresses, routes known ones, updates soft and hard, deletes', async () => {
    const clock = new ManualClock();
    const rib = new RecordingRib();
    const port = await freePort(LOCAL);
    const seen: string[] = [];
    const mgr = new SessionManager({ rib, port, bind: [LOCAL], clock, resolvePeer: (a) => (seen.push(a), undefined) });
    await mgr.start();
    cleanups.push(() => mgr.stop());
    const cfg: PeerConfig = { address: PEER, passive: true, peerAs: 65002, localAs: 65001, routerId: '10.0.0.1' };
    const s = mgr.addPeer(cfg);
    const states: string[] = [];
    mgr.on('peer-state', (t) => states.push(`${t.from}->${t.to}`));

    const stranger = await RawPeer.connect(LOCAL, port, '127.0.0.4');
    await stranger.waitClosed();
    expect(seen).toEqual(['127.0.0.4']);

    const raw = await RawPeer.connect(LOCAL, port, PEER);
    cleanups.push(() => raw.close());
    await raw.open();
    raw.send(peerOpen());
    raw.send(KEEPALIVE);
    await waitState(s, 'Established');
    expect(states).toEqual(['Active->OpenSent', 'OpenSent->OpenConfirm', 'OpenConfirm->Established']);

    expect(mgr.updatePeer({ ...cfg, description: 'tor-1', importPolicies: ['p1'] })).toMatchObject({ kind: 'soft', fields: ['description', 'importPolicies'] });
    expect(s.state).toBe('Established');
    expect(s.config.importPolicies).toEqual(['p1']);

    expect(mgr.updatePeer({ ...cfg, description: 'tor-1', importPolicies: ['p1'], holdTime: 30 }).kind).toBe('hard');
    const n = await raw.notification();
    expect([n.code, n.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.OTHER_CONFIG_CHANGE]);
    expect(s.state).toBe('Idle');
    clock.advance(5000);
    expect(s.state).toBe('Active');
    const raw2 = await RawPeer.connect(LOCAL, port, PEER);
    cleanups.push(() => raw2.close());
    expect((await raw2.open()).holdTime).toBe(30);
    raw2.send(peerOpen());
    raw2.send(KEEPALIVE);
    await waitState(s, 'Established');
    expect(mgr.deletePeer(PEER)).toBe(true);
    const n2 = await raw2.notification();
    expect([n2.code, n2.subcode]).toEqual([ErrCode.CEASE, CeaseSubcode.PEER_DECONFIGURED]);
    expect(mgr.get(PEER)).toBeUndefined();
    expect(familyKey(1, 1)).toBe(IPV4_UNICAST);
  });
});
