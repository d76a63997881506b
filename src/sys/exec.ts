// Runs external commands (`ip`, `nft`, `sysctl`, `conntrack`, ...) with argument arrays, never
// through a shell, optionally inside a network namespace, and turns a failure into an error that
// names the command and quotes its stderr. The agent, the lab and the tests all run commands
// through here.
import { spawn, spawnSync } from 'node:child_process';
import { TernError, type ErrorCode } from '../errors/index.js';

export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Kill the command (SIGKILL, by PID) after this long; 30 s by default. */
  timeoutMs?: number;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The code of errors thrown for a failure; TERN_ERR_EXEC by default. */
  errorCode?: ErrorCode;
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

function failure(cmd: string, args: readonly string[], r: RunResult, opts: RunOptions): TernError {
  const input = opts.input;
  const how = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const err = r.stderr.trim() || r.stdout.trim() || '(no output)';
  const stdin = input !== undefined && input.length <= 2000 ? `\n--- stdin ---\n${input}` : '';
  return new TernError(opts.errorCode ?? 'TERN_ERR_EXEC', `${formatCommand(cmd, args)} failed (${how}): ${err}${stdin}`);
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
      reject(new TernError(opts.errorCode ?? 'TERN_ERR_EXEC', why, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = { code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code !== 0 && !opts.allowFail) reject(failure(cmd, args, r, opts));
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
    throw new TernError(opts.errorCode ?? 'TERN_ERR_EXEC', e.code === 'ENOENT' ? `command not found: ${cmd}` : `${formatCommand(cmd, args)}: ${e.message}`, { cause: e });
  }
  const r: RunResult = { code: res.status, signal: res.signal, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
  if (r.code !== 0 && !opts.allowFail) throw failure(cmd, args, r, opts);
  return r;
}

/** Runs a command inside a network namespace (or in this process's namespace when undefined). */
export function runIn(netns: string | undefined, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [c, a] = inNetns(netns, cmd, args);
  return run(c, a, opts);
}
