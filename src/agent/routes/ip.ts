// The processes the route manager runs: `ip` reads, the two ways of writing (a long-lived
// `ip -force -batch -` fed through stdin, or one `ip -batch` per apply), and nothing else.
// Every command takes the target network namespace as `ip -n NS`, so the same code programs
// a node's root namespace in production and a test's own namespace in tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { TernError } from '../../errors/index.js';
import { logger } from '../../log/index.js';
import type { Family } from '../../net/ip.js';
import { BatchStderrParser, parseRouteDump, type DumpResult } from './codec.js';
import { run } from '../../sys/exec.js';

const log = logger('routes');

/** `ip` itself; overridable for a non-standard install. */
export const IP_BIN = process.env.TERN_IP_BIN ?? 'ip';

export const nsArgs = (netns: string | undefined): string[] => (netns ? ['-n', netns] : []);

export interface BatchResult {
  /** Index into the lines given to run() → what ip printed for it. */
  errors: Map<number, string>;
}

/** Writes `ip -batch` lines into the kernel. One writer per namespace. */
export interface RouteProgrammer {
  readonly mode: ProgrammerMode;
  run(lines: readonly string[]): Promise<BatchResult>;
  close(): Promise<void>;
}

export const ProgrammerModes = ['persistent', 'spawn'] as const;
export type ProgrammerMode = (typeof ProgrammerModes)[number];

/** Runs `ip` to completion; only a failure to start it rejects (the exit code is returned). */
export async function runIp(netns: string | undefined, args: readonly string[], input?: string, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const r = await run(IP_BIN, [...nsArgs(netns), ...args], { input: input ?? '', timeoutMs, allowFail: true, errorCode: 'TERN_ERR_ROUTE' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.signal ? null : r.code };
}

/** Every route of one family in every table (`ip -N -j route show table all`). */
export async function readKernelRoutes(netns: string | undefined, family: Family): Promise<DumpResult> {
  const args = ['-N', '-j', family === 4 ? '-4' : '-6', 'route', 'show', 'table', 'all'];
  const r = await runIp(netns, args);
  if (r.code !== 0) {
    throw new TernError('TERN_ERR_ROUTE', `ip ${[...nsArgs(netns), ...args].join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return parseRouteDump(r.stdout, family);
}

function checkLines(lines: readonly string[]): void {
  // The codec never produces these; a stray newline would shift every later line number.
  for (const l of lines) if (/[\n\r\\]/.test(l)) throw new TernError('TERN_ERR_ROUTE', `refusing ip batch line with a line break or backslash: ${JSON.stringify(l)}`);
}

/** Option (b): one `ip -force -batch -` process per call. */
export class SpawnIpBatch implements RouteProgrammer {
  readonly mode = 'spawn' as const;
  constructor(private readonly netns: string | undefined) {}

  async run(lines: readonly string[]): Promise<BatchResult> {
    checkLines(lines);
    const errors = new Map<number, string>();
    if (lines.length === 0) return { errors };
    const r = await runIp(this.netns, ['-force', '-batch', '-'], lines.join('\n') + '\n');
    if (r.code === null) throw new TernError('TERN_ERR_ROUTE', 'ip -batch was killed: lines may be partly applied');
    for (const e of new BatchStderrParser().push(r.stderr + '\n')) errors.set(e.line - 1, e.message);
    if (r.code !== 0 && errors.size === 0) throw new TernError('TERN_ERR_ROUTE', `ip -batch failed (exit ${r.code}): ${r.stderr.trim()}`);
    return { errors };
  }

  async close(): Promise<void> {}
}

interface Waiter {
  first: number;
  sentinel: number;
  errors: Map<number, string>;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Option (a): one long-lived `ip -force -batch -` per namespace, fed through stdin. ip numbers
 * input lines from 1 for its whole life and reports a failed line as `Command failed -:N`, so
 * errors are correlated by line number. The end of a batch is marked by a line that always
 * fails at once without a syscall: an unknown object name (`ternsync<n>`), whose own
 * `Command failed` line tells that every line before it has been executed.
 */
export class PersistentIpBatch implements RouteProgrammer {
  readonly mode = 'persistent' as const;
  private child: ChildProcess | undefined;
  private sent = 0;
  private seq = 0;
  private parser = new BatchStderrParser();
  private waiting: Waiter[] = [];
  private closed = false;

  constructor(
    private readonly netns: string | undefined,
    private readonly timeoutMs = 60_000,
  ) {}

  /** PID of the ip process, when one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(IP_BIN, [...nsArgs(this.netns), '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.sent = 0;
    this.parser = new BatchStderrParser();
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => this.onStderr(child, chunk));
    child.stdin!.on('error', () => undefined); // EPIPE: reported by 'exit'
    child.once('error', (e) => this.onDeath(child, e.message));
    child.once('exit', (code, signal) => this.onDeath(child, signal ? `killed by ${signal}` : `exit ${code}`));
    return child;
  }

  private onStderr(child: ChildProcess, chunk: string): void {
    if (child !== this.child) return;
    for (const e of this.parser.push(chunk)) {
      const head = this.waiting[0];
      if (!head) {
        log.warn({ line: e.line, message: e.message }, 'ip -batch reported an error outside any batch');
      } else if (e.line === head.sentinel) {
        this.waiting.shift();
        clearTimeout(head.timer);
        head.resolve({ errors: head.errors });
      } else if (e.line >= head.first && e.line < head.sentinel) {
        head.errors.set(e.line - head.first, e.message);
      } else {
        log.warn({ line: e.line, message: e.message, batch: [head.first, head.sentinel] }, 'ip -batch error does not belong to the running batch');
      }
    }
  }

  private onDeath(child: ChildProcess, why: string): void {
    if (child !== this.child) return;
    this.child = undefined;
    const pending = this.waiting.splice(0);
    if (pending.length > 0 || !this.closed) log.warn({ why, pending: pending.length }, 'ip -batch process ended');
    for (const w of pending) {
      clearTimeout(w.timer);
      w.reject(new TernError('TERN_ERR_ROUTE', `ip -batch process ended (${why}): lines may be partly applied`));
    }
  }

  run(lines: readonly string[]): Promise<BatchResult> {
    checkLines(lines);
    if (this.closed) return Promise.reject(new TernError('TERN_ERR_ROUTE', 'route programmer is closed'));
    if (lines.length === 0) return Promise.resolve({ errors: new Map() });
    const child = this.ensure();
    const first = this.sent + 1;
    const sentinel = first + lines.length;
    this.sent = sentinel;
    const text = `${lines.join('\n')}\nternsync${++this.seq}\n`;
    return new Promise<BatchResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A hung ip would hold every later batch: kill it (by PID) and let onDeath reject.
        log.error({ pid: child.pid, lines: lines.length }, 'ip -batch did not finish a batch in time; killing it');
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.waiting.push({ first, sentinel, errors: new Map(), resolve, reject, timer });
      child.stdin!.write(text);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 2000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.stdin!.end();
    });
  }
}

export function createProgrammer(mode: ProgrammerMode, netns: string | undefined): RouteProgrammer {
  switch (mode) {
    case 'persistent':
      return new PersistentIpBatch(netns);
    case 'spawn':
      return new SpawnIpBatch(netns);
    default: {
      const never: never = mode;
      throw new TernError('TERN_ERR_ROUTE', `unknown route programmer "${String(never)}"`);
    }
  }
}
