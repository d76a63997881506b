// What a lab run made, on disk, so that it can be torn down by another process (`npm start --
// down`) or after its owner crashed (the stale-run sweep). One directory per run under
// /run/tern-lab (TERN_LAB_DIR overrides): state.json, logs, sockets, etcd data.
//
// Only what is recorded here is ever removed: a namespace is deleted only when a state file
// lists it AND its name carries the run's prefix; a process is signalled only when its PID
// still has the recorded kernel start time, or when it lives inside one of those namespaces.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TernError } from '../errors/index.js';
import { ipBatch, ipBatchSync, ipLine } from './exec.js';
import { pidAlive, processStartTime, stopPid } from './process.js';

export const STATE_VERSION = 1;

export function labBaseDir(): string {
  return resolve(process.env.TERN_LAB_DIR ?? '/run/tern-lab');
}

/** Run ids double as directory names and namespace-name infixes. */
export const RUN_ID_RE = /^[a-z0-9]{1,8}$/;

export function runDir(id: string, base = labBaseDir()): string {
  if (!RUN_ID_RE.test(id)) throw new TernError('TERN_ERR_LAB', `invalid lab run id "${id}": 1-8 of [a-z0-9]`);
  return join(base, id);
}

export function stateFile(id: string, base = labBaseDir()): string {
  return join(runDir(id, base), 'state.json');
}

/** Prefix of every namespace of a run: "tn" + id + "-". */
export function nsPrefix(id: string): string {
  return `tn${id}-`;
}

export interface FabricInfo {
  netns: string;
  bridge: string;
  cidr: string;
  ipv6Cidr: string;
}

export interface Host {
  name: string;
  netns: string;
  /** Address on the fabric, without prefix length. */
  fabricIp: string;
  /** The same with the fabric's prefix length, as configured on iface. */
  fabricCidr: string;
  ipv6?: string;
  /** The host's interface towards the fabric (inside netns). */
  iface: string;
  /** The veth end on the fabric bridge (inside the fabric namespace). */
  fabricPeer: string;
}

export interface Pod {
  name: string;
  /** Name of the Host the pod hangs off. */
  host: string;
  netns: string;
  ip: string;
  ipv6?: string;
  gateway: string;
  /** Interface inside the pod. */
  iface: string;
  /** The veth end in the host's namespace (the route to the pod points at it). */
  hostIface: string;
}

export interface RecordedProcess {
  pid: number;
  startTime?: number;
  netns?: string;
  command: string;
  logFile?: string;
}

export interface LabState {
  version: number;
  id: string;
  prefix: string;
  owner: { pid: number; startTime?: number };
  /** A persistent run (`npm start`) outlives its owner and is never swept as stale. */
  persistent: boolean;
  createdAt: string;
  /** Every namespace created or about to be (recorded before creation, so a crash mid-way is covered). */
  namespaces: string[];
  processes: RecordedProcess[];
  fabric?: FabricInfo;
  hosts: Host[];
  pods: Pod[];
  /** Free-form facts for the run's users, e.g. etcd endpoints. */
  meta: Record<string, unknown>;
}

export function writeState(path: string, st: LabState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(st, null, 2)}\n`);
  renameSync(tmp, path);
}

export function readState(path: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let st: LabState;
  try {
    st = JSON.parse(text) as LabState;
  } catch (e) {
    throw new TernError('TERN_ERR_LAB', `lab state file ${path} is not valid JSON`, { cause: e });
  }
  if (st.version !== STATE_VERSION || typeof st.id !== 'string' || !Array.isArray(st.namespaces)) {
    throw new TernError('TERN_ERR_LAB', `lab state file ${path} has an unknown format`);
  }
  return st;
}

export function ownerAlive(st: LabState): boolean {
  return pidAlive(st.owner.pid, st.owner.startTime);
}

export function newState(id: string, persistent: boolean): LabState {
  return {
    version: STATE_VERSION,
    id,
    prefix: nsPrefix(id),
    owner: { pid: process.pid, ...optional('startTime', processStartTime(process.pid)) },
    persistent,
    createdAt: new Date().toISOString(),
    namespaces: [],
    processes: [],
    hosts: [],
    pods: [],
    meta: {},
  };
}

function optional<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

export function netnsExists(name: string): boolean {
  return existsSync(join('/run/netns', name));
}

/** The namespaces of a run that may be deleted: recorded, carrying the prefix, still there. */
function ownedNamespaces(st: LabState): string[] {
  return st.namespaces.filter((n) => n.startsWith(st.prefix) && n.length > st.prefix.length && netnsExists(n));
}

function parsePids(out: string): number[] {
  return out
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((p) => p !== process.pid);
}

export interface TeardownResult {
  namespaces: string[];
  killed: number[];
}

/**
 * Stops a run's recorded processes (by PID, checked against their start time), then any
 * process still inside its namespaces (a daemon that forked into the background, a
 * grandchild), then deletes the namespaces, which takes their veths and bridge with them.
 */
export async function teardown(st: LabState, opts: { timeoutMs?: number } = {}): Promise<TeardownResult> {
  const killed: number[] = [];
  await Promise.all(
    st.processes.map(async (p) => {
      if (await stopPid(p.pid, p.startTime, 'SIGTERM', opts.timeoutMs ?? 3000)) killed.push(p.pid);
    }),
  );
  const namespaces = ownedNamespaces(st);
  if (namespaces.length > 0) {
    const res = await ipBatch(namespaces.map((n) => ipLine('netns', 'pids', n)), { force: true });
    for (const pid of parsePids(res?.stdout ?? '')) {
      if (await stopPid(pid, undefined, 'SIGKILL', 2000)) killed.push(pid);
    }
    await ipBatch(namespaces.map((n) => ipLine('netns', 'del', n)), { force: true });
  }
  const left = ownedNamespaces(st);
  if (left.length > 0) throw new TernError('TERN_ERR_LAB', `could not delete namespaces: ${left.join(', ')}`);
  return { namespaces, killed };
}

/** teardown() for process 'exit' handlers: no waiting, SIGKILL only. */
export function teardownSync(st: LabState): void {
  for (const p of st.processes) {
    if (pidAlive(p.pid, p.startTime)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  const namespaces = ownedNamespaces(st);
  if (namespaces.length === 0) return;
  const res = ipBatchSync(namespaces.map((n) => ipLine('netns', 'pids', n)), { force: true });
  for (const pid of parsePids(res?.stdout ?? '')) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  ipBatchSync(namespaces.map((n) => ipLine('netns', 'del', n)), { force: true });
}

export function removeRunDir(id: string, base = labBaseDir()): void {
  rmSync(runDir(id, base), { recursive: true, force: true });
}

export function ensureRunDir(id: string, base = labBaseDir()): string {
  const dir = runDir(id, base);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface StaleSweep {
  /** Run ids torn down. */
  runs: string[];
  namespaces: string[];
  killed: number[];
  /** Namespaces that carry the prefix but no state file lists: left alone. */
  unknown: string[];
}

/**
 * Removes what previous runs left behind when their owner died without cleaning up (a
 * SIGKILLed test runner). A run is stale when its state file says it is not persistent and
 * its owner PID (with the recorded start time) is gone. Namespaces nobody recorded are never
 * touched, only reported.
 */
export async function cleanupStale(opts: { prefix?: string; base?: string } = {}): Promise<StaleSweep> {
  const base = opts.base ?? labBaseDir();
  const prefix = opts.prefix ?? 'tn';
  const out: StaleSweep = { runs: [], namespaces: [], killed: [], unknown: [] };
  const recorded = new Set<string>();
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    entries = [];
  }
  for (const id of entries) {
    if (!RUN_ID_RE.test(id)) continue;
    let st: LabState | undefined;
    try {
      st = readState(stateFile(id, base));
    } catch {
      continue; // unreadable: not ours to judge
    }
    if (!st || st.id !== id) continue;
    if (!st.prefix.startsWith(prefix) || st.persistent || ownerAlive(st)) {
      for (const n of st.namespaces) recorded.add(n);
      continue;
    }
    try {
      const r = await teardown(st, { timeoutMs: 1000 });
      removeRunDir(id, base);
      out.runs.push(id);
      out.namespaces.push(...r.namespaces);
      out.killed.push(...r.killed);
    } catch {
      for (const n of st.namespaces) recorded.add(n);
    }
  }
  let all: string[] = [];
  try {
    all = readdirSync('/run/netns');
  } catch {
    all = [];
  }
  out.unknown = all.filter((n) => n.startsWith(prefix) && /^tn[a-z0-9]{1,8}-/.test(n) && !recorded.has(n) && !out.namespaces.includes(n));
  return out;
}
