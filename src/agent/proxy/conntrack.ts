// Stale UDP conntrack entries. UDP has no connection end, so a conntrack entry keeps
// sending a client's datagrams to the endpoint it was NATed to for as long as the client
// keeps talking (the resolver retry loop that made DNS lookups wait 5 s after a CoreDNS pod
// went away). When an endpoint leaves a UDP service, its entries are deleted; when a UDP
// service gets its first endpoint, entries created while it rejected are deleted too.
// TCP needs nothing: the removed endpoint answers with a reset or times out, and new
// connections get a new entry.
import { spawn } from 'node:child_process';
import type { Family } from '../../net/ip.js';
import type { ServiceModel, ServicePortModel } from './model.js';

export interface ConntrackFlush {
  family: Family;
  /** Original destination (cluster, external or LB IP). */
  origDst?: string;
  /** Original destination port (a node port, any local address). */
  origPortDst?: number;
  /** The endpoint the entry was NATed to; absent: every entry of origDst/origPortDst. */
  dstNat?: string;
}

const portKey = (p: ServicePortModel): string => `${p.id}|${p.family}`;

/** Entries to delete when a service goes from `prev` to `next` (pure). */
export function staleUdp(prev: ServiceModel | undefined, next: ServiceModel | undefined): ConntrackFlush[] {
  const out: ConntrackFlush[] = [];
  const nextPorts = new Map((next?.ports ?? []).map((p) => [portKey(p), p]));
  const prevPorts = new Map((prev?.ports ?? []).map((p) => [portKey(p), p]));
  const targets = (p: ServicePortModel, dstNat?: string): ConntrackFlush[] => [
    ...[...(p.clusterIp ? [p.clusterIp] : []), ...p.externalIps].map((ip) => ({ family: p.family, origDst: ip, ...(dstNat ? { dstNat } : {}) })),
    ...(p.nodePort !== undefined ? [{ family: p.family, origPortDst: p.nodePort, ...(dstNat ? { dstNat } : {}) }] : []),
  ];
  for (const p of prev?.ports ?? []) {
    if (p.proto !== 'udp') continue;
    const n = nextPorts.get(portKey(p));
    const keep = new Set((n?.endpoints ?? []).map((e) => `${e.ip}|${e.port}`));
    const gone = new Set(p.endpoints.filter((e) => !keep.has(`${e.ip}|${e.port}`)).map((e) => e.ip));
    for (const ip of [...gone].sort()) out.push(...targets(p, ip));
  }
  for (const n of next?.ports ?? []) {
    if (n.proto !== 'udp' || n.endpoints.length === 0) continue;
    const p = prevPorts.get(portKey(n));
    if (!p || p.endpoints.length === 0) out.push(...targets(n));
  }
  return out;
}

/** `conntrack -D` arguments for one flush. */
export function conntrackArgs(f: ConntrackFlush): string[] {
  return [
    '-D',
    '-f', f.family === 4 ? 'ipv4' : 'ipv6',
    '-p', 'udp',
    ...(f.origDst ? ['--orig-dst', f.origDst] : []),
    ...(f.origPortDst !== undefined ? ['--orig-port-dst', String(f.origPortDst)] : []),
    ...(f.dstNat ? ['--dst-nat', f.dstNat] : []),
  ];
}

export interface ConntrackResult {
  ok: boolean;
  /** The tool is not installed. */
  missing: boolean;
  deleted: number;
  stderr: string;
}

/** Runs `conntrack -D ...` (inside `ip netns exec NS` when netns is given). */
export function runConntrack(f: ConntrackFlush, opts: { tool?: string; netns?: string } = {}): Promise<ConntrackResult> {
  const tool = opts.tool ?? 'conntrack';
  const args = conntrackArgs(f);
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, tool, ...args]] : [tool, args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stdout.resume();
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, missing: (e as NodeJS.ErrnoException).code === 'ENOENT', deleted: 0, stderr: e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString();
      const m = /(\d+) flow entries have been deleted/.exec(stderr);
      const deleted = m ? Number(m[1]) : 0;
      // `ip netns exec` reports a missing program with 255 and execvp's message.
      const missing = /No such file or directory|not found/.test(stderr) && !m;
      // conntrack exits 1 when nothing matched: not an error.
      resolve({ ok: code === 0 || (m !== null && deleted === 0), missing, deleted, stderr });
    });
  });
}
