// Plumbing for the sockopt tests: building the addon when a checkout has not, kernel TCP
// counters (per network namespace), open file descriptors.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Runs native/sockopt/build.sh (a no-op when the module is newer than its sources). */
export function ensureAddon(): void {
  if (process.env.TERN_SOCKOPT_ADDON) return;
  execFileSync('bash', [join(ROOT, 'native', 'sockopt', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
}

/** TcpExt counters from /proc/net/netstat text (two lines per group: names, then values). */
export function parseTcpExt(text: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1) ?? [];
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = Number(values[i] ?? 0)));
  return out;
}

/** The counters of this process's network namespace, or of a named one. */
export function tcpExt(netns?: string): Record<string, number> {
  const text = netns ? execFileSync('ip', ['netns', 'exec', netns, 'cat', '/proc/net/netstat'], { encoding: 'utf8' }) : readFileSync('/proc/net/netstat', 'utf8');
  return parseTcpExt(text);
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}
