// The start-up warm-up of the UPDATE path: it really runs routes through a RIB (so the code it
// is meant to train is the code that ran); the compiled tern-bgpd runs it before its speaker
// starts, with nothing of it in the speaker's RIB, and tern-rrd does not run it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { unary } from '../../../src/grpc/index.js';
import { bgpProto } from '../../../src/proto/load.js';
import type { BgpClient } from '../../../src/proto/gen/tern/bgp/v1/Bgp.js';
import type { Stats__Output } from '../../../src/proto/gen/tern/bgp/v1/Stats.js';
import { FULL_TABLE_RESERVE } from '../../../src/bgp/rib/index.js';
import { warmUpUpdatePath } from '../../../src/bgp/rib/warmup.js';
import { freePort } from '../../../src/lab/ports.js';
import { Daemon, waitFor } from '../../robustness/harness.js';

describe('warmUpUpdatePath', () => {
  it('ingests every synthetic prefix of both families and withdraws the IPv4 ones', () => {
    const r = warmUpUpdatePath({ v4: 3000, v6: 700, rounds: 2 });
    expect(r.prefixes).toBe(2 * 3700);
    expect(r.held).toEqual({ v4: 3000, v6: 700, v4AfterWithdraw: 0 });
    expect(r.ms).toBeGreaterThan(0);
  });
});

describe('the daemons', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-warmup-'));
  const daemons: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (name: 'tern-bgpd' | 'tern-rrd'): Promise<Daemon> => {
    const d = Daemon.start({
      name,
      dir,
      logLevel: 'info',
      opsListen: `127.0.0.1:${await freePort('127.0.0.1')}`,
      config: { bgp: { asNumber: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port: 0 }, originate: [{ prefix: '10.9.0.0/24' }] } },
    });
    daemons.push(d);
    await waitFor(`${name} started`, async () => {
      d.assertAlive('start');
      if (d.logged('BGP speaker started').length === 0) throw new Error('not yet');
    });
    return d;
  };

  it('tern-bgpd warms up before its speaker starts and reserves a full table; its RIB holds only its own route', async () => {
    const d = await start('tern-bgpd');
    expect(d.logged('UPDATE path warmed up')).toEqual([expect.objectContaining({ prefixes: 24_000 })]);
    expect(d.logged('BGP speaker started')).toEqual([expect.objectContaining({ ribCapacity: { ...FULL_TABLE_RESERVE } })]);
    const text = d.logText();
    expect(text.indexOf('UPDATE path warmed up')).toBeLessThan(text.indexOf('BGP speaker started'));
    const c = new (bgpProto().tern.bgp.v1.Bgp)(`unix:${d.socket}`, grpc.credentials.createInsecure()) as unknown as BgpClient;
    try {
      const st = await waitFor('GetStats', () => unary<object, Stats__Output>(c.getStats.bind(c) as never, {}, 5000));
      expect([st.locRibIpv4Prefixes, st.locRibIpv6Prefixes]).toEqual([1, 0]);
    } finally {
      c.close();
    }
  });

  it('tern-rrd does neither', async () => {
    const d = await start('tern-rrd');
    expect(d.logged('UPDATE path warmed up')).toEqual([]);
    expect(d.logged('BGP speaker started')).toEqual([expect.objectContaining({ ribCapacity: { v4: 1024, v6: 1024 } })]);
  });
});
