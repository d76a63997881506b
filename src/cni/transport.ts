// One unary gRPC call over a unix socket with node:http2 alone. The plugin makes exactly one
// call per process, so none of a gRPC channel's machinery (name resolution, subchannel
// state, retries, keepalive) pays for itself; what remains is the wire protocol of
// grpc/grpc doc/PROTOCOL-HTTP2.md, which tern-agentd's @grpc/grpc-js server speaks.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { decodeGrpcMessage, GrpcStatus, grpcTimeout, statusFromHttp, unframeResponse } from './wire.js';

export interface UnaryOutcome {
  /** gRPC status; UNAVAILABLE also when the socket could not be reached or the call broke off. */
  status: number;
  /** grpc-message, or what went wrong on the way. */
  details: string;
  /** The response message (without its 5-byte prefix) when status is OK. */
  message?: Buffer;
}

/** An HTTP/2 connection to the gRPC server at a unix socket, for callers that make many calls over one. */
export function connectUnix(socket: string): ClientHttp2Session {
  // The authority names nothing on a unix socket; grpc-js sends "localhost" too.
  return connect('http://localhost', { createConnection: () => netConnect(socket) });
}

/**
 * Sends `framed` (a length-prefixed message) to `path` (`/package.Service/Method`) on the
 * server at the unix socket and resolves with the outcome; never rejects. Past `timeoutMs`
 * the call is abandoned with DEADLINE_EXCEEDED, and the server is told the same deadline.
 * `target` is the socket's path (a connection made for this one call and closed after it) or
 * a connection from connectUnix (kept open; its own errors are the caller's to handle).
 */
export function unaryCall(target: string | ClientHttp2Session, path: string, framed: Buffer, timeoutMs: number, trace?: (event: 'connected' | 'headers') => void): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    const own = typeof target === 'string';
    let done = false;
    const finish = (o: UnaryOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The response is complete (or will never be): nothing is left to exchange.
      if (own) session.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ status: GrpcStatus.DEADLINE_EXCEEDED, details: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const session = own ? connectUnix(target) : target;
    if (own) session.on('error', (e: Error) => finish({ status: GrpcStatus.UNAVAILABLE, details: e.message }));
    if (trace) session.once('connect', () => trace('connected'));
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        te: 'trailers',
        'grpc-timeout': grpcTimeout(timeoutMs),
        'grpc-accept-encoding': 'identity',
        'user-agent': 'tern-cni',
      });
    } catch (e) {
      // A given connection already closed or failed.
      finish({ status: GrpcStatus.UNAVAILABLE, details: (e as Error).message });
      return;
    }
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
      trace?.('headers');
    });
    stream.on('data', (b: Buffer) => chunks.push(b));
    // A failed connect cancels the pending stream first; its cause says why.
    stream.on('error', (e: Error) => finish({ status: GrpcStatus.UNAVAILABLE, details: e.cause instanceof Error ? e.cause.message : e.message }));
    // Trailers arrive before 'close'; a trailers-only response carries grpc-status in its headers.
    let trailers: IncomingHttpHeaders | undefined;
    stream.on('trailers', (t) => (trailers = t));
    stream.on('close', () => {
      const http = Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0);
      const st = trailers?.['grpc-status'] ?? headers['grpc-status'];
      if (st === undefined) {
        const reset = stream.rstCode && stream.rstCode !== constants.NGHTTP2_NO_ERROR ? ` (stream reset, code ${stream.rstCode})` : '';
        finish(http === 200 || http === 0 ? { status: GrpcStatus.UNAVAILABLE, details: `the call ended without a gRPC status${reset}` } : { status: statusFromHttp(http), details: `HTTP status ${http}` });
        return;
      }
      const status = Number(st);
      const details = decodeGrpcMessage(String(trailers?.['grpc-message'] ?? headers['grpc-message'] ?? ''));
      if (status !== GrpcStatus.OK) {
        finish({ status, details });
        return;
      }
      const m = unframeResponse(Buffer.concat(chunks));
      finish(m.ok ? { status, details, message: m.value } : { status: GrpcStatus.INTERNAL, details: m.error });
    });
    stream.end(framed);
  });
}
