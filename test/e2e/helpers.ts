// Shared by the end-to-end files: a lab of the file's own (unique name, torn down in afterAll
// even when a test failed), continuous ping, route snapshots and DNS from pods.
import { runCli } from '../../src/cli/index.js';
import { LabRun, routes } from '../../src/lab/cluster.js';
import { labDown, labUp } from '../../src/lab/cli.js';
import { runIn } from '../../src/lab/exec.js';
import { nodeBlocks } from '../../src/lab/up.js';

export function labName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 7)}`.slice(0, 8);
}

export async function startLab(name: string, opts: { holdTime?: number } = {}): Promise<LabRun> {
  const lines: string[] = [];
  try {
    await labUp({ name, out: (l) => lines.push(l), ...opts });
  } catch (e) {
    throw new Error(`lab up failed: ${(e as Error).message}\n${lines.join('\n')}`);
  }
  return new LabRun(name);
}

export async function stopLab(name: string): Promise<void> {
  await labDown({ name });
}

/** `ping -i 0.01` for `seconds` from a namespace: sent and received. */
export async function floodPing(netns: string, ip: string, seconds: number): Promise<{ sent: number; received: number; out: string }> {
  const r = await runIn(netns, 'ping', ['-i', '0.01', '-W', '1', '-w', String(seconds), '-q', ip], { allowFail: true, timeoutMs: (seconds + 15) * 1000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), out: r.stdout };
}

/** Every protocol-44 route of a node, as text, sorted. */
export async function ternRoutes(netns: string): Promise<string[]> {
  return (await routes(netns, '44')).map((r) => JSON.stringify(r)).sort();
}

export async function hasRouteVia(netns: string, dst: string, via: string): Promise<boolean> {
  return (await routes(netns, '44')).some((r) => r.dst === dst && (r.gateway === via || (r.nexthops ?? []).some((h) => h.gateway === via)));
}

/** dig from a pod through its resolv.conf (search path applies with +search). */
export async function digFrom(netns: string, name: string, type = 'A'): Promise<string[]> {
  const r = await runIn(netns, 'dig', ['+short', '+search', '+time=1', '+tries=2', name, type], { allowFail: true, timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
}

export async function waitFor(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function tern(lab: LabRun, args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const w = { write: (s: string) => void (out += s) };
  const code = await runCli(['--etcd-endpoints', lab.etcd.unixEndpoint, ...args], { stdout: w, stderr: w, stdin: process.stdin, env: {} } as never);
  return { code, out };
}

export { nodeBlocks };
