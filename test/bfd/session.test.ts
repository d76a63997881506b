// The RFC 5880 §6.8 state machine under a hand-driven clock: two sessions joined by a fake link
// that carries real encoded packets (encode → bytes → decode), so every exchange also goes
// through the codec. No sockets, no real time.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock/index.js';
import { BfdDiag, BfdState, decode, encode, encodingLength, type ControlPacket } from '../../src/bfd/packet.js';
import { BfdSession, jitteredInterval, TransitionReasons, type BfdSessionConfig, type BfdTransition } from '../../src/bfd/session.js';

// Deterministic jitter: a small LCG, so a failing run can be replayed.
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

interface Sent {
  at: number;
  pkt: ControlPacket;
}

interface Side {
  s: BfdSession;
  sent: Sent[];
  transitions: BfdTransition[];
  logs: string[];
}

function lab(cfgA: BfdSessionConfig, cfgB: BfdSessionConfig, latencyMs = 1) {
  const clock = new ManualClock(1000);
  const link = { aToB: true, bToA: true };
  const sides: { a?: Side; b?: Side } = {};
  const make = (name: 'a' | 'b', discr: number, cfg: BfdSessionConfig): Side => {
    const logs: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logs.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
          cb();
        },
      }),
    );
    const sent: Sent[] = [];
    const transitions: BfdTransition[] = [];
    const s = new BfdSession(cfg, {
      localDiscriminator: discr,
      clock,
      random: seeded(discr),
      peer: name,
      log,
      send: (pkt) => {
        sent.push({ at: clock.now(), pkt });
        const open = name === 'a' ? link.aToB : link.bToA;
        if (!open) return;
        const buf = Buffer.alloc(encodingLength(pkt));
        encode(pkt, buf, 0);
        clock.setTimer(latencyMs, () => {
          const d = decode(buf, 0);
          if (!d.ok) throw new Error(`undecodable: ${d.error.reason}`);
          const other = name === 'a' ? sides.b : sides.a;
          other?.s.receive(d.value);
        });
      },
    });
    s.on('state', (t) => transitions.push(t));
    return { s, sent, transitions, logs };
  };
  const a = (sides.a = make('a', 0x0a0a0a0a, cfgA));
  const b = (sides.b = make('b', 0x0b0b0b0b, cfgB));
  /** Advances in 1 ms steps until `cond` holds; returns the time it took, or throws. */
  const until = (cond: () => boolean, maxMs: number): number => {
    const t0 = clock.now();
    while (!cond()) {
      if (clock.now() - t0 > maxMs) throw new Error(`condition not met within ${maxMs} ms`);
      clock.advance(1);
    }
    return clock.now() - t0;
  };
  return { clock, link, a, b, until };
}

const FAST: BfdSessionConfig = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3 };
const steps = (side: Side) => side.transitions.map((t) => `${t.from} -> ${t.to} (${t.reason})`);

describe('BFD session handshake (RFC 5880 §6.2, §6.8.6)', () => {
  it('comes Up by the three-way handshake and logs each transition', () => {
    const { a, b, until } = lab(FAST, { ...FAST, passive: true });
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 2000);
    // A (active) says Down; B (passive) hears it, goes Init; A hears Init, goes Up; B hears Up.
    expect(steps(b)).toEqual(['Down -> Init (received-down)', 'Init -> Up (received-up)']);
    expect(steps(a)).toEqual(['Down -> Up (received-init)']);
    expect(b.logs).toEqual(['Down -> Init (received-down)', 'Init -> Up (received-up)']);
    expect(a.sent[0]!.pkt).toMatchObject({ state: BfdState.Down, yourDiscriminator: 0, desiredMinTxUs: 1_000_000 });
    for (const t of [...a.transitions, ...b.transitions]) expect(TransitionReasons).toContain(t.reason);
  });

  it('comes Up when both sides start at once (Down/Down → Init/Init → Up/Up)', () => {
    const { a, b, until } = lab(FAST, FAST);
    a.s.start();
    b.s.start();
    const took = until(() => a.s.isUp && b.s.isUp, 3000);
    expect(steps(a)).toEqual(['Down -> Init (received-down)', 'Init -> Up (received-init)']);
    expect(steps(b)).toEqual(['Down -> Init (received-down)', 'Init -> Up (received-init)']);
    // State changes are sent promptly, not after the 1 s slow interval.
    expect(took).toBeLessThan(500);
  });

  it('a passive session sends nothing until it hears from the peer', () => {
    const { clock, b } = lab(FAST, { ...FAST, passive: true });
    b.s.start();
    clock.advance(5000);
    expect(b.sent).toHaveLength(0);
  });

  it('sends at the slow 1 s rate while not Up, jittered 75–100 %, then at the agreed rate', () => {
    const { clock, a, b, until } = lab(FAST, FAST);
    a.s.start();
    clock.advance(10_000);
    const gaps = a.sent.slice(1).map((x, i) => x.at - a.sent[i]!.at);
    expect(gaps.length).toBeGreaterThanOrEqual(9);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(750);
      expect(g).toBeLessThanOrEqual(1000);
    }
    expect(a.sent.every((x) => x.pkt.desiredMinTxUs === 1_000_000)).toBe(true);
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 3000);
    clock.advance(1000);
    const n0 = a.sent.length;
    clock.advance(10_000);
    const fast = a.sent.slice(n0);
    expect(fast.length).toBeGreaterThanOrEqual(100);
    expect(fast.length).toBeLessThanOrEqual(134);
    expect(fast.every((x) => x.pkt.desiredMinTxUs === 100_000 && x.pkt.state === BfdState.Up)).toBe(true);
    expect(a.s.info()).toMatchObject({ txIntervalMs: 100, detectTimeMs: 300, remoteDetectMult: 3 });
  });

  it('keeps intervals within 75–90 % when the detect multiplier is 1', () => {
    const r = seeded(7);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const v = jitteredInterval(100, 1, r);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(75);
    expect(hi).toBeLessThanOrEqual(90);
    expect(hi - lo).toBeGreaterThan(14);
    expect(jitteredInterval(100, 3, () => 0)).toBe(75);
    expect(jitteredInterval(100, 3, () => 0.999999)).toBeCloseTo(100, 3);
    const { clock, a, b, until } = lab({ ...FAST, detectMult: 1 }, FAST);
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 3000);
    clock.advance(1000);
    const n0 = a.sent.length;
    clock.advance(5000);
    const periodic = a.sent.slice(n0).filter((x) => !x.pkt.final);
    for (let i = 1; i < periodic.length; i++) {
      const g = periodic[i]!.at - periodic[i - 1]!.at;
      expect(g).toBeGreaterThanOrEqual(75);
      expect(g).toBeLessThanOrEqual(90);
    }
  });
});

describe('BFD failure detection (RFC 5880 §6.8.4)', () => {
  it('goes Down with diag 1 within detect mult × interval when the peer falls silent', () => {
    const { clock, link, a, b, until } = lab(FAST, FAST);
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 3000);
    clock.advance(2000);
    expect(b.s.info().detectTimeMs).toBe(300);
    link.aToB = false;
    const took = until(() => !b.s.isUp, 2000);
    expect(took).toBeLessThanOrEqual(3 * 100 + 1);
    expect(took).toBeGreaterThan(300 - 100 - 1);
    expect(b.transitions.at(-1)).toMatchObject({ from: 'Up', to: 'Down', reason: 'detection-timeout', diag: BfdDiag.ControlDetectionTimeExpired });
    expect(b.s.info()).toMatchObject({ diag: 1, diagName: 'control-detection-time-expired', remoteDiscriminator: 0, remoteState: 'Down' });
    // B's Down still reaches A, which goes Down because the neighbour said so (diag 3).
    until(() => !a.s.isUp, 500);
    expect(a.transitions.at(-1)).toMatchObject({ from: 'Up', to: 'Down', reason: 'received-down', diag: BfdDiag.NeighborSignaledDown });
    // Back to the slow rate, and B now advertises it.
    expect(b.sent.at(-1)!.pkt.desiredMinTxUs).toBe(1_000_000);
    link.aToB = true;
    until(() => a.s.isUp && b.s.isUp, 5000);
    expect(b.s.info().counters).toMatchObject({ upTransitions: 2, downTransitions: 1, detectionTimeouts: 1 });
  });

  it('a session in Init times out too, and a Down session only forgets the peer', () => {
    const { clock, link, a, b, until } = lab(FAST, { ...FAST, passive: true });
    link.bToA = false;
    a.s.start();
    b.s.start();
    until(() => b.s.stateName === 'Init', 2000);
    link.aToB = false;
    // A is not Up yet: it sends 1 s apart, so B's detection time is 3 × 1 s.
    expect(b.s.info().detectTimeMs).toBe(3000);
    const took = until(() => b.s.stateName === 'Down', 5000);
    expect(took).toBeLessThanOrEqual(3001);
    expect(b.transitions.at(-1)).toMatchObject({ reason: 'detection-timeout', diag: 1 });
    expect(steps(a)).toEqual([]);
    clock.advance(5000);
    expect(a.s.info().remoteDiscriminator).toBe(0);
  });
});

describe('BFD Poll Sequence (RFC 5880 §6.5, §6.8.3)', () => {
  it('polls when coming Up, and on a slower TX waits for the Final before slowing down', () => {
    const { clock, a, b, until } = lab(FAST, FAST, 5);
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 3000);
    until(() => !a.s.info().pollActive && !b.s.info().pollActive, 1000);
    // Coming Up changes Desired Min TX from 1 s to 100 ms: that went out with P and got an F.
    expect(a.sent.some((x) => x.pkt.poll && x.pkt.state === BfdState.Up && x.pkt.desiredMinTxUs === 100_000)).toBe(true);
    expect(b.sent.some((x) => x.pkt.final)).toBe(true);
    clock.advance(1000);

    const n0 = a.sent.length;
    a.s.setConfig({ desiredMinTxMs: 300 });
    expect(a.s.info()).toMatchObject({ pollActive: true, desiredMinTxMs: 300, txIntervalMs: 100 });
    until(() => !a.s.info().pollActive, 1000);
    const polled = a.sent.slice(n0);
    expect(polled[0]!.pkt).toMatchObject({ poll: true, final: false, desiredMinTxUs: 300_000 });
    expect(a.s.info().txIntervalMs).toBe(300);
    clock.advance(50);
    expect(b.s.info().detectTimeMs).toBe(900);
    const n1 = a.sent.length;
    clock.advance(3000);
    const after = a.sent.slice(n1).filter((x) => !x.pkt.final);
    for (let i = 1; i < after.length; i++) expect(after[i]!.at - after[i - 1]!.at).toBeGreaterThanOrEqual(225);
    expect(after.every((x) => !x.pkt.poll)).toBe(true);
    // RFC 5880 §6.5: never P and F in one packet.
    expect([...a.sent, ...b.sent].some((x) => x.pkt.poll && x.pkt.final)).toBe(false);
    expect(a.s.isUp && b.s.isUp).toBe(true);
  });

  it('keeps the old detection time after lowering Required Min RX until the Final arrives', () => {
    const { clock, a, b, until } = lab({ ...FAST, desiredMinTxMs: 50 }, { ...FAST, requiredMinRxMs: 200 }, 5);
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp && !a.s.info().pollActive && !b.s.info().pollActive, 3000);
    clock.advance(1000);
    expect(b.s.info().detectTimeMs).toBe(600);
    expect(a.s.info().txIntervalMs).toBe(200);
    b.s.setConfig({ requiredMinRxMs: 50 });
    expect(b.s.info()).toMatchObject({ pollActive: true, requiredMinRxMs: 50, detectTimeMs: 600 });
    until(() => !b.s.info().pollActive, 1000);
    clock.advance(300);
    expect(b.s.info().detectTimeMs).toBe(150);
    expect(a.s.info().txIntervalMs).toBe(50);
    expect(a.s.isUp && b.s.isUp).toBe(true);
  });

  it('answers a Poll with a Final at once', () => {
    const clock = new ManualClock();
    const sent: ControlPacket[] = [];
    const s = new BfdSession(FAST, { localDiscriminator: 1, clock, send: (p) => sent.push(p) });
    s.start();
    sent.length = 0;
    const r = s.receive({
      diag: 0, state: BfdState.Down, poll: true, final: false, controlPlaneIndependent: false, demand: false, multipoint: false,
      detectMult: 3, myDiscriminator: 9, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 1_000_000, requiredMinEchoRxUs: 0,
    });
    expect(r.ok).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ final: true, poll: false, state: BfdState.Init, yourDiscriminator: 9 });
  });
});

describe('BFD administrative control (RFC 5880 §6.8.16)', () => {
  it('AdminDown takes the peer Down with diag 3 without a timeout, and back Up after', () => {
    const { clock, a, b, until } = lab(FAST, FAST);
    a.s.start();
    b.s.start();
    until(() => a.s.isUp && b.s.isUp, 3000);
    a.s.adminDown();
    expect(a.transitions.at(-1)).toMatchObject({ from: 'Up', to: 'AdminDown', reason: 'admin-down', diag: BfdDiag.AdministrativelyDown });
    until(() => !b.s.isUp, 200);
    expect(b.transitions.at(-1)).toMatchObject({ from: 'Up', to: 'Down', reason: 'received-admin-down', diag: 3, remoteState: 'AdminDown' });
    // B keeps hearing AdminDown: it stays Down (never Init), and never times out.
    clock.advance(10_000);
    expect(b.s.stateName).toBe('Down');
    expect(steps(b).filter((x) => x.includes('Init'))).toHaveLength(2);
    expect(b.s.info().counters.detectionTimeouts).toBe(0);
    // A in AdminDown discards what it receives.
    expect(a.s.info().counters.rxDiscarded).toBeGreaterThan(0);
    a.s.adminUp();
    expect(a.transitions.at(-1)).toMatchObject({ from: 'AdminDown', to: 'Down', reason: 'admin-up' });
    until(() => a.s.isUp && b.s.isUp, 3000);
  });

  it('AdminDown goes out within the peer\'s Required Min RX, whenever in the interval it starts and whatever arrives meanwhile', () => {
    // The slower idle rate that AdminDown brings must not push back the packet that announces it:
    // a packet from the peer arriving before it is sent re-arms the timer for the new interval.
    for (let offset = 0; offset < 100; offset += 3) {
      const { clock, a, b, until } = lab(FAST, FAST);
      a.s.start();
      b.s.start();
      until(() => a.s.isUp && b.s.isUp, 3000);
      clock.advance(1000); // the Poll Sequence settles on 100 ms
      const last = b.sent.length;
      until(() => b.sent.length > last, 200);
      clock.advance(offset);
      const t0 = clock.now();
      b.s.adminDown();
      const ms = until(() => b.sent.some((x) => x.at >= t0 && x.pkt.state === BfdState.AdminDown), 1000);
      expect(ms, `AdminDown started ${offset} ms after a packet`).toBeLessThanOrEqual(100);
      until(() => !a.s.isUp, 10);
      expect(a.transitions.at(-1)).toMatchObject({ reason: 'received-admin-down' });
    }
  });

  it('discards packets with the A bit set or for another discriminator', () => {
    const clock = new ManualClock();
    const s = new BfdSession(FAST, { localDiscriminator: 5, clock, send: () => {} });
    const base: ControlPacket = {
      diag: 0, state: BfdState.Down, poll: false, final: false, controlPlaneIndependent: false, demand: false, multipoint: false,
      detectMult: 3, myDiscriminator: 9, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 100_000, requiredMinEchoRxUs: 0,
    };
    expect(s.receive({ ...base, auth: { type: 'simple-password', keyId: 1, password: Buffer.from('x') } })).toEqual({ ok: false, reason: 'auth-mismatch' });
    expect(s.receive({ ...base, yourDiscriminator: 6 })).toEqual({ ok: false, reason: 'wrong-discriminator' });
    expect(s.stateName).toBe('Down');
    expect(s.receive(base)).toEqual({ ok: true });
    expect(s.stateName).toBe('Init');
  });

  it('stops periodic packets when the peer runs Demand mode and both are Up (§6.6)', () => {
    const clock = new ManualClock();
    const sent: ControlPacket[] = [];
    const s = new BfdSession(FAST, { localDiscriminator: 5, clock, send: (p) => sent.push(p) });
    s.start();
    const peer = (state: ControlPacket['state'], demand: boolean, final = false): ControlPacket => ({
      diag: 0, state, poll: false, final, controlPlaneIndependent: false, demand, multipoint: false,
      detectMult: 3, myDiscriminator: 9, yourDiscriminator: state === BfdState.Down ? 0 : 5, desiredMinTxUs: 100_000, requiredMinRxUs: 100_000, requiredMinEchoRxUs: 0,
    });
    s.receive(peer(BfdState.Down, false));
    s.receive(peer(BfdState.Up, true));
    expect(s.isUp).toBe(true);
    s.receive(peer(BfdState.Up, true, true)); // Final ends the poll started by coming Up
    clock.advance(50);
    const n = sent.length;
    // The peer keeps sending (only the side that asked for Demand mode stops hearing packets).
    for (let i = 0; i < 20; i++) {
      clock.advance(100);
      s.receive(peer(BfdState.Up, true));
    }
    expect(s.isUp).toBe(true);
    expect(sent.length).toBe(n);
    // Without the D bit, periodic packets resume.
    s.receive(peer(BfdState.Up, false));
    clock.advance(200);
    expect(sent.length).toBeGreaterThan(n);
  });

  it('rejects bad configuration with TERN_ERR_BFD', () => {
    const clock = new ManualClock();
    const mk = (c: BfdSessionConfig) => () => new BfdSession(c, { localDiscriminator: 1, clock, send: () => {} });
    expect(mk({ ...FAST, detectMult: 0 })).toThrow(/multiplier/);
    expect(mk({ ...FAST, detectMult: 256 })).toThrow(/multiplier/);
    expect(mk({ ...FAST, desiredMinTxMs: 0 })).toThrow(/minTxMs/);
    expect(mk({ ...FAST, requiredMinRxMs: 5_000_000 })).toThrow(/minRxMs/);
  });
});
