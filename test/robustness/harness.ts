// Plumbing for the robustness suite and fuzz/daemons.ts: compiled daemons started on loopback
// (or inside a namespace the caller made) with free ports and temporary sockets, their logs
// kept, and the checks every phase ends with: still alive, still answering a good request.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify as toYaml } from 'yaml';
import { unary } from '../../src/grpc/index.js';
import { projectRoot } from '../../src/proto/load.js';
import { agentProto, bgpProto, dnsProto } from '../../src/proto/load.js';
import type { DaemonStatus__Output } from '../../src/proto/gen/tern/common/v1/DaemonStatus.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T>, ms = 15_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${(e as Error).message}`);
      await sleep(everyMs);
    }
  }
}

export type DaemonName = 'tern-bgpd' | 'tern-rrd' | 'tern-agentd' | 'tern-dnsd';
export const bin = (name: DaemonName | 'tern-cni'): string => join(projectRoot(), 'dist/daemons', `${name}.js`);

/** Log text kept per daemon: enough for the assertions, bounded under thousands of cycles. */
const LOG_KEEP = 8 * 1024 * 1024;

export interface StartOptions {
  name: DaemonName;
  /** The YAML configuration (written to a file in `dir`). */
  config: object;
  dir: string;
  /** Run inside this network namespace (`ip netns exec`, which execs: the PID is the daemon's). */
  netns?: string;
  /** Ops listen address; a free loopback port by default. */
  opsListen: string;
  extraArgs?: string[];
  /** pino level; warn by default (NOTIFICATIONs sent are logged at warn). */
  logLevel?: string;
}

/** One compiled daemon process, its gRPC socket, its ops address and its log. */
export class Daemon {
  readonly proc: ChildProcess;
  readonly socket: string;
  readonly ops: string;
  private log = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  private constructor(readonly name: DaemonName, proc: ChildProcess, socket: string, ops: string) {
    this.proc = proc;
    this.socket = socket;
    this.ops = ops;
    const keep = (b: Buffer): void => {
      this.log += b.toString('utf8');
      if (this.log.length > LOG_KEEP) this.log = this.log.slice(-LOG_KEEP / 2);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => { this.exitInfo = { code, signal }; r(); }));
  }

  static start(o: StartOptions): Daemon {
    const socket = join(o.dir, `${o.name}.sock`);
    const cfgFile = join(o.dir, `${o.name}.yaml`);
    writeFileSync(cfgFile, toYaml(o.config));
    const args = [bin(o.name), '--config', cfgFile, '--grpc-socket', socket, '--ops-listen', o.opsListen, '--log-level', o.logLevel ?? 'warn', ...(o.extraArgs ?? [])];
    const [cmd, argv] = o.netns ? ['ip', ['netns', 'exec', o.netns, process.execPath, ...args]] : [process.execPath, args];
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERN_LOG_LEVEL: o.logLevel ?? 'warn' } });
    return new Daemon(o.name, proc, socket, o.opsListen);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The process has not exited (checked against the kernel too, not only the exit event). */
  alive(): boolean {
    if (this.exitInfo) return false;
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Throws with the exit status and the last log lines when the process is gone. */
  assertAlive(phase: string): void {
    if (this.alive()) return;
    throw new Error(`${this.name} died during "${phase}" (${JSON.stringify(this.exitInfo)}):\n${this.tail(40)}`);
  }

  logText(): string {
    return this.log;
  }

  tail(lines = 20): string {
    return this.log.split('\n').slice(-lines - 1).join('\n');
  }

  /** Log lines (pino JSON) with this `msg`, parsed. */
  logged(msg: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.log.split('\n')) {
      if (!line.includes(msg)) continue;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (o.msg === msg) out.push(o);
      } catch {
        // not JSON (a stderr line)
      }
    }
    return out;
  }

  /** An uncaught exception or an unhandled rejection prints a stack: none may appear. */
  stackTraces(): string[] {
    return this.log.split('\n').filter((l) => /^\s+at .+\(.+:\d+:\d+\)$|Uncaught|UnhandledPromiseRejection|unhandledRejection/.test(l));
  }

  /** SIGTERM, then SIGKILL after a grace period; by PID only. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive()) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
    await this.exited;
    clearTimeout(t);
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }
}

// ---------------------------------------------------------------------------------------
// gRPC

const SERVICES = {
  'tern-bgpd': () => bgpProto().tern.bgp.v1.Bgp,
  'tern-rrd': () => bgpProto().tern.bgp.v1.Bgp,
  'tern-agentd': () => agentProto().tern.agent.v1.Agent,
  'tern-dnsd': () => dnsProto().tern.dns.v1.Dns,
} as const;

/** The typed client of a daemon's service, for the good requests. */
export function typedClient(d: { name: DaemonName; socket: string }): grpc.Client {
  const Ctor = SERVICES[d.name]();
  return new Ctor(`unix:${d.socket}`, grpc.credentials.createInsecure()) as unknown as grpc.Client;
}

/** Calls one unary method of a typed client by its name in the proto (`GetStatus`, `AddPeer`). */
export function call<T>(client: grpc.Client, method: string, req: object, timeoutMs = 5000): Promise<T> {
  const c = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  const fn = c[method];
  if (!fn) throw new Error(`no method ${method}`);
  return unary<object, T>(fn.bind(client) as never, req, timeoutMs);
}

export async function getStatus(client: grpc.Client, timeoutMs = 3000): Promise<DaemonStatus__Output> {
  return call<DaemonStatus__Output>(client, 'GetStatus', {}, timeoutMs);
}

/** Waits until GetStatus answers (and says ready, when `ready`); fails early if the process exits. */
export async function waitServing(d: Daemon, client: grpc.Client, ready = true, ms = 20_000): Promise<DaemonStatus__Output> {
  return waitFor(`${d.name} serving`, async () => {
    d.assertAlive('start');
    const st = await getStatus(client, 1000);
    if (ready && !st.ready) throw new Error('not ready yet');
    return st;
  }, ms);
}

export interface MethodInfo {
  name: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  /** Serialises a plain object of the request type: the starting point of mutations. */
  encode(o: object): Buffer;
}

/** Every method of a daemon's service, as the .proto declares it. */
export function methods(name: DaemonName): MethodInfo[] {
  const svc = SERVICES[name]().service as unknown as Record<string, grpc.MethodDefinition<object, object>>;
  return Object.entries(svc).map(([n, m]) => ({
    name: n,
    path: m.path,
    requestStream: m.requestStream,
    responseStream: m.responseStream,
    encode: (o: object) => m.requestSerialize(o),
  }));
}

export interface RawOutcome {
  code: grpc.status;
  details: string;
  /** Response messages received (raw bytes). */
  messages: number;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Sends raw bytes as the request message(s) of a method, whatever the .proto says: the
 * serializer is the identity, so the server's own deserializer meets the garbage. Streaming
 * responses are read for `streamMs` and then cancelled (a watch never ends by itself).
 */
export function rawCall(client: grpc.Client, m: MethodInfo, payloads: Buffer[], timeoutMs = 5000, streamMs = 300): Promise<RawOutcome> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    let messages = 0;
    let done = false;
    const finish = (code: grpc.status, details: string): void => {
      if (done) return;
      done = true;
      resolve({ code, details, messages });
    };
    const cb = (e: grpc.ServiceError | null): void => {
      if (e) finish(e.code, e.details);
      else {
        messages++;
        finish(grpc.status.OK, '');
      }
    };
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, identity, identity, payloads[0] ?? Buffer.alloc(0), { deadline }, cb);
    } else if (m.requestStream && !m.responseStream) {
      const s = client.makeClientStreamRequest(m.path, identity, identity, { deadline }, cb);
      s.on('error', () => undefined);
      for (const p of payloads) s.write(p);
      s.end();
    } else {
      const s = m.requestStream
        ? client.makeBidiStreamRequest(m.path, identity, identity, new grpc.Metadata(), { deadline })
        : client.makeServerStreamRequest(m.path, identity, identity, payloads[0] ?? Buffer.alloc(0), new grpc.Metadata(), { deadline });
      if (m.requestStream) {
        const w = s as grpc.ClientDuplexStream<Buffer, Buffer>;
        for (const p of payloads) w.write(p);
        w.end();
      }
      s.on('data', () => void messages++);
      s.on('error', (e: grpc.ServiceError) => finish(e.code, e.details));
      s.on('end', () => finish(grpc.status.OK, ''));
      setTimeout(() => {
        if (done) return;
        s.cancel();
        finish(grpc.status.OK, 'stream open (cancelled by the client)');
      }, streamMs);
    }
  });
}

// ---------------------------------------------------------------------------------------
// HTTP ops

/** GET through node:http; resolves with the status. */
export function httpGet(ops: string, path: string, timeoutMs = 3000): Promise<number> {
  const i = ops.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: ops.slice(0, i), port: Number(ops.slice(i + 1)), path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------
// Namespaces and temp dirs

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tern-rb-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A network namespace of our own with loopback up; deleted by `deleteNetns`. */
export function createNetns(tag: string): string {
  const name = `tern-rb-${tag}-${process.pid.toString(36)}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
}

/** Runs probe.js (one HTTP phase) inside a namespace; resolves with its JSON line. */
export function probeInNetns(netns: string, ops: string, n: number, seed: number): Promise<{ healthBefore: number; health: number; counts: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', netns, process.execPath, join(projectRoot(), 'dist/test/robustness/probe.js'), ops, String(n), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => void (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => void (err += b.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`probe exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as { healthBefore: number; health: number; counts: Record<string, number> });
      } catch (e) {
        reject(new Error(`probe printed ${out}: ${(e as Error).message}`));
      }
    });
  });
}
