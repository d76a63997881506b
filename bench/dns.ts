// tern-dnsd against Knot DNS on the same names, each pinned to CPU 1 with dnsperf on CPU 0:
// etcd holds 10,000 Services and 10,000 EndpointSlices (50,000 endpoints), the daemon builds its
// index from its watch, Knot serves a zone file generated from the same objects. Query mix:
// 80 % A of services, 10 % SRV, 10 % NXDOMAIN. Also tern-dnsd with two workers (CPUs 0 and 1),
// and the time from a Service written through the Store until the daemon answers it.
// All servers stay up and are measured in alternating rounds; besides qps, the server's own CPU
// time per query is read from /proc, which other load on the machine disturbs far less.
// Usage: npm run -s build && node dist/bench/dns.js [--seconds 5] [--rounds 3] [--services 10000]
//   [--workers 1,2] [--latency-rate QPS] [--cpu-prof DIR]
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
import { arg, median } from './args.js';

const run = promisify(execFile);
const SECONDS = arg('--seconds', 5);
const ROUNDS = arg('--rounds', 3);
/** Offered rate of the latency run; 0: half the slowest server's median qps. */
const LATENCY_RATE = arg('--latency-rate', 0);
const WORKERS = process.argv.includes('--workers') ? process.argv[process.argv.indexOf('--workers') + 1]!.split(',').map(Number) : [1, 2];
/** Writes a V8 CPU profile of the 1-worker daemon there (on exit). */
const PROFILE_DIR = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1]! : '';
const SERVICES = arg('--services', 10_000);
const EPS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = process.cwd();

/** One saturated dnsperf run against one server. */
interface Run { qps: number; lost: number; sent: number; avgMs: number; cpuUsPerQuery: number; busy: number }

interface Server {
  label: string;
  port: number;
  proc: ChildProcess;
  runs: Run[];
  /** Per-query latencies (s) from the fixed-rate run; timeouts as Infinity. */
  latency: number[];
  rssMb: number;
}

/** Reads a process's RSS plus its children's (cluster workers), from /proc. */
function rssOf(pid: number): number {
  return sumOverTree(pid, (p) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)) / 1024;
}

/** CPU seconds (user + system, all threads) of a process and its children, from /proc. */
function cpuOf(pid: number): number {
  const ticks = sumOverTree(pid, (p) => {
    const f = readFileSync(`/proc/${p}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(') ') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
  });
  return ticks / 100; // USER_HZ is 100 on Linux
}

function sumOverTree(pid: number, f: (pid: number) => number): number {
  let v = 0;
  try {
    v = f(pid);
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) v += f(Number(c));
  } catch {
    // a process that is gone, or a kernel without CONFIG_PROC_CHILDREN
  }
  return v;
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

/** One saturated run: dnsperf's figures plus the server's CPU time per answered query. */
async function saturated(srv: Server, qfile: string, seconds: number): Promise<Run> {
  const cpu0 = cpuOf(srv.proc.pid!);
  const t0 = performance.now();
  const out = await dnsperf(srv.port, qfile, seconds);
  const cpu = cpuOf(srv.proc.pid!) - cpu0;
  const wall = (performance.now() - t0) / 1000;
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    sent: num(/Queries sent:\s+(\d+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    cpuUsPerQuery: (cpu * 1e6) / completed,
    busy: cpu / wall,
  };
}

/**
 * Per-query latencies at a fixed rate, from dnsperf -v: one line per query, `> RCODE name type
 * seconds`, or `> T name type` for a timeout (kept as Infinity, so a lost query counts against
 * the tail instead of vanishing from it). The rate is the same for every server and well below
 * saturation: at saturation the percentiles only measure dnsperf's own queue.
 */
async function latencies(srv: Server, qfile: string, rate: number, seconds: number): Promise<number[]> {
  const out = await dnsperf(srv.port, qfile, seconds, ['-v', '-Q', String(rate)]);
  const lat: number[] = [];
  for (const l of out.split('\n')) {
    if (!l.startsWith('> ')) continue;
    const f = l.split(' ');
    if (f[1] === 'T') lat.push(Infinity);
    else if (f[1] !== 'I' && f.length >= 5) {
      const v = Number(f[f.length - 1]);
      if (Number.isFinite(v)) lat.push(v);
    }
  }
  return lat.sort((a, b) => a - b);
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
    const servers: Server[] = [];
    const track = (label: string, port: number, proc: ChildProcess): Server => {
      const srv: Server = { label, port, proc, runs: [], latency: [], rssMb: NaN };
      servers.push(srv);
      procs.push(proc);
      return srv;
    };

    // Every server runs for the whole benchmark, idle while another is measured, so rounds can
    // alternate between them: on a shared machine the load drifts, and only servers measured
    // close together in time compare.
    const kport = await freePort();
    const knot = track('Knot DNS 3.2 (CPU 1)', kport, startProc('taskset', ['-c', '1', 'knotd', '-c', knotZone(dir, kport)], join(dir, 'knot.log')));
    await waitAnswer(kport, svcName(SERVICES - 1), 60_000);

    for (const workers of WORKERS) {
      const port = await freePort();
      const conf = join(dir, `dnsd-${workers}.yaml`);
      writeFileSync(conf, [
        `etcd: { endpoints: ["${etcd.endpoint}"] }`, `grpc: { socket: "${join(dir, `dnsd-${workers}.sock`)}" }`,
        'ops: { listen: "127.0.0.1:0" }', 'logLevel: warn',
        'dns:', `  listen: ["127.0.0.1:${port}"]`, '  upstreams: none', '  health: ""', '  ready: ""', `  workers: ${workers}`, '',
      ].join('\n'));
      const cpus = workers === 1 ? '1' : '0,1';
      const prof = PROFILE_DIR && workers === 1 ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
      const t1 = performance.now();
      const p = startProc('taskset', ['-c', cpus, process.execPath, ...prof, join(root, 'dist/daemons/tern-dnsd.js'), '-c', conf], join(dir, `dnsd-${workers}.log`));
      const srv = track(`tern-dnsd, ${workers} worker${workers > 1 ? 's' : ''} (CPU ${cpus})`, port, p);
      await waitAnswer(port, svcName(SERVICES - 1), 120_000);
      // With workers, each must have synced: ask until every one has (any may answer).
      for (let k = 0; k < 50; k++) await waitAnswer(port, svcName(k), 60_000);
      console.log(`${srv.label}: serving ${SERVICES} services after ${((performance.now() - t1) / 1000).toFixed(1)} s`);

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
        console.log(`Service written -> answered (100 services, ${SERVICES} present): p50 ${lat[49]!.toFixed(1)} ms, p99 ${lat[98]!.toFixed(1)} ms, max ${lat[99]!.toFixed(1)} ms`);
      }
    }

    for (const srv of servers) await dnsperf(srv.port, qfile, 2); // warm up (JIT, caches)
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order so no server is always measured first or last in a round.
      for (let k = 0; k < servers.length; k++) {
        const srv = servers[(k + r) % servers.length]!;
        const run = await saturated(srv, qfile, SECONDS);
        srv.runs.push(run);
        console.log(`round ${r + 1}/${ROUNDS} ${srv.label}: ${run.qps.toFixed(0)} qps, lost ${run.lost}, ${run.cpuUsPerQuery.toFixed(2)} us CPU/query, server busy ${(run.busy * 100).toFixed(0)} %`);
      }
    }
    const rate = LATENCY_RATE || Math.round(Math.min(...servers.map((s) => median(s.runs.map((x) => x.qps)))) / 2);
    for (const srv of servers) {
      srv.latency = await latencies(srv, qfile, rate, 3);
      srv.rssMb = rssOf(srv.proc.pid!);
    }

    const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : n === Infinity ? 'timeout' : '-');
    const pct = (lat: number[], p: number): number => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! * 1000 : NaN);
    console.log(`\n${ROUNDS} rounds of ${SECONDS} s per server, alternating; dnsperf -c 8 -q 500 on CPU 0. qps: median (min-max) of the rounds; ` +
      `vs Knot: median of the per-round ratios; CPU/query: the server's user+system time per answered query (capacity = 1 / that, ` +
      `what one core would answer with nothing else on it); p50/p99/max: every query of a 3 s run at ${rate} qps for each server (timeouts count).\n`);
    console.log('| server | qps | vs Knot | lost | avg ms | CPU us/query | capacity qps | p50 ms | p99 ms | max ms | RSS MB |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const srv of servers) {
      const qps = srv.runs.map((x) => x.qps);
      const ratio = median(srv.runs.map((x, i) => x.qps / knot.runs[i]!.qps));
      const cpu = median(srv.runs.map((x) => x.cpuUsPerQuery));
      const lost = srv.runs.reduce((a, x) => a + x.lost, 0);
      const sent = srv.runs.reduce((a, x) => a + x.sent, 0);
      console.log(`| ${srv.label} | ${fmt(median(qps))} (${fmt(Math.min(...qps))}-${fmt(Math.max(...qps))}) | ${fmt(ratio * 100)} % | ${((lost / sent) * 100).toFixed(3)} % | ` +
        `${fmt(median(srv.runs.map((x) => x.avgMs)), 3)} | ${fmt(cpu, 2)} | ${fmt(1e6 / cpu)} | ${fmt(pct(srv.latency, 0.5), 3)} | ${fmt(pct(srv.latency, 0.99), 3)} | ` +
        `${fmt(pct(srv.latency, 1), 3)} | ${fmt(srv.rssMb)} |`);
    }
    const cap = (srv: Server): number => 1e6 / median(srv.runs.map((x) => x.cpuUsPerQuery));
    for (const srv of servers.filter((s) => s !== knot)) console.log(`${srv.label}: capacity ${fmt((cap(srv) / cap(knot)) * 100)} % of Knot's`);
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
