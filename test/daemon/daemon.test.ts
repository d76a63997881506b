// Every daemon binary: configuration errors, gRPC status on its unix socket, ops endpoints.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { unary } from '../../src/grpc/index.js';
import { freePort } from '../../src/lab/ports.js';
import { agentProto, bgpProto, dnsProto } from '../../src/proto/load.js';
import type { DaemonStatus__Output } from '../../src/proto/gen/tern/common/v1/DaemonStatus.js';

const dir = mkdtempSync(join(tmpdir(), 'tern-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = (d: string) => join(process.cwd(), 'dist/daemons', `${d}.js`);

async function waitFor<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

type StatusClient = { GetStatus(req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: DaemonStatus__Output) => void): void };

const clients = {
  'tern-bgpd': () => bgpProto().tern.bgp.v1.Bgp,
  'tern-rrd': () => bgpProto().tern.bgp.v1.Bgp,
  'tern-agentd': () => agentProto().tern.agent.v1.Agent,
  'tern-dnsd': () => dnsProto().tern.dns.v1.Dns,
} as const;

describe('daemon binaries', () => {
  it.each(Object.keys(clients) as (keyof typeof clients)[])('%s serves GetStatus, /health, /ready, /metrics and stops on SIGTERM', async (daemon) => {
    const socket = join(dir, `${daemon}.sock`);
    const port = await freePort();
    const args = [bin(daemon), '--node-name', 'node1', '--grpc-socket', socket, '--ops-listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
    if (daemon === 'tern-dnsd') {
      // Its defaults bind :53, :8080 and :8181 on every address; keep it to free loopback ports
      // and never let it forward to this machine's real resolver.
      const cfg = join(dir, 'dnsd.yaml');
      const p = () => freePort();
      writeFileSync(cfg, `dns:\n  listen: ['127.0.0.1:${await p()}']\n  health: '127.0.0.1:${await p()}'\n  ready: '127.0.0.1:${await p()}'\n  upstreams: none\n`);
      args.push('--config', cfg);
    }
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    try {
      const Client = clients[daemon]();
      const client = new Client(`unix:${socket}`, grpc.credentials.createInsecure());
      const c = client as unknown as StatusClient;
      const status = await waitFor(() => unary<object, DaemonStatus__Output>(c.GetStatus.bind(c), {}, 1000));
      expect(status).toMatchObject({ daemon, node: 'node1' });
      expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      // Daemons that follow etcd are not ready without it (none runs here): whatever the answer,
      // the gRPC status and the /ready endpoint must give the same one.
      const again = await unary<object, DaemonStatus__Output>(c.GetStatus.bind(c), {}, 1000);
      expect((await fetch(`${base}/ready`)).status).toBe(again.ready ? 200 : 503);
      if (daemon === 'tern-bgpd' || daemon === 'tern-rrd') expect(again.ready).toBe(true);
      client.close();
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`process_resident_memory_bytes{daemon="${daemon}"}`);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('exits 2 naming the bad field of a config file', () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'bgp:\n  asNumber: -5\n');
    const r = spawnSync(process.execPath, [bin('tern-bgpd'), '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${cfg}: bgp.asNumber`);
  });

  it('exits 2 on a bad TERN_* environment variable', () => {
    const r = spawnSync(process.execPath, [bin('tern-dnsd')], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TERN_ETCD_ENDPOINTS: 'nope' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/etcd\.endpoints\[0\]/);
  });
});

describe('proto types', () => {
  it('src/proto/gen matches proto/ (run scripts/gen-proto.sh after editing a .proto)', () => {
    const out = join(dir, 'gen');
    const r = spawnSync('bash', ['scripts/gen-proto.sh', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const diff = spawnSync('diff', ['-r', out, 'src/proto/gen'], { encoding: 'utf8' });
    expect(diff.stdout).toBe('');
    expect(readFileSync('src/proto/gen/bgp.ts', 'utf8')).toContain('BgpClient');
  });
});
