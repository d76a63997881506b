// The start-up warm-up of the UPDATE path: it really runs routes through a RIB (so the code it
// is meant to train is the code that ran), and nothing of it reaches a speaker's own RIB.
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

  it('leaves a started speaker with only its own routes', async () => {
    const sp = new Speaker({ config: BgpSchema.parse({ asNumber: 65001, routerId: '10.0.0.1', listen: { port: 0 }, originate: [{ prefix: '10.9.0.0/24' }] }) });
    await sp.start();
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
