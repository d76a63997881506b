// The cluster running in a lab: which daemon runs where with which command line, started
// detached and recorded (PID and kernel start time) in the run's state file, so that `npm
// start -- down`, `tern lab status`, the end-to-end tests and the benchmark — each a different
// process — can find, stop, restart and inspect them by PID.
//
// LabRun works from the state file alone: every change is a read-modify-write of it. The
// processes of one run are changed by one process at a time (up, a test file, the bench).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TernError } from '../errors/index.js';
import { EtcdServer } from './etcd.js';
import { formatCommand, ipBatch, ipLine, run, runIn } from './exec.js';
import { pidAlive, processStartTime, spawnIn, stopPid } from './process.js';
import { readState, runDir, stateFile, writeState, type LabState } from './state.js';

/** The repository root (where package.json is), from src/lab or dist/src/lab alike. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The compiled entry points the lab runs (built by `npm start` / `npm test` first). */
export function binPath(name: string): string {
  return join(repoRoot(), 'dist/daemons', `${name}.js`);
}

/**
 * Node's flags for a daemon, as its entry file's first line names them
 * (`#!/usr/bin/env -S node --flag ...`): the one place they are written, so running the file
 * directly, through the image's wrappers, or as `node <flags> file` here all use the same ones.
 */
export function nodeFlags(file: string): string[] {
  const first = readFileSync(file, 'utf8').slice(0, 200).split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node (.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

/** What follows `node` to start a daemon: its node flags and its entry file. */
export function daemonArgs(name: string): string[] {
  const file = binPath(name);
  return [...nodeFlags(file), file];
}

export function echoScript(): string {
  return join(repoRoot(), 'dist/src/lab/echo.js');
}

export const CLUSTER_DNS_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const POD_POOL = '10.244.0.0/16';
export const AS_NUMBER = 64512;
export const TOR_AS = 65000;
export const EXTERNAL_PREFIX = '198.51.100.0/24';
export const EXTERNAL_IP = '198.51.100.1';
export const CNI_NETWORK = 'ternnet';

export type DaemonKind = 'tern-rrd' | 'tern-bgpd' | 'tern-agentd' | 'tern-dnsd' | 'bird' | 'echo';

export interface DaemonRecord {
  id: string;
  kind: DaemonKind;
  /** The lab host (or pod) it runs for. */
  host: string;
  netns: string;
  cmd: string;
  args: string[];
  logFile: string;
  pid: number;
  startTime?: number;
  /** gRPC or control socket. */
  socket?: string;
}

export interface NodeRecord {
  name: string;
  fabricIp: string;
  netns: string;
  bgpdSocket: string;
  agentSocket: string;
}

export interface PodRecord {
  name: string;
  namespace: string;
  node: string;
  labels: Record<string, string>;
  netns: string;
  ip: string;
  /** Host-side veth. */
  hostIface: string;
  containerId: string;
}

export interface EtcdRecord {
  host: string;
  fabricIp: string;
  netns: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  /** For processes inside lab namespaces. */
  endpoint: string;
  /** For processes in the root namespace. */
  unixEndpoint: string;
  pid: number;
}

export interface ClusterMeta {
  nodes: NodeRecord[];
  daemons: Record<string, DaemonRecord>;
  pods: PodRecord[];
  /** /etc/netns/<pod netns> directories made for resolv.conf. */
  etcNetns: string[];
  holdTime: number;
  keepaliveTime: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lab run, driven through its state file. */
export class LabRun {
  readonly id: string;
  readonly dir: string;
  readonly file: string;

  constructor(id: string) {
    this.id = id;
    this.dir = runDir(id);
    this.file = stateFile(id);
  }

  static exists(id: string): boolean {
    return readState(stateFile(id)) !== undefined;
  }

  get state(): LabState {
    const st = readState(this.file);
    if (!st) throw new TernError('TERN_ERR_LAB', `no lab "${this.id}" is recorded (npm start to build one)`);
    return st;
  }

  get prefix(): string {
    return `tn${this.id}-`;
  }

  update<T>(fn: (st: LabState) => T): T {
    const st = this.state;
    const r = fn(st);
    writeState(this.file, st);
    return r;
  }

  get cluster(): ClusterMeta {
    const c = this.state.meta.cluster as ClusterMeta | undefined;
    if (!c) throw new TernError('TERN_ERR_LAB', `lab "${this.id}" runs no cluster (built with --no-seed?)`);
    return c;
  }

  updateCluster<T>(fn: (c: ClusterMeta) => T): T {
    return this.update((st) => {
      const c = (st.meta.cluster ??= { nodes: [], daemons: {}, pods: [], etcNetns: [], holdTime: 9, keepaliveTime: 3 }) as ClusterMeta;
      return fn(c);
    });
  }

  get etcd(): EtcdRecord {
    const e = this.state.meta.etcd as EtcdRecord | undefined;
    if (!e) throw new TernError('TERN_ERR_LAB', `lab "${this.id}" records no etcd`);
    return e;
  }

  node(name: string): NodeRecord {
    const n = this.cluster.nodes.find((x) => x.name === name);
    if (!n) throw new TernError('TERN_ERR_LAB', `no node "${name}" in lab ${this.id}`);
    return n;
  }

  hostNetns(name: string): string {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h) throw new TernError('TERN_ERR_LAB', `no host "${name}" in lab ${this.id}`);
    return h.netns;
  }

  pod(name: string): PodRecord {
    const p = this.cluster.pods.find((x) => x.name === name);
    if (!p) throw new TernError('TERN_ERR_LAB', `no pod "${name}" in lab ${this.id}`);
    return p;
  }

  daemon(id: string): DaemonRecord {
    const d = this.cluster.daemons[id];
    if (!d) throw new TernError('TERN_ERR_LAB', `no daemon "${id}" in lab ${this.id}`);
    return d;
  }

  /** A bare namespace of this run (recorded before it is made). */
  async addNamespace(local: string): Promise<string> {
    const ns = `${this.prefix}${local}`;
    if (existsSync(join('/run/netns', ns))) throw new TernError('TERN_ERR_LAB', `namespace ${ns} exists already`);
    this.update((st) => {
      if (!st.namespaces.includes(ns)) st.namespaces.push(ns);
    });
    await ipBatch([ipLine('netns', 'add', ns)]);
    await ipBatch([ipLine('link', 'set', 'lo', 'up')], { netns: ns });
    return ns;
  }

  async removeNamespace(ns: string): Promise<void> {
    if (!ns.startsWith(this.prefix)) throw new TernError('TERN_ERR_LAB', `${ns} is not a namespace of lab ${this.id}`);
    const r = await run('ip', ['netns', 'pids', ns], { allowFail: true });
    for (const pid of r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number)) await stopPid(pid, undefined, 'SIGKILL', 2000);
    await ipBatch([ipLine('netns', 'del', ns)], { force: true });
    this.update((st) => {
      st.namespaces = st.namespaces.filter((n) => n !== ns);
    });
  }

  /** Starts a daemon detached (it outlives this process), recorded under id. */
  spawn(rec: Omit<DaemonRecord, 'pid' | 'startTime' | 'logFile'> & { logFile?: string }): DaemonRecord {
    const logFile = rec.logFile ?? join(this.dir, `${rec.id}.log`);
    const p = spawnIn(rec.netns, rec.cmd, rec.args, { logFile, detached: true, ...(rec.kind === 'bird' ? {} : { cwd: repoRoot() }) });
    const full: DaemonRecord = { ...rec, logFile, pid: p.pid, ...(p.startTime !== undefined ? { startTime: p.startTime } : {}) };
    this.update((st) => {
      st.processes.push({ pid: p.pid, ...(p.startTime !== undefined ? { startTime: p.startTime } : {}), netns: rec.netns, command: `${rec.id}: ${formatCommand(rec.cmd, rec.args)}`, logFile });
      const c = (st.meta.cluster ??= { nodes: [], daemons: {}, pods: [], etcNetns: [], holdTime: 9, keepaliveTime: 3 }) as ClusterMeta;
      c.daemons[rec.id] = full;
    });
    return full;
  }

  alive(id: string): boolean {
    const d = this.cluster.daemons[id];
    return d !== undefined && pidAlive(d.pid, d.startTime);
  }

  /** The end of a daemon's log, for error messages. */
  tail(id: string, lines = 30): string {
    const d = this.cluster.daemons[id];
    if (!d) return '';
    return logTail(d.logFile, lines);
  }

  /** Stops a daemon by PID (SIGTERM: a restart as far as peers can tell; SIGKILL: a crash). */
  async stop(id: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.daemon(id);
    await stopPid(d.pid, d.startTime, signal, 5000);
    this.update((st) => {
      st.processes = st.processes.filter((p) => !(p.pid === d.pid && p.startTime === d.startTime));
    });
  }

  /** Starts a stopped daemon again with its recorded command line. */
  start(id: string): DaemonRecord {
    const d = this.daemon(id);
    if (pidAlive(d.pid, d.startTime)) return d;
    const { pid: _pid, startTime: _st, ...rest } = d;
    return this.spawn(rest);
  }

  /** Stops and removes a daemon record (a deleted pod's server). */
  async forget(id: string): Promise<void> {
    if (!this.cluster.daemons[id]) return;
    await this.stop(id, 'SIGKILL');
    this.updateCluster((c) => {
      delete c.daemons[id];
    });
  }

  /** Stops etcd (SIGKILL, as a crash) and waits for it to be gone. */
  async stopEtcd(): Promise<void> {
    const e = this.etcd;
    const st = processStartTime(e.pid);
    await stopPid(e.pid, st, 'SIGKILL', 3000);
  }

  /** Starts etcd again on its ports and data; the state file records the new PID. */
  async startEtcd(): Promise<void> {
    const e = this.etcd;
    if (pidAlive(e.pid)) return;
    const server = new EtcdServer({
      host: e.fabricIp,
      clientPort: e.clientPort,
      peerPort: e.peerPort,
      netns: e.netns,
      unixSocketDir: this.dir,
      logFile: e.logFile,
      detached: true,
      dataDir: e.dataDir,
    });
    try {
      await server.start();
    } finally {
      const pid = server.pid;
      if (pid !== undefined) {
        const startTime = processStartTime(pid);
        this.update((s) => {
          s.processes = s.processes.filter((p) => p.pid !== e.pid);
          s.processes.push({ pid, ...(startTime !== undefined ? { startTime } : {}), netns: e.netns, command: `etcd (${e.host})`, logFile: e.logFile });
          (s.meta.etcd as EtcdRecord).pid = pid;
        });
      }
    }
  }

  /** Writes /etc/netns/<ns>/resolv.conf (bind-mounted over /etc/resolv.conf by `ip netns exec`). */
  writeResolvConf(ns: string, namespace: string): void {
    const dir = join('/etc/netns', ns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'resolv.conf'),
      `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\nnameserver ${CLUSTER_DNS_IP}\noptions ndots:5 timeout:1 attempts:2\n`,
    );
    this.updateCluster((c) => {
      if (!c.etcNetns.includes(dir)) c.etcNetns.push(dir);
    });
  }
}

/** Removes the /etc/netns directories a run made (its namespaces go with teardown()). */
export function removeEtcNetns(st: LabState): void {
  const c = st.meta.cluster as ClusterMeta | undefined;
  for (const d of c?.etcNetns ?? []) {
    // Only directories named after this run's namespaces.
    if (d.startsWith(`/etc/netns/${st.prefix}`)) rmSync(d, { recursive: true, force: true });
  }
}

export function logTail(file: string, lines = 30): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.slice(-64 * 1024).split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

/** Polls fn until it returns true; throws with what() otherwise. */
export async function waitUntil(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: () => string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new TernError('TERN_ERR_LAB', what());
    await sleep(everyMs);
  }
}

/** Waits for a daemon: its socket file appears (or log matches), failing early if it dies. */
export async function waitDaemon(runRef: LabRun, id: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      if (!runRef.alive(id)) throw new TernError('TERN_ERR_LAB', `${id} exited during start; log ${runRef.daemon(id).logFile}:\n${runRef.tail(id)}`);
      return await check();
    },
    timeoutMs,
    () => `${id} did not become ready within ${timeoutMs} ms; log ${runRef.daemon(id).logFile}:\n${runRef.tail(id)}`,
  );
}

/** True when BIRD behind the control socket answers. */
export async function birdUp(ctl: string): Promise<boolean> {
  const r = await run('birdc', ['-s', ctl, 'show', 'status'], { allowFail: true, timeoutMs: 3000 });
  return r.code === 0 && /Daemon is up and running/.test(r.stdout);
}

/** `ip -j -4 route show [proto P]` inside a namespace. */
export async function routes(netns: string, proto?: string): Promise<Array<{ dst: string; gateway?: string; dev?: string; type?: string; nexthops?: Array<{ gateway: string }> }>> {
  const r = await runIn(netns, 'ip', ['-j', '-4', 'route', 'show', ...(proto ? ['proto', proto] : [])], { allowFail: true });
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return JSON.parse(r.stdout) as Array<{ dst: string; gateway?: string; dev?: string; type?: string }>;
}
