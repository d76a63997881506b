// `npm start` (README command 1): the network-namespace lab, the same topology as
// docker-compose.yml. `up` (default) builds it — etcd, two reflectors, three nodes running
// tern-bgpd and tern-agentd, tern-dnsd behind the cluster DNS IP, a BIRD ToR, pods made through
// tern-cni, services and a NetworkPolicy (src/lab/up.ts) — prints what runs and a live
// connectivity matrix, and returns, leaving it running; `down` tears down what the state file
// records; `status` shows it all again. The state file is the only link between the three, so
// each can run from a different process.
//
// etcd runs inside the `etcd` namespace and listens twice: on the fabric (10.99.0.2:2379) for
// daemons in node namespaces, and on a unix socket for clients in the root namespace (the
// `tern` CLI, tests). A path socket belongs to the filesystem, which all namespaces share,
// so the root namespace needs no address, route or forwarder to reach it.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { isTernError } from '../errors/index.js';
import { LabRun, removeEtcNetns, type EtcdRecord } from './cluster.js';
import { isEntryPoint } from './entry.js';
import { Lab } from './netns.js';
import { pidAlive } from './process.js';
import { type SeedResult } from './seed.js';
import { formatReport, gather } from './status.js';
import { netnsExists, readState, removeRunDir, runDir, stateFile, teardown, type LabState, type TeardownResult } from './state.js';
import { clusterUp } from './up.js';

export const DEFAULT_LAB_NAME = 'lab';

/** Names, roles and addresses as in docker-compose.yml and deploy/lab/tor-bird.conf. */
export const LAB_TOPOLOGY = [
  { name: 'etcd', role: 'etcd', fabricIp: '10.99.0.2' },
  { name: 'rr1', role: 'route reflector', fabricIp: '10.99.0.11' },
  { name: 'rr2', role: 'route reflector', fabricIp: '10.99.0.12' },
  { name: 'node1', role: 'node', fabricIp: '10.99.0.21' },
  { name: 'node2', role: 'node', fabricIp: '10.99.0.22' },
  { name: 'node3', role: 'node', fabricIp: '10.99.0.23' },
  { name: 'dnsd', role: 'cluster DNS', fabricIp: '10.99.0.53' },
  { name: 'tor', role: 'ToR router', fabricIp: '10.99.0.254' },
] as const;

export const FABRIC_CIDR = '10.99.0.0/24';

export interface LabEtcdMeta {
  /** For processes inside lab namespaces. */
  endpoint: string;
  /** For processes in the root namespace. */
  unixEndpoint: string;
  pid: number;
}

export interface CliOptions {
  name?: string;
  out?: (line: string) => void;
  /** Hosts and etcd only: no cluster state, no daemons (tests of the lab itself). */
  noSeed?: boolean;
  /** No example pods (tests and benchmarks that make their own). */
  noPods?: boolean;
  /** BGP hold time of the cluster's sessions in seconds (9 by default). */
  holdTime?: number;
}

export interface StatusReport {
  state: LabState | undefined;
  healthy: boolean;
  problems: string[];
}

const ROLE = new Map<string, string>(LAB_TOPOLOGY.map((t) => [t.name, t.role]));

function etcdMeta(st: LabState): LabEtcdMeta | undefined {
  return st.meta.etcd as LabEtcdMeta | undefined;
}

function unixHealth(unixEndpoint: string): Promise<boolean> {
  const socketPath = unixEndpoint.replace(/^unix:\/\//, '');
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/health', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as { health?: string }).health === 'true');
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function labStatus(opts: CliOptions = {}): Promise<StatusReport> {
  const st = readState(stateFile(opts.name ?? DEFAULT_LAB_NAME));
  if (!st) return { state: undefined, healthy: false, problems: ['no lab is recorded'] };
  const problems: string[] = [];
  for (const ns of st.namespaces) if (!netnsExists(ns)) problems.push(`namespace ${ns} is missing`);
  for (const p of st.processes) if (!pidAlive(p.pid, p.startTime)) problems.push(`${p.command} (pid ${p.pid}) is not running`);
  const etcd = etcdMeta(st);
  if (!etcd) problems.push('no etcd recorded');
  else if (!(await unixHealth(etcd.unixEndpoint))) problems.push(`etcd at ${etcd.unixEndpoint} is not healthy`);
  return { state: st, healthy: problems.length === 0, problems };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The summary `up` and `status` print, from the state file alone. */
export function formatSummary(st: LabState): string[] {
  const rows = [['HOST', 'ROLE', 'NETNS', 'FABRIC IP', 'IPv6', 'PROCESSES']];
  for (const h of st.hosts) {
    const procs = st.processes
      .filter((p) => p.netns === h.netns)
      .map((p) => `${p.command.split(' ')[0]!.replace(/:$/, '')} (pid ${p.pid}${pidAlive(p.pid, p.startTime) ? '' : ', dead'})`)
      .join(', ');
    rows.push([h.name, ROLE.get(h.name) ?? '', h.netns, h.fabricIp, h.ipv6 ?? '', procs || '-']);
  }
  const etcd = etcdMeta(st);
  const lines = [
    ...table(rows),
    '',
    `fabric:  bridge ${st.fabric?.bridge ?? '?'} in namespace ${st.fabric?.netns ?? '?'}, ${st.fabric?.cidr ?? '?'} and ${st.fabric?.ipv6Cidr ?? '?'}`,
  ];
  if (etcd) {
    lines.push(
      `etcd:    from the root namespace (tern CLI):  ${etcd.unixEndpoint}`,
      `         from lab namespaces (daemons):        ${etcd.endpoint}`,
      `         export TERN_ETCD_ENDPOINTS=${etcd.unixEndpoint}   (or: set -a; . ${join(runDir(st.id), 'env')})`,
    );
  }
  if (st.hosts.some((h) => h.name === 'tor')) lines.push(`tor:     birdc -s ${join(runDir(st.id), 'tor-bird.ctl')} show protocols`);
  const node = st.hosts.find((h) => h.name === 'node1') ?? st.hosts[0];
  lines.push(
    `state:   ${stateFile(st.id)}   logs: ${runDir(st.id)}/*.log`,
    ...(node ? [`enter:   ip netns exec ${node.netns} bash`] : []),
    `down:    npm start -- down`,
  );
  return lines;
}

export async function labDown(opts: CliOptions = {}): Promise<TeardownResult | undefined> {
  const name = opts.name ?? DEFAULT_LAB_NAME;
  const st = readState(stateFile(name));
  if (!st) return undefined;
  removeEtcNetns(st);
  const r = await teardown(st);
  removeRunDir(name);
  return r;
}

export interface UpResult {
  state: LabState;
  reused: boolean;
  seed?: SeedResult;
}

export async function labUp(opts: CliOptions = {}): Promise<UpResult> {
  const name = opts.name ?? DEFAULT_LAB_NAME;
  const out = opts.out ?? (() => undefined);
  const prev = await labStatus({ name });
  if (prev.state && prev.healthy) {
    out(`lab "${name}" is already up; reusing it`);
    return { state: prev.state, reused: true };
  }
  if (prev.state) {
    out(`lab "${name}" is recorded but broken (${prev.problems.join('; ')}): rebuilding`);
    removeEtcNetns(prev.state);
  }

  const lab = await Lab.create({ name, persistent: true, replace: true });
  try {
    await lab.fabric(FABRIC_CIDR);
    await lab.addHosts(LAB_TOPOLOGY.map((t) => ({ name: t.name, fabricIp: t.fabricIp, ipv6: true })));
    const etcdHost = lab.host('etcd');
    const etcd = await lab.startEtcd('etcd');
    const meta: EtcdRecord = {
      host: etcdHost.name,
      fabricIp: etcdHost.fabricIp,
      netns: etcdHost.netns,
      clientPort: etcd.server.clientPort,
      peerPort: etcd.server.peerPort,
      dataDir: join(lab.dir, 'etcd'),
      logFile: join(lab.dir, `${etcdHost.name}.etcd.log`),
      endpoint: etcd.endpoint,
      unixEndpoint: etcd.unixEndpoint,
      pid: etcd.server.pid!,
    };
    lab.setMeta('etcd', meta);
    writeFileSync(join(lab.dir, 'env'), `TERN_ETCD_ENDPOINTS=${etcd.unixEndpoint}\n`);
    writeFileSync(join(lab.dir, 'env.netns'), `TERN_ETCD_ENDPOINTS=${etcd.endpoint}\n`);

    let seed: SeedResult | undefined;
    if (!opts.noSeed) {
      // From here on the state file is the lab's record (LabRun), so other processes can
      // restart what this one starts.
      seed = await clusterUp(new LabRun(name), { out, ...(opts.holdTime !== undefined ? { holdTime: opts.holdTime } : {}), ...(opts.noPods ? { noPods: true } : {}) });
      out('');
    }
    return { state: readState(stateFile(name))!, reused: false, ...(seed ? { seed } : {}) };
  } catch (e) {
    out(`up failed, tearing down what was built: ${(e as Error).message}`);
    const st = readState(stateFile(name));
    if (st) {
      removeEtcNetns(st);
      await teardown(st).catch(() => undefined);
    }
    removeRunDir(name);
    throw e;
  }
}

/** The report `up` and `status` print: hosts, then the cluster (nodes, sessions, routes, pods, services, matrix). */
export async function clusterReport(name: string, opts: { matrix?: boolean } = {}): Promise<string[]> {
  const run = new LabRun(name);
  if (!run.state.meta.cluster) return [];
  return formatReport(run, await gather(run, opts));
}

const USAGE = `usage: npm start [-- up|down|status] [--name NAME] [--no-seed] [--no-matrix]
  up      build the lab (default) and show it; safe to run again: a healthy lab is reused
  down    tear down everything the lab's state file records
  status  check its namespaces, processes and etcd, and show it again (also: tern lab status)
  --no-seed    hosts and etcd only (no cluster)
  --no-matrix  skip the live connectivity probes`;

export async function main(argv: string[]): Promise<number> {
  const out = (l: string) => process.stdout.write(`${l}\n`);
  let cmd = 'up';
  let name = DEFAULT_LAB_NAME;
  let noSeed = false;
  let matrix = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--name') name = argv[++i] ?? '';
    else if (a === '--no-seed') noSeed = true;
    else if (a === '--no-matrix') matrix = false;
    else if (a === '-h' || a === '--help' || a === 'help') {
      out(USAGE);
      return 0;
    } else if (['up', 'down', 'status'].includes(a)) cmd = a;
    else {
      process.stderr.write(`unknown argument "${a}"\n${USAGE}\n`);
      return 2;
    }
  }
  if (process.getuid && process.getuid() !== 0) {
    process.stderr.write('the lab creates network namespaces: run it as root\n');
    return 1;
  }
  try {
    if (cmd === 'up') {
      const t0 = Date.now();
      const r = await labUp({ name, out, noSeed });
      out(`Tern lab "${name}" is ${r.reused ? 'up (reused)' : `up in ${((Date.now() - t0) / 1000).toFixed(1)} s`}`);
      out('');
      for (const l of formatSummary(r.state)) out(l);
      out('');
      for (const l of await clusterReport(name, { matrix })) out(l);
      return 0;
    }
    if (cmd === 'down') {
      const r = await labDown({ name });
      if (!r) out(`no lab "${name}" is recorded: nothing to do`);
      else out(`lab "${name}" is down: ${r.namespaces.length} namespaces deleted, ${r.killed.length} processes stopped`);
      return 0;
    }
    const s = await labStatus({ name });
    if (!s.state) {
      out(`no lab "${name}" is recorded (npm start to build one)`);
      return 3;
    }
    out(`Tern lab "${name}" is ${s.healthy ? 'healthy' : 'DEGRADED'}`);
    for (const p of s.problems) out(`  problem: ${p}`);
    out('');
    for (const l of formatSummary(s.state)) out(l);
    out('');
    for (const l of await clusterReport(name, { matrix })) out(l);
    return s.healthy ? 0 : 1;
  } catch (e) {
    process.stderr.write(`${isTernError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    return 1;
  }
}

if (isEntryPoint(import.meta.url, 'cli')) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
