// The socket-option addon and SockoptTransport over loopback in this process's namespace:
// argument checking and errno names, TCP MD5 (RFC 2385) and GTSM (RFC 5082) enforced by the
// kernel (its TcpExt drop counters move), keys changed on a live listener, data both ways
// through the wrapped file descriptors, and no descriptor left behind.
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadSockopt, type SockoptAddon } from '../../../src/bgp/sockopt/addon.js';
import { SockoptTransport } from '../../../src/bgp/sockopt/transport.js';
import { ensureAddon, openFds, sleep, tcpExt, waitFor } from './helpers.js';

const linux = process.platform === 'linux';
let addon: SockoptAddon;
const cleanup: (() => void)[] = [];

/** An fd the test owns until the end of the test. */
function own(fd: number): number {
  cleanup.push(() => {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  });
  return fd;
}

function errOf(fn: () => unknown): { code?: string; name?: string; message: string; syscall?: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; name?: string; message: string };
  }
  throw new Error('no error thrown');
}

/** A loopback server on `t` that answers each chunk with `pong:<chunk>`; tracks its connections. */
async function echoServer(t: SockoptTransport, host = '127.0.0.1'): Promise<{ server: net.Server; port: number; conns: Set<net.Socket>; accepted: net.Socket[] }> {
  const server = await t.listen({ host, port: 0 });
  const conns = new Set<net.Socket>();
  const accepted: net.Socket[] = [];
  server.on('connection', (s: net.Socket) => {
    conns.add(s);
    accepted.push(s);
    s.on('data', (d: Buffer) => s.write(`pong:${d.toString()}`));
    s.on('error', () => {});
    s.on('close', () => conns.delete(s));
    s.resume();
  });
  cleanup.push(() => {
    for (const s of conns) s.destroy();
    server.close();
  });
  return { server, port: (server.address() as net.AddressInfo).port, conns, accepted };
}

function request(s: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    s.once('data', (d: Buffer) => resolve(d.toString()));
    s.once('error', reject);
    s.write(text);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => {
    if (s.destroyed && s.closed) return r();
    s.once('close', () => r());
    s.destroy();
  });
}

describe.skipIf(!linux)('sockopt addon', () => {
  beforeAll(() => {
    ensureAddon();
    addon = loadSockopt();
  }, 300_000);

  afterEach(() => {
    for (const f of cleanup.splice(0).reverse()) f();
  });

  it('loads and exports its functions', () => {
    for (const f of ['md5Socket', 'listenSocket', 'setMd5Key', 'setTtl', 'setMinTtl', 'connectNonBlocking', 'waitConnect', 'cancelWait', 'socketInfo'] as const)
      expect(typeof addon[f], f).toBe('function');
    expect(addon.maxKeyLength).toBe(80);
  });

  it('rejects bad arguments with TypeErrors coded EINVAL', () => {
    const cases: [string, () => unknown][] = [
      ['family 5', () => addon.md5Socket(5 as 4)],
      ['options not an object', () => addon.md5Socket(4, 'x' as never)],
      ['key of 81 bytes', () => addon.md5Socket(4, { md5: [{ address: '127.0.0.1', key: 'k'.repeat(81) }] })],
      ['empty key', () => addon.md5Socket(4, { md5: [{ address: '127.0.0.1', key: '' }] })],
      ['key neither string nor Buffer', () => addon.md5Socket(4, { md5: [{ address: '127.0.0.1', key: 42 as never }] })],
      ['IPv6 peer on an IPv4 socket', () => addon.md5Socket(4, { md5: [{ address: '::1', key: 'k' }] })],
      ['not an address', () => addon.md5Socket(6, { md5: [{ address: 'router1', key: 'k' }] })],
      ['ttl 0', () => addon.md5Socket(4, { ttl: 0 })],
      ['minTtl 256', () => addon.md5Socket(4, { minTtl: 256 })],
      ['localPort 70000', () => addon.md5Socket(4, { localPort: 70000 })],
      ['listen without port', () => addon.listenSocket(4, {} as never)],
      ['fd -1', () => addon.setMd5Key(-1, '127.0.0.1', 'k')],
      ['setTtl 300', () => addon.setTtl(0, 300)],
    ];
    for (const [what, fn] of cases) {
      const e = errOf(fn);
      expect(e.code, what).toBe('EINVAL');
      expect(e, what).toBeInstanceOf(TypeError);
    }
    // The fd of a socket made before a bad argument was seen is not leaked.
    const before = openFds();
    for (let i = 0; i < 50; i++) errOf(() => addon.md5Socket(4, { md5: [{ address: '::1', key: 'k' }] }));
    expect(openFds()).toBe(before);
  });

  it('reports kernel errors with their errno names', () => {
    const devnull = own(openSync('/dev/null', 'r'));
    expect(errOf(() => addon.setMd5Key(devnull, '127.0.0.1', 'k'))).toMatchObject({ code: 'ENOTSOCK', syscall: 'getsockopt' });
    expect(errOf(() => addon.setMd5Key(1_000_000, '127.0.0.1', 'k')).code).toBe('EBADF');
    // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails before any packet is sent.
    expect(errOf(() => addon.md5Socket(4, { localAddress: '192.0.2.1' }))).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
    expect(errOf(() => addon.md5Socket(4, { netns: '/nonexistent/netns' }))).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    const fd = own(addon.md5Socket(4));
    expect(errOf(() => addon.connectNonBlocking(fd, '127.0.0.1', 0)).code).toBe('EINVAL');
    expect(errOf(() => addon.setMinTtl(fd, 300)).code).toBe('EINVAL');
  });

  it('an IP-level option on a unix socket is EAFNOSUPPORT, not a crash', async () => {
    const path = join(tmpdir(), `tern-sockopt-${process.pid}.sock`);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(path, () => r()));
    cleanup.push(() => srv.close());
    const fd = (srv as unknown as { _handle: { fd: number } })._handle.fd;
    expect(errOf(() => addon.setMinTtl(fd, 255)).code).toBe('EAFNOSUPPORT');
    expect(errOf(() => addon.setMd5Key(fd, '127.0.0.1', 'k')).code).toBe('EAFNOSUPPORT');
    expect(errOf(() => addon.connectNonBlocking(fd, '127.0.0.1', 179)).code).toBe('EAFNOSUPPORT');
  });

  it('sets what it says: SO_REUSEADDR, TTL 255, the TTL floor, both families on a dual-stack listener', () => {
    const c = own(addon.md5Socket(4, { md5: [{ address: '127.0.0.1', key: Buffer.from([0, 1, 2, 255]) }], ttl: 255, minTtl: 254 }));
    expect(addon.socketInfo(c)).toEqual({ family: 4, stream: true, reuseAddr: true, listening: false, ttl: 255, minTtl: 254 });
    const l = own(addon.listenSocket(6, { address: '::1', port: 0, md5: [{ address: '127.0.0.1', key: 'a' }, { address: '::1', key: 'b' }], ttl: 255, minTtl: 253 }));
    expect(addon.socketInfo(l)).toMatchObject({ family: 6, listening: true, ttl: 255, minTtl: 253, hopLimit: 255, minHopCount: 253 });
    addon.setMinTtl(l, 0, 200);
    addon.setTtl(l, -1);
    const i = addon.socketInfo(l);
    expect([i.minTtl, i.minHopCount]).toEqual([0, 200]);
    expect(i.ttl).toBeLessThan(255);
    // Keys come and go at run time; removing an absent key is not an error.
    addon.setMd5Key(l, '127.0.0.2', 'c');
    addon.setMd5Key(l, '127.0.0.2', null);
    addon.setMd5Key(l, '127.0.0.2', null);
  });

  it('waitConnect reports a refused connection as ECONNREFUSED; a second wait on the same fd is EALREADY', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const fd = own(addon.md5Socket(4));
    const now = addon.connectNonBlocking(fd, '127.0.0.1', port);
    expect(now).toBe(false);
    const err = await new Promise<Error | null>((r) => {
      addon.waitConnect(fd, r);
      expect(errOf(() => addon.waitConnect(fd, () => {})).code).toBe('EALREADY');
    });
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    expect(addon.cancelWait(fd)).toBe(false);
  });

  it('data flows both ways over MD5-signed connections, and 100 connects leave no fd behind', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { password: 's3cret' });
    const cli = new SockoptTransport();
    cli.setPeer('127.0.0.1', { password: 's3cret' });
    const { port, conns } = await echoServer(srv);
    const before = openFds();
    for (let i = 0; i < 100; i++) {
      const s = await cli.connect({ host: '127.0.0.1', port });
      expect(s.remoteAddress).toBe('127.0.0.1');
      expect(s.remotePort).toBe(port);
      expect(await request(s, `ping${i}`)).toBe(`pong:ping${i}`);
      await closed(s);
    }
    await waitFor('server side closed', () => conns.size === 0);
    // And connects that fail: each made, then closed an fd. Without a key: the RST of a closed
    // port is unsigned, and a socket holding the peer's key drops it (RFC 2385 §2.1, as
    // intended against forged resets), so a keyed connect would wait for the SYN timeout.
    const plain = new SockoptTransport();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const dead = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    for (let i = 0; i < 20; i++) await expect(plain.connect({ host: '127.0.0.1', port: dead })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The runner's own descriptors may move by one or two; a leak would be 100 or more.
    expect(Math.abs(openFds() - before)).toBeLessThan(5);
  });

  it('a wrong password, none, or one the listener does not expect: the kernel drops the SYN', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { password: 's3cret' });
    const { port } = await echoServer(srv);
    const wrong = new SockoptTransport({ connectTimeoutMs: 1500 });
    wrong.setPeer('127.0.0.1', { password: 'wrong' });
    const c0 = tcpExt();
    await expect(wrong.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const c1 = tcpExt();
    expect(c1.TCPMD5Failure! - c0.TCPMD5Failure!).toBeGreaterThan(0);

    const none = new SockoptTransport({ connectTimeoutMs: 1500 });
    await expect(none.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(tcpExt().TCPMD5NotFound! - c1.TCPMD5NotFound!).toBeGreaterThan(0);

    // The listener's key is removed at run time: a signed SYN is now unexpected, then the key comes back.
    srv.deletePeer('127.0.0.1');
    const right = new SockoptTransport({ connectTimeoutMs: 1500 });
    right.setPeer('127.0.0.1', { password: 's3cret' });
    const c2 = tcpExt();
    await expect(right.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(tcpExt().TCPMD5Unexpected! - c2.TCPMD5Unexpected!).toBeGreaterThan(0);
    srv.setPeer('127.0.0.1', { password: 's3cret' });
    const s = await right.connect({ host: '127.0.0.1', port });
    expect(await request(s, 'again')).toBe('pong:again');
    await closed(s);
  });

  it('GTSM: a listener whose peers all use it drops a SYN sent with the default TTL; TTL 255 passes', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { ttlSecurity: 1 });
    const { port, server, accepted } = await echoServer(srv);
    const listenFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    expect(addon.socketInfo(listenFd)).toMatchObject({ ttl: 255, minTtl: 255 });

    const plain = new SockoptTransport({ connectTimeoutMs: 1500 });
    const c0 = tcpExt();
    await expect(plain.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(tcpExt().TCPMinTTLDrop! - c0.TCPMinTTLDrop!).toBeGreaterThan(0);

    const gtsm = new SockoptTransport();
    gtsm.setPeer('127.0.0.1', { ttlSecurity: 1 });
    const s = await gtsm.connect({ host: '127.0.0.1', port });
    expect(await request(s, 'hi')).toBe('pong:hi');
    const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
    expect(addon.socketInfo(fd)).toMatchObject({ ttl: 255, minTtl: 255 });
    const acc = (accepted.at(-1) as unknown as { _handle: { fd: number } })._handle.fd;
    expect(addon.socketInfo(acc)).toMatchObject({ ttl: 255, minTtl: 255 });
    await closed(s);

    // Hops: 3 allowed means TTL >= 253 (RFC 5082 §3 with a trust radius of two routers).
    srv.setPeer('127.0.0.1', { ttlSecurity: 3 });
    expect(addon.socketInfo(listenFd)).toMatchObject({ minTtl: 253 });
  });

  it('GTSM with a mixed peer set: the listener lets all in, each accepted socket gets its own peer\'s floor', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { ttlSecurity: 1 });
    srv.setPeer('127.0.0.2', {});
    const { port, server, accepted } = await echoServer(srv);
    const listenFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    expect(addon.socketInfo(listenFd)).toMatchObject({ ttl: 255, minTtl: 0 });

    const cli = new SockoptTransport();
    const fromOther = await cli.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    expect(await request(fromOther, 'x')).toBe('pong:x');
    const accOther = await waitFor('accepted', () => accepted.find((a) => a.remoteAddress === '127.0.0.2'));
    expect(addon.socketInfo((accOther as unknown as { _handle: { fd: number } })._handle.fd)).toMatchObject({ minTtl: 0 });
    await closed(fromOther);

    // 127.0.0.1 must use GTSM: its connection is accepted, then every segment with TTL 64 is dropped.
    const s = await cli.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    const acc = await waitFor('accepted', () => accepted.find((a) => a.remoteAddress === '127.0.0.1'));
    expect(addon.socketInfo((acc as unknown as { _handle: { fd: number } })._handle.fd)).toMatchObject({ ttl: 255, minTtl: 255 });
    const c0 = tcpExt();
    let got = '';
    acc.on('data', (d: Buffer) => (got += d.toString()));
    s.on('error', () => {});
    s.write('spoofed?');
    await waitFor('a TTL drop', () => tcpExt().TCPMinTTLDrop! > c0.TCPMinTTLDrop!, 5000, 50);
    await sleep(300);
    expect(got).toBe('');
    s.destroy();
  });

  it('connects over IPv6 and to a dual-stack listener from IPv4 with the key filed as ::ffff:127.0.0.1', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { password: 'v4' });
    srv.setPeer('::1', { password: 'v6' });
    const { port } = await echoServer(srv, '::');
    const cli = new SockoptTransport();
    cli.setPeer('127.0.0.1', { password: 'v4' });
    cli.setPeer('::1', { password: 'v6' });
    const a = await cli.connect({ host: '::1', port });
    expect(await request(a, '6')).toBe('pong:6');
    const b = await cli.connect({ host: '127.0.0.1', port });
    expect(await request(b, '4')).toBe('pong:4');
    await Promise.all([closed(a), closed(b)]);
    // Swapped keys do not connect.
    const bad = new SockoptTransport({ connectTimeoutMs: 1000 });
    bad.setPeer('127.0.0.1', { password: 'v6' });
    await expect(bad.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('close() cancels connects in progress with ECANCELED and closes their fds', async () => {
    const srv = new SockoptTransport();
    srv.setPeer('127.0.0.1', { password: 'right' });
    const { port } = await echoServer(srv);
    const cli = new SockoptTransport();
    cli.setPeer('127.0.0.1', { password: 'wrong' });
    const before = openFds();
    const attempts = Array.from({ length: 10 }, () => cli.connect({ host: '127.0.0.1', port }));
    await sleep(200);
    cli.close();
    for (const a of attempts) await expect(a).rejects.toMatchObject({ code: 'ECANCELED' });
    expect(Math.abs(openFds() - before)).toBeLessThan(3);
  });

  it('loadSockopt says how to build the addon when it is missing', async () => {
    vi.resetModules();
    const saved = process.env.TERN_SOCKOPT_ADDON;
    process.env.TERN_SOCKOPT_ADDON = '/nonexistent/sockopt.node';
    try {
      const m = await import('../../../src/bgp/sockopt/addon.js');
      let err: unknown;
      try {
        m.loadSockopt();
      } catch (e) {
        err = e;
      }
      // A fresh module graph: its TernError is not the class imported above, so check by shape.
      expect(err).toMatchObject({ name: 'TernError', code: 'TERN_ERR_NATIVE_ADDON' });
      expect((err as Error).message).toBe('TCP MD5 needs the native addon: run npm run build:native');
    } finally {
      if (saved === undefined) delete process.env.TERN_SOCKOPT_ADDON;
      else process.env.TERN_SOCKOPT_ADDON = saved;
    }
  });
});

afterAll(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});
