// Runs the lab's commands (`ip`, `nft`, `sysctl`, ...) with argument arrays, never through a
// shell, and turns a failure into an error that names the command and quotes its stderr.
// `ip -batch -` does many netlink operations in one process: creating dozens of namespaces
// and veths one `ip` process at a time costs more than the operations themselves.
import { spawn, spawnSync } from 'node:child_process';
import { TernError } from '../errors/index.js';

export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Kill the command (SIGKILL, by PID) after this long; 30 s by default. */
  timeoutMs?: number;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A command line as a person would type it, for error messages and logs only. */
export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (a === '' || /[^\w@%+=:,./-]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ');
}

/** `cmd args` inside a network namespace (`ip netns exec` execs, so the PID is the command's). */
export function inNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, [...args]];
}

function failure(cmd: string, args: readonly string[], r: RunResult, input?: string): TernError {
  const how = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const err = r.stderr.trim() || r.stdout.trim() || '(no output)';
  const stdin = input !== undefined && input.length <= 2000 ? `\n--- stdin ---\n${input}` : '';
  return new TernError('TERN_ERR_LAB', `${formatCommand(cmd, args)} failed (${how}): ${err}${stdin}`);
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A command that exits without reading stdin makes the write fail with EPIPE; its exit
    // status is what matters.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' ? `command not found: ${cmd}` : `${formatCommand(cmd, args)}: ${e.message}`;
      reject(new TernError('TERN_ERR_LAB', why, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = { code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code !== 0 && !opts.allowFail) reject(failure(cmd, args, r, opts.input));
      else resolve(r);
    });
  });
}

/** Synchronous twin of run(), for process 'exit' handlers where nothing asynchronous runs. */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const res = spawnSync(cmd, args, {
    input: opts.input ?? '',
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (res.error) {
    const e = res.error as NodeJS.ErrnoException;
    throw new TernError('TERN_ERR_LAB', e.code === 'ENOENT' ? `command not found: ${cmd}` : `${formatCommand(cmd, args)}: ${e.message}`, { cause: e });
  }
  const r: RunResult = { code: res.status, signal: res.signal, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
  if (r.code !== 0 && !opts.allowFail) throw failure(cmd, args, r, opts.input);
  return r;
}

/** Runs a command inside a network namespace (or in this process's namespace when undefined). */
export function runIn(netns: string | undefined, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [c, a] = inNetns(netns, cmd, args);
  return run(c, a, opts);
}

// `ip -batch` splits each line on blanks and understands quotes; the lab never needs either,
// so an argument with one is a bug worth stopping on rather than quoting.
const BATCH_SAFE = /^[^\s"'\\#]+$/;

/** One `ip -batch` line from arguments, e.g. ipLine('link', 'set', 'eth0', 'up'). */
export function ipLine(...args: string[]): string {
  for (const a of args) {
    if (!BATCH_SAFE.test(a)) throw new TernError('TERN_ERR_LAB', `ip batch argument ${JSON.stringify(a)} contains blanks, quotes or '#'`);
  }
  return args.join(' ');
}

export interface BatchOptions {
  /** Run the batch inside this namespace (`ip -n NS -batch -`). */
  netns?: string;
  /** Go on after a failing line (`ip -force`); used by teardown, where "already gone" is fine. */
  force?: boolean;
  timeoutMs?: number;
}

function batchArgs(opts: BatchOptions): string[] {
  return [...(opts.netns ? ['-n', opts.netns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
}

/** Names the failing line: ip reports "Command failed -:N", which alone says little. */
function batchFailure(lines: readonly string[], opts: BatchOptions, e: unknown): unknown {
  if (!(e instanceof TernError)) return e;
  const m = /Command failed -:(\d+)/.exec(e.message);
  const line = m ? lines[Number(m[1]) - 1] : undefined;
  const where = opts.netns ? ` in netns ${opts.netns}` : '';
  return new TernError('TERN_ERR_LAB', `ip batch${where} failed${line ? ` at "${line}"` : ''}: ${e.message}`, { cause: e });
}

/** Runs many `ip` commands in one process; throws naming the first failing line. */
export async function ipBatch(lines: readonly string[], opts: BatchOptions = {}): Promise<RunResult | undefined> {
  if (lines.length === 0) return undefined;
  const input = `${lines.join('\n')}\n`;
  try {
    return await run('ip', batchArgs(opts), { input, timeoutMs: opts.timeoutMs ?? 60_000, allowFail: opts.force === true });
  } catch (e) {
    throw batchFailure(lines, opts, e);
  }
}

export function ipBatchSync(lines: readonly string[], opts: BatchOptions = {}): RunResult | undefined {
  if (lines.length === 0) return undefined;
  const input = `${lines.join('\n')}\n`;
  try {
    return runSync('ip', batchArgs(opts), { input, timeoutMs: opts.timeoutMs ?? 60_000, allowFail: opts.force === true });
  } catch (e) {
    throw batchFailure(lines, opts, e);
  }
}

/** Loads an nftables script (`nft -f -`) as one transaction, inside a namespace. */
export function nftApply(netns: string, script: string): Promise<RunResult> {
  return runIn(netns, 'nft', ['-f', '-'], { input: script });
}
