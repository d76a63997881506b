// Shared pieces of the tern-dnsd end-to-end tests: a Knot DNS upstream, the compiled dnsd in a
// lab namespace, dig and HTTP from inside namespaces.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';

export const DNSD = join(process.cwd(), 'dist/daemons/tern-dnsd.js');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export interface Dig {
  status: string;
  flags: string[];
  answers: string[];
  authority: string[];
  raw: string;
}

/** Parses dig's default output: status, header flags, and the ANSWER/AUTHORITY records as "name ttl class type data". */
export function parseDig(out: string): Dig {
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? 'NONE';
  const flags = (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').trim().split(/\s+/);
  const section = (name: string): string[] => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(out);
    return m ? m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).join(' ')) : [];
  };
  return { status, flags, answers: section('ANSWER'), authority: section('AUTHORITY'), raw: out };
}

/** The data fields of answer records of one type, sorted. */
export const data = (d: Dig, type: string): string[] =>
  d.answers.filter((a) => a.split(' ')[3] === type).map((a) => a.split(' ').slice(4).join(' ')).sort();

export async function dig(lab: Lab, host: string, args: string[]): Promise<Dig> {
  const r = await lab.exec(host, 'dig', ['+time=2', '+tries=1', ...args], { allowFail: true });
  return parseDig(r.stdout);
}

/** GET from inside a namespace (the ops listeners are not reachable from the root namespace). */
export async function httpGet(lab: Lab, host: string, url: string): Promise<{ status: number; body: string }> {
  const js = `fetch(${JSON.stringify(url)}).then(async (r) => { process.stdout.write(r.status + "\\n" + await r.text()); }, (e) => { process.stdout.write("0\\n" + e.message); })`;
  const r = await lab.exec(host, process.execPath, ['-e', js]);
  const nl = r.stdout.indexOf('\n');
  return { status: Number(r.stdout.slice(0, nl)), body: r.stdout.slice(nl + 1) };
}

/** Sum of a Prometheus series' samples whose labels include every given pair. */
export function metric(body: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface Knot {
  proc: ManagedProcess;
  dir: string;
}

/** Knot DNS serving example.test on `ip`: a short-TTL name, and a TXT answer too big for UDP. */
export function startKnot(lab: Lab, host: string, ip: string, dir: string): Knot {
  mkdirSync(dir, { recursive: true });
  const big = Array.from({ length: 24 }, (_, i) => `"${String(i).padStart(2, '0')}${'x'.repeat(200)}"`).join(' ');
  writeFileSync(join(dir, 'example.test.zone'), [
    '$ORIGIN example.test.',
    '$TTL 300',
    '@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60',
    '@ IN NS ns.example.test.',
    `ns IN A ${ip}`,
    'www IN A 192.0.2.10',
    'short 1 IN A 192.0.2.11',
    `big IN TXT ${big}`,
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'knot.conf'), [
    'server:',
    `  rundir: "${dir}"`,
    `  listen: ${ip}@53`,
    'database:',
    `  storage: "${dir}"`,
    'log:',
    '  - target: stderr',
    '    any: info',
    'zone:',
    '  - domain: example.test',
    `    storage: "${dir}"`,
    '    file: "example.test.zone"',
    '',
  ].join('\n'));
  if (!existsSync(join(dir, 'knot.conf'))) throw new Error('knot.conf not written');
  return { proc: lab.spawn(host, 'knotd', ['-c', join(dir, 'knot.conf')]), dir };
}
