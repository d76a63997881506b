// Route programming benchmark: a persistent `ip -force -batch -` fed through stdin against one
// `ip -batch` spawn per apply, through RouteManager, inside a namespace of its own
// (trt<pid>b-bench; never the root namespace).
//   1. install N routes in one apply (8/10 pod /32s on two veths, 2/10 remote /26 blocks);
//   2. a full resync with N routes installed (dump, parse, diff; zero writes);
//   3. M single-route changes, one apply each (latency per change);
//   4. the same M changes with readBeforeApply (a kernel dump before every apply);
//   5. delete all N in one apply.
// Usage: node dist/bench/routes.js [--routes N] [--changes M]
import { RouteManager } from '../src/agent/routes/manager.js';
import type { ProgrammerMode } from '../src/agent/routes/ip.js';
import type { RouteSpec } from '../src/agent/routes/model.js';
import { TestNetns, ip, nodeNamespace } from '../test/agent/routes/netns.js';
import { arg } from './args.js';

const N = arg('--routes', 10_000);
const M = arg('--changes', 200);

function routes(n: number): RouteSpec[] {
  const out: RouteSpec[] = [];
  const pods = Math.floor((n * 8) / 10);
  for (let i = 0; i < pods; i++) out.push({ kind: 'local', dst: `10.128.${i >> 8}.${i & 255}/32`, dev: i % 2 ? 'cali1' : 'cali2' });
  for (let i = 0; i < n - pods; i++) out.push({ kind: 'via', dst: `10.${160 + (i >> 10)}.${(i >> 2) & 255}.${(i & 3) * 64}/26`, nexthops: [{ via: '10.99.0.2' }] });
  return out;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Row {
  mode: string;
  install: number;
  resync: number;
  p50: number;
  p99: number;
  rp50: number;
  rp99: number;
  del: number;
}

async function changes(m: RouteManager, desired: RouteSpec[], count: number): Promise<number[]> {
  const lat: number[] = [];
  const blocks = desired.filter((r): r is Extract<RouteSpec, { kind: 'via' }> => r.kind === 'via');
  for (let i = 0; i < count; i++) {
    const b = blocks[i % blocks.length]!;
    const gw = b.nexthops[0]!.via === '10.99.0.2' ? '10.99.0.3' : '10.99.0.2';
    const next: RouteSpec = { ...b, nexthops: [{ via: gw }] };
    blocks[i % blocks.length] = next;
    const t0 = process.hrtime.bigint();
    m.upsert(next);
    const r = await m.apply();
    lat.push(ms(t0));
    if (r.replaces !== 1 || r.failures.length > 0) throw new Error(`change ${i}: ${JSON.stringify(r)}`);
  }
  return lat;
}

async function runMode(ns: string, mode: ProgrammerMode): Promise<Row> {
  const desired = routes(N);
  const m = new RouteManager({ netns: ns, programmer: mode, monitor: false, resyncIntervalMs: 0 });
  try {
    m.setDesired(desired);
    let t0 = process.hrtime.bigint();
    const ins = await m.apply();
    const install = ms(t0);
    if (ins.adds !== N || ins.failures.length > 0) throw new Error(`install: ${JSON.stringify({ ...ins, failures: ins.failures.slice(0, 3) })}`);

    t0 = process.hrtime.bigint();
    const rs = await m.resync();
    const resync = ms(t0);
    if (rs.unchanged !== N || rs.adds + rs.replaces + rs.deletes !== 0) throw new Error(`resync changed something: ${JSON.stringify(rs)}`);

    const lat = await changes(m, desired, M);
    const mr = new RouteManager({ netns: ns, programmer: mode, monitor: false, resyncIntervalMs: 0, readBeforeApply: true });
    let latRead: number[];
    try {
      mr.setDesired(desired);
      await mr.apply();
      latRead = await changes(mr, desired, M);
    } finally {
      await mr.close();
    }

    m.setDesired([]);
    t0 = process.hrtime.bigint();
    const del = await m.apply();
    const delMs = ms(t0);
    if (del.deletes !== N) throw new Error(`delete: ${JSON.stringify({ ...del, failures: del.failures.slice(0, 3) })}`);
    return { mode, install, resync, p50: pct(lat, 50), p99: pct(lat, 99), rp50: pct(latRead, 50), rp99: pct(latRead, 99), del: delMs };
  } finally {
    await m.close();
    await ip(['-n', ns, 'route', 'flush', 'proto', '44']);
  }
}

async function main(): Promise<void> {
  const t = new TestNetns(`trt${process.pid}b`);
  process.once('exit', () => t.destroySync());
  try {
    const ns = await nodeNamespace(t, 'bench');
    const rows: Row[] = [];
    // Warm-up round so neither mode pays for first-time JIT and page cache.
    await runMode(ns, 'persistent');
    for (const mode of ['persistent', 'spawn', 'persistent', 'spawn'] as const) rows.push(await runMode(ns, mode));
    const f = (x: number) => x.toFixed(2).padStart(9);
    console.log(`routes=${N} changes=${M} node=${process.version} cores=2 (monitor off; one apply per change)`);
    console.log('| mode       | install N (ms) | resync N, 0 writes (ms) | change p50 (ms) | change p99 (ms) | change+dump p50 | change+dump p99 | delete N (ms) |');
    console.log('|------------|----------------|-------------------------|-----------------|-----------------|-----------------|-----------------|---------------|');
    for (const r of rows) {
      console.log(`| ${r.mode.padEnd(10)} | ${f(r.install)}      | ${f(r.resync)}               | ${f(r.p50)}       | ${f(r.p99)}       | ${f(r.rp50)}       | ${f(r.rp99)}       | ${f(r.del)}     |`);
    }
  } finally {
    await t.destroy();
  }
}

await main();
