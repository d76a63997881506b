// A session Transport whose sockets carry TCP MD5 keys (RFC 2385) and GTSM TTLs (RFC 5082).
// The addon makes the file descriptors; Node wraps them: a listening fd goes to
// `server.listen({ fd })`, an outgoing one to `new net.Socket({ fd })` only after the
// non-blocking connect has finished (a socket wrapped mid-handshake never says 'connect' and
// reports a refused connection as a read error).
//
// Passwords and hop counts are per peer, but the Transport interface only passes addresses:
// the transport keeps its own table of peer settings (setPeer/deletePeer, or follow() a
// SessionManager), looks the peer up when connecting, and keeps the keys and TTL floor of
// every listening socket in step with the table.
import { closeSync } from 'node:fs';
import net, { isIPv6 } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { logger, type Logger } from '../../log/index.js';
import { canonicalAddress, type SessionManager } from '../session/manager.js';
import type { ConnectOptions, ListenOptions, Transport } from '../session/transport.js';
import { loadSockopt, type SockoptAddon, type SockoptError } from './addon.js';
import { acceptedSettings, connectSettings, listenerSettings, type PeerSecurity } from './security.js';

export interface SockoptTransportOptions {
  /** Default: loadSockopt() (throws TERN_ERR_NATIVE_ADDON when the addon is not built). */
  addon?: SockoptAddon;
  /**
   * Open every socket in this network namespace: a name under /var/run/netns (as `ip netns`
   * makes them) or a path. For a speaker serving a namespace it does not run in, and the lab.
   */
  netns?: string;
  /** Give up an outgoing connect after this long (ETIMEDOUT); 0 = when the kernel does (~2 min of SYN retries). */
  connectTimeoutMs?: number;
  log?: Logger;
}

interface Listener {
  fd: number;
  family: 4 | 6;
  server: net.Server;
}

interface PendingConnect {
  fd: number;
  fail: (e: Error) => void;
}

function sysError(code: string, message: string): SockoptError {
  return Object.assign(new Error(`${message} ${code}`), { code });
}

/** The fd under an accepted net.Socket (Node keeps it on the libuv handle, on POSIX). */
function socketFd(s: net.Socket): number | undefined {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export class SockoptTransport implements Transport {
  private readonly addon: SockoptAddon;
  private readonly netns: string | undefined;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger;
  private readonly peerTable = new Map<string, PeerSecurity>();
  private readonly listeners = new Set<Listener>();
  private readonly pending = new Set<PendingConnect>();

  constructor(o: SockoptTransportOptions = {}) {
    this.addon = o.addon ?? loadSockopt();
    this.netns = o.netns === undefined ? undefined : isAbsolute(o.netns) ? o.netns : join('/var/run/netns', o.netns);
    this.connectTimeoutMs = o.connectTimeoutMs ?? 0;
    this.log = o.log ?? logger('bgp-sockopt');
  }

  /** Sets a peer's password and GTSM hops (null/undefined = off) and updates every listener. */
  setPeer(address: string, sec: { password?: string | null | undefined; ttlSecurity?: number | null | undefined }): void {
    const key = canonicalAddress(address);
    const next: PeerSecurity = { password: sec.password ?? null, ttlSecurity: sec.ttlSecurity ?? null };
    const prev = this.peerTable.get(key);
    if (prev && prev.password === next.password && prev.ttlSecurity === next.ttlSecurity) return;
    this.peerTable.set(key, next);
    this.syncListeners(key, prev?.password ?? null);
  }

  /** Forgets a peer: its key leaves every listener. */
  deletePeer(address: string): void {
    const key = canonicalAddress(address);
    const prev = this.peerTable.get(key);
    if (!prev) return;
    this.peerTable.delete(key);
    this.syncListeners(key, prev.password);
  }

  peer(address: string): PeerSecurity | undefined {
    return this.peerTable.get(canonicalAddress(address));
  }

  /**
   * Keeps the peer table equal to a SessionManager's peers (their `password` and
   * `ttlSecurity`): now, and on every peer-added, peer-updated and peer-deleted. The manager
   * emits these before the session next connects, so keys are in place for the first SYN.
   * Returns a function that stops following.
   */
  follow(manager: SessionManager): () => void {
    const sync = (address: string): void => {
      const s = manager.get(address);
      if (s) this.setPeer(address, { password: s.config.password, ttlSecurity: s.config.ttlSecurity });
    };
    for (const s of manager.list()) sync(s.address);
    const onAdded = (e: { address: string }): void => sync(e.address);
    const onDeleted = (e: { address: string }): void => this.deletePeer(e.address);
    manager.on('peer-added', onAdded);
    manager.on('peer-updated', onAdded);
    manager.on('peer-deleted', onDeleted);
    return () => {
      manager.off('peer-added', onAdded);
      manager.off('peer-updated', onAdded);
      manager.off('peer-deleted', onDeleted);
    };
  }

  async connect(o: ConnectOptions): Promise<net.Socket> {
    const family = isIPv6(o.host) ? 6 : 4;
    const settings = connectSettings(o.host, this.peer(o.host));
    const fd = this.addon.md5Socket(family, {
      ...settings,
      ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
      ...(o.localPort !== undefined ? { localPort: o.localPort } : {}),
      ...(this.netns ? { netns: this.netns } : {}),
    });
    try {
      if (!this.addon.connectNonBlocking(fd, o.host, o.port)) await this.waitConnected(fd);
      return new net.Socket({ fd, readable: true, writable: true });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  async listen(o: ListenOptions): Promise<net.Server> {
    const family = isIPv6(o.host) ? 6 : 4;
    const s = listenerSettings(family, this.peerTable);
    const fd = this.addon.listenSocket(family, {
      address: o.host,
      port: o.port,
      md5: s.md5,
      ...(this.netns ? { netns: this.netns } : {}),
    });
    const server = net.createServer({ pauseOnConnect: true });
    const l: Listener = { fd, family, server };
    try {
      this.applyListenerTtl(l);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    // Before the manager's listener: the socket gets its own peer's TTL floor first.
    server.prependListener('connection', (sock: net.Socket) => this.onAccepted(sock));
    // server.close() closes the fd; from then on the table must not touch it.
    server.once('close', () => this.listeners.delete(l));
    this.listeners.add(l);
    return server;
  }

  /** Cancels the outgoing connects still in progress (they reject with ECANCELED). */
  close(): void {
    for (const p of [...this.pending]) {
      if (this.addon.cancelWait(p.fd)) p.fail(sysError('ECANCELED', 'connect'));
    }
  }

  private waitConnected(fd: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const p: PendingConnect = {
        fd,
        fail: (e) => {
          done();
          reject(e);
        },
      };
      const done = (): void => {
        if (timer) clearTimeout(timer);
        this.pending.delete(p);
      };
      this.pending.add(p);
      this.addon.waitConnect(fd, (err) => {
        done();
        if (err) reject(err);
        else resolve();
      });
      if (this.connectTimeoutMs > 0) {
        timer = setTimeout(() => {
          if (this.addon.cancelWait(fd)) p.fail(sysError('ETIMEDOUT', `connect timed out after ${this.connectTimeoutMs} ms:`));
        }, this.connectTimeoutMs);
      }
    });
  }

  private onAccepted(sock: net.Socket): void {
    const raw = sock.remoteAddress;
    if (raw === undefined) return;
    const sec = this.peerTable.get(canonicalAddress(raw));
    const want = acceptedSettings(sec);
    const fd = socketFd(sock);
    try {
      if (fd === undefined) throw new Error('no file descriptor on the accepted socket');
      this.addon.setTtl(fd, want.ttl);
      this.addon.setMinTtl(fd, want.minTtl);
    } catch (e) {
      // A GTSM peer's connection without its check would be exactly what RFC 5082 forbids.
      if (sec?.ttlSecurity) {
        this.log.warn({ peer: raw, err: (e as Error).message }, 'cannot apply GTSM to an accepted connection; closed');
        sock.destroy();
      }
    }
  }

  /** Brings every listener's keys and TTL floor in line with the table after `changed` moved. */
  private syncListeners(changed: string, oldPassword: string | null): void {
    const now = this.peerTable.get(changed);
    for (const l of this.listeners) {
      if (l.family === 4 && isIPv6(changed)) continue;
      try {
        const pw = now?.password ?? null;
        if (pw !== oldPassword) this.addon.setMd5Key(l.fd, changed, pw);
        this.applyListenerTtl(l);
      } catch (e) {
        this.log.error({ peer: changed, err: (e as Error).message }, 'cannot update a listening socket');
      }
    }
  }

  private applyListenerTtl(l: Listener): void {
    const s = listenerSettings(l.family, this.peerTable);
    this.addon.setTtl(l.fd, s.ttl);
    this.addon.setMinTtl(l.fd, s.minTtl, s.minHopCount);
  }
}
