// Running nft: a script on stdin (`nft -f -`, one kernel transaction: all or nothing) and
// reading a table back as JSON, in the current network namespace or in a named one
// (`ip netns exec NS nft ...`). Argument arrays only, never a shell.
import { inNetns, run } from '../../sys/exec.js';
import { nftRunner } from '../nft/runner.js';

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

export async function runNft(args: readonly string[], input: string | undefined, target: NftTarget = {}): Promise<NftRun> {
  const [cmd, argv] = inNetns(target.netns, 'nft', args);
  try {
    const r = await run(cmd, argv, { input: input ?? '', timeoutMs: target.timeoutMs ?? 60_000, allowFail: true, errorCode: 'TERN_ERR_POLICY' });
    return { ok: r.code === 0, code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    return { ok: false, code: null, stdout: '', stderr: (e as Error).message };
  }
}

/**
 * Loads a script as one transaction. A failed transaction changes nothing in the kernel.
 * Goes through the namespace's shared runner (src/agent/nft): a long-lived `nft -i` for
 * scripts up to 1 MiB, a spawned `nft -f -` for larger ones or where `nft -i` is unavailable.
 * `code` is null when the outcome is unknown (nft killed or died mid-transaction).
 */
export async function nftApply(script: string, target: NftTarget = {}): Promise<NftRun> {
  const r = await nftRunner(target.netns).apply(script, target.timeoutMs ? { timeoutMs: target.timeoutMs } : {});
  return { ok: r.ok, code: r.code, stdout: r.stdout, stderr: r.stderr };
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
