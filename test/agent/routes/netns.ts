// Namespaces for the route manager's tests and benchmark: named trt<pid>-<x>, so parallel runs
// never collide; everything (links, addresses, routes) is made inside them, never in the root
// namespace, and removed with the namespace.
import { spawn, spawnSync } from 'node:child_process';

export interface IpResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function ip(args: readonly string[], input?: string): Promise<IpResult> {
  return new Promise((resolve, reject) => {
    const c = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.stdin.on('error', () => undefined);
    c.stdin.end(input ?? '');
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ip` that must succeed. */
export async function ipOk(args: readonly string[], input?: string): Promise<string> {
  const r = await ip(args, input);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export class TestNetns {
  readonly made: string[] = [];
  constructor(private readonly tag = `trt${process.pid}`) {}

  name(suffix: string): string {
    return `${this.tag}-${suffix}`;
  }

  async add(suffix: string): Promise<string> {
    const ns = this.name(suffix);
    // A leftover of a crashed run with the same PID would make `add` fail.
    await ip(['netns', 'del', ns]);
    this.made.push(ns);
    await ipOk(['netns', 'add', ns]);
    await ipOk(['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs lines with `ip -n ns -batch -` (all must succeed). */
  async batch(ns: string, lines: readonly string[]): Promise<void> {
    await ipOk(['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  }

  async destroy(): Promise<void> {
    for (const ns of this.made.splice(0)) await ip(['netns', 'del', ns]);
  }

  /** For process 'exit': synchronous. */
  destroySync(): void {
    for (const ns of this.made.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/**
 * A node-like namespace: `d0` (10.99.0.1/24, fd99::1/64) as the fabric side with gateways
 * 10.99.0.2-.9 / fd99::2-9 on-link, and host-side pod veths `cali1`, `cali2`. The kernel here
 * has no dummy driver: a veth pair with both ends in the namespace stands in.
 */
export async function nodeNamespace(t: TestNetns, suffix: string): Promise<string> {
  const ns = await t.add(suffix);
  await t.batch(ns, [
    'link add d0 type veth peer name d0p',
    'link add cali1 type veth peer name cali1p',
    'link add cali2 type veth peer name cali2p',
    'link set d0 up',
    'link set d0p up',
    'link set cali1 up',
    'link set cali1p up',
    'link set cali2 up',
    'link set cali2p up',
    'addr add 10.99.0.1/24 dev d0',
    'addr add fd99::1/64 dev d0 nodad',
  ]);
  return ns;
}

/** Tern's routes in ns as `ip -N route show proto 44` lines, both families, sorted. */
export async function ternRoutes(ns: string): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    const text = await ipOk(['-n', ns, '-N', fam, 'route', 'show', 'table', 'all', 'proto', '44']);
    // Multipath next hops are continuation lines: fold them into their route.
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      if (/^\s/.test(line) && out.length > 0) out[out.length - 1] += ` | ${line.trim()}`;
      else out.push(line.trim());
    }
  }
  return out.map((l) => l.replace(/\s+/g, ' ').replace(/ pref medium/, '')).sort();
}

/** Every route in ns (any protocol) for one prefix. */
export async function routesFor(ns: string, prefix: string): Promise<string[]> {
  const fam = prefix.includes(':') ? '-6' : '-4';
  const text = await ipOk(['-n', ns, '-N', fam, 'route', 'show', 'table', 'all', 'exact', prefix]);
  return text.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() is true; throws with the label after `ms`. Not a timing assert: a liveness bound. */
export async function eventually(label: string, fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${label}`);
    await sleep(20);
  }
}
