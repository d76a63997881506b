// tern-dnsd against Knot DNS on the same names, both pinned to CPU 1 with dnsperf on CPU 0:
// etcd holds 10,000 Services and 10,000 EndpointSlices (50,000 endpoints), the daemon builds its
// index from its watch, Knot serves a zone file generated from the same objects. Query mix:
// 80 % A of services, 10 % SRV, 10 % NXDOMAIN. Then tern-dnsd with two workers, and the time
// from a Service written through the Store until the daemon answers it (p50/p99 over 100).
// Usage: npm run -s build && node dist/bench/dns.js [--seconds 10] [--services 10000]
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { Store } from '../src/datastore/store.js';
import { EtcdServer } from '../src/lab/etcd.js';
import { freePort } from '../src/lab/ports.js';
import { encodeStored, validateResource } from '../src/resources/index.js';
import { encodeQuery, RRType } from '../src/dns/wire/index.js';
import { scaleService, scaleSlice } from '../test/dns/fixtures.js';

const run = promisify(execFile);
const arg = (n: string, d: number): number => {
  const i = process.argv.indexOf(n);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const SECONDS = arg('--seconds', 10);
const SERVICES = arg('--services', 10_000);
const EPS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = process.cwd();

interface Row { server: string; qps: number; lost: string; avgMs: number; p50Ms: number; p99Ms: number; rssMb: number }

function rssOf(pid: number): number {
  // The process and its children (cluster workers), from /proc.
  const one = (p: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  let kb = one(pid);
  try {
    for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) kb += one(Number(t));
  } catch {
    // no children file: kernel without CONFIG_PROC_CHILDREN
  }
  return kb / 1024;
}

function queryOnce(port: number, name: string, type: number, timeoutMs = 200): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(-1); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m[3]! & 0xf); });
    s.send(encodeQuery(name, type, { id: Math.floor(Math.random() * 65535) }), port, '127.0.0.1');
  });
}

async function waitAnswer(port: number, name: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await queryOnce(port, name, RRType.A)) === 0) return;
    await sleep(1);
  }
  throw new Error(`${name} not answered on port ${port}`);
}

const svcName = (i: number) => `service-${i}.team-${i % 100}.svc.cluster.local`;

function queryFile(dir: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const s = (i * 7919) % SERVICES;
    const r = i % 10;
    if (r < 8) lines.push(`${svcName(s)} A`);
    else if (r === 8) lines.push(`_http._tcp.${svcName(s)} SRV`);
    else lines.push(`missing-${i}.team-${s % 100}.svc.cluster.local A`);
  }
  const f = join(dir, 'queries');
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

/** Knot's zone: the same answers dnsd gives for the query mix. */
function knotZone(dir: string, port: number): string {
  const z: string[] = ['$ORIGIN cluster.local.', '$TTL 5', '@ SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5', '@ NS ns.dns.cluster.local.', 'ns.dns A 127.0.0.1'];
  for (let i = 0; i < SERVICES; i++) {
    const o = scaleService(i) as { obj: { spec: { clusterIP: string } } };
    const rel = `service-${i}.team-${i % 100}.svc`;
    const headless = o.obj.spec.clusterIP === 'None';
    const eps = (scaleSlice(i, EPS) as { obj: { endpoints: { addresses: string[]; hostname?: string }[] } }).obj.endpoints;
    if (headless) {
      for (const e of eps) {
        z.push(`${rel} A ${e.addresses[0]}`, `${e.hostname}.${rel} A ${e.addresses[0]}`);
        z.push(`_http._tcp.${rel} SRV 0 20 8080 ${e.hostname}.${rel}`);
      }
    } else {
      z.push(`${rel} A ${o.obj.spec.clusterIP}`, `_http._tcp.${rel} SRV 0 100 80 ${rel}`);
    }
  }
  writeFileSync(join(dir, 'cluster.local.zone'), `${z.join('\n')}\n`);
  writeFileSync(join(dir, 'knot.conf'), [
    'server:', `  rundir: "${dir}"`, `  listen: 127.0.0.1@${port}`,
    'database:', `  storage: "${dir}"`,
    'log:', '  - target: stderr', '    any: error',
    'zone:', '  - domain: cluster.local', `    storage: "${dir}"`, '    file: "cluster.local.zone"', '',
  ].join('\n'));
  return join(dir, 'knot.conf');
}

async function dnsperf(port: number, qfile: string, seconds: number, extra: string[] = []): Promise<string> {
  const { stdout } = await run('taskset', ['-c', '0', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', qfile, '-l', String(seconds), '-c', '8', '-q', '500', ...extra], { maxBuffer: 1 << 30 });
  return stdout;
}

async function measure(server: string, port: number, pid: number, qfile: string): Promise<Row> {
  await dnsperf(port, qfile, 2); // warm up (JIT, caches)
  const out = await dnsperf(port, qfile, SECONDS);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1]);
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '?';
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1]) * 1000;
  const rssMb = rssOf(pid);
  // Percentiles at half the measured rate: at saturation they only measure dnsperf's queue.
  const v = await dnsperf(port, qfile, 3, ['-v', '-Q', String(Math.round(qps / 2))]);
  const lat = v.split('\n').flatMap((l) => { const m = /^> \S+ .* ([\d.]+)$/.exec(l); return m ? [Number(m[1])] : []; }).sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! * 1000 : NaN);
  return { server, qps, lost, avgMs, p50Ms: pct(0.5), p99Ms: pct(0.99), rssMb };
}

function startProc(cmd: string, args: string[], log: string): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const chunks: Buffer[] = [];
  p.stderr!.on('data', (c: Buffer) => chunks.push(c));
  p.on('exit', () => writeFileSync(log, Buffer.concat(chunks)));
  return p;
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-dns-'));
  const etcd = new EtcdServer();
  const procs: ChildProcess[] = [];
  try {
    await etcd.start();
    const client = connectEtcd({ endpoints: [etcd.endpoint], dialTimeoutMs: 5000 });
    const keys = new Keys('/tern/');
    // Objects are validated by the same schemas the Store uses, then written as the Store
    // stores them, 64 transactions in flight (one Store.apply per object takes minutes).
    const t0 = performance.now();
    const docs: { key: string; value: string }[] = [];
    for (let i = 0; i < SERVICES; i++) {
      for (const ev of [scaleService(i), scaleSlice(i, EPS)] as { obj: unknown }[]) {
        const v = validateResource(ev.obj);
        if (!v.ok) throw new Error(`fixture ${i} invalid: ${v.error.message}`);
        const m = v.value.metadata as { name: string; namespace?: string };
        docs.push({ key: keys.resource(v.value.kind, m.name, m.namespace), value: encodeStored(v.value) });
      }
    }
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < docs.length) {
        const batch = docs.slice(next, (next += 50));
        const txn = client.if(batch[0]!.key, 'Version', '>', -1);
        await txn.then(...batch.map((d) => client.put(d.key).value(d.value))).commit();
      }
    }));
    console.log(`etcd: ${SERVICES} services, ${SERVICES * EPS} endpoints written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const qfile = queryFile(dir);
    const rows: Row[] = [];

    for (const workers of [1, 2]) {
      const port = await freePort();
      const conf = join(dir, `dnsd-${workers}.yaml`);
      writeFileSync(conf, [
        `etcd: { endpoints: ["${etcd.endpoint}"] }`, `grpc: { socket: "${join(dir, `dnsd-${workers}.sock`)}" }`,
        'ops: { listen: "127.0.0.1:0" }', 'logLevel: warn',
        'dns:', `  listen: ["127.0.0.1:${port}"]`, '  upstreams: none', '  health: ""', '  ready: ""', `  workers: ${workers}`, '',
      ].join('\n'));
      const cpus = workers === 1 ? '1' : '0,1';
      const t1 = performance.now();
      const p = startProc('taskset', ['-c', cpus, process.execPath, join(root, 'dist/daemons/tern-dnsd.js'), '-c', conf], join(dir, `dnsd-${workers}.log`));
      procs.push(p);
      await waitAnswer(port, svcName(SERVICES - 1), 120_000);
      // With workers, each must have synced: ask until every one has (any may answer).
      for (let k = 0; k < 50; k++) await waitAnswer(port, svcName(k), 60_000);
      console.log(`tern-dnsd (${workers} worker${workers > 1 ? 's' : ''}, CPU ${cpus}): serving ${SERVICES} services after ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      rows.push(await measure(`tern-dnsd, ${workers} worker${workers > 1 ? 's' : ''} (CPU ${cpus})`, port, p.pid!, qfile));

      if (workers === 1) {
        // Programming latency: a Service through the Store until the daemon answers it.
        const store = new Store(client, keys);
        const lat: number[] = [];
        for (let i = 0; i < 100; i++) {
          const name = `fresh-${i}`;
          const s = performance.now();
          await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' }, spec: { clusterIP: `10.200.${i >> 8}.${(i & 255) + 1}`, ports: [{ port: 80 }] } });
          await waitAnswer(port, `${name}.bench.svc.cluster.local`, 10_000);
          lat.push(performance.now() - s);
        }
        lat.sort((a, b) => a - b);
        console.log(`Service written -> answered (100 services, 10,000 present): p50 ${lat[49]!.toFixed(1)} ms, p99 ${lat[98]!.toFixed(1)} ms, max ${lat[99]!.toFixed(1)} ms`);
      }
      await stopProc(p);
    }

    const kport = await freePort();
    const k = startProc('taskset', ['-c', '1', 'knotd', '-c', knotZone(dir, kport)], join(dir, 'knot.log'));
    procs.push(k);
    await waitAnswer(kport, svcName(SERVICES - 1), 60_000);
    const knot = await measure('Knot DNS 3.2 (CPU 1)', kport, k.pid!, qfile);
    await stopProc(k);
    rows.unshift(knot);

    const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
    console.log(`\n${SECONDS} s per server, dnsperf -c 8 -q 500 on CPU 0; p50/p99 from a 3 s run at half the measured rate\n`);
    console.log('| server | qps | lost | avg ms | p50 ms | p99 ms | RSS MB | vs Knot |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.server} | ${fmt(r.qps)} | ${r.lost} | ${fmt(r.avgMs, 3)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.rssMb)} | ${fmt((r.qps / knot.qps) * 100)} % |`);
    client.close();
  } finally {
    for (const p of procs) await stopProc(p).catch(() => undefined);
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
