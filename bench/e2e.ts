// End to end in the lab (a lab of its own, torn down afterwards unless --keep):
//   pod:     a pod created on node1 (the real tern-cni ADD, as a runtime execs it) until node3
//            has a route covering its address and a ping from a pod on node3 gets an answer.
//            Measured from just before the ADD; the ADD's own duration is shown too. The pinger
//            (`ping -D -i 0.002`, timestamps per reply) runs before the ADD starts.
//   service: a Service written to etcd until the cluster DNS answers its name to a pod on
//            node3 (a resolver process inside the pod asks every 2 ms from before the write).
// p50/p99 over --tries (100) of each; targets: p99 < 200 ms (pod), < 100 ms (service).
// Under the pod rows, where the ADD's time went: the plugin's own marks (TERN_CNI_TRACE, see
// daemons/tern-cni.ts) from exec to exit, and the agent's steps from its `cni done` log lines.
// Usage: npm run bench:e2e -- [--tries 100] [--keep] [--name be2e]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { Store } from '../src/datastore/store.js';
import { CLUSTER_DNS_IP, echoScript, LabRun, routes } from '../src/lab/cluster.js';
import { labDown, labUp } from '../src/lab/cli.js';
import { cidrContainsIp, parseCidr, parseIp } from '../src/net/ip.js';
import { cniConf, execCni } from '../src/lab/pods.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1]! : d;
};
const TRIES = Number(opt('tries', '100'));
const NAME = opt('name', 'be2e');
const KEEP = argv.includes('--keep');

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (x: number): string => `${x.toFixed(1)} ms`;

/** Lines of a child's stdout as an async queue. */
function lines(child: ChildProcess): () => Promise<string> {
  const q: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else q.push(l);
  });
  return () => new Promise((res) => {
    const l = q.shift();
    if (l !== undefined) res(l);
    else waiters.push(res);
  });
}

/** Resolves with the epoch ms of the first echo reply `ping -D` prints, or rejects after ms. */
function firstReply(child: ChildProcess, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no reply')), ms);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /^\[(\d+\.\d+)\].*bytes from/.exec(l);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]) * 1000);
      }
    });
  });
}

/**
 * The plugin's marks (ms since its process started, see daemons/tern-cni.ts): exec to the
 * end of Node's bootstrap, then each step to the next, then the write of the result to the
 * moment the bench saw the process end.
 */
function pluginSplit(stderr: string, start: number, ended: number, add: (k: string, v: number) => void): void {
  const line = stderr.split('\n').reverse().find((l) => l.startsWith('{"origin"'));
  if (!line) return;
  const t = JSON.parse(line) as { origin: number; boot: number; marks: [string, number][] };
  add('plugin: exec → Node bootstrapped', t.origin + t.boot - start);
  let prev: [string, number] = ['bootstrap', t.boot];
  for (const m of t.marks) {
    add(`plugin: ${prev[0]} → ${m[0]}`, m[1] - prev[1]);
    prev = m;
  }
  add(`plugin: ${prev[0]} → exit seen`, ended - (t.origin + prev[1]));
}

/** The agent's own step times of each bench ADD (its "cni done" log lines). */
function agentSplit(logFile: string, add: (k: string, v: number, containerId: string) => void): void {
  for (const l of readFileSync(logFile, 'utf8').split('\n')) {
    if (!l.includes('"cni done"') || !l.includes('"bench-')) continue;
    const o = JSON.parse(l) as { op?: string; containerId?: string; ms?: number; steps?: Record<string, number> };
    if (o.op !== 'ADD') continue;
    add('agent: handler total', o.ms ?? 0, o.containerId ?? '');
    for (const [k, v] of Object.entries(o.steps ?? {})) add(`agent: ${k}`, v, o.containerId ?? '');
  }
}

/** The three slowest ADDs, each with its steps (ms), largest first. */
function slowest(add: number[], perTry: Map<string, Map<string, number>>): string[] {
  const order = add.map((ms, i) => ({ ms, i })).sort((a, b) => b.ms - a.ms).slice(0, 3);
  return order.map(({ ms, i }) => {
    const steps = [...(perTry.get(`bench-${i}`) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`);
    return `slow ADD bench-${i} (${fmt(ms)}): ${steps.join(', ')}\n`;
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await labUp({ name: NAME, out: () => undefined });
  const lab = new LabRun(NAME);
  process.stdout.write(`lab "${NAME}" up in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const n1 = lab.node('node1');
  const n3 = lab.node('node3');
  const src = lab.pod('web-3');
  const podTotal: number[] = [];
  const podAdd: number[] = [];
  const podAfterAdd: number[] = [];
  const routeSeen: number[] = [];
  // Where the ADD's time goes, from the plugin's own marks (TERN_CNI_TRACE) and the agent's log.
  const split = new Map<string, number[]>();
  const addTo = (k: string, v: number): void => void (split.get(k) ?? split.set(k, []).get(k)!).push(v);
  // The same per try, to show where the slowest ADDs lost their time.
  const perTry = new Map<string, Map<string, number>>();
  const addFor = (cid: string) => (k: string, v: number): void => {
    addTo(k, v);
    (perTry.get(cid) ?? perTry.set(cid, new Map()).get(cid)!).set(k, v);
  };
  try {
    for (let i = 0; i < TRIES; i++) {
      const pod = `bench-${i}`;
      const ns = await lab.addNamespace(`p-${pod}`);
      const cid = `bench-${i}`;
      const env = { CNI_CONTAINERID: cid, CNI_NETNS: join('/run/netns', ns), CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=frontend;K8S_POD_NAME=${pod}` };
      // The next address IPAM hands out is unknown before the ADD: ping the whole /26 block's
      // candidates would be noise, so the pinger starts right after the ADD returns and the
      // time between ADD start and its return is added (both are measured).
      const start = performance.timeOrigin + performance.now();
      const r = await execCni(n1.netns, { CNI_COMMAND: 'ADD', TERN_CNI_TRACE: '1', ...env }, cniConf(n1.agentSocket));
      const added = performance.timeOrigin + performance.now();
      if (r.code !== 0) throw new Error(`ADD failed: ${r.stdout}${r.stderr}`);
      pluginSplit(r.stderr, start, added, addFor(cid));
      const ip = ((r.json!.ips as Array<{ address: string }>)[0]!.address).split('/')[0]!;
      const pinger = spawn('ip', ['netns', 'exec', src.netns, 'ping', '-D', '-n', '-i', '0.002', '-W', '1', '-w', '10', ip], { stdio: ['ignore', 'pipe', 'ignore'] });
      const reply = firstReply(pinger, 10_000);
      // The route check runs beside the pinger: node3 must route the address towards node1.
      const addr = parseIp(ip);
      for (;;) {
        const rs = await routes(n3.netns, '44');
        if (rs.some((x) => x.gateway === n1.fabricIp && cidrContainsIp(parseCidr(x.dst.includes('/') ? x.dst : `${x.dst}/32`), addr))) break;
      }
      routeSeen.push(performance.timeOrigin + performance.now() - start);
      const replied = await reply.finally(() => pinger.kill('SIGKILL'));
      podTotal.push(replied - start);
      podAdd.push(added - start);
      podAfterAdd.push(replied - added);
      await execCni(n1.netns, { CNI_COMMAND: 'DEL', ...env }, cniConf(n1.agentSocket));
      await lab.removeNamespace(ns);
    }

    const waiter = spawn('ip', ['netns', 'exec', src.netns, process.execPath, echoScript(), 'dnswait', CLUSTER_DNS_IP], { stdio: ['pipe', 'pipe', 'ignore'] });
    const next = lines(waiter);
    const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
    const store = new Store(client, new Keys());
    const svc: number[] = [];
    try {
      for (let i = 0; i < TRIES; i++) {
        const name = `bench-${i}`;
        const fqdn = `${name}.backend.svc.cluster.local`;
        waiter.stdin!.write(`${fqdn}\n`);
        await new Promise((r) => setTimeout(r, 20));
        const start = Date.now();
        await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'backend' }, spec: { clusterIP: `10.96.${10 + Math.floor(i / 200)}.${(i % 200) + 1}`, ports: [{ port: 80 }] } });
        const [, at, answer] = (await next()).split(' ');
        if (answer === 'timeout') throw new Error(`${fqdn}: no answer within 30 s`);
        svc.push(Number(at) - start);
      }
      for (let i = 0; i < TRIES; i++) await store.delete('Service', `bench-${i}`, 'backend');
      agentSplit(lab.daemon('node1-agentd').logFile, (k, v, cid) => addFor(cid)(k, v));
    } finally {
      waiter.kill('SIGKILL');
      client.close();
    }

    const row = (what: string, xs: number[], target: string) => `| ${what} | ${xs.length} | ${fmt(pct(xs, 50))} | ${fmt(pct(xs, 99))} | ${fmt(Math.max(...xs))} | ${target} |`;
    process.stdout.write(
      [
        '',
        '| measure | n | p50 | p99 | max | target (p99) |',
        '|---|---|---|---|---|---|',
        row('pod on node1: CNI ADD start → ping from node3 answered', podTotal, '< 200 ms'),
        row('  of which CNI ADD (exec of tern-cni → result)', podAdd, ''),
        row('  of which ADD returned → first ping reply', podAfterAdd, ''),
        row('  node3 has a route covering the pod (from ADD start)', routeSeen, ''),
        ...[...split].map(([k, xs]) => row(`    ADD: ${k}`, xs, '')),
        row('Service written to etcd → DNS answers a pod on node3', svc, '< 100 ms'),
        '',
        ...slowest(podAdd, perTry),
      ].join('\n'),
    );
  } finally {
    if (!KEEP) await labDown({ name: NAME });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
