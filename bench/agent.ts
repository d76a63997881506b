// Scale of the whole node agent: the compiled tern-agentd in a lab node namespace, a real etcd,
// N local endpoints on real veths, R remote endpoints and P policies. Measures
//   cold:        agentd spawned → ready (every route and the nftables table programmed),
//   incremental: a WorkloadEndpoint written to etcd → its /32 route seen by `ip monitor route`
//                and its interface seen in the table by `nft monitor` (p50/p99 over K pods),
//   memory:      agentd RSS after the run, per endpoint,
//   rules:       the nftables rule count the agent reports.
// Usage: npm run bench:agent -- [--local 1000] [--remote 10000] [--policies 2000] [--pods 200]
//   [--samples FILE]        per-pod timestamps (epoch ms: put, route seen, rules seen) as JSON
//   [--agent-log FILE]      a copy of agentd's log
//   [--node-flags "..."]    node flags for agentd before its own (first line of daemons/tern-agentd.ts)
//   [--heap-snapshot DIR]   after the run (RSS already read), a heap snapshot of agentd in DIR
//   [--smaps FILE]          a copy of agentd's /proc/PID/smaps after the run
//   [--settle SECONDS]      also read RSS/USS again after that long without updates (V8 gives
//                           back unused heap pages only at a memory-reducing GC, which it runs
//                           once the process has been idle for a while)
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { Keys } from '../src/datastore/keys.js';
import { daemonArgs } from '../src/lab/cluster.js';
import { ipBatch, ipLine } from '../src/lab/exec.js';
import { Lab } from '../src/lab/netns.js';
import type { AgentClient } from '../src/proto/gen/tern/agent/v1/Agent.js';
import type { NodeStatus__Output } from '../src/proto/gen/tern/agent/v1/NodeStatus.js';
import { agentProto } from '../src/proto/load.js';
import { encodeStored, validateResource, type Resource } from '../src/resources/index.js';
import { BENCH_NODE, benchIface, endpointDoc, ip4, N_NS, pct, policyDoc } from './world.js';
import { arg, strArg } from './args.js';

const N_LOCAL = arg('--local', 1000);
const N_REMOTE = arg('--remote', 10000);
const N_POL = arg('--policies', 2000);
const N_INC = arg('--pods', 200);
const NODE = BENCH_NODE;
const keys = new Keys('/tern/');
const iface = benchIface;

function res(doc: unknown): Resource {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const endpoint = (i: number, local: boolean): Resource => res(endpointDoc(i, { local }));
const policy = (j: number): Resource => res(policyDoc(j));

async function putAll(client: Etcd3, kvs: [string, string][]): Promise<void> {
  // etcd's default --max-txn-ops is 128.
  for (let i = 0; i < kvs.length; i += 100) {
    const chunk = kvs.slice(i, i + 100);
    await client.if(chunk[0]![0], 'Mod', '>', -1).then(...chunk.map(([k, v]) => client.put(k).value(v))).commit();
  }
}

const keyOf = (r: Resource): string => keys.resource(r.kind, r.metadata.name, (r.metadata as { namespace?: string }).namespace);

/** Lines of a long-running monitor, each with the time it arrived. */
function monitor(cmd: string, args: string[], onLine: (line: string, t: number) => void): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let buf = '';
  p.stdout!.on('data', (b: Buffer) => {
    const t = performance.now();
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i), t);
      buf = buf.slice(i + 1);
    }
  });
  return p;
}


async function main(): Promise<void> {
  const lab = await Lab.create();
  const monitors: ChildProcess[] = [];
  try {
    const etcdHost = await lab.addHost('etcd');
    const node = await lab.addHost('node');
    const etcd = await lab.startEtcd(etcdHost);
    const client = new Etcd3({ hosts: etcd.unixEndpoint });

    // Real veths for every local endpoint and for the incremental ones.
    let t = performance.now();
    const total = N_LOCAL + N_INC;
    const lines: string[] = [];
    for (let i = 0; i < total; i++) lines.push(ipLine('link', 'add', iface(i), 'type', 'veth', 'peer', 'name', `q${i.toString(16)}`), ipLine('link', 'set', iface(i), 'up'));
    await ipBatch(lines, { netns: node.netns });
    const vethMs = performance.now() - t;

    t = performance.now();
    const kvs: [string, string][] = [];
    const add = (r: Resource): void => void kvs.push([keyOf(r), encodeStored(r)]);
    add(res({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name: NODE }, spec: { bgp: { ipv4Address: `${node.fabricIp}/24` } } }));
    for (let n = 0; n < N_NS; n++) add(res({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { team: `t${n % 7}` } } }));
    for (let i = 0; i < N_LOCAL; i++) add(endpoint(i, true));
    for (let i = 0; i < N_REMOTE; i++) add(endpoint(100_000 + i, false));
    for (let j = 0; j < N_POL; j++) add(policy(j));
    // Affinities for the blocks the local addresses are in (IPAM's records, written as IPAM does).
    for (let b = 0; b * 64 < total; b++) {
      const cidr = `${ip4(b * 64)}/26`;
      kvs.push([keys.affinity(NODE, cidr), JSON.stringify({ node: NODE, cidr })]);
    }
    await putAll(client, kvs);
    const etcdMs = performance.now() - t;

    const socket = join(lab.dir, 'agent.sock');
    const conf = join(lab.dir, 'agent.json');
    writeFileSync(conf, JSON.stringify({ bgpdSocket: '', resyncSeconds: 30 }));
    t = performance.now();
    const nodeFlags = (strArg('--node-flags') ?? '').split(' ').filter(Boolean);
    const snapDir = strArg('--heap-snapshot');
    if (snapDir) nodeFlags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`);
    // The daemon's own flags (its entry file's first line) come first; --node-flags add to them.
    const agent = lab.spawn(node, process.execPath, [
      ...nodeFlags, ...daemonArgs('tern-agentd'), '-c', conf, '--node-name', NODE, '--node-ip', node.fabricIp, '--grpc-socket', socket,
      '--etcd-endpoints', etcd.unixEndpoint, '--ops-listen', '127.0.0.1:0', '--log-level', 'info',
    ], { env: process.env });
    await agent.waitForOutput(/first full sync applied; ready/, 120_000);
    const coldMs = performance.now() - t;

    // Incremental: one pod at a time; its route and its interface in the table, seen by monitors.
    const routeSeen = new Map<string, number>();
    const nftSeen = new Map<string, number>();
    monitors.push(monitor('ip', ['-n', node.netns, 'monitor', 'route'], (l, at) => {
      const m = /^(\d+\.\d+\.\d+\.\d+) dev (\S+)/.exec(l);
      if (m && !routeSeen.has(m[2]!)) routeSeen.set(m[2]!, at);
    }));
    let nftMonitorReady = false;
    monitors.push(monitor('ip', ['netns', 'exec', node.netns, 'nft', 'monitor'], (l, at) => {
      if (l.includes('ternbenchprobe')) nftMonitorReady = true;
      for (const m of l.matchAll(/"(b[0-9a-f]+)"/g)) if (!nftSeen.has(m[1]!)) nftSeen.set(m[1]!, at);
    }));
    await new Promise((r) => setTimeout(r, 500));
    // `nft monitor` subscribes only after reading the ruleset, which can take longer than the
    // pause above on a loaded machine: a table of its own, made and removed in the lab's
    // namespace, shows when it listens.
    const nftProbe = async (cmd: string): Promise<void> => {
      await new Promise<void>((resolve) => spawn('ip', ['netns', 'exec', node.netns, 'nft', cmd, 'table', 'inet', 'ternbenchprobe'], { stdio: 'ignore' }).on('exit', () => resolve()));
    };
    for (let i = 0; i < 100 && !nftMonitorReady; i++) {
      await nftProbe('add');
      await nftProbe('delete');
      await new Promise((r) => setTimeout(r, 100));
    }
    const samples: { put: number; route?: number; nft?: number }[] = [];
    const routeLat: number[] = [];
    const nftLat: number[] = [];
    let nftMissing = 0;
    for (let k = 0; k < N_INC; k++) {
      const i = N_LOCAL + k;
      const r = endpoint(i, true);
      const dev = iface(i);
      const t0 = performance.now();
      await client.put(keyOf(r)).value(encodeStored(r));
      const end = t0 + 10_000;
      while (performance.now() < end && (!routeSeen.has(dev) || !nftSeen.has(dev))) await new Promise((x) => setTimeout(x, 1));
      if (routeSeen.has(dev)) routeLat.push(routeSeen.get(dev)! - t0);
      if (nftSeen.has(dev)) nftLat.push(nftSeen.get(dev)! - t0);
      else nftMissing++;
      samples.push({ put: performance.timeOrigin + t0, ...(routeSeen.has(dev) ? { route: performance.timeOrigin + routeSeen.get(dev)! } : {}), ...(nftSeen.has(dev) ? { nft: performance.timeOrigin + nftSeen.get(dev)! } : {}) });
    }

    const C = agentProto().tern.agent.v1.Agent;
    const ac = new C(`unix:${socket}`, grpc.credentials.createInsecure()) as unknown as AgentClient;
    const st = await new Promise<NodeStatus__Output>((resolve, reject) => ac.getNodeStatus({}, (e, s) => (e ? reject(e) : resolve(s!))));
    ac.close();
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    const samplesFile = strArg('--samples');
    if (samplesFile) writeFileSync(samplesFile, JSON.stringify(samples));
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // RSS counts the node binary's text, shared by every Node process on the host (bgpd, agentd,
    // the CNI plugin): the private figure (USS) is what this agent alone costs.
    const rollup = readFileSync(`/proc/${agent.pid}/smaps_rollup`, 'utf8');
    const kib = (f: string): number => Number(new RegExp(`^${f}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
    const privKiB = kib('Private_Clean') + kib('Private_Dirty');
    const smapsFile = strArg('--smaps');
    if (smapsFile) writeFileSync(smapsFile, readFileSync(`/proc/${agent.pid}/smaps`, 'utf8'));
    const endpoints = N_LOCAL + N_INC + N_REMOTE;
    const settleS = Number(strArg('--settle') ?? 0);
    let settled: { rss: number; priv: number } | undefined;
    if (settleS > 0) {
      await new Promise((r) => setTimeout(r, settleS * 1000));
      const r2 = readFileSync(`/proc/${agent.pid}/smaps_rollup`, 'utf8');
      const k2 = (f: string): number => Number(new RegExp(`^${f}:\\s+(\\d+)`, 'm').exec(r2)?.[1] ?? 0);
      settled = { rss: k2('Rss'), priv: k2('Private_Clean') + k2('Private_Dirty') };
    }

    const rows: [string, string, string][] = [
      ['setup: veths (ip -batch)', `${total} pairs`, `${vethMs.toFixed(0)} ms`],
      ['setup: etcd writes (txn of 100)', `${kvs.length} keys`, `${etcdMs.toFixed(0)} ms`],
      ['cold: spawn → ready (routes + nftables live)', `${N_LOCAL} local, ${N_REMOTE} remote, ${N_POL} policies`, `${coldMs.toFixed(0)} ms (target < 2000)`],
      ['incremental route: etcd put → ip monitor', `p50 / p99 over ${routeLat.length}`, `${pct(routeLat, 50).toFixed(1)} / ${pct(routeLat, 99).toFixed(1)} ms (target p99 < 20)`],
      ['incremental rules: etcd put → nft monitor', `p50 / p99 over ${nftLat.length} (${nftMissing} not seen)`, `${pct(nftLat, 50).toFixed(1)} / ${pct(nftLat, 99).toFixed(1)} ms (target p99 < 20)`],
      ['agentd RSS', `${endpoints} endpoints`, `${(rssKiB / 1024).toFixed(1)} MiB = ${((rssKiB * 1024) / endpoints / 1024).toFixed(2)} KiB/endpoint (target < 10)`],
      ['agentd private memory (USS)', `${endpoints} endpoints`, `${(privKiB / 1024).toFixed(1)} MiB = ${((privKiB * 1024) / endpoints / 1024).toFixed(2)} KiB/endpoint (shared: ${((rssKiB - privKiB) / 1024).toFixed(1)} MiB)`],
      ...(settled
        ? [[`agentd RSS / USS after ${settleS} s idle`, `${endpoints} endpoints`, `${(settled.rss / 1024).toFixed(1)} / ${(settled.priv / 1024).toFixed(1)} MiB = ${((settled.rss * 1024) / endpoints / 1024).toFixed(2)} / ${((settled.priv * 1024) / endpoints / 1024).toFixed(2)} KiB/endpoint`] as [string, string, string]]
        : []),
      ['agentd anonymous / file-backed RSS', '', `${(kib('Anonymous') / 1024).toFixed(1)} / ${((rssKiB - kib('Anonymous')) / 1024).toFixed(1)} MiB`],
      ['nftables rules', `${st.policies} policies`, `${st.nftRules}`],
      ['routes owned', `${st.localEndpoints} local endpoints`, `${st.routesOwned}`],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    process.stdout.write(`\n${rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`).join('\n')}\n`);
    client.close();
    if (snapDir) {
      // Written synchronously by agentd's main thread: the file is complete once it stops growing.
      const before = new Set(readdirSync(snapDir));
      process.kill(agent.pid, 'SIGUSR2');
      let last = -1;
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const f = readdirSync(snapDir).find((n) => n.endsWith('.heapsnapshot') && !before.has(n));
        if (!f) continue;
        const size = statSync(join(snapDir, f)).size;
        if (size > 0 && size === last) {
          process.stdout.write(`heap snapshot: ${join(snapDir, f)}\n`);
          break;
        }
        last = size;
      }
    }
    const logCopy = strArg('--agent-log');
    if (logCopy && agent.logFile) writeFileSync(logCopy, readFileSync(agent.logFile));
  } finally {
    for (const m of monitors) m.kill('SIGTERM');
    await lab.destroy();
  }
}

await main();
