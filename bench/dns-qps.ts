// End-to-end UDP throughput of tern-dnsd's engine, measured with dnsperf over loopback: the
// server pinned to CPU 0, dnsperf to CPU 1 (compare ANCHORS: Knot ~161k qps, a plain dns2
// server ~42k, a bare Node UDP echo ~125k on this machine).
// Usage: node dist/bench/dns-qps.js [--seconds S] [--services N] [--baseline]
// --baseline also measures a bare Node UDP echo under the same conditions, the ceiling for one
// Node process, so a result on a busy machine can be read as a fraction of it.
import { spawn, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DnsEngine } from '../src/dns/answer/index.js';
import { DnsIndex } from '../src/dns/index/index.js';
import { DnsServer } from '../src/dns/server/index.js';
import { scaleService, scaleSlice } from '../test/dns/fixtures.js';
import { arg } from './args.js';

const seconds = arg('--seconds', 10);
const services = arg('--services', 1000);

async function serve(): Promise<void> {
  const index = new DnsIndex();
  for (let i = 0; i < services; i += 500) {
    index.applyBatch(Array.from({ length: Math.min(500, services - i) }, (_, k) => scaleService(i + k)));
    index.applyBatch(Array.from({ length: Math.min(500, services - i) }, (_, k) => scaleSlice(i + k, 3)));
  }
  index.markSynced();
  const server = new DnsServer(new DnsEngine(index, {}), { listen: [{ host: '127.0.0.1', port: 0 }] });
  await server.start();
  console.log(`PORT ${server.addresses().udp[0]!.port}`);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}

function serveEcho(): void {
  const sock = createSocket('udp4');
  sock.on('message', (m, r) => {
    m[2]! |= 0x80;
    sock.send(m, r.port, r.address);
  });
  sock.bind(0, '127.0.0.1', () => console.log(`PORT ${sock.address().port}`));
  process.on('SIGTERM', () => process.exit(0));
}

async function main(): Promise<void> {
  await measure('--serve', 'tern-dnsd engine over UDP');
  if (process.argv.includes('--baseline')) await measure('--echo', 'bare Node UDP echo (baseline)');
}

async function measure(mode: string, label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-dnsperf-'));
  const child = spawn('taskset', ['-c', '0', process.execPath, fileURLToPath(import.meta.url), mode, '--services', String(services)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    // A mix like a cluster's: service A lookups (hits), search-path misses (NXDOMAIN), SRV.
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = i % services;
      const fq = `service-${s}.team-${s % 100}.svc.cluster.local`;
      if (i % 3 === 0) lines.push(`${fq} A`);
      else if (i % 3 === 1) lines.push(`${fq}.svc.cluster.local A`);
      else lines.push(`_http._tcp.${fq} SRV`);
    }
    const qfile = join(dir, 'queries');
    writeFileSync(qfile, `${lines.join('\n')}\n`);
    const out = execFileSync('taskset', ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', qfile, '-l', String(seconds), '-c', '4', '-q', '200'], {
      encoding: 'utf8',
    });
    const qps = /Queries per second:\s+([\d.]+)/.exec(out)?.[1];
    const lost = /Queries lost:\s+(\d+)/.exec(out)?.[1];
    console.log(`${label}: ${Math.round(Number(qps))} qps (lost ${lost}), ${services} services, ${seconds}s`);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--serve')) void serve();
else if (process.argv.includes('--echo')) serveEcho();
else main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
