// gRPC transport shared by every daemon: a unix socket by default (local callers: the agent,
// the CLI, the CNI plugin), TCP with mutual TLS when configured.
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';

export const GrpcListenConfig = z
  .object({
    /** Unix socket path; "" disables it. */
    socket: z.string().default(''),
    /** host:port for TCP; "" disables it. */
    tcp: z.string().default(''),
    tls: z
      .object({ caFile: z.string(), certFile: z.string(), keyFile: z.string() })
      .strict()
      .optional(),
  })
  .strict();
export type GrpcListenConfig = z.infer<typeof GrpcListenConfig>;

export const DEFAULT_SOCKET_DIR = '/run/tern';

export function defaultSocket(daemon: string): string {
  return `${DEFAULT_SOCKET_DIR}/${daemon.replace(/^tern-/, '')}.sock`;
}

function serverCredentials(tls: GrpcListenConfig['tls']): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    readFileSync(tls.caFile),
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    true,
  );
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(port))),
  );
}

export interface StartedServer {
  server: grpc.Server;
  socket?: string;
  tcpPort?: number;
  close(): Promise<void>;
}

/** Starts a gRPC server with the services `register` adds, on the configured socket and/or TCP port. */
export async function startGrpcServer(cfg: GrpcListenConfig, register: (s: grpc.Server) => void): Promise<StartedServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  register(server);
  const started: StartedServer = {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // A streaming client (WatchBestPaths) would hold tryShutdown open forever.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
  if (cfg.socket) {
    mkdirSync(dirname(cfg.socket), { recursive: true });
    // A socket left by a previous run of this daemon (it crashed) blocks bind.
    if (existsSync(cfg.socket)) unlinkSync(cfg.socket);
    await bind(server, `unix:${cfg.socket}`, grpc.ServerCredentials.createInsecure());
    chmodSync(cfg.socket, 0o660);
    started.socket = cfg.socket;
  }
  if (cfg.tcp) started.tcpPort = await bind(server, cfg.tcp, serverCredentials(cfg.tls));
  return started;
}

/**
 * Bounds the text of an error status. Details travel in the grpc-message trailer, and a message
 * that quotes a huge request field (a 200 KB "prefix") overflows the client's HTTP/2 header
 * list limit: the client never sees the status and waits for its deadline instead.
 */
export const MAX_STATUS_DETAILS = 1024;
export function statusDetails(msg: string): string {
  return msg.length <= MAX_STATUS_DETAILS ? msg : `${msg.slice(0, MAX_STATUS_DETAILS)}... (${msg.length - MAX_STATUS_DETAILS} more characters)`;
}

/** The gRPC target for a client: a unix socket path or host:port. */
export function grpcTarget(address: string): string {
  return address.startsWith('/') ? `unix:${address}` : address;
}

/** Promisifies a unary client call: `await unary(client.getStatus.bind(client), {})`. */
export function unary<Req, Res>(
  fn: (req: Req, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  timeoutMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn(req, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as Res))),
  );
}
