// The start-up warm-up of the UPDATE path: it really runs routes through a RIB (so the code it
// is meant to train is the code that ran), nothing of it reaches a speaker's own RIB, and a
// reflector does not run it. The warm-up runs once per process (each test file has its own module
// state), so the reflector is started first.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { warmUpUpdatePath } from '../../../src/bgp/rib/warmup.js';
import { BgpSchema } from '../../../src/bgp/speaker/config.js';
import { Speaker } from '../../../src/bgp/speaker/speaker.js';

describe('warmUpUpdatePath', () => {
  it('ingests every synthetic prefix of both families and withdraws the IPv4 ones', () => {
    const r = warmUpUpdatePath({ v4: 3000, v6: 700, rounds: 2 });
    expect(r.prefixes).toBe(2 * 3700);
    expect(r.held).toEqual({ v4: 3000, v6: 700, v4AfterWithdraw: 0 });
    expect(r.ms).toBeGreaterThan(0);
  });

  it('a reflector skips it; the first speaker runs it and keeps only its own routes', async () => {
    const msgs: string[] = [];
    const log = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _e, cb) { msgs.push((JSON.parse(chunk.toString()) as { msg: string }).msg); cb(); } }));
    const rr = new Speaker({ log, config: BgpSchema.parse({ asNumber: 65001, routerId: '10.0.0.2', role: 'reflector', listen: { port: 0 } }) });
    await rr.start();
    await rr.stop();
    expect(msgs).not.toContain('UPDATE path warmed up');
    const sp = new Speaker({ log, config: BgpSchema.parse({ asNumber: 65001, routerId: '10.0.0.1', listen: { port: 0 }, originate: [{ prefix: '10.9.0.0/24' }] }) });
    await sp.start();
    expect(msgs).toContain('UPDATE path warmed up');
    try {
      const st = sp.rib.stats();
      expect([st.ipv4Prefixes, st.ipv6Prefixes]).toEqual([1, 0]);
      expect(sp.rib.lookup('198.18.0.0/24')).toBeNull();
      expect(sp.listPeers()).toEqual([]);
    } finally {
      await sp.stop();
    }
  });
});
