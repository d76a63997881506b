// The lab's pod workload and its probe, one small script run inside pod namespaces.
//
//   node echo.js serve NAME [PORT]   HTTP on PORT (8080): {"pod": NAME, "client": <source IP>};
//                                    UDP echo on the same port: the datagram back, prefixed
//                                    with "NAME CLIENT ".
//   node echo.js probe JSON          runs the probes of JSON (an array of ProbeSpec) at once and
//                                    prints an array of ProbeResult.
//   node echo.js dnswait SERVER      for each name read on stdin, asks SERVER every few ms until
//                                    it answers with an address; prints "NAME EPOCH-MS ADDRESS"
//                                    (benchmarks: the process runs before the name exists).
//
// The server reports the source address it saw, which is how the lab proves pod traffic is
// not NATed. The probe resolves names with the system resolver (getaddrinfo), so inside
// `ip netns exec` it reads /etc/netns/<pod>/resolv.conf like a container reads its own.
import { createSocket } from 'node:dgram';
import { lookup, Resolver } from 'node:dns/promises';
import { createInterface } from 'node:readline';
import { createServer, request } from 'node:http';
import { isEntryPoint } from './entry.js';

export const ECHO_PORT = 8080;

export type ProbeSpec =
  | { kind: 'http'; target: string; port?: number; timeoutMs?: number }
  | { kind: 'udp'; target: string; port?: number; timeoutMs?: number }
  | { kind: 'dns'; name: string; timeoutMs?: number };

export interface ProbeResult {
  ok: boolean;
  /** http/udp: the server's pod name; dns: the first address. */
  pod?: string;
  /** http/udp: the client address the server saw. */
  client?: string;
  /** The address the name resolved to (http/udp by name, dns). */
  address?: string;
  addresses?: string[];
  error?: string;
  ms: number;
}

/** Parses the server's HTTP answer; undefined when it is not one. */
export function parseEcho(body: string): { pod: string; client: string } | undefined {
  try {
    const j = JSON.parse(body) as { pod?: unknown; client?: unknown };
    return typeof j.pod === 'string' && typeof j.client === 'string' ? { pod: j.pod, client: j.client } : undefined;
  } catch {
    return undefined;
  }
}

/** An IPv4-mapped IPv6 source as the dotted quad. */
const plain = (a: string | undefined): string => (a ?? '').replace(/^::ffff:/, '');

function serve(name: string, port: number): void {
  createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(`${JSON.stringify({ pod: name, client: plain(req.socket.remoteAddress) })}\n`);
  }).listen(port, '0.0.0.0');
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(Buffer.concat([Buffer.from(`${name} ${rinfo.address} `), msg]), rinfo.port, rinfo.address));
  udp.bind(port, '0.0.0.0');
  process.stdout.write(`echo ${name} listening on ${port}\n`);
}

async function resolveTarget(target: string): Promise<string> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(target)) return target;
  return (await lookup(target, { family: 4 })).address;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timeout after ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e as Error)));
  });
}

function httpGet(address: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function udpEcho(address: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.send('ping', port, address);
  });
}

export async function runProbe(p: ProbeSpec): Promise<ProbeResult> {
  const t0 = Date.now();
  const timeoutMs = p.timeoutMs ?? 2000;
  try {
    if (p.kind === 'dns') {
      const all = await withTimeout(lookup(p.name, { family: 4, all: true }), timeoutMs, `resolve ${p.name}`);
      const addresses = all.map((a) => a.address);
      return { ok: addresses.length > 0, address: addresses[0]!, addresses, ms: Date.now() - t0 };
    }
    const address = await withTimeout(resolveTarget(p.target), timeoutMs, `resolve ${p.target}`);
    const port = p.port ?? ECHO_PORT;
    if (p.kind === 'http') {
      const e = parseEcho(await httpGet(address, port, timeoutMs));
      if (!e) return { ok: false, address, error: 'not an echo answer', ms: Date.now() - t0 };
      return { ok: true, address, pod: e.pod, client: e.client, ms: Date.now() - t0 };
    }
    const [pod, client] = (await udpEcho(address, port, timeoutMs)).split(' ');
    return { ok: true, address, ...(pod ? { pod } : {}), ...(client ? { client } : {}), ms: Date.now() - t0 };
  } catch (e) {
    return { ok: false, error: (e as Error).message, ms: Date.now() - t0 };
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, a, b] = argv;
  if (cmd === 'serve' && a) {
    serve(a, b ? Number(b) : ECHO_PORT);
    return -1;
  }
  if (cmd === 'dnswait' && a) {
    const r = new Resolver({ timeout: 200, tries: 1 });
    r.setServers([a]);
    for await (const line of createInterface({ input: process.stdin })) {
      const name = line.trim();
      if (!name) continue;
      const end = Date.now() + 30_000;
      let answer = '';
      while (!answer && Date.now() < end) {
        answer = await r.resolve4(name).then((x) => x[0] ?? '', () => '');
        if (!answer) await new Promise((res) => setTimeout(res, 2));
      }
      process.stdout.write(`${name} ${Date.now()} ${answer || 'timeout'}\n`);
    }
    return 0;
  }
  if (cmd === 'probe' && a) {
    const specs = JSON.parse(a) as ProbeSpec[];
    const res = await Promise.all(specs.map(runProbe));
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return 0;
  }
  process.stderr.write('usage: echo.js serve NAME [PORT] | probe JSON\n');
  return 2;
}

if (isEntryPoint(import.meta.url, 'echo')) {
  void main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
