// How sessions get TCP sockets. The FSM never calls node:net itself: a Transport makes the
// outgoing connection and the SessionManager's listening server, so the same FSM runs over
// plain sockets (tcpTransport), over sockets made in another network namespace (interop
// tests pass handles from a helper process), or over sockets a native addon prepared.
//
// TCP MD5 (RFC 2385) and GTSM (RFC 5082) need setsockopt calls Node does not offer. The hook
// for them is here: a Transport whose connect() creates the socket natively (TCP_MD5SIG,
// IP_MINTTL / IP_TTL 255), connects it, and returns `new net.Socket({ fd })`; and whose
// listen() returns a net.Server made with `server.listen({ fd })` on a listening socket that
// carries the MD5 keys of every configured peer. SockoptTransport (../sockopt) is that
// Transport; it applies PeerConfig `password` and `ttlSecurity`.
import net from 'node:net';

export interface ConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
}

export interface ListenOptions {
  host: string;
  port: number;
}

export interface Transport {
  /** Resolves with a connected socket (no data read from it yet), rejects when the connection fails. */
  connect(o: ConnectOptions): Promise<net.Socket>;
  /** A listening server. Connections should arrive paused or be read only by the session. */
  listen(o: ListenOptions): Promise<net.Server>;
}

export const tcpTransport: Transport = {
  connect(o) {
    return new Promise((resolve, reject) => {
      const s = net.connect({
        host: o.host,
        port: o.port,
        ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
        ...(o.localPort !== undefined ? { localPort: o.localPort } : {}),
      });
      const onError = (e: Error): void => {
        s.destroy();
        reject(e);
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        resolve(s);
      });
    });
  },
  listen(o) {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  },
};
