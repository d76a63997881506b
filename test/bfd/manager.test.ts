// Real UDP sockets on loopback: BfdManager instances talk to each other through the kernel.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BfdManager, SOURCE_PORT_MAX, SOURCE_PORT_MIN } from '../../src/bfd/manager.js';
import type { BfdTransition } from '../../src/bfd/session.js';

const managers: BfdManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop({ graceful: false })));
});

async function manager(bind: string): Promise<BfdManager> {
  const m = new BfdManager({ bind: [bind], port: 0 });
  managers.push(m);
  await m.start();
  return m;
}

function next(m: BfdManager, event: 'up' | 'down' | 'state', pred: (t: BfdTransition) => boolean = () => true, timeoutMs = 5000): Promise<BfdTransition> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      m.off(event, on);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms; sessions: ${JSON.stringify(m.list())}`));
    }, timeoutMs);
    const on = (t: BfdTransition) => {
      if (!pred(t)) return;
      clearTimeout(timer);
      m.off(event, on);
      resolve(t);
    };
    m.on(event, on);
  });
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const TIMERS = { minTxMs: 100, minRxMs: 100, multiplier: 3 };

async function upPair(addrA: string, addrB: string) {
  const a = await manager(addrA);
  const b = await manager(addrB);
  const upA = next(a, 'up');
  const upB = next(b, 'up');
  a.addPeer({ peer: addrB, local: addrA, port: b.port, ...TIMERS });
  b.addPeer({ peer: addrA, local: addrB, port: a.port, ...TIMERS });
  await Promise.all([upA, upB]);
  return { a, b };
}

describe('BfdManager on loopback', () => {
  it('a process that stalls past the detection time reads the waiting packets before it declares the peer Down', async () => {
    const { a, b } = await upPair('127.0.0.1', '127.0.0.2');
    await until(() => a.list()[0]?.remoteState === 'Up' && b.list()[0]?.remoteState === 'Up', 2000);
    await new Promise((r) => setTimeout(r, 500)); // Poll Sequence settles on 100 ms × 3
    const downs: BfdTransition[] = [];
    a.on('down', (t) => downs.push(t));
    b.on('down', (t) => downs.push(t));
    // Both ends live in this process: for 1 s (> the 300 ms detection time) nothing runs, as in a
    // long GC pause. When it ends, the transmit timers fire first and their packets are already
    // in the sockets when the detection timers fire.
    const end = performance.now() + 1000;
    while (performance.now() < end) {
      // busy
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(downs).toEqual([]);
    expect([a.list()[0]!.state, b.list()[0]!.state]).toEqual(['Up', 'Up']);
  });

  it('two managers come Up; silencing one takes the other Down by detection timeout', async () => {
    const { a, b } = await upPair('127.0.0.1', '127.0.0.2');
    // A may have gone Up on B's Init; it learns B is Up from B's next packet.
    await until(() => a.list()[0]?.remoteState === 'Up', 2000);
    const [infoA] = a.list();
    expect(infoA).toMatchObject({ peer: '127.0.0.2', state: 'Up', remoteState: 'Up' });
    expect(infoA!.sourcePort).toBeGreaterThanOrEqual(SOURCE_PORT_MIN);
    expect(infoA!.sourcePort).toBeLessThanOrEqual(SOURCE_PORT_MAX);
    expect(infoA!.counters.rxPackets).toBeGreaterThan(0);
    expect(infoA!.remoteDiscriminator).toBe(b.list()[0]!.localDiscriminator);
    // Let the Poll Sequence after Up settle on 100 ms × 3.
    await new Promise((r) => setTimeout(r, 500));
    expect(a.list()[0]).toMatchObject({ txIntervalMs: 100, detectTimeMs: 300, pollActive: false });

    const down = next(a, 'down');
    const t0 = performance.now();
    await b.stop({ graceful: false }); // falls silent, as a crashed process would
    const ev = await down;
    const ms = performance.now() - t0;
    console.log(`[bfd] loopback IPv4 detection: ${ms.toFixed(1)} ms (detect time 300 ms)`);
    expect(ev).toMatchObject({ peer: '127.0.0.2', from: 'Up', to: 'Down', reason: 'detection-timeout', diag: 1 });
    expect(ms).toBeLessThan(1000);
  });

  it('comes Up over IPv6 (::1) and detects a silent peer', async () => {
    const a = await manager('::1');
    const b = await manager('::1');
    const up = Promise.all([next(a, 'up'), next(b, 'up')]);
    a.addPeer({ peer: '::1', port: b.port, ...TIMERS });
    b.addPeer({ peer: '::1', port: a.port, ...TIMERS });
    await up;
    await new Promise((r) => setTimeout(r, 500));
    const down = next(a, 'down');
    const t0 = performance.now();
    await b.stop({ graceful: false });
    const ev = await down;
    const ms = performance.now() - t0;
    console.log(`[bfd] loopback IPv6 detection: ${ms.toFixed(1)} ms (detect time 300 ms)`);
    expect(ev).toMatchObject({ reason: 'detection-timeout', diag: 1 });
    expect(ms).toBeLessThan(1000);
  });

  it('removePeer signals AdminDown: the peer goes Down at once with diag 3', async () => {
    const { a, b } = await upPair('127.0.0.1', '127.0.0.3');
    const down = next(a, 'down');
    expect(b.removePeer('127.0.0.1')).toBe(true);
    // Told, not timed out.
    expect(await down).toMatchObject({ reason: 'received-admin-down', diag: 3, remoteState: 'AdminDown' });
    expect(b.list()).toEqual([]);
    expect(b.removePeer('127.0.0.1')).toBe(false);
  });

  it('demultiplexes several peers on one socket and drops garbage without harm', async () => {
    const a = await manager('127.0.0.1');
    const b = await manager('127.0.0.4');
    const c = await manager('127.0.0.5');
    const ups = [next(b, 'up'), next(c, 'up'), next(a, 'up', (t) => t.peer === '127.0.0.4'), next(a, 'up', (t) => t.peer === '127.0.0.5')];
    a.addPeer({ peer: '127.0.0.4', port: b.port, ...TIMERS });
    a.addPeer({ peer: '127.0.0.5', port: c.port, ...TIMERS });
    b.addPeer({ peer: '127.0.0.1', local: '127.0.0.4', port: a.port, ...TIMERS });
    c.addPeer({ peer: '127.0.0.1', local: '127.0.0.5', port: a.port, ...TIMERS });
    await Promise.all(ups);
    const list = a.list();
    expect(list.map((p) => [p.peer, p.state]).sort()).toEqual([['127.0.0.4', 'Up'], ['127.0.0.5', 'Up']]);
    expect(new Set(list.map((p) => p.localDiscriminator)).size).toBe(2);
    expect(() => a.addPeer({ peer: '127.0.0.4', ...TIMERS })).toThrow(/already exists/);

    // Garbage, a valid packet for an unknown discriminator, and an unknown address.
    const junk = dgram.createSocket('udp4');
    try {
      const send = (buf: Buffer) =>
        new Promise<void>((r, j) => junk.send(buf, a.port, '127.0.0.1', (e) => (e ? j(e) : r())));
      await new Promise<void>((r) => junk.bind(0, '127.0.0.9', () => r()));
      await send(Buffer.from('not bfd at all'));
      // Up, my discriminator 1, your discriminator 0x12345678 (no such session), 100 ms, 100 ms.
      const unknownDiscr = Buffer.from('20c00318' + '00000001' + '12345678' + '000186a0' + '000186a0' + '00000000', 'hex');
      await send(unknownDiscr);
      // Down, your discriminator 0, from 127.0.0.9: no session for that address.
      const fromStranger = Buffer.from('20400318' + '00000001' + '00000000' + '000f4240' + '000f4240' + '00000000', 'hex');
      await send(fromStranger);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      junk.close();
    }
    const st = a.stats();
    expect(st.rxDiscarded['bad-version']).toBe(1);
    expect(st.rxDiscarded['unknown-discriminator']).toBe(1);
    expect(st.rxDiscarded['unknown-peer']).toBe(1);
    expect(a.list().every((p) => p.state === 'Up')).toBe(true);
  });

  it('rejects bad peers and refuses a port already in use', async () => {
    const a = await manager('127.0.0.1');
    expect(() => a.addPeer({ peer: 'not-an-ip', ...TIMERS })).toThrow(/not an IP address/);
    expect(() => a.addPeer({ peer: '127.0.0.8', local: '::1', ...TIMERS })).toThrow(/IPv4/);
    expect(() => a.addPeer({ peer: '127.0.0.8', ...TIMERS, multiplier: 0 })).toThrow(/multiplier/);
    const clash = new BfdManager({ bind: ['127.0.0.1'], port: a.port });
    await expect(clash.start()).rejects.toMatchObject({ code: 'TERN_ERR_BFD' });
  });
});
