// A real server on loopback, queried with dig (BIND's dnsutils) over UDP and TCP, IPv4 and
// IPv6, with the RFC 8906 EDNS checks, plus raw TCP framing, pipelining and limits.
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer } from '../../src/dns/server/index.js';
import { RRType, Rcode, encodeQuery } from '../../src/dns/wire/index.js';
import { buildEngine, decodeOk } from './helpers.js';

const run = promisify(execFile);
const S = (n: string): string => `${n}.ns1.svc.cluster.local`;

let server: DnsServer;
let port4 = 0;
let port6 = 0;
let v6 = true;

async function dig(args: string[], port = port4, host = '127.0.0.1'): Promise<string> {
  const { stdout } = await run('dig', [`@${host}`, '-p', String(port), '+time=2', '+tries=1', ...args], { timeout: 15_000 });
  return stdout;
}

const status = (out: string): string | undefined => /status: (\w+)/.exec(out)?.[1];
const flags = (out: string): string[] => (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').trim().split(/\s+/);
const answers = (out: string): string[] => {
  const m = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(out);
  return m ? m[1]!.split('\n').map((l) => l.split(/\s+/).join(' ')) : [];
};

beforeAll(async () => {
  const { engine } = buildEngine();
  const listen = [{ host: '127.0.0.1', port: 0 }];
  server = new DnsServer(engine, { listen: [...listen, { host: '::1', port: 0 }], tcpIdleTimeoutMs: 500, maxTcpConnections: 3 });
  try {
    await server.start();
  } catch {
    // No IPv6 loopback in this environment: IPv4 only.
    v6 = false;
    server = new DnsServer(engine, { listen, tcpIdleTimeoutMs: 500, maxTcpConnections: 3 });
    await server.start();
  }
  const a = server.addresses();
  port4 = a.udp[0]!.port;
  expect(a.tcp[0]!.port).toBe(port4);
  if (v6) port6 = a.udp[1]!.port;
});

afterAll(async () => {
  await server?.stop();
});

describe('dig against the server', () => {
  it('UDP and TCP, IPv4 and IPv6', async () => {
    for (const extra of [[], ['+tcp']]) {
      const out = await dig([S('svc1'), 'A', ...extra]);
      expect(status(out)).toBe('NOERROR');
      expect(flags(out)).toEqual(expect.arrayContaining(['qr', 'aa', 'rd']));
      expect(answers(out)).toEqual([`${S('svc1')}. 5 IN A 10.0.0.1`]);
      if (v6) {
        const o6 = await dig([S('dual'), 'AAAA', ...extra], port6, '::1');
        expect(answers(o6)).toEqual([`${S('dual')}. 5 IN AAAA fd00::2`]);
      }
    }
  });

  it('negative answers carry the SOA', async () => {
    const nx = await dig([S('missing'), 'A']);
    expect(status(nx)).toBe('NXDOMAIN');
    expect(nx).toMatch(/AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./);
    const nodata = await dig([S('svc1'), 'AAAA']);
    expect(status(nodata)).toBe('NOERROR');
    expect(answers(nodata)).toEqual([]);
    expect(nodata).toMatch(/AUTHORITY SECTION:\ncluster\.local\./);
  });

  it('SRV with glue and PTR', async () => {
    const out = await dig([`_http._tcp.${S('svc1')}`, 'SRV']);
    expect(answers(out)).toEqual([`_http._tcp.${S('svc1')}. 5 IN SRV 0 100 80 ${S('svc1')}.`]);
    expect(out).toMatch(new RegExp(`ADDITIONAL SECTION:\\n${S('svc1').replace(/\./g, '\\.')}\\.\\s+5\\s+IN\\s+A\\s+10\\.0\\.0\\.1`));
    const ptr = await dig(['-x', '10.0.0.1']);
    expect(answers(ptr)).toEqual([`1.0.0.10.in-addr.arpa. 5 IN PTR ${S('svc1')}.`]);
  });

  it('plain DNS (no EDNS) gets no OPT', async () => {
    const out = await dig([S('svc1'), 'A', '+noedns']);
    expect(status(out)).toBe('NOERROR');
    expect(out).not.toMatch(/OPT PSEUDOSECTION/);
  });

  it('EDNS version 0 echoes OPT advertising 1232', async () => {
    const out = await dig([S('svc1'), 'A', '+edns=0']);
    expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
  });

  it('EDNS version 1 gets BADVERS with version 0', async () => {
    const out = await dig([S('svc1'), 'A', '+edns=1', '+noednsneg']);
    expect(status(out)).toBe('BADVERS');
    expect(out).toMatch(/EDNS: version: 0,/);
  });

  it('unknown EDNS option and flag are ignored, not echoed', async () => {
    const opt = await dig([S('svc1'), 'A', '+ednsopt=65001:abcd']);
    expect(status(opt)).toBe('NOERROR');
    const pseudo = /OPT PSEUDOSECTION:\n([\s\S]*?)\n;; QUESTION/.exec(opt)?.[1];
    expect(pseudo).toMatch(/EDNS: version: 0/);
    expect(pseudo).not.toMatch(/65001/);
    const flag = await dig([S('svc1'), 'A', '+ednsflags=0x40']);
    expect(status(flag)).toBe('NOERROR');
    expect(flag).not.toMatch(/MBZ/);
    expect(answers(flag).length).toBe(1);
  });

  it('DO bit is echoed', async () => {
    const out = await dig([S('svc1'), 'A', '+dnssec']);
    expect(out).toMatch(/EDNS: version: 0, flags: do; udp: 1232/);
  });

  it('a large answer over a 512-byte buffer is truncated, and the TCP retry gets it all', async () => {
    const trunc = await dig([S('big'), 'A', '+bufsize=512', '+ignore']);
    expect(flags(trunc)).toContain('tc');
    expect(answers(trunc)).toEqual([]);
    expect(trunc).toMatch(/OPT PSEUDOSECTION/);
    const retried = await dig([S('big'), 'A', '+bufsize=512']);
    expect(retried).toMatch(/Truncated, retrying in TCP mode/);
    expect(answers(retried).length).toBe(100);
    expect(flags(retried)).not.toContain('tc');
  });

  it('out-of-zone names are refused without an upstream', async () => {
    expect(status(await dig(['example.com', 'A']))).toBe('REFUSED');
  });
});

function tcpConnect(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port4, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

function frame(b: Buffer): Buffer {
  const f = Buffer.alloc(b.length + 2);
  f.writeUInt16BE(b.length, 0);
  b.copy(f, 2);
  return f;
}

/** Reads `n` framed messages from a socket. */
function readFrames(s: Socket, n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let acc = Buffer.alloc(0);
    const out: Buffer[] = [];
    const onData = (c: Buffer): void => {
      acc = Buffer.concat([acc, c]);
      while (acc.length >= 2 && acc.length >= 2 + acc.readUInt16BE(0)) {
        const l = acc.readUInt16BE(0);
        out.push(acc.subarray(2, 2 + l));
        acc = acc.subarray(2 + l);
      }
      if (out.length >= n) {
        s.off('data', onData);
        resolve(out);
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed after ${out.length} of ${n} frames`)));
  });
}

describe('TCP', () => {
  it('answers pipelined queries on one connection, split at every byte boundary', async () => {
    const s = await tcpConnect();
    try {
      const qs = [S('svc1'), S('dual'), S('missing')].map((n, i) => frame(encodeQuery(`${n}.`, RRType.A, { id: 100 + i })));
      const all = Buffer.concat(qs);
      const got = readFrames(s, 3);
      // Byte by byte: exercises reassembly of partial length prefixes and bodies.
      for (let i = 0; i < all.length; i++) s.write(all.subarray(i, i + 1));
      const res = (await got).map(decodeOk);
      expect(res.map((m) => m.id).sort()).toEqual([100, 101, 102]);
      const byId = new Map(res.map((m) => [m.id, m]));
      expect(byId.get(100)!.answers[0]!.address).toBe('10.0.0.1');
      expect(byId.get(102)!.rcode).toBe(Rcode.NXDOMAIN);
    } finally {
      s.destroy();
    }
  });

  it('closes idle connections', async () => {
    const s = await tcpConnect();
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    expect(s.destroyed).toBe(true);
  });

  it('refuses connections beyond the limit', async () => {
    const held = await Promise.all([tcpConnect(), tcpConnect(), tcpConnect()]);
    try {
      const extra = await tcpConnect();
      const closed = new Promise<boolean>((resolve) => extra.once('close', () => resolve(true)));
      extra.write(frame(encodeQuery(`${S('svc1')}.`, RRType.A)));
      expect(await closed).toBe(true);
      // The held ones still work.
      const got = readFrames(held[0]!, 1);
      held[0]!.write(frame(encodeQuery(`${S('svc1')}.`, RRType.A)));
      expect(decodeOk((await got)[0]!).answers.length).toBe(1);
    } finally {
      for (const h of held) h.destroy();
    }
  });
});
