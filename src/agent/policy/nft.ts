// Running nft: a script on stdin (`nft -f -`, one kernel transaction: all or nothing) and
// reading a table back as JSON, in the current network namespace or in a named one
// (`ip netns exec NS nft ...`). Argument arrays only, never a shell.
import { spawn } from 'node:child_process';

export interface NftTarget {
  /** Named network namespace (as listed by `ip netns`); the current one when absent. */
  netns?: string;
  /** Kill nft after this long (by PID); 60 s by default. */
  timeoutMs?: number;
}

export interface NftRun {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

function command(args: readonly string[], target: NftTarget): [string, string[]] {
  return target.netns ? ['ip', ['netns', 'exec', target.netns, 'nft', ...args]] : ['nft', [...args]];
}

export function runNft(args: readonly string[], input: string | undefined, target: NftTarget = {}): Promise<NftRun> {
  const [cmd, argv] = command(args, target);
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // nft may exit before reading all of stdin (a syntax error on line 1): EPIPE is not the error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), target.timeoutMs ?? 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, code: null, stdout: '', stderr: e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Loads a script as one transaction. A failed transaction changes nothing in the kernel. */
export function nftApply(script: string, target: NftTarget = {}): Promise<NftRun> {
  return runNft(['-f', '-'], script, target);
}

/** `nft -j list table inet NAME` parsed, or null when the table does not exist. */
export async function nftListTable(table: string, target: NftTarget = {}): Promise<unknown | null> {
  const r = await runNft(['-j', 'list', 'table', 'inet', table], undefined, target);
  if (!r.ok) {
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new Error(`nft list table inet ${table} failed: ${r.stderr.trim()}`);
  }
  return JSON.parse(r.stdout) as unknown;
}
