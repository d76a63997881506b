// Service proxy benchmark, inside lab namespaces (never the root namespace):
//   1. connection rate through one ClusterIP with 10 services programmed;
//   2. cold sync of S services × E endpoints: calculate, render, `nft -f` (fresh table);
//   3. M single-endpoint changes, one apply each: latency from apply() to nft's return;
//   4. nft rule count (of the transaction and read back), agent RSS;
//   5. connection rate through the same ClusterIP with S services programmed.
// Per-packet cost must not depend on S: 1 and 5 should be equal within noise.
// Usage: node dist/bench/proxy.js [--services S] [--endpoints E] [--changes M] [--conns C]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyDataplane } from '../src/agent/proxy/dataplane.js';
import { ProxyInputs } from '../src/agent/proxy/inputs.js';
import { runNft } from '../src/agent/policy/nft.js';
import { Lab } from '../src/lab/netns.js';
import { service, slice, type Ep } from '../test/agent/proxy/fixtures.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const S = arg('--services', 10_000);
const E = arg('--endpoints', 10);
const M = arg('--changes', 100);
const C = arg('--conns', 2000);
const CLIENT_DIR = fileURLToPath(new URL('../../test/agent/proxy/', import.meta.url));
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const clusterIp = (i: number) => `10.96.${(i >> 8) & 255}.${i & 255}`;
const epIp = (i: number, j: number) => {
  const n = i * E + j;
  return `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
};

function addService(inputs: ProxyInputs, i: number, eps: Ep[]): void {
  inputs.apply({ kind: 'service-upsert', service: service('bench', `s${i}`, { clusterIP: clusterIp(i), ports: [{ port: 80, targetPort: 8080 }] }) });
  inputs.apply({ kind: 'slice-upsert', slice: slice('bench', `s${i}`, `s${i}-x`, 4, eps, [{ port: 8080 }]) });
}

async function main(): Promise<void> {
  const lab = await Lab.create();
  try {
    const node = await lab.addHost('node1');
    const server = await lab.addPod(node, 'a', { ip: '10.244.1.2' });
    const client = await lab.addPod(node, 'c', { ip: '10.244.1.10' });
    const srv = lab.spawn(server, process.execPath, [join(CLIENT_DIR, 'server.mjs'), 'a', '8080']);
    await srv.waitForOutput(/ready/);
    const rate = async (): Promise<{ perSec: number; failed: number }> => {
      const r = await lab.exec(client, process.execPath, [join(CLIENT_DIR, 'client.mjs'), 'rate', clusterIp(0), '80', String(C)], { timeoutMs: 300_000 });
      const o = JSON.parse(r.stdout) as { ok: number; failed: number; ms: number };
      return { perSec: Math.round((o.ok / o.ms) * 1000), failed: o.failed };
    };
    const probeEps: Ep[] = [{ ip: server.ip, node: 'node1' }];
    const endpoints = (i: number): Ep[] => (i === 0 ? probeEps : Array.from({ length: E }, (_, j) => ({ ip: epIp(i, j), node: 'node2' })));

    // 1. ten services
    const small = new ProxyInputs('node1', ['10.244.0.0/16']);
    for (let i = 0; i < 10; i++) addService(small, i, endpoints(i));
    const dpSmall = new ProxyDataplane({ netns: node.netns });
    await dpSmall.apply(small.snapshot());
    await rate(); // warm-up: ARP, page cache
    const rate10 = await rate();
    await dpSmall.remove();

    // 2. cold sync
    const inputs = new ProxyInputs('node1', ['10.244.0.0/16']);
    const tFeed = process.hrtime.bigint();
    for (let i = 0; i < S; i++) addService(inputs, i, endpoints(i));
    const feedMs = ms(tFeed);
    const dp = new ProxyDataplane({ netns: node.netns });
    const t0 = process.hrtime.bigint();
    const state = inputs.snapshot();
    const calcMs = ms(t0);
    const t1 = process.hrtime.bigint();
    const cold = await dp.apply(state);
    const applyMs = ms(t1);
    const coldTotal = ms(t0);
    const scriptRules = dp.lastScript.split('\n').filter((l) => l.startsWith('add rule')).length;
    const listed = await runNft(['-a', 'list', 'table', 'inet', dp.table], undefined, { netns: node.netns });
    const kernelRules = listed.stdout.split('\n').filter((l) => /# handle \d+$/.test(l) && !/^\s*(table|chain|set|map)\b/.test(l.trim()) && !/\{ # handle/.test(l)).length;
    const chains = listed.stdout.split('\n').filter((l) => /^\s*chain /.test(l)).length;
    global.gc?.();
    const rssMb = Math.round(process.memoryUsage().rss / 1e6);
    const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);

    // 3. single-endpoint changes
    const lat: number[] = [];
    const calcLat: number[] = [];
    const nftLat: number[] = [];
    const bytes: number[] = [];
    const modes = new Set<string>();
    for (let k = 0; k < M; k++) {
      const i = 1 + Math.floor(Math.random() * (S - 1));
      const eps = endpoints(i);
      eps[k % E] = { ip: `10.200.${k >> 8}.${k & 255}`, node: 'node2' };
      const t = process.hrtime.bigint();
      inputs.apply({ kind: 'slice-upsert', slice: slice('bench', `s${i}`, `s${i}-x`, 4, eps, [{ port: 8080 }]) });
      const snap = inputs.snapshot();
      calcLat.push(ms(t));
      const r = await dp.apply(snap);
      lat.push(ms(t));
      nftLat.push(r.nftMs ?? 0);
      bytes.push(r.scriptBytes);
      modes.add(r.mode);
    }

    // 5. rate with S services
    await rate();
    const rateBig = await rate();
    const drift = await dp.check();
    await dp.remove();

    const rows: Array<[string, string]> = [
      ['services × endpoints', `${S} × ${E}`],
      ['feed inputs (ProxyInputs.apply)', `${feedMs.toFixed(0)} ms`],
      ['cold: calculate', `${calcMs.toFixed(0)} ms`],
      ['cold: render + nft -f', `${applyMs.toFixed(0)} ms (${(cold.scriptBytes / 1e6).toFixed(1)} MB script)`],
      ['cold sync total', `${coldTotal.toFixed(0)} ms`],
      [`one endpoint change (${M}×, ${[...modes].join('/')})`, `p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms; ${pct(bytes, 50)} B script`],
      ['  of which calculate / nft -f', `p50 ${pct(calcLat, 50).toFixed(1)} / ${pct(nftLat, 50).toFixed(1)} ms, p99 ${pct(calcLat, 99).toFixed(1)} / ${pct(nftLat, 99).toFixed(1)} ms`],
      ['nft rules (script / read back)', `${scriptRules} / ${kernelRules} in ${chains} chains`],
      ['agent RSS after cold sync', `${rssMb} MB (heap ${heapMb} MB)`],
      [`TCP connects/s via ClusterIP, 10 services (${C} sequential)`, `${rate10.perSec}${rate10.failed ? ` (${rate10.failed} failed)` : ''}`],
      [`TCP connects/s via ClusterIP, ${S} services`, `${rateBig.perSec}${rateBig.failed ? ` (${rateBig.failed} failed)` : ''}`],
      ['drift check after the changes', drift.length ? drift.slice(0, 3).join('; ') : 'in sync'],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`| ${'measure'.padEnd(w)} | value |\n|${'-'.repeat(w + 2)}|-------|\n`);
    for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(w)} | ${v} |\n`);
  } finally {
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
