// BirdCtl against a real BIRD in a namespace this test makes: the greeting, multi-line replies,
// error codes, several queries in flight on one connection, and a closed socket.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { BirdCtl, BirdCtlError, LazyBirdCtl } from '../../src/lab/bird-ctl.js';
import { Lab } from '../../src/lab/netns.js';
import type { ManagedProcess } from '../../src/lab/process.js';

describe('BirdCtl: BIRD control socket client', () => {
  let lab: Lab;
  let bird: ManagedProcess;
  let sock = '';
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addHost('b1');
    const conf = join(lab.dir, 'b1.conf');
    sock = join(lab.dir, 'b1.ctl');
    // Static routes in a table of their own: BIRD keeps them, no kernel protocol installs them.
    const routes = Array.from({ length: 300 }, (_, i) => `route 10.${i >> 8}.${i & 255}.0/24 blackhole;`).join('\n');
    writeFileSync(conf, `router id 10.0.0.1;\nprotocol device {}\nprotocol static st1 { ipv4; ${routes} }\n`);
    bird = lab.spawn('b1', 'bird', ['-f', '-c', conf, '-s', sock]);
    const end = Date.now() + 15_000;
    for (;;) {
      const c = await BirdCtl.connect(sock, 1000).catch(() => null);
      if (c) {
        c.close();
        break;
      }
      if (Date.now() > end) throw new Error('BIRD did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await bird?.stop();
    await lab?.destroy();
  });

  it('answers one-line and many-line replies, in order, on one connection', async () => {
    const c = await BirdCtl.connect(sock);
    try {
      const [status, count, protos] = await Promise.all([c.query('show status'), c.query('show route count'), c.query('show protocols all st1')]);
      expect(status).toMatch(/Daemon is up and running/);
      expect(count).toMatch(/300 of 300 routes/);
      expect(protos.split('\n').find((l) => l.startsWith('st1'))).toMatch(/Static\s+master4\s+up/);
      expect(protos).toMatch(/Routes:\s+300 imported/);
      expect(await c.query('show route 10.1.2.0/24')).toMatch(/10\.1\.2\.0\/24\s+blackhole/);
    } finally {
      c.close();
    }
  });

  it('rejects BIRD errors with their code, and keeps the connection usable', async () => {
    const c = await BirdCtl.connect(sock);
    try {
      const e = await c.query('show nonsense').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BirdCtlError);
      expect((e as BirdCtlError).code).toBeGreaterThanOrEqual(8000);
      await expect(c.query('show route for 10.0.0.0/33')).rejects.toBeInstanceOf(BirdCtlError);
      expect(await c.query('show status')).toMatch(/Daemon is up/);
      await expect(c.query('show status\nshow status')).rejects.toThrow(/one line/);
    } finally {
      c.close();
    }
  });

  it('LazyBirdCtl connects on first use, keeps the connection across BIRD errors and opens a new one after a failure', async () => {
    const c = new LazyBirdCtl(sock);
    try {
      expect(await c.query('show status')).toMatch(/Daemon is up/);
      await expect(c.query('show nonsense')).rejects.toBeInstanceOf(BirdCtlError);
      expect(await c.query('show status')).toMatch(/Daemon is up/);
      c.close();
      expect(await c.query('show route count')).toMatch(/300 of 300 routes/);
    } finally {
      c.close();
    }
  });

  it('a reply that does not come in time rejects, and the connection is closed', async () => {
    // A server that greets like BIRD and then never answers.
    const path = join(lab.dir, 'mute.ctl');
    const conns: Socket[] = [];
    const srv = createServer((s) => {
      conns.push(s);
      s.write('0001 BIRD 2.0 ready.\n');
    });
    await new Promise<void>((r) => srv.listen(path, r));
    try {
      const c = await BirdCtl.connect(path);
      await expect(c.query('show status', 200)).rejects.toThrow(/did not answer "show status" within 200 ms/);
      await expect(c.query('show status')).rejects.toThrow();
    } finally {
      for (const s of conns) s.destroy();
      await new Promise((r) => srv.close(r));
    }
  });

  it('fails pending and later queries once the connection is gone', async () => {
    const c = await BirdCtl.connect(sock);
    c.close();
    await expect(c.query('show status')).rejects.toThrow();
    await expect(BirdCtl.connect(join(lab.dir, 'missing.ctl'), 500)).rejects.toThrow();
  });
});
