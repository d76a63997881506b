// Health-check node ports of LoadBalancer services with externalTrafficPolicy Local: an
// external load balancer asks each node over HTTP and sends traffic only to nodes answering
// 200 (kube-proxy's healthcheck server: 200 with the local endpoint count, 503 with none).
import { createServer, type Server } from 'node:http';
import { logger } from '../../log/index.js';
import type { HealthCheck, ProxyState } from './model.js';

const log = logger('proxy');

export function healthChecks(state: ProxyState): HealthCheck[] {
  const out: HealthCheck[] = [];
  for (const m of state.services.values()) if (m.healthCheck) out.push(m.healthCheck);
  return out.sort((a, b) => a.nodePort - b.nodePort);
}

/** The HTTP body and status for one check (pure). */
export function healthResponse(c: HealthCheck): { status: number; body: string } {
  const [namespace, name] = c.service.split('/');
  return { status: c.localEndpoints > 0 ? 200 : 503, body: JSON.stringify({ service: { namespace, name }, localEndpoints: c.localEndpoints }) };
}

export class HealthCheckServer {
  private readonly host: string;
  private readonly servers = new Map<number, { server: Server; check: HealthCheck }>();

  constructor(opts: { host?: string } = {}) {
    this.host = opts.host ?? '0.0.0.0';
  }

  ports(): number[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  /** Opens listeners for new ports, closes those no longer wanted, updates counts in place. */
  async update(checks: readonly HealthCheck[]): Promise<void> {
    const want = new Map(checks.map((c) => [c.nodePort, c]));
    for (const [port, s] of this.servers) {
      if (want.has(port)) continue;
      this.servers.delete(port);
      await new Promise<void>((r) => s.server.close(() => r()));
    }
    for (const [port, check] of want) {
      const cur = this.servers.get(port);
      if (cur) {
        cur.check = check;
        continue;
      }
      const entry = { server: createServer(), check };
      entry.server.on('request', (_req, res) => {
        const r = healthResponse(entry.check);
        res.writeHead(r.status, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' });
        res.end(r.body);
      });
      try {
        await new Promise<void>((resolve, reject) => {
          entry.server.once('error', reject);
          entry.server.listen(port, this.host, () => resolve());
        });
        this.servers.set(port, entry);
      } catch (e) {
        log.warn({ port, service: check.service, err: (e as Error).message }, 'health-check node port could not be opened');
      }
    }
  }

  async close(): Promise<void> {
    await this.update([]);
  }
}
