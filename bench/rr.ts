// Route-reflector benchmark in network namespaces (`npm run bench:rr`; needs root, bird, birdc).
//
// 200 clients, each one BIRD 2 instance in its own namespace (own router id and address, so
// ORIGINATOR_ID and the reflection rules work as with real nodes), each announcing one /26
// block and ten /32 service routes (2,200 routes in all). The reflector, in its own namespace,
// is first tern-rrd (dynamic neighbours for the whole range, every one a reflector client), then
// BIRD (one generated `protocol bgp ... rr client` per client), with the same clients.
//
// Convergence = seconds from the reflector's start until every client's `show route count`
// says 2,200 networks; the clients are polled every 50 ms over their BIRD control sockets (unix
// sockets in the lab directory, reachable from here without a process per poll). Memory = the
// reflector's peak RSS (VmHWM), and its peak private anonymous memory (RssAnon: RSS without the
// program's file pages, which for Node.js are ~34 MB of the node binary shared by every Node
// process on the host). Then the reflector is restarted (SIGTERM, wait until clients hold only
// their own routes, start) and the convergence time measured again. The two reflectors take
// turns, --runs times (default 3); the table shows medians, and the per-run figures are printed.
//
// Clients use short timers, the same for both reflectors: `connect delay time 1` (BIRD waits
// 5 s by default after a protocol (re)start before its first connect, which would otherwise be
// most of what is measured), `connect retry time 1`, `error wait time 1, 1`.
// Flags: --clients N (default 200), --services N (/32s per client, default 10), --runs N,
// --cpu-prof DIR (tern-rrd under node --cpu-prof), --heap-snapshot DIR (a heap snapshot of tern-rrd
// in DIR once it has converged), BENCH_TRACE=1 prints every poll.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { LazyBirdCtl } from '../src/lab/bird-ctl.js';
import { daemonArgs } from '../src/lab/cluster.js';
import { Lab, type Host } from '../src/lab/netns.js';
import type { ManagedProcess } from '../src/lab/process.js';
import { arg, median, strArg } from './args.js';

const CLIENTS = arg('--clients', 200);
const SERVICES = arg('--services', 10);
const cpuProf = strArg('--cpu-prof');
const heapDir = strArg('--heap-snapshot');
const RUNS = arg('--runs', 3);
const TOTAL = CLIENTS * (1 + SERVICES);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 180_000);
const trace = process.env.BENCH_TRACE === '1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Client i's /26 block and /32 services: 10.128.0.0/10 carved by index. */
function clientRoutes(i: number): string[] {
  const block = 0x0a800000 + i * 64;
  const dotted = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  const out = [`${dotted(block)}/26`];
  for (let k = 0; k < SERVICES; k++) out.push(`${dotted(0x0ac80000 + i * 256 + k + 1)}/32`);
  return out;
}

/** Networks in a client's master4 table (-1 while its control socket does not answer). */
async function networks(c: LazyBirdCtl): Promise<number> {
  try {
    const r = await c.query('show route count');
    const m = /(\d+) of (\d+) routes for (\d+) networks/.exec(r);
    return m ? Number(m[3]) : -1;
  } catch {
    return -1;
  }
}

/** Peak RSS (VmHWM) and current private anonymous memory (RssAnon) of a process, in kB. */
function memKb(pid: number): { hwm: number; anon: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
    return { hwm: kb('VmHWM'), anon: kb('RssAnon') };
  } catch {
    return { hwm: 0, anon: 0 };
  }
}


interface Reflector {
  name: string;
  start(): ManagedProcess;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:rr needs root (network namespaces)');
  if (CLIENTS > 250) throw new Error('at most 250 clients (one /24 fabric)');
  const lab = await Lab.create();
  const ctls: LazyBirdCtl[] = [];
  try {
    await lab.fabric('10.99.0.0/24');
    const t0 = Date.now();
    const hosts = await lab.addHosts([{ name: 'rr' }, ...Array.from({ length: CLIENTS }, (_, i) => ({ name: `c${i}` }))]);
    const rr = hosts[0]!;
    const clients = hosts.slice(1);
    console.log(`${hosts.length} namespaces in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // ---- clients ----
    clients.forEach((h, i) => {
      const conf = join(lab.dir, `${h.name}.bird.conf`);
      const sock = join(lab.dir, `${h.name}.ctl`);
      writeFileSync(
        conf,
        `router id ${h.fabricIp};
protocol device { scan time 60; }
protocol static s4 { ipv4; ${clientRoutes(i).map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp reflector {
  local ${h.fabricIp} as 65000;
  neighbor ${rr.fabricIp} as 65000;
  connect delay time 1; connect retry time 1; error wait time 1, 1;
  direct;
  ipv4 { import all; export where source = RTS_STATIC; };
}
`,
      );
      lab.spawn(h, 'bird', ['-f', '-c', conf, '-s', sock, '-P', join(lab.dir, `${h.name}.bird.pid`)]);
      ctls.push(new LazyBirdCtl(sock));
    });
    const own = 1 + SERVICES;
    const counts = async (): Promise<number[]> => {
      const out = new Array<number>(ctls.length).fill(-1);
      // A bounded number of requests in flight: the clients answer fast, the CPU is shared.
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let k = next++; k < ctls.length; k = next++) out[k] = await networks(ctls[k]!);
        }),
      );
      return out;
    };
    const waitAll = async (pred: (n: number) => boolean, what: string, since: number): Promise<number> => {
      for (;;) {
        const c = await counts();
        const ok = c.filter(pred).length;
        if (trace) console.log(`  ${what}: ${((Date.now() - since) / 1000).toFixed(2)} s, ${ok}/${c.length} clients, min ${Math.min(...c)}, sum ${c.reduce((a, b) => a + b, 0)}`);
        if (ok === c.length) return (Date.now() - since) / 1000;
        if (Date.now() - since > TIMEOUT_MS) throw new Error(`timed out waiting for ${what}: ${ok}/${c.length} clients (min ${Math.min(...c)} networks)`);
        await sleep(50);
      }
    };
    await waitAll((n) => n === own, 'clients up with their own routes', Date.now());

    // ---- reflectors ----
    const ternConf = join(lab.dir, 'tern-rrd.yaml');
    writeFileSync(
      ternConf,
      toYaml({
        bgp: {
          asNumber: 65000,
          routerId: rr.fabricIp,
          role: 'reflector',
          clusterId: rr.fabricIp,
          timers: { connectRetry: 1 },
          // Without it the BIRD clients (graceful-restart aware by default) would keep our routes
          // as stale across the restart and the restart figure would measure nothing. BIRD as the
          // reflector sends Cease on SIGTERM too: both restarts start from empty clients.
          gracefulRestart: { enabled: false },
          dynamicNeighbors: [{ prefix: '10.99.0.0/24', asNumber: 65000, routeReflectorClient: true }],
        },
      }),
    );
    if (cpuProf) mkdirSync(cpuProf, { recursive: true });
    if (heapDir) mkdirSync(heapDir, { recursive: true });
    const ternRrd: Reflector = {
      name: 'tern-rrd',
      start: () =>
        lab.spawn(rr, process.execPath, [
          ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []),
          ...(heapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : []),
          ...daemonArgs('tern-rrd'),
          '--config', ternConf, '--grpc-socket', join(lab.dir, 'rr.sock'), '--ops-listen', `${rr.fabricIp}:9180`, '--log-level', 'warn',
        ]),
    };
    const birdConf = join(lab.dir, 'rr.bird.conf');
    writeFileSync(
      birdConf,
      `router id ${rr.fabricIp};
protocol device { scan time 60; }
template bgp clients {
  local ${rr.fabricIp} as 65000;
  rr client; rr cluster id ${rr.fabricIp};
  connect retry time 1; error wait time 1, 1;
  direct;
  ipv4 { import all; export all; };
}
${clients.map((h, i) => `protocol bgp c${i} from clients { neighbor ${h.fabricIp} as 65000; }`).join('\n')}
`,
    );
    const birdRr: Reflector = {
      name: 'BIRD',
      start: () => lab.spawn(rr, 'bird', ['-f', '-c', birdConf, '-s', join(lab.dir, 'rr.ctl'), '-P', join(lab.dir, 'rr.bird.pid')]),
    };

    interface Run { secs: number; hwmMb: number; anonMb: number }
    const runs = new Map<string, { converge: Run[]; restart: Run[] }>();
    const run = async (r: Reflector): Promise<Run & { proc: ManagedProcess }> => {
      const since = Date.now();
      const proc = r.start();
      let hwm = 0;
      let anon = 0;
      const sample = (): void => {
        const m = memKb(proc.pid);
        hwm = Math.max(hwm, m.hwm);
        anon = Math.max(anon, m.anon);
      };
      const sampler = setInterval(sample, 50);
      try {
        const secs = await waitAll((n) => n === TOTAL, `${r.name}: every client holds ${TOTAL}`, since).catch((e: unknown) => {
          console.error(proc.tail().slice(-3000));
          throw e;
        });
        sample();
        if (heapDir && r === ternRrd) {
          process.kill(proc.pid, 'SIGUSR2');
          await sleep(8000); // the snapshot is written synchronously by the reflector's main thread
        }
        return { secs, hwmMb: hwm / 1024, anonMb: anon / 1024, proc };
      } finally {
        clearInterval(sampler);
      }
    };
    for (let k = 0; k < RUNS; k++) {
      for (const r of [ternRrd, birdRr]) {
        const rec = runs.get(r.name) ?? { converge: [], restart: [] };
        runs.set(r.name, rec);
        const first = await run(r);
        await first.proc.stop('SIGTERM', 10_000);
        await waitAll((n) => n === own, `${r.name} stopped: clients back to their own routes`, Date.now());
        const second = await run(r);
        await second.proc.stop('SIGTERM', 10_000);
        await waitAll((n) => n === own, `${r.name} stopped again`, Date.now());
        rec.converge.push(first);
        rec.restart.push(second);
        console.log(
          `run ${k + 1}: ${r.name}: converged in ${first.secs.toFixed(2)} s (peak RSS ${first.hwmMb.toFixed(1)} MB, ` +
            `private ${first.anonMb.toFixed(1)} MB), after restart ${second.secs.toFixed(2)} s`,
        );
      }
    }

    interface Row { name: string; converge: number; hwmMb: number; anonMb: number; restart: number }
    const rows: Row[] = [...runs].map(([name, rec]) => ({
      name,
      converge: median(rec.converge.map((x) => x.secs)),
      restart: median(rec.restart.map((x) => x.secs)),
      hwmMb: Math.max(...[...rec.converge, ...rec.restart].map((x) => x.hwmMb)),
      anonMb: Math.max(...[...rec.converge, ...rec.restart].map((x) => x.anonMb)),
    }));
    const bird = rows.find((x) => x.name === 'BIRD')!;
    console.log(`\nroute reflector, ${CLIENTS} clients x ${1 + SERVICES} routes = ${TOTAL} routes, all reflected to all; median of ${RUNS} runs`);
    console.log('| reflector | converge (s) | restart converge (s) | peak RSS (MB) | peak private (MB) | converge / BIRD | restart / BIRD | RSS / BIRD | private / BIRD |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const x of rows) {
      const ratio = (a: number, b: number): string => (a / b).toFixed(2);
      console.log(
        `| ${x.name} | ${x.converge.toFixed(2)} | ${x.restart.toFixed(2)} | ${x.hwmMb.toFixed(1)} | ${x.anonMb.toFixed(1)} | ` +
          `${ratio(x.converge, bird.converge)} | ${ratio(x.restart, bird.restart)} | ${ratio(x.hwmMb, bird.hwmMb)} | ${ratio(x.anonMb, bird.anonMb)} |`,
      );
    }
  } finally {
    for (const c of ctls) c.close();
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
