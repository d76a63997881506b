// The operations endpoint of a daemon: Prometheus /metrics, /health (the process is alive) and
// /ready (it has synced and serves). One small HTTP server per daemon; dnsd can run separate
// listeners for its CoreDNS-compatible ports (:9153, :8080, :8181).
import { createServer, type Server } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface OpsOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  registry: Registry;
  ready: () => boolean;
  /** Which paths this listener serves; all three by default. */
  paths?: ('/metrics' | '/health' | '/ready')[];
}

export function newRegistry(daemon: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ daemon });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`listen address "${listen}" must be host:port`);
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`listen address "${listen}": bad port`);
  return { host, port };
}

export async function startOpsServer(opts: OpsOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const paths = new Set(opts.paths ?? ['/metrics', '/health', '/ready']);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as '/metrics' | '/health' | '/ready';
    if (!paths.has(path) || req.method !== 'GET') {
      res.writeHead(404).end('not found\n');
      return;
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK\n');
    } else if (path === '/ready') {
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'OK\n' : 'not ready\n');
    } else {
      opts.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
        (e: Error) => res.writeHead(500).end(`${e.message}\n`),
      );
    }
  });
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
