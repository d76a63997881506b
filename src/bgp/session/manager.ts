// The speaker's sessions: listening sockets, routing of accepted connections to the session
// configured for the remote address, and peers added, changed and removed at run time without
// touching the others. One place mutates the session table: the methods of this class.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import { TernError } from '../../errors/index.js';
import { logger, type Logger } from '../../log/index.js';
import { formatIp, parseIp } from '../../net/ip.js';
import type { RibPort } from '../peer.js';
import type { Clock } from '../../clock/index.js';
import { classifyChange, type PeerConfig, resolvePeerConfig } from './config.js';
import { BgpSession, type Transition } from './fsm.js';
import { tcpTransport, type Transport } from './transport.js';

export interface SessionManagerOptions {
  rib: RibPort;
  /** TCP port to listen on; 0 = no listener (every peer must then be active). Default 179. */
  port?: number;
  /** Addresses to bind; default `::` (both families where the kernel allows) — set explicitly to bind one interface. */
  bind?: readonly string[];
  transport?: Transport;
  clock?: Clock;
  random?: () => number;
  /**
   * Dynamic neighbours: a connection from an address with no configured peer asks this hook;
   * a config it returns becomes a peer (and the connection its first). Undefined refuses.
   */
  resolvePeer?: (remoteAddress: string) => PeerConfig | undefined;
  log?: Logger;
}

/** What `peer-updated` reports: 'soft' kept the session, 'hard' reset it. */
export interface PeerUpdate {
  address: string;
  kind: 'same' | 'soft' | 'hard';
  fields: string[];
}

/** Canonical text of an address, so '::ffff:10.0.0.1', '10.0.0.1' and '2001:DB8::1' match configs. */
export function canonicalAddress(a: string): string {
  const s = a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
  if (!isIPv4(s) && !isIPv6(s)) return s;
  return formatIp(parseIp(s));
}

export class SessionManager extends EventEmitter {
  private readonly opts: SessionManagerOptions;
  readonly transport: Transport;
  private readonly log: Logger;
  private readonly sessions = new Map<string, BgpSession>();
  private readonly servers: net.Server[] = [];
  private nextId = 1;
  private closed = false;

  constructor(o: SessionManagerOptions) {
    super();
    this.opts = o;
    this.transport = o.transport ?? tcpTransport;
    this.log = o.log ?? logger('bgp-sessions');
  }

  /** Opens the listening sockets (none when port is 0). */
  async start(): Promise<void> {
    const port = this.opts.port ?? 179;
    if (port === 0) return;
    for (const host of this.opts.bind ?? ['::']) {
      let server: net.Server;
      try {
        server = await this.transport.listen({ host, port });
      } catch (e) {
        throw new TernError('TERN_ERR_BGP_SESSION', `cannot listen on [${host}]:${port}: ${(e as Error).message}`, { cause: e });
      }
      server.on('connection', (s: net.Socket) => this.onConnection(s));
      server.on('error', (e: Error) => this.log.error({ err: e.message }, 'listener error'));
      this.servers.push(server);
    }
  }

  /** Bound listener addresses (the port when 0 was asked of a transport that picks one). */
  listening(): { address: string; port: number }[] {
    return this.servers.flatMap((s) => {
      const a = s.address();
      return a && typeof a === 'object' ? [{ address: a.address, port: a.port }] : [];
    });
  }

  get(address: string): BgpSession | undefined {
    return this.sessions.get(canonicalAddress(address));
  }

  list(): BgpSession[] {
    return [...this.sessions.values()];
  }

  /** Adds a peer and starts its session (unless start is false). */
  addPeer(cfg: PeerConfig, o: { start?: boolean } = {}): BgpSession {
    if (this.closed) throw new TernError('TERN_ERR_BGP_SESSION', 'session manager is closed');
    const key = canonicalAddress(cfg.address);
    if (this.sessions.has(key)) throw new TernError('TERN_ERR_BGP_SESSION', `peer ${key} exists`, { field: 'address' });
    const s = new BgpSession({
      id: this.nextId++,
      config: { ...cfg, address: key },
      rib: this.opts.rib,
      transport: this.transport,
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
    s.on('state', (t: Transition) => this.emit('peer-state', t));
    this.sessions.set(key, s);
    this.emit('peer-added', { address: key, id: s.id });
    if (o.start !== false) s.start();
    return s;
  }

  /**
   * Applies a new configuration for an existing peer. Policy, limit and description changes
   * keep the session ('soft'); anything that changes the OPEN or the transport resets it with
   * Cease / Other Configuration Change ('hard').
   */
  updatePeer(cfg: PeerConfig): PeerUpdate {
    const key = canonicalAddress(cfg.address);
    const s = this.sessions.get(key);
    if (!s) throw new TernError('TERN_ERR_BGP_SESSION', `no peer ${key}`, { field: 'address' });
    const next = { ...cfg, address: key };
    const change = classifyChange(s.config, resolvePeerConfig(next));
    if (change.kind === 'soft') s.updateSoft(next);
    else if (change.kind === 'hard') s.resetForConfig(next);
    const u: PeerUpdate = { address: key, ...change };
    if (change.kind !== 'same') this.emit('peer-updated', u);
    return u;
  }

  /** Removes a peer: Cease / Peer De-configured, routes withdrawn. */
  deletePeer(address: string): boolean {
    const key = canonicalAddress(address);
    const s = this.sessions.get(key);
    if (!s) return false;
    s.deconfigure();
    s.removeAllListeners('state');
    this.sessions.delete(key);
    this.emit('peer-deleted', { address: key, id: s.id });
    return true;
  }

  /** Administrative shutdown of every session (RFC 8203 message) and the listeners. */
  async stop(message?: string): Promise<void> {
    this.closed = true;
    for (const s of this.sessions.values()) s.stop(message);
    await this.closeListeners();
  }

  /** Graceful restart of the whole speaker (RFC 4724 §4.1): every connection closed without NOTIFICATION. */
  async closeForRestart(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions.values()) s.closeForRestart();
    await this.closeListeners();
  }

  private async closeListeners(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private onConnection(socket: net.Socket): void {
    socket.pause();
    const raw = socket.remoteAddress;
    if (raw === undefined || this.closed) return void socket.destroy();
    const addr = canonicalAddress(raw);
    let s = this.sessions.get(addr);
    if (!s && this.opts.resolvePeer) {
      const cfg = this.opts.resolvePeer(addr);
      if (cfg) {
        try {
          s = this.addPeer({ ...cfg, address: addr, passive: cfg.passive ?? true });
        } catch (e) {
          this.log.warn({ peer: addr, err: (e as Error).message }, 'dynamic peer rejected');
        }
      }
    }
    if (!s) {
      // RFC 4271 §8.1.1 Event 15 (Tcp_CR_Invalid): not a configured peer.
      this.log.info({ peer: addr }, 'connection from an unknown address closed');
      socket.destroy();
      return;
    }
    s.acceptConnection(socket);
  }
}
