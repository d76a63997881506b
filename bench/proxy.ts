// Service proxy benchmark, inside lab namespaces (never the root namespace):
//   1. connection rate through one ClusterIP with 10 services programmed;
//   2. cold sync of S services × E endpoints: calculate, render, `nft -f` (fresh table);
//   3. M single-endpoint changes, one apply each: latency from apply() to nft's return;
//   4. nft rule count (of the transaction and read back), agent RSS;
//   5. connection rate through the same ClusterIP with S services programmed.
// Per-packet cost must not depend on S: 1 and 5 should be equal within noise.
//   The service chains are spread over K shard tables (`--shards K`, default the proxy's):
//   a change revalidates one shard, a new connection does K verdict-map lookups.
// Usage: node dist/bench/proxy.js [--services S] [--endpoints E] [--changes M] [--conns C] [--shards K]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProxyDataplane } from '../src/agent/proxy/dataplane.js';
import { ProxyInputs } from '../src/agent/proxy/inputs.js';
import { DEFAULT_SHARDS } from '../src/agent/proxy/render.js';
import { closeNftRunners, nftRunner } from '../src/agent/nft/runner.js';
import { runNft } from '../src/agent/policy/nft.js';
import { Lab } from '../src/lab/netns.js';
import { service, slice, type Ep } from '../test/agent/proxy/fixtures.js';
import { arg } from './args.js';

const S = arg('--services', 10_000);
const E = arg('--endpoints', 10);
const M = arg('--changes', 100);
const C = arg('--conns', 2000);
const K = arg('--shards', DEFAULT_SHARDS);
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
    const dpSmall = new ProxyDataplane({ netns: node.netns, shards: K });
    await dpSmall.apply(small.snapshot());
    await rate(); // warm-up: ARP, page cache
    const rate10 = await rate();
    await dpSmall.remove();

    // 2. cold sync
    const inputs = new ProxyInputs('node1', ['10.244.0.0/16']);
    const tFeed = process.hrtime.bigint();
    for (let i = 0; i < S; i++) addService(inputs, i, endpoints(i));
    const feedMs = ms(tFeed);
    const dp = new ProxyDataplane({ netns: node.netns, shards: K });
    const t0 = process.hrtime.bigint();
    const state = inputs.snapshot();
    const calcMs = ms(t0);
    const t1 = process.hrtime.bigint();
    const cold = await dp.apply(state);
    const applyMs = ms(t1);
    const coldTotal = ms(t0);
    const scriptRules = dp.lastScript.split('\n').filter((l) => l.startsWith('add rule')).length;
    let kernelRules = 0;
    let chains = 0;
    let biggest = 0;
    for (const table of dp.tables) {
      const listed = await runNft(['-a', 'list', 'table', 'inet', table], undefined, { netns: node.netns });
      const lines = listed.stdout.split('\n');
      kernelRules += lines.filter((l) => /# handle \d+$/.test(l) && !/^\s*(table|chain|set|map)\b/.test(l.trim()) && !/\{ # handle/.test(l)).length;
      const n = lines.filter((l) => /^\s*chain /.test(l)).length;
      chains += n;
      if (table !== dp.table) biggest = Math.max(biggest, n);
    }
    global.gc?.();
    const rssMb = Math.round(process.memoryUsage().rss / 1e6);
    const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);

    // 3. single-endpoint changes, for each way of running nft: a spawned `ip netns exec nft -f -`
    // per transaction (what nftApply did before src/agent/nft) and the persistent `nft -i`.
    // TERN_NFT_MODE picks the mode when the namespace's shared runner is created.
    let k = 0;
    const change = (): ReturnType<ProxyInputs['snapshot']> => {
      const i = 1 + Math.floor(Math.random() * (S - 1));
      const eps = endpoints(i);
      eps[k % E] = { ip: `10.200.${(k >> 8) & 255}.${k & 255}`, node: 'node2' };
      k++;
      inputs.apply({ kind: 'slice-upsert', slice: slice('bench', `s${i}`, `s${i}-x`, 4, eps, [{ port: 8080 }]) });
      return inputs.snapshot();
    };
    const series: Array<{ mode: string; lat: number[]; calcLat: number[]; nftLat: number[]; bytes: number[]; modes: Set<string>; tables: number[] }> = [];
    for (const mode of ['spawn', 'persistent'] as const) {
      await closeNftRunners();
      process.env.TERN_NFT_MODE = mode;
      const one = { mode, lat: [] as number[], calcLat: [] as number[], nftLat: [] as number[], bytes: [] as number[], modes: new Set<string>(), tables: [] as number[] };
      for (let m = 0; m < M; m++) {
        const t = process.hrtime.bigint();
        const snap = change();
        one.calcLat.push(ms(t));
        const r = await dp.apply(snap);
        one.lat.push(ms(t));
        one.nftLat.push(r.nftMs ?? 0);
        one.bytes.push(r.scriptBytes);
        one.modes.add(r.mode);
        one.tables.push(r.tables.length);
      }
      series.push(one);
    }
    // 4b. a burst: B changes submitted together (as a watch delivering several events at once);
    // the dataplane applies only the newest state, the runner commits it in one transaction.
    const B = 10;
    const burstLat: number[] = [];
    const burstCoalesced: number[] = [];
    for (let rep = 0; rep < 10; rep++) {
      const t = process.hrtime.bigint();
      const reports = await Promise.all(Array.from({ length: B }, () => dp.apply(change())));
      burstLat.push(ms(t));
      burstCoalesced.push(new Set(reports).size);
    }
    const runnerStats = nftRunner(node.netns).stats;

    // 5. rate with S services
    await rate();
    const rateBig = await rate();
    const drift = await dp.check();
    await dp.remove();

    const rows: Array<[string, string]> = [
      ['services × endpoints', `${S} × ${E}`],
      ['shard tables (K)', `${K} (+ main table); largest shard ${biggest} chains`],
      ['feed inputs (ProxyInputs.apply)', `${feedMs.toFixed(0)} ms`],
      ['cold: calculate', `${calcMs.toFixed(0)} ms`],
      ['cold: render + nft -f', `${applyMs.toFixed(0)} ms (${(cold.scriptBytes / 1e6).toFixed(1)} MB script)`],
      ['cold sync total', `${coldTotal.toFixed(0)} ms`],
      ...series.flatMap((x): Array<[string, string]> => [
        [`one endpoint change, nft ${x.mode} (${M}×, ${[...x.modes].join('/')})`, `p50 ${pct(x.lat, 50).toFixed(1)} ms, p99 ${pct(x.lat, 99).toFixed(1)} ms, max ${Math.max(...x.lat).toFixed(1)} ms; ${pct(x.bytes, 50)} B script`],
        ['  of which calculate / nft', `p50 ${pct(x.calcLat, 50).toFixed(1)} / ${pct(x.nftLat, 50).toFixed(1)} ms, p99 ${pct(x.calcLat, 99).toFixed(1)} / ${pct(x.nftLat, 99).toFixed(1)} ms`],
        ['  tables written per change', `${x.tables.filter((n) => n === 1).length}/${x.tables.length} changes wrote 1 table, max ${Math.max(...x.tables)}`],
      ]),
      [`burst of ${B} changes at once, nft persistent (10×)`, `p50 ${pct(burstLat, 50).toFixed(1)} ms, p99 ${pct(burstLat, 99).toFixed(1)} ms for all ${B}; ${pct(burstCoalesced, 50)} transaction(s) per burst`],
      ['nft runner (persistent)', `${runnerStats.batches} batches, ${runnerStats.processStarts} process start(s), ${runnerStats.spawned} spawned`],
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
    delete process.env.TERN_NFT_MODE;
    await closeNftRunners();
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
