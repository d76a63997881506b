// Long-running processes of the lab (daemons, etcd, BIRD, GoBGP) started in a network
// namespace and stopped by PID, never by name: two test files may run the same binary at the
// same time, and a name match could hit the developer's own processes.
//
// Every process started here is kept in one registry; when the runner exits or is
// interrupted, whatever is still running is killed (best effort: a SIGKILLed runner cannot
// clean up, which is what Lab's stale-run sweep is for).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, readSync, fstatSync, type WriteStream } from 'node:fs';
import { TernError } from '../errors/index.js';
import { formatCommand, inNetns } from './exec.js';

export interface SpawnOptions {
  /** Append stdout and stderr to this file (as well as keeping a tail in memory). */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Let the process outlive this one: its output goes only to logFile (a pipe would break
   * when this process exits), it is not killed at exit, and it does not keep the event loop
   * alive. For `npm start`'s lab, whose `up` returns while the lab keeps running.
   */
  detached?: boolean;
  /** How much of the latest output to keep for error messages; 16 KiB by default. */
  tailBytes?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The kernel's start time of a process (clock ticks since boot, /proc/PID/stat field 22).
 * Stored beside a PID so that a PID reused by an unrelated process is never signalled.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after it are
    // counted from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined;
    const start = Number(rest[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** True when PID runs and, if startTime is given, is the same process that was recorded. */
export function pidAlive(pid: number, startTime?: number): boolean {
  const st = processStartTime(pid);
  return st !== undefined && (startTime === undefined || st === startTime);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a process this project recorded elsewhere (a state file): signal, wait up to
 * timeoutMs, then SIGKILL. Does nothing when the PID is gone or now belongs to another process.
 * Returns true when the process was running.
 */
export async function stopPid(pid: number, startTime: number | undefined, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 3000): Promise<boolean> {
  if (!pidAlive(pid, startTime)) return false;
  try {
    process.kill(pid, signal);
  } catch {
    return false;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid, startTime)) return true;
    await sleep(25);
  }
  if (pidAlive(pid, startTime)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
    const end = Date.now() + 2000;
    while (Date.now() < end && pidAlive(pid, startTime)) await sleep(25);
  }
  return true;
}

/** Appends to a bounded buffer, keeping the newest bytes. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString();
  }
}

function readFileTail(path: string, max: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString();
  } finally {
    closeSync(fd);
  }
}

export class ManagedProcess {
  readonly pid: number;
  /** Kernel start time of the PID, recorded so state files can guard against PID reuse. */
  readonly startTime: number | undefined;
  readonly netns: string | undefined;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly logFile: string | undefined;
  readonly detached: boolean;
  private exitInfo: ExitInfo | undefined;
  private readonly exitPromise: Promise<ExitInfo>;
  private readonly tailBuf: Tail;
  private readonly tailBytes: number;
  private readonly outputListeners = new Set<() => void>();
  private log: WriteStream | undefined;

  /** @internal use spawnIn() */
  constructor(
    private readonly child: ChildProcess,
    info: { netns: string | undefined; cmd: string; args: readonly string[]; logFile: string | undefined; detached: boolean; tailBytes: number },
  ) {
    if (child.pid === undefined) throw new TernError('TERN_ERR_LAB', `could not start ${formatCommand(info.cmd, info.args)}`);
    this.pid = child.pid;
    this.startTime = processStartTime(child.pid);
    this.netns = info.netns;
    this.cmd = info.cmd;
    this.args = info.args;
    this.logFile = info.logFile;
    this.detached = info.detached;
    this.tailBytes = info.tailBytes;
    this.tailBuf = new Tail(info.tailBytes);
    if (!info.detached) {
      if (info.logFile) this.log = createWriteStream(info.logFile, { flags: 'a' });
      const onData = (b: Buffer) => {
        this.tailBuf.push(b);
        this.log?.write(b);
        for (const l of this.outputListeners) l();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      // The log closes on 'close', when both pipes have ended, not on 'exit': a grandchild
      // holding the pipes (a wrapper's child) may still write after the process itself exits.
      child.once('close', () => this.log?.end());
    }
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        registry.delete(this);
        for (const l of this.outputListeners) l();
        resolve(this.exitInfo);
      });
    });
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** "bird -f -c x (pid 123, netns tnab12-node1)" */
  describe(): string {
    return `${formatCommand(this.cmd, this.args)} (pid ${this.pid}${this.netns ? `, netns ${this.netns}` : ''})`;
  }

  /** The latest output, for error messages ("bird exited: <tail>"). */
  tail(): string {
    if (this.detached && this.logFile) return readFileTail(this.logFile, this.tailBytes);
    return this.tailBuf.toString();
  }

  wait(): Promise<ExitInfo> {
    return this.exitPromise;
  }

  /** Sends signal, then SIGKILL after timeoutMs; resolves when the process has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 3000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const escalated = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!this.exitInfo) this.child.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    });
    const info = await Promise.race([this.exitPromise, escalated.then(() => this.exitPromise)]);
    clearTimeout(timer);
    return info;
  }

  /**
   * Resolves when the output so far matches re (e.g. a "listening" line); rejects when the
   * process exits first or after timeoutMs, with the output tail in the message.
   */
  waitForOutput(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      // A detached process writes straight to its log file: no 'data' events, so poll it.
      const poll = this.detached ? setInterval(() => check(), 100) : undefined;
      const check = () => {
        const m = this.tail().match(re);
        const done = (f: () => void) => {
          clearTimeout(timer);
          clearInterval(poll);
          this.outputListeners.delete(check);
          f();
        };
        if (m) done(() => resolve(m));
        else if (this.exitInfo) done(() => reject(new TernError('TERN_ERR_LAB', `${this.describe()} exited (${JSON.stringify(this.exitInfo)}) before printing ${re}; output:\n${this.tail()}`)));
      };
      timer = setTimeout(() => {
        clearInterval(poll);
        this.outputListeners.delete(check);
        reject(new TernError('TERN_ERR_LAB', `${this.describe()} did not print ${re} within ${timeoutMs} ms; output:\n${this.tail()}`));
      }, timeoutMs);
      this.outputListeners.add(check);
      check();
    });
  }

  /** @internal SIGKILL without waiting, for exit handlers. */
  killNow(): void {
    if (!this.exitInfo) {
      try {
        this.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * Starts cmd in netns (`ip netns exec`, which execs: the PID is the command's own) or in this
 * process's namespace when netns is undefined. Throws when the command cannot be started.
 */
export function spawnIn(netns: string | undefined, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
  const [c, a] = inNetns(netns, cmd, args);
  const detached = opts.detached === true;
  if (detached && !opts.logFile) throw new TernError('TERN_ERR_LAB', `a detached process needs a logFile: ${formatCommand(cmd, args)}`);
  let logFd: number | undefined;
  if (detached) logFd = openSync(opts.logFile!, 'a');
  let child: ChildProcess;
  try {
    child = spawn(c, a, {
      stdio: detached ? ['ignore', logFd!, logFd!] : ['ignore', 'pipe', 'pipe'],
      // A detached process gets its own session so the terminal's Ctrl-C for `npm start`
      // does not reach it after up has returned.
      detached,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  // Without a listener an ENOENT would be thrown as an uncaught 'error' event; the missing
  // PID below reports it.
  child.on('error', () => undefined);
  const mp = new ManagedProcess(child, { netns, cmd, args, logFile: opts.logFile, detached, tailBytes: opts.tailBytes ?? 16 * 1024 });
  if (detached) child.unref();
  else {
    registry.add(mp);
    installExitHandlers();
  }
  return mp;
}

// ---------------------------------------------------------------------------------------
// Registry: kill what is still running when the runner goes away.

const registry = new Set<ManagedProcess>();
const cleanups = new Set<() => void>();
let installed = false;

/** Processes started by spawnIn (not detached) that have not exited yet. */
export function liveProcesses(): ManagedProcess[] {
  return [...registry];
}

/**
 * Registers a synchronous cleanup (e.g. deleting a lab's namespaces) run when the process
 * exits or receives SIGINT/SIGTERM/SIGHUP, after live processes were killed. Returns a
 * function that unregisters it.
 */
export function onExitCleanup(fn: () => void): () => void {
  installExitHandlers();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Kills every live process (SIGKILL, by PID) and runs the registered cleanups, once each. */
export function cleanupNow(): void {
  for (const p of registry) p.killNow();
  registry.clear();
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      /* best effort: the next stale-run sweep finishes the job */
    }
  }
}

function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      cleanupNow();
      // Re-raise with our handler gone, so the default action (or the runner's own
      // handler) ends the process as it would have without us.
      process.removeListener(sig, handler);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}
