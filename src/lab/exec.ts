// Runs the lab's commands (`ip`, `nft`, `sysctl`, ...) with argument arrays, never through a
// shell, and turns a failure into an error that names the command and quotes its stderr.
// `ip -batch -` does many netlink operations in one process: creating dozens of namespaces
// and veths one `ip` process at a time costs more than the operations themselves.
import { TernError } from '../errors/index.js';
import { run as runCommand, runSync as runCommandSync, inNetns, type RunOptions, type RunResult } from '../sys/exec.js';

export { formatCommand, inNetns, type RunOptions, type RunResult } from '../sys/exec.js';

/** run() with lab errors (TERN_ERR_LAB). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCommand(cmd, args, { errorCode: 'TERN_ERR_LAB', ...opts });
}

/** Synchronous twin of run(), for process 'exit' handlers where nothing asynchronous runs. */
export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  return runCommandSync(cmd, args, { errorCode: 'TERN_ERR_LAB', ...opts });
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
