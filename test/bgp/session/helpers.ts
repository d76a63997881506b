// Test plumbing for session tests: a scripted BGP speaker over raw loopback sockets, state
// waiting, free ports. Real sockets, no mocks: only time is faked (ManualClock).
import net from 'node:net';
import type { RibPort } from '../../../src/bgp/peer.js';
import type { PeerConfig } from '../../../src/bgp/session/config.js';
import { BgpSession, type SessionOptions, type SessionStateName, type Transition } from '../../../src/bgp/session/fsm.js';
import { ManualClock } from '../../../src/clock/index.js';
import {
  type BgpMessage,
  type Capability,
  decode,
  KEEPALIVE,
  DEFAULT_CONTEXT,
  makeOpen,
  MessageReader,
  MsgType,
  type NotificationMessage,
  type OpenMessage,
  toBuffer,
  type WireContext,
} from '../../../src/bgp/wire/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | undefined | false | null, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export const waitState = (s: BgpSession, st: SessionStateName, timeoutMs = 5000): Promise<true> =>
  waitFor(`${s.address} in ${st} (is ${s.state})`, () => s.state === st, timeoutMs);

/** Records a session's transitions as `From -> To (reason)` strings. */
export function recordTransitions(s: BgpSession): string[] {
  const out: string[] = [];
  s.on('state', (t: Transition) => out.push(`${t.from} -> ${t.to} (${t.reason})`));
  return out;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Received {
  type: number;
  msg: Buffer;
  /** Decoded on first use, with the context in force when the message arrived. */
  readonly decoded: BgpMessage | null;
}

/** One end of a BGP connection driven by the test: raw messages in and out. */
export class RawPeer {
  readonly socket: net.Socket;
  ctx: WireContext = DEFAULT_CONTEXT;
  private readonly reader = new MessageReader();
  private readonly inbox: Received[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.reader.push(Buffer.from(c));
      for (const r of this.reader.drain()) {
        if (!r.ok) throw new Error(`raw peer: bad framing: ${r.error.message}`);
        const msg = Buffer.from(r.message);
        const ctx = this.ctx;
        let cached: BgpMessage | null | undefined;
        this.inbox.push({
          type: r.type,
          msg,
          get decoded() {
            if (cached === undefined) {
              const d = decode(msg, 0, ctx);
              cached = d.ok ? d.value : null;
            }
            return cached;
          },
        });
      }
      this.wakeAll();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wakeAll();
    });
  }

  static connect(host: string, port: number, localAddress?: string): Promise<RawPeer> {
    return new Promise((res, rej) => {
      const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
      s.once('connect', () => res(new RawPeer(s)));
      s.once('error', rej);
    });
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Every message received so far (not consumed by next()). */
  get pending(): readonly Received[] {
    return this.inbox;
  }

  /** The next message (optionally of a type, skipping others), or an error on close/timeout. */
  async next(type?: number, timeoutMs = 3000): Promise<Received> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => type === undefined || m.type === type);
      if (i >= 0) return this.inbox.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`raw peer: connection closed while waiting for type ${type ?? 'any'}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`raw peer: timed out waiting for type ${type ?? 'any'}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async open(): Promise<OpenMessage> {
    return (await this.next(MsgType.OPEN)).decoded as OpenMessage;
  }

  async notification(timeoutMs = 3000): Promise<NotificationMessage> {
    return (await this.next(MsgType.NOTIFICATION, timeoutMs)).decoded as NotificationMessage;
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await waitFor('raw peer connection closed', () => this.closed, timeoutMs);
  }

  send(m: BgpMessage | Uint8Array): void {
    this.socket.write(m instanceof Uint8Array ? m : toBuffer(m, this.ctx));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A listening raw BGP speaker: hands out each accepted connection as a RawPeer. */
export class RawListener {
  readonly server: net.Server;
  readonly accepted: RawPeer[] = [];
  constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (s) => this.accepted.push(new RawPeer(s)));
  }
  static async listen(host: string, port = 0): Promise<RawListener> {
    const srv = net.createServer();
    await new Promise<void>((r, j) => {
      srv.once('error', j);
      srv.listen(port, host, () => r());
    });
    return new RawListener(srv);
  }
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }
  async accept(n = 1, timeoutMs = 3000): Promise<RawPeer> {
    await waitFor(`${n} accepted connection(s)`, () => this.accepted.length >= n, timeoutMs);
    return this.accepted[n - 1]!;
  }
  close(): Promise<void> {
    for (const p of this.accepted) p.close();
    return new Promise((r) => this.server.close(() => r()));
  }
}

export const STD_CAPS: Capability[] = [
  { kind: 'multiprotocol', afi: 1, safi: 1 },
  { kind: 'multiprotocol', afi: 2, safi: 1 },
  { kind: 'route-refresh' },
  { kind: 'as4', as: 65002 },
];

export function peerOpen(o: { as?: number; holdTime?: number; bgpId?: string; capabilities?: Capability[] } = {}): OpenMessage {
  const as = o.as ?? 65002;
  const caps = (o.capabilities ?? STD_CAPS).map((c) => (c.kind === 'as4' ? { kind: 'as4' as const, as } : c));
  return makeOpen({ as, holdTime: o.holdTime ?? 90, bgpId: o.bgpId ?? '10.0.0.2', capabilities: caps });
}

export const LOCAL = '127.0.0.1';
export const PEER = '127.0.0.3';

export interface Rig<R extends RibPort> {
  clock: ManualClock;
  rib: R;
  listener: RawListener;
  session: BgpSession;
  /** The session's transitions, as recordTransitions writes them. */
  log: string[];
}

/**
 * A session (id 7, AS 65001, 127.0.0.1) towards a scripted peer listening on 127.0.0.3, on a
 * ManualClock, with the RIB `makeRib` builds on that clock. `cleanups` gets what to undo.
 */
export async function sessionRig<R extends RibPort>(
  makeRib: (clock: ManualClock) => R,
  cleanups: (() => unknown)[],
  cfg: Partial<PeerConfig> = {},
  opts: Pick<SessionOptions, 'pumpPaceMs'> = {},
): Promise<Rig<R>> {
  const clock = new ManualClock();
  const rib = makeRib(clock);
  const listener = await RawListener.listen(PEER);
  cleanups.push(() => listener.close());
  const session = new BgpSession({
    id: 7,
    config: { address: PEER, remotePort: listener.port, localAddress: LOCAL, peerAs: 65002, localAs: 65001, routerId: '10.0.0.1', connectRetryTime: 5, idleHoldTime: 1, ...cfg },
    rib,
    clock,
    random: () => 0.9999,
    ...opts,
  });
  cleanups.push(() => session.stop());
  const log = recordTransitions(session);
  return { clock, rib, listener, session, log };
}

/** Drives a rig's session to Established against a raw peer sending `open` (connection `n`). */
export async function establish(r: Rig<RibPort>, open: OpenMessage = peerOpen(), o: { n?: number; ctx?: WireContext } = {}): Promise<RawPeer> {
  const n = o.n ?? 1;
  if (n === 1) r.session.start();
  const raw = await r.listener.accept(n);
  if (o.ctx) raw.ctx = o.ctx;
  await raw.open();
  raw.send(open);
  await raw.next(MsgType.KEEPALIVE);
  raw.send(KEEPALIVE);
  await waitState(r.session, 'Established');
  return raw;
}
