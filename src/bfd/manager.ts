// BFD over UDP for single-hop IPv4 and IPv6 (RFC 5881): the sockets, demultiplexing received
// packets to sessions, and the peer table. The protocol itself lives in session.ts; this file
// only moves bytes and owns the lifecycle of sockets and sessions.
//
// Receive-side GTSM is NOT done: RFC 5881 §5 asks a receiver to drop packets whose TTL/Hop
// Limit is not 255, but Node's dgram cannot report the received TTL (no IP_RECVTTL /
// IPV6_RECVHOPLIMIT ancillary data). That needs the native socket addon planned for TCP MD5;
// until then a packet is accepted whatever its TTL. Transmit-side TTL 255 is set.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { TernError } from '../errors/index.js';
import { logger, type Logger } from '../log/index.js';
import { formatIp, parseIp } from '../net/ip.js';
import { systemClock, type Clock, type Timer } from '../clock/index.js';
import { BfdDiag, decode, encode, encodingLength, type ControlPacket } from './packet.js';
import { BfdSession, validateSessionConfig, type BfdSessionInfo, type BfdTransition } from './session.js';

/** RFC 5881 §4: Control packets go to UDP port 3784. */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 §4: the source port is taken from 49152–65535. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
const SOURCE_PORT_TRIES = 64;
// After removePeer, AdminDown keeps going out for this many transmit intervals so that one
// lost packet does not leave the peer to find out by timeout (RFC 5880 §6.8.16).
const DRAIN_INTERVALS = 2;
const DRAIN_MAX_MS = 3000;

export interface BfdManagerOptions {
  /** Port to listen on; 0 lets the kernel pick (tests). Default 3784. */
  port?: number;
  /** Addresses to listen on; default ['0.0.0.0', '::'] (the IPv6 socket is IPv6-only). */
  bind?: readonly string[];
  /** Source port range for transmit sockets; default 49152–65535. */
  sourcePortMin?: number;
  sourcePortMax?: number;
  clock?: Clock;
  random?: () => number;
  log?: Logger;
}

export interface BfdPeerOptions {
  /** The neighbour's address; an IPv6 link-local address may carry its zone (`fe80::1%eth0`). */
  peer: string;
  /** Source address for this session's packets; default: the kernel's choice. */
  local?: string;
  /** The neighbour's BFD port; default 3784 (another value is only useful in tests). */
  port?: number;
  minTxMs: number;
  minRxMs: number;
  multiplier: number;
  passive?: boolean;
}

export interface BfdPeerInfo extends BfdSessionInfo {
  local: string | undefined;
  port: number;
  /** The UDP source port of this session's packets, once its socket is bound. */
  sourcePort: number | undefined;
  txErrors: number;
  /** Packets the session wanted to send before its socket was ready. */
  txDropped: number;
  /** Why the transmit socket could not be opened, if it could not. */
  socketError: string | undefined;
}

export interface BfdManagerCounters {
  rxDatagrams: number;
  /** Datagrams dropped before or by a session, by reason. */
  rxDiscarded: Record<string, number>;
}

interface Entry {
  key: string;
  opts: BfdPeerOptions;
  port: number;
  session: BfdSession;
  socket: dgram.Socket | undefined;
  sourcePort: number | undefined;
  socketError: string | undefined;
  txErrors: number;
  txDropped: number;
  drain: Timer | undefined;
  disposed: boolean;
}

type Events = {
  state: [BfdTransition];
  up: [BfdTransition];
  down: [BfdTransition];
};

/**
 * Canonical form of an address for lookups: zone dropped, IPv4-mapped IPv6 turned into IPv4,
 * IPv6 compressed as RFC 5952 says. One session per neighbour address.
 */
export function addressKey(addr: string): string | undefined {
  const bare = addr.split('%', 1)[0]!;
  if (!isIP(bare)) return undefined;
  const ip = parseIp(bare);
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return formatIp({ family: 4, value: ip.value & 0xffffffffn });
  return formatIp(ip);
}

function closeQuietly(s: dgram.Socket): void {
  try {
    s.close();
  } catch {
    // Already closed by the failed bind.
  }
}

function familyOf(addr: string): 4 | 6 | undefined {
  const f = isIP(addr.split('%', 1)[0]!);
  return f === 4 || f === 6 ? f : undefined;
}

export class BfdManager extends EventEmitter<Events> {
  private readonly opts: Required<Omit<BfdManagerOptions, 'log'>>;
  private readonly log: Logger;
  private rxSockets: dgram.Socket[] = [];
  private boundPort: number | undefined;
  private readonly byPeer = new Map<string, Entry>();
  private readonly byDiscr = new Map<number, Entry>();
  private readonly counters: BfdManagerCounters = { rxDatagrams: 0, rxDiscarded: {} };
  private running = false;

  constructor(opts: BfdManagerOptions = {}) {
    super();
    this.opts = {
      port: opts.port ?? BFD_CONTROL_PORT,
      bind: opts.bind ?? ['0.0.0.0', '::'],
      sourcePortMin: opts.sourcePortMin ?? SOURCE_PORT_MIN,
      sourcePortMax: opts.sourcePortMax ?? SOURCE_PORT_MAX,
      clock: opts.clock ?? systemClock,
      random: opts.random ?? Math.random,
    };
    this.log = opts.log ?? logger('bfd');
    for (const a of this.opts.bind) {
      if (!familyOf(a)) throw new TernError('TERN_ERR_BFD', `bind address "${a}" is not an IP address`, { field: 'bind' });
    }
    const { sourcePortMin: lo, sourcePortMax: hi } = this.opts;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
      throw new TernError('TERN_ERR_BFD', `source port range ${lo}-${hi} is invalid`, { field: 'sourcePortMin' });
    }
  }

  /** The port the receive sockets are bound to (useful when 0 was asked for). */
  get port(): number {
    if (this.boundPort === undefined) throw new TernError('TERN_ERR_BFD', 'BfdManager is not started');
    return this.boundPort;
  }

  /** Opens the receive sockets. */
  async start(): Promise<void> {
    if (this.running) return;
    let port = this.opts.port;
    try {
      for (const address of this.opts.bind) {
        const s = await this.bindRx(address, port);
        this.rxSockets.push(s);
        // With port 0 the first socket picks the port; the others share it.
        port = s.address().port;
      }
    } catch (err) {
      for (const s of this.rxSockets) s.close();
      this.rxSockets = [];
      throw new TernError('TERN_ERR_BFD', `cannot listen on ${this.opts.bind.join(', ')} port ${this.opts.port}: ${(err as Error).message}`, { cause: err });
    }
    this.boundPort = port;
    this.running = true;
    this.log.debug({ bind: this.opts.bind, port }, 'listening');
  }

  /**
   * Stops every session and closes every socket. With `graceful` (the default) each session
   * first goes AdminDown and that is sent, so peers do not count it as a failure (RFC 5882 §3.2);
   * without it the manager simply falls silent, as a crashed process would.
   */
  async stop(opts: { graceful?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    const graceful = opts.graceful ?? true;
    const entries = [...new Set([...this.byPeer.values(), ...this.byDiscr.values()])];
    if (graceful) {
      let waitMs = 0;
      for (const e of entries) {
        if (e.disposed || !e.socket) continue;
        e.session.adminDown(BfdDiag.AdministrativelyDown);
        // The AdminDown packet goes out no later than the peer's Required Min RX after the last.
        waitMs = Math.max(waitMs, Math.min(e.session.info().remoteRequiredMinRxMs + 5, 1000));
      }
      if (waitMs > 0) await new Promise<void>((r) => this.opts.clock.setTimer(waitMs, r));
    }
    for (const e of entries) this.dispose(e);
    this.byPeer.clear();
    await Promise.all(this.rxSockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.rxSockets = [];
    this.running = false;
    this.boundPort = undefined;
  }

  /** Creates the session for `peer` and starts it once its transmit socket is bound. */
  addPeer(p: BfdPeerOptions): BfdSession {
    if (!this.running) throw new TernError('TERN_ERR_BFD', 'BfdManager is not started');
    const key = addressKey(p.peer);
    const family = familyOf(p.peer);
    if (!key || !family) throw new TernError('TERN_ERR_BFD', `peer "${p.peer}" is not an IP address`, { field: 'peer' });
    if (p.local !== undefined && familyOf(p.local) !== family) {
      throw new TernError('TERN_ERR_BFD', `local "${p.local}" is not an IPv${family} address like peer ${p.peer}`, { field: 'local' });
    }
    const port = p.port ?? BFD_CONTROL_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TernError('TERN_ERR_BFD', `port ${port} is invalid`, { field: 'port' });
    if (this.byPeer.has(key)) throw new TernError('TERN_ERR_BFD', `a BFD session to ${key} already exists`, { field: 'peer' });
    const config = { desiredMinTxMs: p.minTxMs, requiredMinRxMs: p.minRxMs, detectMult: p.multiplier, passive: p.passive ?? false };
    validateSessionConfig(config, `peers[${key}]`);

    let entry!: Entry;
    const session = new BfdSession(config, {
      localDiscriminator: this.allocateDiscriminator(),
      clock: this.opts.clock,
      random: this.opts.random,
      peer: key,
      log: this.log,
      send: (pkt) => this.transmit(entry, pkt),
    });
    entry = {
      key,
      opts: { ...p },
      port,
      session,
      socket: undefined,
      sourcePort: undefined,
      socketError: undefined,
      txErrors: 0,
      txDropped: 0,
      drain: undefined,
      disposed: false,
    };
    entry.session.on('state', (t) => this.emit('state', t));
    entry.session.on('up', (t) => this.emit('up', t));
    entry.session.on('down', (t) => this.emit('down', t));
    this.byPeer.set(key, entry);
    this.byDiscr.set(entry.session.localDiscriminator, entry);

    this.bindTx(family, p.local).then(
      ({ socket, port: sourcePort }) => {
        if (entry.disposed) {
          socket.close();
          return;
        }
        entry.socket = socket;
        entry.sourcePort = sourcePort;
        entry.session.start();
      },
      (err: Error) => {
        entry.socketError = err.message;
        this.log.error({ peer: key, err: err.message }, 'cannot open BFD transmit socket');
      },
    );
    return entry.session;
  }

  /**
   * Removes the session to `peer`. With `graceful` (the default) the session goes AdminDown and
   * keeps telling the peer so for a couple of intervals before its socket closes.
   */
  removePeer(peer: string, opts: { graceful?: boolean } = {}): boolean {
    const key = addressKey(peer);
    const e = key ? this.byPeer.get(key) : undefined;
    if (!e) return false;
    this.byPeer.delete(e.key);
    const s = e.session;
    if ((opts.graceful ?? true) && e.socket && s.info().remoteDiscriminator !== 0) {
      s.adminDown(BfdDiag.AdministrativelyDown);
      const linger = Math.min(DRAIN_MAX_MS, DRAIN_INTERVALS * s.info().txIntervalMs + 1);
      e.drain = this.opts.clock.setTimer(linger, () => this.dispose(e));
    } else {
      this.dispose(e);
    }
    return true;
  }

  get(peer: string): BfdSession | undefined {
    const key = addressKey(peer);
    return key ? this.byPeer.get(key)?.session : undefined;
  }

  list(): BfdPeerInfo[] {
    return [...this.byPeer.values()].map((e) => ({
      ...e.session.info(),
      local: e.opts.local,
      port: e.port,
      sourcePort: e.sourcePort,
      txErrors: e.txErrors,
      txDropped: e.txDropped,
      socketError: e.socketError,
    }));
  }

  stats(): BfdManagerCounters {
    return { rxDatagrams: this.counters.rxDatagrams, rxDiscarded: { ...this.counters.rxDiscarded } };
  }

  // ---- receive ---------------------------------------------------------------------------

  private onDatagram(msg: Buffer, from: dgram.RemoteInfo): void {
    this.counters.rxDatagrams++;
    const d = decode(msg, 0);
    if (!d.ok) return this.discard(d.error.reason, from, d.error.message);
    const pkt = d.value;
    const fromKey = addressKey(from.address);
    let e: Entry | undefined;
    // RFC 5880 §6.8.6: a nonzero Your Discriminator alone selects the session; a zero one
    // (only legal in Down/AdminDown) falls back to the source address (RFC 5881 §3).
    if (pkt.yourDiscriminator !== 0) {
      e = this.byDiscr.get(pkt.yourDiscriminator);
      if (!e) return this.discard('unknown-discriminator', from);
      // A single-hop session's peer is one address; anything else is not that peer.
      if (e.key !== fromKey) return this.discard('address-mismatch', from);
    } else {
      e = fromKey ? this.byPeer.get(fromKey) : undefined;
      if (!e) return this.discard('unknown-peer', from);
    }
    const r = e.session.receive(pkt);
    if (!r.ok) this.discard(r.reason, from);
  }

  private discard(reason: string, from: dgram.RemoteInfo, detail?: string): void {
    this.counters.rxDiscarded[reason] = (this.counters.rxDiscarded[reason] ?? 0) + 1;
    this.log.debug({ from: `${from.address}:${from.port}`, reason, detail }, 'BFD packet discarded');
  }

  // ---- transmit --------------------------------------------------------------------------

  private transmit(e: Entry, pkt: ControlPacket): void {
    if (!e.socket || e.disposed) {
      e.txDropped++;
      return;
    }
    const buf = Buffer.allocUnsafe(encodingLength(pkt));
    encode(pkt, buf, 0);
    e.socket.send(buf, e.port, e.opts.peer, (err) => {
      if (!err) return;
      e.txErrors++;
      this.log.debug({ peer: e.key, err: err.message }, 'BFD send failed');
    });
  }

  private dispose(e: Entry): void {
    if (e.disposed) return;
    e.disposed = true;
    e.drain?.cancel();
    e.session.close();
    this.byDiscr.delete(e.session.localDiscriminator);
    if (this.byPeer.get(e.key) === e) this.byPeer.delete(e.key);
    e.socket?.close();
    e.socket = undefined;
  }

  private allocateDiscriminator(): number {
    for (;;) {
      const d = randomInt(1, 0x1_0000_0000);
      if (!this.byDiscr.has(d)) return d;
    }
  }

  // ---- sockets ---------------------------------------------------------------------------

  private bindRx(address: string, port: number): Promise<dgram.Socket> {
    const family = familyOf(address)!;
    const s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        closeQuietly(s);
        reject(err);
      };
      s.once('error', onError);
      s.bind({ address, port, exclusive: true }, () => {
        s.off('error', onError);
        s.on('error', (err) => this.log.warn({ err: err.message, address }, 'BFD receive socket error'));
        s.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
        resolve(s);
      });
    });
  }

  /**
   * One transmit socket per session: RFC 5881 §4 wants one source port per session, from
   * 49152–65535, unique on the system; the kernel enforces the uniqueness when we bind.
   */
  private async bindTx(family: 4 | 6, local: string | undefined): Promise<{ socket: dgram.Socket; port: number }> {
    const address = local ?? (family === 4 ? '0.0.0.0' : '::');
    const { sourcePortMin: lo, sourcePortMax: hi } = this.opts;
    let last: Error | undefined;
    for (let i = 0; i < SOURCE_PORT_TRIES; i++) {
      const port = lo + Math.floor(this.opts.random() * (hi - lo + 1));
      const s = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind({ address, port, exclusive: true }, () => {
            s.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        closeQuietly(s);
        last = err as Error;
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
        throw err;
      }
      // RFC 5881 §5: TTL / Hop Limit 255, so a GTSM-checking receiver knows the packet was not
      // routed. setTTL sets IP_TTL on udp4 and IPV6_UNICAST_HOPS on udp6.
      s.setTTL(255);
      s.on('error', (err) => this.log.warn({ err: err.message, address }, 'BFD transmit socket error'));
      // Peers answer on port 3784, not here; anything that does arrive is demultiplexed as usual.
      s.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
      return { socket: s, port };
    }
    throw last ?? new Error('no free source port');
  }
}
