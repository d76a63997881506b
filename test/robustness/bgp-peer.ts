// A scripted BGP peer: one TCP connection from a chosen loopback source address, messages
// framed with the project's own reader, an OPEN/KEEPALIVE handshake on demand, and a wait for
// the daemon's NOTIFICATION or for the connection to close.
import { connect, type Socket } from 'node:net';
import {
  MessageReader,
  MsgType,
  decodeNotificationBody,
  makeContext,
  makeOpen,
  toBuffer,
  type Capability,
} from '../../src/bgp/wire/index.js';

export type PeerEvent =
  | { kind: 'message'; type: number; message: Buffer }
  | { kind: 'notification'; code: number; subcode: number }
  | { kind: 'closed' }
  | { kind: 'timeout' };

export const KEEPALIVE_BYTES = toBuffer({ type: 'KEEPALIVE' });

export function peerOpen(o: { as: number; bgpId: string; as4?: boolean; extendedMessage?: boolean; hold?: number; extra?: Capability[] }): Buffer {
  const caps: Capability[] = [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh' }];
  if (o.as4 !== false) caps.push({ kind: 'as4', as: o.as });
  if (o.extendedMessage) caps.push({ kind: 'extended-message' });
  caps.push(...(o.extra ?? []));
  return toBuffer(makeOpen({ as: o.as, holdTime: o.hold ?? 90, bgpId: o.bgpId, capabilities: caps }));
}

export class ScriptedPeer {
  private readonly reader = new MessageReader(makeContext({ as4: true, extendedMessage: true }));
  private readonly queue: PeerEvent[] = [];
  private waiter: ((e: PeerEvent) => void) | null = null;
  private closed = false;
  /** The daemon's OPEN, once read. */
  remoteOpen: Buffer | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.reader.push(c);
      for (let r = this.reader.next(); r !== null; r = r.ok ? this.reader.next() : null) {
        if (!r.ok) {
          this.push({ kind: 'closed' });
          socket.destroy();
          return;
        }
        const message = Buffer.from(r.message);
        if (r.type === MsgType.NOTIFICATION) {
          const n = decodeNotificationBody(message, 19, message.length);
          this.push({ kind: 'notification', code: n.code, subcode: n.subcode });
        } else this.push({ kind: 'message', type: r.type, message });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.push({ kind: 'closed' });
    });
  }

  static connect(port: number, localAddress: string, host = '127.0.0.1', timeoutMs = 3000): Promise<ScriptedPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, localAddress });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.setNoDelay(true);
        resolve(new ScriptedPeer(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  private push(e: PeerEvent): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(e);
    } else this.queue.push(e);
  }

  next(timeoutMs = 3000): Promise<PeerEvent> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.closed) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.waiter = (e) => {
        clearTimeout(t);
        resolve(e);
      };
    });
  }

  /** The first NOTIFICATION, or how the wait ended without one; other messages are skipped. */
  async notification(timeoutMs = 3000): Promise<PeerEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, end - Date.now()));
      if (e.kind !== 'message') return e;
    }
  }

  /** Waits for the daemon's OPEN: a session took the connection (an Idle one closes it at once). */
  async awaitOpen(timeoutMs = 3000): Promise<boolean> {
    const e = await this.next(timeoutMs);
    if (e.kind === 'message' && e.type === MsgType.OPEN) {
      this.remoteOpen = e.message;
      return true;
    }
    return false;
  }

  /** OPEN, then KEEPALIVE both ways: Established. */
  async handshake(open: Buffer, timeoutMs = 3000): Promise<boolean> {
    if (!this.remoteOpen && !(await this.awaitOpen(timeoutMs))) return false;
    this.send(open);
    this.send(KEEPALIVE_BYTES);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, end - Date.now()));
      if (e.kind !== 'message') return false;
      if (e.type === MsgType.KEEPALIVE) return true;
    }
  }

  send(b: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
