// The BGP-4 finite state machine of one peer (RFC 4271 §8), its TCP connections, timers and
// messages. Every state change goes through transition(); every FSM input is one FsmEvent
// handled by dispatch(), one switch per state, in the order of RFC 4271 §8.2.2. Received
// UPDATEs go to the RIB through RibPort; outgoing UPDATEs are pulled from it when the socket
// can take more.
//
// Collision detection (§6.8) needs a second connection for a while: an incoming connection
// that arrives while ours is in OpenSent/OpenConfirm becomes the "side" connection; we send
// our OPEN on it too, and the first OPEN that tells us the peer's BGP Identifier decides which
// connection survives. Only the primary connection drives the FSM.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { networkInterfaces } from 'node:os';
import { logger, type Logger } from '../../log/index.js';
import type { PeerDescriptor, RibPort } from '../peer.js';
import {
  type BgpError,
  CeaseSubcode,
  decodeNotificationBody,
  decodeOpenBody,
  decodeRouteRefreshBody,
  DEFAULT_CONTEXT,
  encodeNotification,
  endOfRib,
  ErrCode,
  familyKey,
  KEEPALIVE,
  MessageReader,
  MsgType,
  type NotificationMessage,
  notificationEncodingLength,
  type OpenMessage,
  parseDotted,
  RouteRefreshSubtype,
  scanUpdateBody,
  toBuffer,
  type UpdateScan,
} from '../wire/index.js';
import { type Clock, systemClock, type Timer } from '../../clock/index.js';
import { familyName, type PeerConfig, type ResolvedPeerConfig, resolvePeerConfig } from './config.js';
import { buildLocalOpen, checkRemoteOpen, type Negotiated, negotiateOpen } from './open.js';
import { tcpTransport, type Transport } from './transport.js';
import { directLinkLocal, type InterfaceTable } from './link-local.js';

/** RFC 4271 §8.2.2 states. */
export const SessionState = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
} as const;
export type SessionStateName = (typeof SessionState)[keyof typeof SessionState];

/** Why a transition happened: a closed set, logged as `Idle -> Connect (start)`. */
export const TransitionReasons = [
  'start',
  'start-passive',
  'auto-start',
  'stop',
  'connect-retry-expired',
  'tcp-connected',
  'tcp-accepted',
  'tcp-connect-failed',
  'tcp-closed',
  'delay-open-expired',
  'open-received',
  'open-received-delayed',
  'open-error',
  'header-error',
  'update-error',
  'route-refresh-error',
  'keepalive-received',
  'notification-received',
  'hold-timer-expired',
  'fsm-error',
  'collision',
  'max-prefix',
  'admin-reset',
  'config-change',
  'deconfigured',
  'graceful-restart',
  'peer-restarted',
  'bfd-down',
] as const;
export type TransitionReason = (typeof TransitionReasons)[number];

/** Legal edges; anything else is a bug in this file and throws. */
const EDGES: Record<SessionStateName, readonly SessionStateName[]> = {
  Idle: ['Connect', 'Active'],
  Connect: ['Idle', 'Active', 'OpenSent', 'OpenConfirm'],
  Active: ['Idle', 'Connect', 'OpenSent', 'OpenConfirm'],
  OpenSent: ['Idle', 'Active', 'OpenConfirm'],
  OpenConfirm: ['Idle', 'Established'],
  Established: ['Idle'],
};

export interface Transition {
  peer: string;
  from: SessionStateName;
  to: SessionStateName;
  reason: TransitionReason;
  /** Clock milliseconds. */
  at: number;
}

/**
 * FSM inputs, named and numbered as RFC 4271 §8.1. Not modelled: Events 6-7 (damping is done
 * by the IdleHoldTimer doubling), 14-15 (the SessionManager accepts or refuses connections by
 * address before the FSM sees them).
 */
export type FsmEvent =
  | { type: 'ManualStart' } // 1 (and 4 when the peer is passive)
  | { type: 'ManualStop'; message: string | undefined } // 2
  | { type: 'AutomaticStart' } // 3 (and 5 when passive)
  | { type: 'AutomaticStop'; subcode: number; reason: TransitionReason; message?: string; data?: Uint8Array } // 8
  | { type: 'ConnectRetryTimerExpires' } // 9
  | { type: 'HoldTimerExpires' } // 10
  | { type: 'KeepaliveTimerExpires' } // 11
  | { type: 'DelayOpenTimerExpires' } // 12
  | { type: 'IdleHoldTimerExpires' } // 13
  | { type: 'TcpConnectionAcked'; socket: net.Socket } // 16: our connection completed
  | { type: 'TcpConnectionConfirmed'; socket: net.Socket } // 17: the peer's connection accepted
  | { type: 'TcpConnectionFails' } // 18
  | { type: 'BGPOpen'; open: OpenMessage } // 19 (20 when the DelayOpenTimer runs)
  | { type: 'BGPHeaderErr'; error: BgpError } // 21
  | { type: 'BGPOpenMsgErr'; error: BgpError } // 22
  | { type: 'OpenCollisionDump' } // 23
  | { type: 'NotifMsgVerErr'; notification: NotificationMessage } // 24
  | { type: 'NotifMsg'; notification: NotificationMessage } // 25
  | { type: 'KeepAliveMsg' } // 26
  | { type: 'UpdateMsg'; scan: UpdateScan | null } // 27 (null: an UPDATE before Established)
  | { type: 'UpdateMsgErr'; error: BgpError } // 28
  | { type: 'RouteRefreshMsg'; afi: number; safi: number; subtype: number } // RFC 2918, outside RFC 4271's list
  | { type: 'BfdDown'; graceful: boolean }; // RFC 5882 §4.3, outside RFC 4271's list

export type MessageTypeName = 'open' | 'update' | 'notification' | 'keepalive' | 'routeRefresh';
const TYPE_NAME: Record<number, MessageTypeName> = { 1: 'open', 2: 'update', 3: 'notification', 4: 'keepalive', 5: 'routeRefresh' };

export interface LastError {
  direction: 'sent' | 'received' | 'local';
  code: number;
  subcode: number;
  message: string;
  at: number;
}

export interface SessionCounters {
  messagesIn: Record<MessageTypeName, number>;
  messagesOut: Record<MessageTypeName, number>;
  /** Times the session left Established. */
  flaps: number;
  /** Times it reached Established. */
  established: number;
  /** RFC 4271 §8.1.1 ConnectRetryCounter. */
  connectRetryCounter: number;
  /** Incoming connections closed by collision detection or refused. */
  connectionsRejected: number;
  lastError: LastError | null;
}

export interface SessionOptions {
  /** Unique per speaker for the process lifetime: PeerDescriptor.id. */
  id: number;
  config: PeerConfig;
  rib: RibPort;
  clock?: Clock;
  transport?: Transport;
  /** [0, 1): jitter source (RFC 4271 §10). Tests pass () => 0.999 for none. */
  random?: () => number;
  /** Octets per drainOut call. */
  drainBytes?: number;
  /** Least time between two pumps that send, in ms (default 25; see wake). */
  pumpPaceMs?: number;
  /** This host's interfaces, read when the session reaches Established (default os.networkInterfaces). */
  interfaces?: () => InterfaceTable;
  log?: Logger;
}

/** OpenSent's hold time before the peer's OPEN tells us the real one: RFC 4271 §8.2.2 suggests 4 minutes. */
const LARGE_HOLD_MS = 240_000;
/** How long a socket that got a NOTIFICATION may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 2_000;

interface Conn {
  readonly seq: number;
  readonly socket: net.Socket;
  /** 'out': we connected; 'in': the peer did (collision resolution needs to know). */
  readonly direction: 'in' | 'out';
  readonly reader: MessageReader;
  openSent: boolean;
  remoteOpen: OpenMessage | null;
  hold: Timer | null;
  /** The armed hold time and when it runs out (restartHold only moves the deadline). */
  holdMs: number;
  holdDue: number;
  closed: boolean;
}

const emptyCounts = (): Record<MessageTypeName, number> => ({ open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 });

/** Least time between two pumps that send, by default (see wake). */
const PUMP_PACE_MS = 25;

export class BgpSession extends EventEmitter {
  readonly id: number;
  private cfg: ResolvedPeerConfig;
  private readonly rib: RibPort;
  private readonly clock: Clock;
  private readonly transport: Transport;
  private readonly random: () => number;
  private readonly drainBytes: number;
  private readonly interfaces: () => InterfaceTable;
  private readonly pumpPaceMs: number;
  private readonly log: Logger;

  private st: SessionStateName = 'Idle';
  /** Administratively started (ManualStart until ManualStop). */
  private adminUp = false;
  private conn: Conn | null = null;
  private side: Conn | null = null;
  private connecting: { cancelled: boolean } | null = null;
  private connSeq = 0;
  private localOpen: OpenMessage | null = null;
  private neg: Negotiated | null = null;
  private descriptor: PeerDescriptor | null = null;
  private restarting = false;
  private failures = 0;
  private establishedAt: number | null = null;
  private pumping = false;
  private pumpQueued = false;
  /** performance.now() of the last pump that wrote something. */
  private lastSentAt = -Infinity;
  private lastDownReason: TransitionReason | null = null;

  private connectRetryTimer: Timer | null = null;
  private keepaliveTimer: Timer | null = null;
  private delayOpenTimer: Timer | null = null;
  private idleHoldTimer: Timer | null = null;

  readonly counters: SessionCounters = {
    messagesIn: emptyCounts(),
    messagesOut: emptyCounts(),
    flaps: 0,
    established: 0,
    connectRetryCounter: 0,
    connectionsRejected: 0,
    lastError: null,
  };

  constructor(o: SessionOptions) {
    super();
    this.id = o.id;
    this.cfg = resolvePeerConfig(o.config);
    this.rib = o.rib;
    this.clock = o.clock ?? systemClock;
    this.transport = o.transport ?? tcpTransport;
    this.random = o.random ?? Math.random;
    this.drainBytes = o.drainBytes ?? 64 * 1024;
    this.interfaces = o.interfaces ?? networkInterfaces;
    this.pumpPaceMs = o.pumpPaceMs ?? PUMP_PACE_MS;
    this.log = (o.log ?? logger('bgp-session')).child({ peer: this.cfg.address });
  }

  // -------------------------------------------------------------------------------------
  // Public API

  get state(): SessionStateName {
    return this.st;
  }

  get config(): ResolvedPeerConfig {
    return this.cfg;
  }

  get address(): string {
    return this.cfg.address;
  }

  /** What the OPENs negotiated, while OpenConfirm or Established. */
  get negotiated(): Negotiated | null {
    return this.neg;
  }

  get peerDescriptor(): PeerDescriptor | null {
    return this.descriptor;
  }

  /** Milliseconds in Established, or 0. */
  uptimeMs(): number {
    return this.establishedAt === null ? 0 : this.clock.now() - this.establishedAt;
  }

  /** Local and remote address/port of the primary connection. */
  connection(): { localAddress: string; localPort: number; remoteAddress: string; remotePort: number; direction: 'in' | 'out' } | null {
    const c = this.conn;
    if (!c) return null;
    return {
      localAddress: c.socket.localAddress ?? '',
      localPort: c.socket.localPort ?? 0,
      remoteAddress: c.socket.remoteAddress ?? '',
      remotePort: c.socket.remotePort ?? 0,
      direction: c.direction,
    };
  }

  /** ManualStart (Event 1, or 4 for a passive peer). */
  start(): void {
    this.adminUp = true;
    this.dispatch({ type: 'ManualStart' });
  }

  /**
   * ManualStop (Event 2): Cease / Administrative Shutdown with an RFC 8203/9003 shutdown
   * communication, then Idle until start() again.
   */
  stop(message?: string): void {
    this.adminUp = false;
    this.dispatch({ type: 'ManualStop', message });
  }

  /** Cease / Administrative Reset (RFC 4486), then start again after the IdleHoldTime. */
  reset(message?: string): void {
    this.dispatch({ type: 'AutomaticStop', subcode: CeaseSubcode.ADMIN_RESET, reason: 'admin-reset', ...(message !== undefined ? { message } : {}) });
  }

  /** Cease / Other Configuration Change after a configuration change that needs a new OPEN, then start again. */
  resetForConfig(cfg: PeerConfig): void {
    const next = resolvePeerConfig(cfg);
    this.dispatch({ type: 'AutomaticStop', subcode: CeaseSubcode.OTHER_CONFIG_CHANGE, reason: 'config-change' });
    this.cfg = next;
  }

  /** Applies a change the session does not need to renegotiate (policies, limits, description). */
  updateSoft(cfg: PeerConfig): void {
    this.cfg = resolvePeerConfig(cfg);
  }

  /** Cease / Peer De-configured; the session stays down for good. */
  deconfigure(): void {
    this.adminUp = false;
    this.dispatch({ type: 'AutomaticStop', subcode: CeaseSubcode.PEER_DECONFIGURED, reason: 'deconfigured' });
    this.clearAllTimers();
  }

  /**
   * Graceful restart as the restarting speaker (RFC 4724 §4.1): the TCP connection is closed
   * without a NOTIFICATION, so a helper peer keeps our routes (marked stale) for our Restart
   * Time. The session stays Idle until start(); its next OPEN carries the R bit, and the RIB
   * ends the new session's initial dump with End-of-RIB, which lets the peer sweep what we no
   * longer announce. With the N bit (RFC 8538) closing without NOTIFICATION is still the
   * graceful way; a NOTIFICATION other than Hard Reset would be too.
   */
  closeForRestart(): void {
    this.restarting = true;
    if (this.st === 'Idle') return;
    this.goIdle('graceful-restart', { keepStale: this.neg?.gracefulRestart != null, autoRestart: false });
  }

  /**
   * BFD declared the forwarding path to the peer down (RFC 5882 §4.3): the session is torn down
   * at once, as on loss of connectivity, instead of waiting for the Hold Timer. A NOTIFICATION
   * Cease / BFD Down (RFC 9384) is sent on the chance it still gets through; the peer's routes
   * are withdrawn (BIRD's `bfd on`), or kept stale when `graceful` and graceful restart was
   * negotiated (BIRD's `bfd graceful`). The session then starts again after the IdleHoldTime.
   */
  bfdDown(o: { graceful?: boolean } = {}): void {
    this.dispatch({ type: 'BfdDown', graceful: o.graceful ?? false });
  }

  /** Asks the peer to send its routes again (RFC 2918): "soft reset in". */
  requestRouteRefresh(family: number): boolean {
    if (this.st !== 'Established' || !this.neg?.routeRefresh || !this.neg.families.includes(family)) return false;
    this.send(this.conn!, toBuffer({ type: 'ROUTE-REFRESH', afi: family >> 8, safi: family & 255, subtype: RouteRefreshSubtype.NORMAL }), MsgType.ROUTE_REFRESH);
    return true;
  }

  /**
   * A connection the SessionManager accepted for this peer's address. Handled as
   * TcpConnectionConfirmed (Event 17), or as the second connection of a collision.
   */
  acceptConnection(socket: net.Socket): void {
    socket.pause();
    switch (this.st) {
      case 'Idle':
        // RFC 4271 §8.2.2: Idle refuses connections.
        this.counters.connectionsRejected++;
        socket.destroy();
        return;
      case 'Connect':
      case 'Active':
        if (this.conn) return this.secondConnection(socket, 'in');
        // Our own attempt may still complete: it then becomes the second connection of a
        // collision. Cancelling it instead loses both when the peer does the same.
        this.dispatch({ type: 'TcpConnectionConfirmed', socket });
        return;
      case 'OpenSent':
      case 'OpenConfirm':
        return this.secondConnection(socket, 'in');
      case 'Established':
        if (this.neg?.gracefulRestart) {
          // RFC 4724 §4.2: a new connection from a peer that announced graceful restart means it
          // restarted before we noticed; the old session ends as if its TCP connection had failed.
          if (!this.adminUp) return void socket.destroy();
          this.goIdle('peer-restarted', { keepStale: true, autoRestart: false });
          this.toStartState('peer-restarted');
          this.cancelConnect();
          this.dispatch({ type: 'TcpConnectionConfirmed', socket });
          return;
        }
        return this.secondConnection(socket, 'in');
    }
  }

  /** Called by the RIB when it has output for this peer (RibPort.peerUp's wake). */
  wake(): void {
    // Deferred to the end of this turn of the event loop: the changes from every UPDATE read in
    // the same turn (a reflector hears many clients at once) go out in one pump.
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    const run = (): void => {
      this.pumpQueued = false;
      this.pump();
    };
    // Pacing: after a pump that sent something, the next waits until PUMP_PACE_MS have passed.
    // A lone change still goes out at once; a stream of them (clients joining a reflector one
    // by one) goes out in fewer, fuller writes instead of one small write per change per peer.
    const wait = this.lastSentAt + this.pumpPaceMs - performance.now();
    if (wait <= 0) setImmediate(run);
    else setTimeout(run, wait);
  }

  // -------------------------------------------------------------------------------------
  // The state machine

  private transition(from: SessionStateName, to: SessionStateName, reason: TransitionReason): void {
    if (this.st !== from) throw new Error(`BGP FSM: transition ${from} -> ${to} (${reason}) while in ${this.st}`);
    if (!EDGES[from].includes(to)) throw new Error(`BGP FSM: no edge ${from} -> ${to} (${reason})`);
    this.st = to;
    const t: Transition = { peer: this.cfg.address, from, to, reason, at: this.clock.now() };
    this.log.info({ from, to, reason }, `${from} -> ${to} (${reason})`);
    this.emit('state', t);
  }

  private dispatch(ev: FsmEvent): void {
    switch (this.st) {
      case 'Idle':
        return this.inIdle(ev);
      case 'Connect':
      case 'Active':
        return this.inConnectOrActive(ev);
      case 'OpenSent':
        return this.inOpenSent(ev);
      case 'OpenConfirm':
        return this.inOpenConfirm(ev);
      case 'Established':
        return this.inEstablished(ev);
    }
  }

  private inIdle(ev: FsmEvent): void {
    switch (ev.type) {
      case 'ManualStart':
        this.counters.connectRetryCounter = 0;
        this.failures = 0;
        this.cancelTimer('idleHoldTimer');
        return this.toStartState('start');
      case 'AutomaticStart':
      case 'IdleHoldTimerExpires':
        this.idleHoldTimer = null;
        if (!this.adminUp) return;
        return this.toStartState('auto-start');
      case 'ManualStop':
        this.cancelTimer('idleHoldTimer');
        return;
      case 'TcpConnectionAcked':
      case 'TcpConnectionConfirmed':
        ev.socket.destroy();
        return;
      default:
        // RFC 4271 §8.2.2: any other event in Idle is ignored.
        return;
    }
  }

  /** Idle -> Connect (active peer: connect now) or Idle -> Active (passive peer: wait). */
  private toStartState(reason: TransitionReason): void {
    this.localOpen = buildLocalOpen(this.cfg, this.restarting);
    if (this.cfg.passive) {
      // A passive peer never connects, so its ConnectRetryTimer is never started (§8.1.1
      // PassiveTcpEstablishment; it would only move it to Connect to try).
      this.transition('Idle', 'Active', reason === 'start' ? 'start-passive' : reason);
      return;
    }
    this.startConnectRetry();
    this.transition('Idle', 'Connect', reason);
    this.initiateConnect();
  }

  private inConnectOrActive(ev: FsmEvent): void {
    const st = this.st as 'Connect' | 'Active';
    switch (ev.type) {
      case 'ManualStart':
      case 'AutomaticStart':
        return;
      case 'ManualStop':
        this.counters.connectRetryCounter = 0;
        return this.goIdle('stop', { autoRestart: false });
      case 'AutomaticStop':
        return this.goIdle(ev.reason, { autoRestart: this.adminUp });
      case 'BfdDown':
        return this.goIdle('bfd-down', { autoRestart: true, failure: true });
      case 'ConnectRetryTimerExpires':
        this.connectRetryTimer = null;
        this.counters.connectRetryCounter++;
        // §8.2.2 Connect: drop the attempt in progress and try again; Active: try again, to Connect.
        this.cancelConnect();
        this.dropConn();
        this.cancelTimer('delayOpenTimer');
        this.startConnectRetry();
        if (st === 'Active') this.transition('Active', 'Connect', 'connect-retry-expired');
        this.initiateConnect();
        return;
      case 'DelayOpenTimerExpires':
        this.delayOpenTimer = null;
        if (!this.conn) return;
        this.sendOpen(this.conn);
        this.setHold(this.conn, LARGE_HOLD_MS);
        return this.transition(st, 'OpenSent', 'delay-open-expired');
      case 'TcpConnectionAcked':
      case 'TcpConnectionConfirmed': {
        const incoming = ev.type === 'TcpConnectionConfirmed';
        const conn = this.wrapConn(ev.socket, incoming ? 'in' : 'out');
        this.conn = conn;
        this.cancelTimer('connectRetryTimer');
        if (this.cfg.delayOpenTime > 0) {
          // §8.2.2: with DelayOpen, wait for the peer's OPEN (or the timer) before sending ours.
          this.delayOpenTimer = this.clock.setTimer(this.cfg.delayOpenTime * 1000, () => this.dispatch({ type: 'DelayOpenTimerExpires' }));
          this.listen(conn);
          return;
        }
        this.sendOpen(conn);
        this.setHold(conn, LARGE_HOLD_MS);
        this.transition(st, 'OpenSent', incoming ? 'tcp-accepted' : 'tcp-connected');
        this.listen(conn);
        return;
      }
      case 'TcpConnectionFails':
        // §8.2.2 goes to Idle when no DelayOpenTimer runs; we go to Active and let the
        // ConnectRetryTimer try again, as BIRD does, so a peer that is not up yet costs one
        // retry interval instead of an IdleHold plus a retry.
        this.dropConn();
        this.cancelTimer('delayOpenTimer');
        if (!this.cfg.passive && !this.connectRetryTimer) this.startConnectRetry();
        if (st === 'Connect') this.transition('Connect', 'Active', 'tcp-connect-failed');
        return;
      case 'BGPOpen': {
        if (!this.delayOpenTimer || !this.conn) return this.fsmErrorIdle(st, 0);
        // Event 20: OPEN while the DelayOpenTimer runs.
        const conn = this.conn;
        this.cancelTimer('delayOpenTimer');
        this.cancelTimer('connectRetryTimer');
        this.sendOpen(conn);
        this.acceptOpen(conn, ev.open);
        return this.transition(st, 'OpenConfirm', 'open-received-delayed');
      }
      case 'BGPHeaderErr':
      case 'BGPOpenMsgErr':
        if (this.conn) this.notifyAndDrop(this.conn, ev.error);
        return this.goIdle(ev.type === 'BGPHeaderErr' ? 'header-error' : 'open-error', { autoRestart: true, failure: true });
      case 'NotifMsgVerErr':
      case 'NotifMsg':
        this.noteReceived(ev.notification);
        return this.goIdle('notification-received', { autoRestart: true, failure: true });
      default:
        // §8.2.2 Connect/Active "any other event": drop the connection, to Idle (no NOTIFICATION).
        return this.fsmErrorIdle(st, -1);
    }
  }

  /**
   * The events OpenSent, OpenConfirm and Established handle alike (§8.2.2): starts are ignored;
   * stops, BFD Down, Hold Timer expiry and header/OPEN errors send a NOTIFICATION and go to
   * Idle; a received NOTIFICATION goes to Idle. `established` says whether the peer's routes may
   * be kept as stale (there are none before Established). Returns false for the events each
   * state handles itself.
   */
  private inConnectedState(ev: FsmEvent, conn: Conn, established: boolean): boolean {
    // RFC 8538 §4 (updating RFC 4724): with the N bit on both sides, a NOTIFICATION other than
    // Hard Reset, sent or received, and an expired Hold Timer are graceful restarts; without it
    // the peer is gone and its routes go now.
    const nBit = established && !!this.neg?.notificationGr;
    switch (ev.type) {
      case 'ManualStart':
      case 'AutomaticStart':
        return true;
      case 'ManualStop':
        this.notifyAndDrop(conn, this.ceaseFor(CeaseSubcode.ADMIN_SHUTDOWN, ev.message));
        this.counters.connectRetryCounter = 0;
        this.goIdle('stop', { autoRestart: false });
        return true;
      case 'AutomaticStop':
        this.notifyAndDrop(conn, this.ceaseFor(ev.subcode, ev.message, ev.data));
        // A max-prefix stop (only in Established) restarts only if a restart time is set.
        this.goIdle(ev.reason, { autoRestart: this.adminUp && (ev.reason !== 'max-prefix' || this.cfg.maxPrefixRestartTime > 0) });
        return true;
      case 'BfdDown':
        this.notifyAndDrop(conn, { code: ErrCode.CEASE, subcode: CeaseSubcode.BFD_DOWN });
        this.goIdle('bfd-down', { autoRestart: true, failure: true, keepStale: established && ev.graceful && this.neg?.gracefulRestart != null });
        return true;
      case 'HoldTimerExpires':
        this.notifyAndDrop(conn, { code: ErrCode.HOLD_TIMER_EXPIRED, subcode: 0 });
        this.goIdle('hold-timer-expired', { autoRestart: true, failure: true, keepStale: nBit });
        return true;
      case 'BGPHeaderErr':
      case 'BGPOpenMsgErr':
        this.notifyAndDrop(conn, ev.error);
        this.goIdle(ev.type === 'BGPHeaderErr' ? 'header-error' : 'open-error', { autoRestart: true, failure: true, keepStale: nBit });
        return true;
      case 'NotifMsgVerErr':
      case 'NotifMsg': {
        this.noteReceived(ev.notification);
        const n = ev.notification;
        const hard = n.code === ErrCode.CEASE && n.subcode === CeaseSubcode.HARD_RESET;
        this.goIdle('notification-received', { autoRestart: true, failure: true, keepStale: nBit && !hard });
        return true;
      }
      default:
        return false;
    }
  }

  private inOpenSent(ev: FsmEvent): void {
    const conn = this.conn!;
    if (this.inConnectedState(ev, conn, false)) return;
    switch (ev.type) {
      case 'TcpConnectionFails':
        // §8.2.2 OpenSent: close, restart the ConnectRetryTimer, listen, to Active.
        this.dropConn();
        if (this.side) {
          // The other connection of a collision is left. It has our OPEN and waits for the
          // peer's, as OpenSent does: it goes on as the primary. (Left as a side connection, its
          // OPEN would later run collision resolution without a primary.)
          this.conn = this.side;
          this.side = null;
          return;
        }
        this.noteLocal('TCP connection closed in OpenSent');
        if (!this.cfg.passive) this.startConnectRetry();
        return this.transition('OpenSent', 'Active', 'tcp-closed');
      case 'BGPOpen':
        this.cancelTimer('delayOpenTimer');
        this.cancelTimer('connectRetryTimer');
        this.acceptOpen(conn, ev.open);
        return this.transition('OpenSent', 'OpenConfirm', 'open-received');
      case 'OpenCollisionDump':
        this.notifyAndDrop(conn, { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION });
        return this.goIdle('collision', { autoRestart: true });
      default:
        // RFC 6608 subcode 1: unexpected message in OpenSent.
        return this.fsmErrorIdle('OpenSent', 1);
    }
  }

  private inOpenConfirm(ev: FsmEvent): void {
    const conn = this.conn!;
    if (this.inConnectedState(ev, conn, false)) return;
    switch (ev.type) {
      case 'KeepaliveTimerExpires':
        return this.sendKeepalive();
      case 'TcpConnectionFails':
        this.noteLocal('TCP connection closed in OpenConfirm');
        return this.goIdle('tcp-closed', { autoRestart: true, failure: true });
      case 'OpenCollisionDump':
        this.notifyAndDrop(conn, { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION });
        return this.goIdle('collision', { autoRestart: true });
      case 'KeepAliveMsg':
        this.restartHold();
        return this.enterEstablished();
      default:
        // RFC 6608 subcode 2: unexpected message in OpenConfirm.
        return this.fsmErrorIdle('OpenConfirm', 2);
    }
  }

  private inEstablished(ev: FsmEvent): void {
    const conn = this.conn!;
    if (this.inConnectedState(ev, conn, true)) return;
    switch (ev.type) {
      case 'KeepaliveTimerExpires':
        return this.sendKeepalive();
      case 'TcpConnectionFails':
        this.noteLocal('TCP connection closed in Established');
        // RFC 4724 §4.2: the helper keeps the routes of a peer that announced graceful restart.
        return this.goIdle('tcp-closed', { autoRestart: true, failure: true, keepStale: this.neg?.gracefulRestart != null });
      case 'KeepAliveMsg':
        return this.restartHold();
      case 'UpdateMsg':
        this.restartHold();
        return this.onUpdate(ev.scan!);
      case 'UpdateMsgErr':
        this.notifyAndDrop(conn, ev.error);
        return this.goIdle('update-error', { autoRestart: true, failure: true, keepStale: !!this.neg?.notificationGr });
      case 'RouteRefreshMsg':
        this.restartHold();
        return this.onRouteRefresh(ev.afi, ev.safi, ev.subtype);
      default:
        // RFC 6608 subcode 3: unexpected message in Established (an OPEN, a timer that must not run).
        return this.fsmErrorIdle('Established', 3);
    }
  }

  // -------------------------------------------------------------------------------------
  // Entering and leaving states

  private enterEstablished(): void {
    const conn = this.conn!;
    const neg = this.neg!;
    const localAddress = conn.socket.localAddress ?? '';
    // RFC 2545 §3: a directly connected IPv6 peer also gets our link-local address as next hop.
    const localLinkLocal = directLinkLocal(localAddress, this.cfg.address, this.interfaces());
    this.descriptor = {
      id: this.id,
      address: this.cfg.address,
      peerAs: neg.peerAs,
      localAs: this.cfg.localAs,
      remoteRouterId: neg.remoteRouterId,
      localRouterId: parseDotted(this.cfg.routerId) >>> 0,
      localAddress,
      ...(localLinkLocal !== null ? { localLinkLocal } : {}),
      ibgp: neg.ibgp,
      routeReflectorClient: this.cfg.routeReflectorClient,
      receiveCtx: neg.receiveCtx,
      sendCtx: neg.sendCtx,
      families: neg.families,
      gracefulRestart: neg.gracefulRestart ? { peerRestartTimeSec: neg.gracefulRestart.peerRestartTimeSec, peerPreservedFamilies: neg.gracefulRestart.peerPreservedFamilies } : null,
      importPolicies: this.cfg.importPolicies,
      exportPolicies: this.cfg.exportPolicies,
      maxPrefixes: this.cfg.maxPrefixes,
    };
    this.establishedAt = this.clock.now();
    this.counters.established++;
    this.failures = 0;
    this.restarting = false;
    this.transition('OpenConfirm', 'Established', 'keepalive-received');
    conn.socket.on('drain', () => this.pump());
    this.rib.peerUp(this.descriptor, () => this.wake());
    this.pump();
  }

  /**
   * Drops every connection and timer and moves to Idle. From Established the RIB hears
   * peerDown, keeping the peer's routes as stale when graceful restart applies.
   */
  private goIdle(reason: TransitionReason, o: { autoRestart: boolean; failure?: boolean; keepStale?: boolean; idleHoldMs?: number }): void {
    const from = this.st;
    this.cancelConnect();
    this.dropConn();
    this.dropSide();
    this.clearAllTimers();
    const wasEstablished = from === 'Established';
    const neg = this.neg;
    this.neg = null;
    this.descriptor = null;
    this.establishedAt = null;
    this.lastDownReason = reason;
    if (from !== 'Idle') this.transition(from, 'Idle', reason);
    if (wasEstablished) {
      this.counters.flaps++;
      const keepStale = !!o.keepStale && !!neg?.gracefulRestart;
      const gr = this.cfg.gracefulRestart;
      const staleTimeMs = keepStale ? (neg!.gracefulRestart!.peerRestartTimeSec > 0 ? neg!.gracefulRestart!.peerRestartTimeSec : gr?.staleTime ?? 0) * 1000 : 0;
      this.rib.peerDown(this.id, { keepStale, staleTimeMs });
    }
    if (o.failure) this.failures++;
    if (o.autoRestart && this.adminUp) {
      // RFC 4271 §8.1.1 IdleHoldTimer with DampPeerOscillations: doubled per consecutive failure.
      const base = reason === 'max-prefix' ? this.cfg.maxPrefixRestartTime * 1000 : this.cfg.idleHoldTime * 1000;
      const ms = o.idleHoldMs ?? (reason === 'max-prefix' ? base : Math.min(base * 2 ** Math.max(0, this.failures - 1), this.cfg.maxIdleHoldTime * 1000));
      this.idleHoldTimer = this.clock.setTimer(ms, () => this.dispatch({ type: 'IdleHoldTimerExpires' }));
    }
  }

  /** Drop without a NOTIFICATION for Connect/Active, or with FSM Error (RFC 6608 subcode) after OPEN. */
  private fsmErrorIdle(st: SessionStateName, subcode: number): void {
    if (subcode >= 0 && this.conn) this.notifyAndDrop(this.conn, { code: ErrCode.FSM, subcode });
    else this.noteLocal(`unexpected event in ${st}`);
    this.goIdle('fsm-error', { autoRestart: true, failure: true, keepStale: st === 'Established' && !!this.neg?.notificationGr });
  }

  // -------------------------------------------------------------------------------------
  // OPEN

  private acceptOpen(conn: Conn, open: OpenMessage): void {
    conn.remoteOpen = open;
    this.neg = negotiateOpen(this.cfg, this.localOpen!, open);
    conn.reader.ctx = this.neg.receiveCtx;
    this.sendKeepalive();
    this.restartHold();
  }

  private sendOpen(conn: Conn): void {
    conn.openSent = true;
    this.send(conn, toBuffer(this.localOpen!), MsgType.OPEN);
  }

  // -------------------------------------------------------------------------------------
  // Collision detection (RFC 4271 §6.8)

  /** A connection while the primary one exists: the peer's, or our own attempt completing late. */
  private secondConnection(socket: net.Socket, direction: 'in' | 'out'): void {
    const primary = this.conn;
    if (this.st === 'Established') {
      // RFC 4271 §6.8: a collision with an Established connection closes the new one.
      this.counters.connectionsRejected++;
      this.closeWithNotification(this.wrapConn(socket, direction), { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION });
      return;
    }
    if (this.side || !primary || primary.direction === direction) {
      // Two connections opened by the same side (or a third one): nothing to resolve, refuse it.
      this.counters.connectionsRejected++;
      this.closeWithNotification(this.wrapConn(socket, direction), { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_REJECTED });
      return;
    }
    const side = this.wrapConn(socket, direction);
    this.side = side;
    this.sendOpen(side);
    this.setHold(side, LARGE_HOLD_MS);
    this.listen(side);
    // Resolved when an OPEN arrives (§6.8 examines connections on receipt of an OPEN).
  }

  /** Decides which connection survives once an OPEN told us the peer's BGP Identifier. */
  private resolveCollision(): void {
    const side = this.side!;
    if (this.conn === null) {
      // No primary any more (it failed in Connect/Active): nothing to compare; the peer retries.
      this.side = null;
      this.closeWithNotification(side, { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_REJECTED });
      return;
    }
    const primary = this.conn;
    const open = side.remoteOpen ?? primary.remoteOpen!;
    const local = parseDotted(this.cfg.routerId) >>> 0;
    const remote = parseDotted(open.bgpId) >>> 0;
    // §6.8: the connection initiated by the speaker with the higher Identifier survives;
    // RFC 6286 §2.3: with equal Identifiers (eBGP), the one with the larger AS number.
    const keepIncoming = local === remote ? this.cfg.localAs < (this.neg?.peerAs ?? this.cfg.peerAs) : local < remote;
    this.counters.connectionsRejected++;
    const cease = { code: ErrCode.CEASE, subcode: CeaseSubcode.CONNECTION_COLLISION };
    const keep: 'in' | 'out' = keepIncoming ? 'in' : 'out';
    this.log.info({ local: this.cfg.routerId, remote: open.bgpId, keep }, `collision: keeping the ${keepIncoming ? "peer's" : 'our'} connection`);
    if (primary.direction === keep) {
      this.side = null;
      this.closeWithNotification(side, cease);
      return;
    }
    this.side = null;
    this.closeWithNotification(primary, cease);
    this.conn = side;
    const st = this.st;
    if (st === 'OpenConfirm') {
      // The surviving connection has its OPEN (it triggered this): confirm it in place.
      this.acceptOpen(side, side.remoteOpen!);
      return;
    }
    this.cancelTimer('connectRetryTimer');
    this.cancelTimer('delayOpenTimer');
    if (side.remoteOpen) {
      this.acceptOpen(side, side.remoteOpen);
      this.transition(st as 'OpenSent' | 'Connect' | 'Active', 'OpenConfirm', 'open-received');
    } else if (st !== 'OpenSent') {
      // Ours was still delaying its OPEN; the surviving one has sent it.
      this.transition(st as 'Connect' | 'Active', 'OpenSent', 'collision');
    }
    // Otherwise both were in OpenSent: the side connection now waits for its OPEN as primary.
  }

  private onSideMessage(side: Conn, type: number, msg: Uint8Array): void {
    if (type === MsgType.OPEN) {
      const r = decodeOpenBody(msg, 19, msg.length);
      const err = r.ok ? checkRemoteOpen(this.cfg, r.value) : r.error;
      if (err || !r.ok) {
        this.side = null;
        this.closeWithNotification(side, err!);
        return;
      }
      side.remoteOpen = r.value;
      this.resolveCollision();
      return;
    }
    if (type === MsgType.NOTIFICATION) {
      this.side = null;
      this.noteReceived(decodeNotificationBody(msg, 19, msg.length));
      this.closeConn(side);
      return;
    }
    // Anything else before its OPEN: RFC 6608 subcode 1 on that connection only.
    this.side = null;
    this.closeWithNotification(side, { code: ErrCode.FSM, subcode: 1 });
  }

  // -------------------------------------------------------------------------------------
  // Established: messages in and out

  private onUpdate(scan: UpdateScan): void {
    if (scan.action === 'afisafi-disable') {
      // RFC 7606 §5.4: disabling one family would need its own state; this session resets instead.
      const e = scan.errors.find((x) => x.action === 'afisafi-disable')!;
      this.notifyAndDrop(this.conn!, e);
      return this.goIdle('update-error', { autoRestart: true, failure: true, keepStale: !!this.neg?.notificationGr });
    }
    const eor = endOfRib(scan);
    if (eor) {
      this.rib.endOfRib(this.id, familyKey(eor.afi, eor.safi));
      return;
    }
    if (scan.errors.length) this.log.warn({ errors: scan.errors.map((e) => e.message), action: scan.action }, 'UPDATE with errors handled per RFC 7606');
    const r = this.rib.update(this.id, scan);
    if (r.maxPrefixExceeded && this.st === 'Established') this.maxPrefix();
  }

  /** RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data AFI, SAFI, upper bound. */
  private maxPrefix(): void {
    const data = new Uint8Array(7);
    const fam = this.neg?.families[0] ?? familyKey(1, 1);
    data[0] = fam >> 16;
    data[1] = (fam >> 8) & 255;
    data[2] = fam & 255;
    new DataView(data.buffer).setUint32(3, this.cfg.maxPrefixes >>> 0);
    this.dispatch({ type: 'AutomaticStop', subcode: CeaseSubcode.MAX_PREFIXES, reason: 'max-prefix', data });
  }

  private onRouteRefresh(afi: number, safi: number, subtype: number): void {
    const fam = familyKey(afi, safi);
    if (!this.neg!.families.includes(fam)) {
      // RFC 2918 §4: a request for a family not negotiated is ignored.
      this.log.warn({ family: familyName(fam) }, 'ROUTE-REFRESH for a family not negotiated, ignored');
      return;
    }
    const enhanced = this.neg!.enhancedRouteRefresh;
    if (subtype === RouteRefreshSubtype.NORMAL) return this.rib.routeRefresh(this.id, fam, enhanced);
    // RFC 7313 §5: markers from a peer that did not negotiate the capability, and subtypes other
    // than BoRR/EoRR, are ignored.
    if (!enhanced) {
      this.log.warn({ family: familyName(fam), subtype }, 'route refresh marker without enhanced route refresh, ignored');
      return;
    }
    this.log.debug({ family: familyName(fam), subtype }, 'enhanced route refresh marker');
    if (subtype === RouteRefreshSubtype.BORR) this.rib.refreshBegin(this.id, fam);
    else if (subtype === RouteRefreshSubtype.EORR) this.rib.refreshEnd(this.id, fam);
  }

  /** Pulls from the RIB while the socket takes more; resumes on 'drain' (backpressure). */
  private pump(): void {
    if (this.st !== 'Established' || this.pumping) return;
    const conn = this.conn!;
    this.pumping = true;
    // Corked, the messages of one pump leave in one writev: one syscall and a few full TCP
    // segments instead of one per UPDATE (a reflector pumps to every client after each change).
    conn.socket.cork();
    try {
      let sent = false;
      while (!conn.closed && !conn.socket.writableNeedDrain && this.st === 'Established' && this.conn === conn) {
        const msgs = this.rib.drainOut(this.id, this.drainBytes);
        if (msgs.length === 0) break;
        for (const m of msgs) {
          this.counters.messagesOut[TYPE_NAME[m[18]!] ?? 'update']++;
          conn.socket.write(m);
        }
        sent = true;
      }
      // RFC 4271 §8.2.2 Established: sending an UPDATE restarts the KeepaliveTimer.
      if (sent && this.st === 'Established') this.startKeepalive();
      if (sent) this.lastSentAt = performance.now();
    } finally {
      this.pumping = false;
      conn.socket.uncork();
    }
  }

  // -------------------------------------------------------------------------------------
  // Connections

  private wrapConn(socket: net.Socket, direction: 'in' | 'out'): Conn {
    socket.setNoDelay(true);
    return { seq: ++this.connSeq, socket, direction, reader: new MessageReader(DEFAULT_CONTEXT), openSent: false, remoteOpen: null, hold: null, holdMs: 0, holdDue: 0, closed: false };
  }

  private listen(conn: Conn): void {
    const s = conn.socket;
    s.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    s.on('error', (e: Error) => {
      if (!conn.closed) this.log.debug({ err: e.message }, 'socket error');
    });
    s.on('close', () => this.onClose(conn));
    s.resume();
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return;
    conn.reader.push(chunk);
    for (;;) {
      if (conn.closed) return;
      const r = conn.reader.next();
      if (r === null) return;
      if (!r.ok) {
        if (conn === this.side) {
          this.side = null;
          this.closeWithNotification(conn, r.error);
        } else if (conn === this.conn) this.dispatch({ type: 'BGPHeaderErr', error: r.error });
        return;
      }
      const name = TYPE_NAME[r.type];
      if (name) this.counters.messagesIn[name]++;
      if (conn === this.side) this.onSideMessage(conn, r.type, r.message);
      else if (conn === this.conn) this.onMessage(r.type, r.message);
      else return;
    }
  }

  /** Turns one framed message of the primary connection into an FSM event. */
  private onMessage(type: number, msg: Uint8Array): void {
    const end = msg.length;
    switch (type) {
      case MsgType.OPEN: {
        const r = decodeOpenBody(msg, 19, end);
        if (!r.ok) return this.dispatch({ type: 'BGPOpenMsgErr', error: r.error });
        if (this.st !== 'OpenSent' && !(this.delayOpenTimer && (this.st === 'Connect' || this.st === 'Active')))
          return this.dispatch({ type: 'BGPOpen', open: r.value });
        const err = checkRemoteOpen(this.cfg, r.value);
        if (err) return this.dispatch({ type: 'BGPOpenMsgErr', error: err });
        const primary = this.conn!;
        primary.remoteOpen = r.value;
        if (this.side) {
          // The peer's Identifier is now known: settle the collision before going on.
          this.resolveCollision();
          if (this.conn !== primary) return;
        }
        return this.dispatch({ type: 'BGPOpen', open: r.value });
      }
      case MsgType.UPDATE: {
        if (this.st !== 'Established') return this.dispatch({ type: 'UpdateMsg', scan: null });
        const r = scanUpdateBody(msg, 19, end, this.neg!.receiveCtx);
        return this.dispatch(r.ok ? { type: 'UpdateMsg', scan: r.value } : { type: 'UpdateMsgErr', error: r.error });
      }
      case MsgType.NOTIFICATION: {
        const n = decodeNotificationBody(msg, 19, end);
        const verErr = n.code === ErrCode.OPEN_MESSAGE && n.subcode === 1;
        return this.dispatch(verErr ? { type: 'NotifMsgVerErr', notification: n } : { type: 'NotifMsg', notification: n });
      }
      case MsgType.KEEPALIVE:
        return this.dispatch({ type: 'KeepAliveMsg' });
      case MsgType.ROUTE_REFRESH: {
        const r = decodeRouteRefreshBody(msg, 19, end);
        if (!r.ok) {
          if (this.st !== 'Established') return this.dispatch({ type: 'BGPHeaderErr', error: r.error });
          this.notifyAndDrop(this.conn!, r.error);
          return this.goIdle('route-refresh-error', { autoRestart: true, failure: true });
        }
        return this.dispatch({ type: 'RouteRefreshMsg', afi: r.value.afi, safi: r.value.safi, subtype: r.value.subtype });
      }
    }
  }

  private onClose(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.hold) conn.hold.cancel();
    conn.hold = null;
    if (conn === this.side) {
      this.side = null;
      return;
    }
    if (conn === this.conn) this.dispatch({ type: 'TcpConnectionFails' });
  }

  private initiateConnect(): void {
    const attempt = { cancelled: false };
    this.connecting = attempt;
    const c = this.cfg;
    this.transport
      .connect({
        host: c.address,
        port: c.remotePort,
        ...(c.localAddress !== undefined ? { localAddress: c.localAddress } : {}),
        ...(c.localPort !== undefined ? { localPort: c.localPort } : {}),
      })
      .then(
        (socket) => {
          if (attempt.cancelled) return void socket.destroy();
          this.connecting = null;
          socket.pause();
          if (this.conn) return this.secondConnection(socket, 'out');
          this.dispatch({ type: 'TcpConnectionAcked', socket });
        },
        (e: Error) => {
          if (attempt.cancelled) return;
          this.connecting = null;
          // The peer's connection was adopted meanwhile: our failed attempt does not matter.
          if (this.conn) return;
          this.log.debug({ err: e.message }, 'connect failed');
          this.dispatch({ type: 'TcpConnectionFails' });
        },
      );
  }

  private cancelConnect(): void {
    if (this.connecting) this.connecting.cancelled = true;
    this.connecting = null;
  }

  private dropConn(): void {
    const c = this.conn;
    this.conn = null;
    if (c) this.closeConn(c);
  }

  private dropSide(): void {
    const c = this.side;
    this.side = null;
    if (c) this.closeConn(c);
  }

  private closeConn(c: Conn): void {
    if (c.hold) c.hold.cancel();
    c.hold = null;
    if (!c.closed) {
      c.closed = true;
      c.socket.destroy();
    }
  }

  /** Sends a NOTIFICATION and closes that connection once it is flushed. */
  private closeWithNotification(c: Conn, n: { code: number; subcode: number; data?: Uint8Array; shutdownMessage?: string }): void {
    if (c.closed) return;
    const m: NotificationMessage = { type: 'NOTIFICATION', code: n.code, subcode: n.subcode, data: n.data ?? new Uint8Array(0), ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}) };
    const buf = Buffer.allocUnsafe(notificationEncodingLength(m));
    encodeNotification(m, buf, 0);
    this.counters.messagesOut.notification++;
    this.counters.lastError = { direction: 'sent', code: n.code, subcode: n.subcode, message: n.shutdownMessage ?? '', at: this.clock.now() };
    this.emit('notification', { direction: 'sent', code: n.code, subcode: n.subcode, data: m.data, ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}) });
    c.closed = true;
    if (c.hold) c.hold.cancel();
    c.hold = null;
    const s = c.socket;
    s.end(buf);
    // Destroy once flushed; a peer that never reads must not keep the socket for long.
    const t = setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
    t.unref();
    s.once('close', () => clearTimeout(t));
  }

  private notifyAndDrop(c: Conn, e: { code: number; subcode: number; data?: Uint8Array; message?: string; shutdownMessage?: string }): void {
    if (c === this.conn) this.conn = null;
    const { code, subcode, data } = e;
    this.log.warn({ code, subcode, message: e.message ?? e.shutdownMessage }, 'sending NOTIFICATION');
    this.closeWithNotification(c, { code, subcode, ...(data ? { data } : {}), ...(e.shutdownMessage !== undefined ? { shutdownMessage: e.shutdownMessage } : {}) });
    if (this.counters.lastError && e.message) this.counters.lastError.message = e.message;
  }

  /**
   * A Cease for an administrative action. With the RFC 8538 N bit negotiated, Cease subcodes
   * 1-4 travel inside a Hard Reset (§5 table), so the peer drops our routes instead of keeping
   * them stale.
   */
  private ceaseFor(subcode: number, message?: string, data?: Uint8Array): { code: number; subcode: number; data?: Uint8Array; shutdownMessage?: string } {
    const carriesText = subcode === CeaseSubcode.ADMIN_SHUTDOWN || subcode === CeaseSubcode.ADMIN_RESET;
    const inner = { code: ErrCode.CEASE, subcode, ...(data ? { data } : {}), ...(message !== undefined && carriesText ? { shutdownMessage: message } : {}) };
    if (!this.neg?.notificationGr || subcode > CeaseSubcode.ADMIN_RESET) return inner;
    const innerMsg: NotificationMessage = { type: 'NOTIFICATION', code: inner.code, subcode, data: data ?? new Uint8Array(0), ...(inner.shutdownMessage !== undefined ? { shutdownMessage: inner.shutdownMessage } : {}) };
    const enc = Buffer.allocUnsafe(notificationEncodingLength(innerMsg));
    encodeNotification(innerMsg, enc, 0);
    // RFC 8538 §3: Hard Reset data = the inner code, subcode and data.
    return { code: ErrCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: new Uint8Array(enc.subarray(19)) };
  }

  private send(conn: Conn, buf: Uint8Array, type: number): void {
    if (conn.closed) return;
    this.counters.messagesOut[TYPE_NAME[type]!]++;
    conn.socket.write(buf);
  }

  private sendKeepalive(): void {
    if (!this.conn) return;
    this.send(this.conn, KEEPALIVE_BYTES, MsgType.KEEPALIVE);
    this.startKeepalive();
  }

  private noteReceived(n: NotificationMessage): void {
    this.counters.lastError = { direction: 'received', code: n.code, subcode: n.subcode, message: n.shutdownMessage ?? '', at: this.clock.now() };
    this.log.warn({ code: n.code, subcode: n.subcode, message: n.shutdownMessage }, 'NOTIFICATION received');
    this.emit('notification', { direction: 'received', code: n.code, subcode: n.subcode, data: n.data, ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}) });
  }

  private noteLocal(message: string): void {
    this.counters.lastError = { direction: 'local', code: 0, subcode: 0, message, at: this.clock.now() };
  }

  // -------------------------------------------------------------------------------------
  // Timers

  private jitter(ms: number): number {
    // RFC 4271 §10: ConnectRetry and Keepalive intervals vary by a random 0.75..1.0 factor.
    return ms * (0.75 + 0.25 * this.random());
  }

  private startConnectRetry(): void {
    this.cancelTimer('connectRetryTimer');
    this.connectRetryTimer = this.clock.setTimer(this.jitter(this.cfg.connectRetryTime * 1000), () => {
      this.connectRetryTimer = null;
      this.dispatch({ type: 'ConnectRetryTimerExpires' });
    });
  }

  private startKeepalive(): void {
    this.cancelTimer('keepaliveTimer');
    const k = this.neg?.keepaliveTime ?? 0;
    if (k === 0) return;
    this.keepaliveTimer = this.clock.setTimer(this.jitter(k * 1000), () => {
      this.keepaliveTimer = null;
      this.dispatch({ type: 'KeepaliveTimerExpires' });
    });
  }

  /** Any message from the peer restarts the hold timer (RFC 4271 §8.2.2: KEEPALIVE and UPDATE; ROUTE-REFRESH too). */
  private restartHold(): void {
    const c = this.conn;
    if (!c) return;
    const h = this.neg?.holdTime ?? 0;
    if (h === 0) {
      if (c.hold) c.hold.cancel();
      c.hold = null;
      return;
    }
    const ms = h * 1000;
    // Every UPDATE and KEEPALIVE restarts the timer: moving the deadline is enough, the armed
    // timer re-arms itself for what is left when it fires (a new timer per message showed as
    // several percent of a full-table receive).
    if (c.hold !== null && c.holdMs === ms) c.holdDue = this.clock.now() + ms;
    else this.setHold(c, ms);
  }

  private setHold(c: Conn, ms: number): void {
    if (c.hold) c.hold.cancel();
    c.holdMs = ms;
    c.holdDue = this.clock.now() + ms;
    this.armHold(c, ms);
  }

  private armHold(c: Conn, ms: number): void {
    c.hold = this.clock.setTimer(ms, () => {
      const left = c.holdDue - this.clock.now();
      if (left > 0) return this.armHold(c, left);
      c.hold = null;
      if (c === this.conn) this.dispatch({ type: 'HoldTimerExpires' });
      else if (c === this.side) {
        this.side = null;
        this.closeWithNotification(c, { code: ErrCode.HOLD_TIMER_EXPIRED, subcode: 0 });
      }
    });
  }

  private cancelTimer(k: 'connectRetryTimer' | 'keepaliveTimer' | 'delayOpenTimer' | 'idleHoldTimer'): void {
    this[k]?.cancel();
    this[k] = null;
  }

  private clearAllTimers(): void {
    this.cancelTimer('connectRetryTimer');
    this.cancelTimer('keepaliveTimer');
    this.cancelTimer('delayOpenTimer');
    this.cancelTimer('idleHoldTimer');
  }

  /** Why the session last went to Idle (for status output). */
  get lastDown(): TransitionReason | null {
    return this.lastDownReason;
  }

}

const KEEPALIVE_BYTES = toBuffer(KEEPALIVE);
