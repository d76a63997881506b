// One BFD session: the RFC 5880 §6.8 state machine in asynchronous mode, its two timers
// (periodic transmission and detection), and the Poll/Final sequence for interval changes.
// No sockets and no real time: packets go out through an injected `send`, time comes from an
// injected Clock, so the whole machine runs under a ManualClock in unit tests.
//
// Intervals are kept in microseconds, as on the wire; timers are armed in milliseconds.
import { EventEmitter } from 'node:events';
import { TernError } from '../errors/index.js';
import { logger, type Logger } from '../log/index.js';
import type { Clock, Timer } from '../clock/index.js';
import {
  BfdDiag,
  BfdState,
  diagName,
  stateName,
  type BfdStateName,
  type BfdStateValue,
  type ControlPacket,
} from './packet.js';

/** Why the state changed. A closed set: logs and metrics may match on these. */
export const TransitionReasons = [
  'received-down',
  'received-init',
  'received-up',
  'received-admin-down',
  'detection-timeout',
  'admin-down',
  'admin-up',
] as const;
export type TransitionReason = (typeof TransitionReasons)[number];

/** Why a decoded packet was not accepted by the session (RFC 5880 §6.8.6, session part). */
export type SessionDiscardReason = 'closed' | 'wrong-discriminator' | 'auth-mismatch' | 'admin-down';
export type ReceiveResult = { ok: true } | { ok: false; reason: SessionDiscardReason };

export interface BfdSessionConfig {
  /** Desired Min TX Interval once Up. */
  desiredMinTxMs: number;
  /** Required Min RX Interval; 0 asks the peer to send nothing. */
  requiredMinRxMs: number;
  detectMult: number;
  /** RFC 5880 §6.1 Passive role: send nothing until the peer has been heard. */
  passive?: boolean;
}

export interface BfdSessionDeps {
  localDiscriminator: number;
  clock: Clock;
  send(pkt: ControlPacket): void;
  /** Uniform in [0, 1); drives the §6.8.7 jitter. */
  random?: () => number;
  /** Names the session in logs. */
  peer?: string;
  log?: Logger;
}

export interface BfdTransition {
  peer: string;
  from: BfdStateName;
  to: BfdStateName;
  reason: TransitionReason;
  /** The local diagnostic after the change (RFC 5880 §6.8.1 bfd.LocalDiag). */
  diag: number;
  diagName: string;
  /** What the peer last said it was; AdminDown here means "do not treat as a failure" (RFC 5882 §3.2). */
  remoteState: BfdStateName;
  remoteDiag: number;
  at: number;
}

export interface BfdSessionCounters {
  txPackets: number;
  txFinal: number;
  rxPackets: number;
  rxDiscarded: number;
  pollSequences: number;
  upTransitions: number;
  downTransitions: number;
  detectionTimeouts: number;
}

export interface BfdSessionInfo {
  peer: string;
  state: BfdStateName;
  remoteState: BfdStateName;
  localDiscriminator: number;
  remoteDiscriminator: number;
  diag: number;
  diagName: string;
  remoteDiag: number;
  passive: boolean;
  detectMult: number;
  remoteDetectMult: number;
  /** What this side advertises now. */
  desiredMinTxMs: number;
  requiredMinRxMs: number;
  /** What the peer advertised last. */
  remoteDesiredMinTxMs: number;
  remoteRequiredMinRxMs: number;
  /** The negotiated interval before jitter (RFC 5880 §6.8.2). */
  txIntervalMs: number;
  /** RFC 5880 §6.8.4; 0 until the peer has been heard. */
  detectTimeMs: number;
  pollActive: boolean;
  lastStateChange: number;
  counters: BfdSessionCounters;
}

// RFC 5880 §6.8.3: while not Up, Desired Min TX is at least one second.
const SLOW_TX_US = 1_000_000;
const MAX_INTERVAL_US = 0xffffffff;

const ALLOWED: ReadonlySet<string> = new Set([
  'Down>Init',
  'Down>Up',
  'Init>Up',
  'Init>Down',
  'Up>Down',
  'Down>AdminDown',
  'Init>AdminDown',
  'Up>AdminDown',
  'AdminDown>Down',
]);

export function validateSessionConfig(c: BfdSessionConfig, field = 'bfd'): void {
  const ms = (v: number, name: string, min: number) => {
    if (!Number.isFinite(v) || v < min || Math.round(v * 1000) > MAX_INTERVAL_US) {
      throw new TernError('TERN_ERR_BFD', `${name} must be a number of ms from ${min} to ${MAX_INTERVAL_US / 1000}, got ${v}`, { field: `${field}.${name}` });
    }
  };
  ms(c.desiredMinTxMs, 'minTxMs', 0.001);
  ms(c.requiredMinRxMs, 'minRxMs', 0);
  if (!Number.isInteger(c.detectMult) || c.detectMult < 1 || c.detectMult > 255) {
    throw new TernError('TERN_ERR_BFD', `multiplier must be an integer 1-255, got ${c.detectMult}`, { field: `${field}.multiplier` });
  }
}

/**
 * RFC 5880 §6.8.7: each periodic interval is reduced by a random 0–25 %; with Detect Mult 1 it
 * must land between 75 % and 90 %, so that one late packet cannot by itself expire the peer's
 * detection timer.
 */
export function jitteredInterval(intervalMs: number, detectMult: number, random: () => number): number {
  const span = detectMult === 1 ? 0.15 : 0.25;
  return intervalMs * (0.75 + random() * span);
}

type Events = {
  state: [BfdTransition];
  up: [BfdTransition];
  down: [BfdTransition];
};

export class BfdSession extends EventEmitter<Events> {
  readonly peer: string;
  readonly localDiscriminator: number;
  private readonly clock: Clock;
  private readonly sendPacket: (pkt: ControlPacket) => void;
  private readonly random: () => number;
  private readonly log: Logger;

  private cfg: Required<BfdSessionConfig>;
  private state: BfdStateValue = BfdState.Down;
  private localDiag: number = BfdDiag.None;
  private lastStateChange: number;

  private remoteDiscr = 0;
  private remoteState: BfdStateValue = BfdState.Down;
  private remoteDiag = 0;
  private remoteDemand = false;
  // RFC 5880 §6.8.1: bfd.RemoteMinRxInterval starts at 1 µs so the first packets may be sent.
  private remoteMinRxUs = 1;
  private remoteMinTxUs = 0;
  private remoteDetectMult = 0;

  // Advertised values, and the ones in force locally. They differ only while a Poll Sequence
  // is pending a change that RFC 5880 §6.8.3 says must wait for the Final bit.
  private desiredTxUs: number;
  private desiredTxEffUs: number;
  private requiredRxUs: number;
  private requiredRxEffUs: number;
  private poll: { txUs: number; rxUs: number } | null = null;
  private pollAgain = false;

  private txTimer: Timer | undefined;
  private txDueAt = 0;
  private txArmedIntervalUs = 0;
  private lastTxAt: number | undefined;
  private detectTimer: Timer | undefined;
  private started = false;
  private closed = false;
  private pending: BfdTransition[] = [];
  private readonly counters: BfdSessionCounters = {
    txPackets: 0,
    txFinal: 0,
    rxPackets: 0,
    rxDiscarded: 0,
    pollSequences: 0,
    upTransitions: 0,
    downTransitions: 0,
    detectionTimeouts: 0,
  };

  constructor(config: BfdSessionConfig, deps: BfdSessionDeps) {
    super();
    validateSessionConfig(config);
    if (!Number.isInteger(deps.localDiscriminator) || deps.localDiscriminator < 1 || deps.localDiscriminator > 0xffffffff) {
      throw new TernError('TERN_ERR_BFD', `local discriminator must be a nonzero 32-bit integer, got ${deps.localDiscriminator}`);
    }
    this.cfg = { passive: false, ...config };
    this.peer = deps.peer ?? '';
    this.localDiscriminator = deps.localDiscriminator;
    this.clock = deps.clock;
    this.sendPacket = deps.send;
    this.random = deps.random ?? Math.random;
    this.log = deps.log ?? logger('bfd');
    this.desiredTxUs = this.desiredTxEffUs = this.idleTxUs();
    this.requiredRxUs = this.requiredRxEffUs = Math.round(config.requiredMinRxMs * 1000);
    this.lastStateChange = this.clock.now();
  }

  get stateName(): BfdStateName {
    return stateName(this.state);
  }

  get isUp(): boolean {
    return this.state === BfdState.Up;
  }

  /** Starts periodic transmission (an active session sends its first packet at once). */
  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.updateTx();
  }

  /**
   * Processes a packet that passed `decode` and was demultiplexed to this session
   * (RFC 5880 §6.8.6, from "If the A bit is set" on).
   */
  receive(pkt: ControlPacket): ReceiveResult {
    const r = this.receiveInner(pkt);
    if (!r.ok) this.counters.rxDiscarded++;
    this.flush();
    return r;
  }

  /** RFC 5880 §6.8.16: take the session administratively down; the peer sees AdminDown. */
  adminDown(diag: number = BfdDiag.AdministrativelyDown): void {
    if (this.closed || this.state === BfdState.AdminDown) return;
    this.transition(this.state, BfdState.AdminDown, 'admin-down', diag);
    this.flush();
  }

  /** Leaves AdminDown for Down; the handshake starts again. */
  adminUp(): void {
    if (this.closed || this.state !== BfdState.AdminDown) return;
    this.transition(BfdState.AdminDown, BfdState.Down, 'admin-up', BfdDiag.None);
    this.flush();
  }

  /** Changes the intervals or multiplier; interval changes go through a Poll Sequence (§6.8.3). */
  setConfig(next: Partial<Omit<BfdSessionConfig, 'passive'>>): void {
    const c = { ...this.cfg, ...next };
    validateSessionConfig(c);
    this.cfg = c;
    this.setDesiredTx(this.state === BfdState.Up ? this.cfgTxUs() : this.idleTxUs());
    this.setRequiredRx(Math.round(c.requiredMinRxMs * 1000));
    this.updateTx();
    this.flush();
  }

  /** Stops both timers for good. Sends nothing: call adminDown first for a graceful goodbye. */
  close(): void {
    this.closed = true;
    this.txTimer?.cancel();
    this.txTimer = undefined;
    this.detectTimer?.cancel();
    this.detectTimer = undefined;
    this.pending = [];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Time the peer needs to notice this side has gone quiet, as far as this side knows. */
  get detectTimeMs(): number {
    return (this.remoteDetectMult * Math.max(this.requiredRxEffUs, this.remoteMinTxUs)) / 1000;
  }

  info(): BfdSessionInfo {
    return {
      peer: this.peer,
      state: stateName(this.state),
      remoteState: stateName(this.remoteState),
      localDiscriminator: this.localDiscriminator,
      remoteDiscriminator: this.remoteDiscr,
      diag: this.localDiag,
      diagName: diagName(this.localDiag),
      remoteDiag: this.remoteDiag,
      passive: this.cfg.passive,
      detectMult: this.cfg.detectMult,
      remoteDetectMult: this.remoteDetectMult,
      desiredMinTxMs: this.desiredTxUs / 1000,
      requiredMinRxMs: this.requiredRxUs / 1000,
      remoteDesiredMinTxMs: this.remoteMinTxUs / 1000,
      remoteRequiredMinRxMs: this.remoteMinRxUs / 1000,
      txIntervalMs: this.txIntervalUs() / 1000,
      detectTimeMs: this.detectTimeMs,
      pollActive: this.poll !== null,
      lastStateChange: this.lastStateChange,
      counters: { ...this.counters },
    };
  }

  // ---- reception -------------------------------------------------------------------------

  private receiveInner(pkt: ControlPacket): ReceiveResult {
    if (this.closed) return { ok: false, reason: 'closed' };
    if (pkt.yourDiscriminator !== 0 && pkt.yourDiscriminator !== this.localDiscriminator) {
      return { ok: false, reason: 'wrong-discriminator' };
    }
    // No authentication is configured on Tern sessions, so the A bit must be clear (§6.8.6).
    if (pkt.auth) return { ok: false, reason: 'auth-mismatch' };

    this.remoteDiscr = pkt.myDiscriminator;
    this.remoteState = pkt.state;
    this.remoteDiag = pkt.diag;
    this.remoteDemand = pkt.demand;
    this.remoteMinRxUs = pkt.requiredMinRxUs;
    this.remoteMinTxUs = pkt.desiredMinTxUs;
    this.remoteDetectMult = pkt.detectMult;
    if (pkt.final && this.poll) this.terminatePoll();

    if (this.state === BfdState.AdminDown) {
      this.updateTx();
      return { ok: false, reason: 'admin-down' };
    }
    this.counters.rxPackets++;
    this.armDetection();

    if (pkt.state === BfdState.AdminDown) {
      if (this.state !== BfdState.Down) {
        this.transition(this.state, BfdState.Down, 'received-admin-down', BfdDiag.NeighborSignaledDown);
      }
    } else if (this.state === BfdState.Down) {
      if (pkt.state === BfdState.Down) this.transition(BfdState.Down, BfdState.Init, 'received-down', BfdDiag.None);
      else if (pkt.state === BfdState.Init) this.transition(BfdState.Down, BfdState.Up, 'received-init', BfdDiag.None);
    } else if (this.state === BfdState.Init) {
      if (pkt.state === BfdState.Init) this.transition(BfdState.Init, BfdState.Up, 'received-init', BfdDiag.None);
      else if (pkt.state === BfdState.Up) this.transition(BfdState.Init, BfdState.Up, 'received-up', BfdDiag.None);
    } else if (this.state === BfdState.Up) {
      if (pkt.state === BfdState.Down) {
        this.transition(BfdState.Up, BfdState.Down, 'received-down', BfdDiag.NeighborSignaledDown);
      }
    }

    this.updateTx();
    // §6.8.7: answer a Poll with a Final at once, whatever the transmit timer says.
    if (pkt.poll) this.transmit(true);
    return { ok: true };
  }

  private armDetection(): void {
    this.detectTimer?.cancel();
    this.detectTimer = undefined;
    const ms = this.detectTimeMs;
    if (ms > 0) this.detectTimer = this.clock.setTimer(ms, () => this.onDetectionTimer());
  }

  // A stalled process (GC, a busy event loop) sees its timers fire before the packets that
  // arrived meanwhile are read. The expiry waits for those packets: one that arrives re-arms
  // detection and cancels it, so only a peer that really fell silent is declared Down.
  private onDetectionTimer(): void {
    if (this.clock.afterIo) this.detectTimer = this.clock.afterIo(() => this.onDetectionTimeout());
    else this.onDetectionTimeout();
  }

  // RFC 5880 §6.8.4: nothing valid heard for a Detection Time.
  private onDetectionTimeout(): void {
    this.detectTimer = undefined;
    if (this.closed) return;
    // §6.8.1: bfd.RemoteDiscr is reset when the Detection Time passes; the rest of the peer's
    // variables go back to their initial values with it, so a restarted peer starts clean.
    this.remoteDiscr = 0;
    this.remoteState = BfdState.Down;
    this.remoteDemand = false;
    this.remoteMinRxUs = 1;
    this.remoteMinTxUs = 0;
    this.remoteDetectMult = 0;
    this.poll = null;
    this.pollAgain = false;
    this.desiredTxEffUs = this.desiredTxUs;
    this.requiredRxEffUs = this.requiredRxUs;
    if (this.state === BfdState.Init || this.state === BfdState.Up) {
      this.counters.detectionTimeouts++;
      this.transition(this.state, BfdState.Down, 'detection-timeout', BfdDiag.ControlDetectionTimeExpired);
    }
    this.updateTx();
    this.flush();
  }

  // ---- state -----------------------------------------------------------------------------

  private transition(from: BfdStateValue, to: BfdStateValue, reason: TransitionReason, diag: number): void {
    const key = `${stateName(from)}>${stateName(to)}`;
    if (this.state !== from || !ALLOWED.has(key)) {
      throw new Error(`BFD session ${this.peer}: illegal transition ${stateName(from)} -> ${stateName(to)} (${reason}) in state ${stateName(this.state)}`);
    }
    this.state = to;
    this.localDiag = diag;
    this.lastStateChange = this.clock.now();
    this.log.info(
      { peer: this.peer, diag: diagName(diag), remoteState: stateName(this.remoteState) },
      `${stateName(from)} -> ${stateName(to)} (${reason})`,
    );
    if (to === BfdState.Up) {
      this.counters.upTransitions++;
      this.setDesiredTx(this.cfgTxUs());
    } else if (from === BfdState.Up) {
      this.counters.downTransitions++;
      this.setDesiredTx(this.idleTxUs());
    }
    if (to === BfdState.AdminDown) {
      this.detectTimer?.cancel();
      this.detectTimer = undefined;
    }
    this.pending.push({
      peer: this.peer,
      from: stateName(from),
      to: stateName(to),
      reason,
      diag,
      diagName: diagName(diag),
      remoteState: stateName(this.remoteState),
      remoteDiag: this.remoteDiag,
      at: this.lastStateChange,
    });
    // Tell the peer promptly instead of waiting out a slow (1 s) interval.
    this.expediteTx();
  }

  // Listeners run only once the session is consistent again, so one may remove the session or
  // change its configuration from inside an event.
  private flush(): void {
    while (this.pending.length > 0 && !this.closed) {
      const t = this.pending.shift()!;
      this.emit('state', t);
      if (t.to === 'Up') this.emit('up', t);
      else if (t.from === 'Up') this.emit('down', t);
    }
  }

  // ---- intervals and the Poll Sequence (RFC 5880 §6.5, §6.8.3) ----------------------------

  private cfgTxUs(): number {
    return Math.round(this.cfg.desiredMinTxMs * 1000);
  }

  private idleTxUs(): number {
    return Math.max(this.cfgTxUs(), SLOW_TX_US);
  }

  private setDesiredTx(us: number): void {
    if (us === this.desiredTxUs) return;
    this.desiredTxUs = us;
    // §6.8.3: while Up, a slower transmit rate waits for the peer's Final; a faster one (or any
    // change while not Up) takes effect at once.
    if (this.state !== BfdState.Up || us < this.desiredTxEffUs) this.desiredTxEffUs = us;
    this.requestPoll();
  }

  private setRequiredRx(us: number): void {
    if (us === this.requiredRxUs) return;
    this.requiredRxUs = us;
    // §6.8.3: while Up, a lower Required Min RX keeps the old detection time until the Final.
    if (this.state !== BfdState.Up || us > this.requiredRxEffUs) {
      this.requiredRxEffUs = us;
      if (this.detectTimer) this.armDetection();
    }
    this.requestPoll();
  }

  private requestPoll(): void {
    // Nobody to poll yet: the new values simply go out in the next packets.
    if (this.remoteDiscr === 0) return;
    if (this.poll) {
      this.pollAgain = true;
      return;
    }
    this.poll = { txUs: this.desiredTxUs, rxUs: this.requiredRxUs };
    this.counters.pollSequences++;
    this.expediteTx();
  }

  private terminatePoll(): void {
    const p = this.poll!;
    // The peer has acknowledged the values of this poll; values changed since wait for the next.
    if (this.desiredTxUs > this.desiredTxEffUs) this.desiredTxEffUs = Math.min(this.desiredTxUs, Math.max(this.desiredTxEffUs, p.txUs));
    else this.desiredTxEffUs = this.desiredTxUs;
    if (this.requiredRxUs < this.requiredRxEffUs) this.requiredRxEffUs = Math.max(this.requiredRxUs, Math.min(this.requiredRxEffUs, p.rxUs));
    else this.requiredRxEffUs = this.requiredRxUs;
    this.poll = null;
    if (this.pollAgain) {
      this.pollAgain = false;
      this.requestPoll();
    }
  }

  // ---- transmission (RFC 5880 §6.8.7) ----------------------------------------------------

  private txIntervalUs(): number {
    return Math.max(this.desiredTxEffUs, this.remoteMinRxUs);
  }

  private canTransmit(): boolean {
    if (this.closed || !this.started) return false;
    if (this.cfg.passive && this.remoteDiscr === 0) return false;
    // The peer asked for no packets at all.
    if (this.remoteMinRxUs === 0) return false;
    // §6.6: the peer runs Demand mode; periodic packets stop once both sides are Up.
    if (this.remoteDemand && !this.poll && this.state === BfdState.Up && this.remoteState === BfdState.Up) return false;
    return true;
  }

  private updateTx(): void {
    if (!this.canTransmit()) {
      this.txTimer?.cancel();
      this.txTimer = undefined;
      return;
    }
    // Re-arm when none is armed or the negotiated interval has changed, counting from the last
    // packet sent. Not on every packet: a fresh jitter draw each time would skew the rate.
    const interval = this.txIntervalUs();
    if (this.txTimer && interval === this.txArmedIntervalUs) return;
    const now = this.clock.now();
    let next = this.lastTxAt === undefined ? now : this.lastTxAt + jitteredInterval(interval / 1000, this.cfg.detectMult, this.random);
    // A longer interval does not push back a packet already due (one expedited for a state
    // change, such as the AdminDown that brings the slow idle rate); it still keeps the peer's
    // Required Min RX after the previous one.
    if (this.txTimer) {
      const floor = this.lastTxAt === undefined ? now : this.lastTxAt + this.remoteMinRxUs / 1000;
      next = Math.min(next, Math.max(this.txDueAt, floor));
    }
    this.scheduleTx(Math.max(0, next - now));
  }

  /**
   * Sends the next periodic packet early, for a state change or a new Poll. It never comes
   * sooner after the previous one than the peer's Required Min RX Interval, so the peer is never
   * sent more than it said it can take.
   */
  private expediteTx(): void {
    if (!this.canTransmit()) return;
    const now = this.clock.now();
    const earliest = this.lastTxAt === undefined ? now : Math.max(now, this.lastTxAt + this.remoteMinRxUs / 1000);
    if (this.txTimer && this.txDueAt <= earliest) return;
    this.scheduleTx(earliest - now);
  }

  private scheduleTx(delayMs: number): void {
    this.txTimer?.cancel();
    this.txDueAt = this.clock.now() + delayMs;
    this.txArmedIntervalUs = this.txIntervalUs();
    this.txTimer = this.clock.setTimer(delayMs, () => {
      this.txTimer = undefined;
      if (!this.canTransmit()) return;
      this.transmit(false);
      this.scheduleTx(jitteredInterval(this.txIntervalUs() / 1000, this.cfg.detectMult, this.random));
    });
  }

  private transmit(final: boolean): void {
    const pkt: ControlPacket = {
      diag: this.localDiag,
      state: this.state,
      // §6.5: P and F are never set together; a Final answer carries no Poll.
      poll: !final && this.poll !== null,
      final,
      controlPlaneIndependent: false,
      demand: false,
      multipoint: false,
      detectMult: this.cfg.detectMult,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: this.desiredTxUs,
      requiredMinRxUs: this.requiredRxUs,
      requiredMinEchoRxUs: 0,
    };
    this.counters.txPackets++;
    if (final) this.counters.txFinal++;
    else this.lastTxAt = this.clock.now();
    this.sendPacket(pkt);
  }
}
