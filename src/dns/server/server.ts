// UDP and TCP listeners around a DnsEngine. TCP follows RFC 7766: 2-byte length framing,
// several queries per connection, pipelined and answered as they complete (§6.2.1.1), an idle
// timeout (§6.2.3) and a bound on concurrent connections.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { logger } from '../../log/index.js';
import type { DnsEngine } from '../answer/engine.js';

/** What the server feeds queries to: the engine, or a wrapper around it (metrics). */
export type QueryHandler = Pick<DnsEngine, 'handle'>;

export interface ListenAddress {
  host: string;
  /** 0 picks a free port, the same one for UDP and TCP. */
  port: number;
}

export interface DnsServerOptions {
  listen: ListenAddress[];
  /** Close a TCP connection after this long without traffic (default 10 s). */
  tcpIdleTimeoutMs?: number;
  /** Connections beyond this are closed on accept (default 1000). */
  maxTcpConnections?: number;
  /** Socket buffer size asked for on UDP sockets, to ride out bursts (default 4 MiB). */
  udpBufferBytes?: number;
}

const log = logger('dns-server');

/**
 * dgram resolves the destination of every send through `lookup`; replies always go to the
 * literal address a datagram came from, so answer synchronously and skip a tick per reply.
 * The family is the socket's own (checking the text costs a regexp per reply).
 */
function literalLookup(family: 4 | 6) {
  return (address: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void => {
    cb(null, address, family);
  };
}

export class DnsServer {
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: Server[] = [];
  private readonly conns = new Set<Socket>();
  private readonly idleMs: number;
  private readonly maxConns: number;

  constructor(private readonly engine: QueryHandler, private readonly opts: DnsServerOptions) {
    this.idleMs = opts.tcpIdleTimeoutMs ?? 10_000;
    this.maxConns = opts.maxTcpConnections ?? 1000;
  }

  async start(): Promise<void> {
    try {
      for (const a of this.opts.listen) {
        const tcp = await this.listenTcp(a);
        const port = (tcp.address() as AddressInfo).port;
        await this.listenUdp({ host: a.host, port });
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Bound addresses, UDP then TCP, in listen order. */
  addresses(): { udp: AddressInfo[]; tcp: AddressInfo[] } {
    return {
      udp: this.udp.map((s) => s.address()),
      tcp: this.tcp.map((s) => s.address() as AddressInfo),
    };
  }

  get tcpConnections(): number {
    return this.conns.size;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await Promise.all(this.tcp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await Promise.all(this.udp.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    this.tcp.length = 0;
    this.udp.length = 0;
  }

  private listenUdp(a: ListenAddress): Promise<void> {
    const v6 = isIPv6(a.host);
    const sock = createSocket({ type: v6 ? 'udp6' : 'udp4', lookup: literalLookup(v6 ? 6 : 4) as never });
    const engine = this.engine;
    // No per-send callback: a send error surfaces as the socket's 'error' event instead, and
    // the hot path allocates no closure.
    const send = (res: Buffer, r: RemoteInfo): void => {
      sock.send(res, r.port, r.address);
    };
    sock.on('message', (msg, rinfo) => {
      const res = engine.handle(msg, 'udp', rinfo.address);
      if (res === null) return;
      if (res instanceof Uint8Array) send(res, rinfo);
      else res.then((b) => { if (b) send(b, rinfo); }, () => undefined);
    });
    sock.on('error', (err) => log.warn({ err }, 'udp socket error'));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(a.port, a.host, () => {
        sock.off('error', reject);
        const size = this.opts.udpBufferBytes ?? 4 << 20;
        try {
          sock.setRecvBufferSize(size);
          sock.setSendBufferSize(size);
        } catch {
          // Capped by net.core.rmem_max/wmem_max: the kernel default still works.
        }
        this.udp.push(sock);
        resolve();
      });
    });
  }

  private listenTcp(a: ListenAddress): Promise<Server> {
    const srv = createServer({ noDelay: true }, (s) => this.onConnection(s));
    srv.maxConnections = this.maxConns;
    srv.on('error', (err) => log.warn({ err }, 'tcp server error'));
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(a.port, a.host, () => {
        srv.off('error', reject);
        this.tcp.push(srv);
        resolve(srv);
      });
    });
  }

  private onConnection(sock: Socket): void {
    this.conns.add(sock);
    const engine = this.engine;
    const client = sock.remoteAddress;
    let pending: Buffer | undefined;
    let waitingDrain = false;
    // RFC 7766 §6.2.3 idle timeout, restarted only by a complete query: socket inactivity
    // (setTimeout) would be reset by every octet, and a client trickling one octet of a query
    // that never completes would hold its connection, and with enough of them every slot.
    const idle = setTimeout(() => sock.destroy(), this.idleMs);
    sock.on('close', () => {
      clearTimeout(idle);
      this.conns.delete(sock);
    });
    sock.on('error', () => sock.destroy());
    const write = (res: Buffer): void => {
      if (sock.destroyed) return;
      idle.refresh();
      const framed = Buffer.allocUnsafe(res.length + 2);
      framed.writeUInt16BE(res.length, 0);
      framed.set(res, 2);
      if (!sock.write(framed) && !waitingDrain) {
        // Stop reading until the client takes its answers: bounds our buffered output.
        waitingDrain = true;
        sock.pause();
        sock.once('drain', () => {
          waitingDrain = false;
          sock.resume();
        });
      }
    };
    sock.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let off = 0;
      while (buf.length - off >= 2) {
        const len = buf.readUInt16BE(off);
        if (buf.length - off - 2 < len) break;
        const msg = buf.subarray(off + 2, off + 2 + len);
        off += 2 + len;
        const res = engine.handle(msg, 'tcp', client);
        if (res === null) {
          // Not a query we can answer (no header, or a response): the stream cannot be trusted.
          sock.destroy();
          return;
        }
        if (res instanceof Uint8Array) write(res);
        else res.then((b) => (b ? write(b) : sock.destroy()), () => sock.destroy());
      }
      if (off > 0) idle.refresh();
      if (off === buf.length) pending = undefined;
      else {
        // Keep only the partial frame; copy so a large chunk is not pinned by a small tail.
        buf = buf.subarray(off);
        pending = Buffer.from(buf);
      }
    });
  }
}
