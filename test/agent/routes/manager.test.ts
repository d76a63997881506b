// RouteManager against the real kernel, inside namespaces these tests create (trt<pid>-*).
// Nothing here touches the root namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouteManager, type RouteManagerOptions } from '../../../src/agent/routes/manager.js';
import type { ProgrammerMode } from '../../../src/agent/routes/ip.js';
import type { RouteSpec } from '../../../src/agent/routes/model.js';
import { TestNetns, eventually, ip, ipOk, nodeNamespace, routesFor, sleep, ternRoutes } from './netns.js';

const t = new TestNetns();
const managers: RouteManager[] = [];
const children: ChildProcess[] = [];
let ns: string;

process.once('exit', () => t.destroySync());

beforeAll(async () => {
  ns = await nodeNamespace(t, 'a');
});

afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // Each test starts from no Tern routes (inside the test namespace only).
  await ip(['-n', ns, '-4', 'route', 'flush', 'table', 'all', 'proto', '44']);
  await ip(['-n', ns, '-6', 'route', 'flush', 'table', 'all', 'proto', '44']);
});

afterAll(async () => {
  await t.destroy();
});

function manager(opts: RouteManagerOptions = {}): RouteManager {
  const m = new RouteManager({ netns: ns, resyncIntervalMs: 0, ...opts });
  managers.push(m);
  return m;
}

const ALL_KINDS: RouteSpec[] = [
  { kind: 'local', dst: '10.1.0.5/32', dev: 'cali1' },
  { kind: 'local', dst: '10.1.0.6/32', dev: 'cali2' },
  { kind: 'blackhole', dst: '10.1.0.0/26' },
  { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2' }] },
  { kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.3' }] },
  { kind: 'via', dst: '10.5.0.0/26', nexthops: [{ via: '10.99.0.4', dev: 'd0', onlink: true }] },
  { kind: 'local', dst: 'fd01::5/128', dev: 'cali1' },
  { kind: 'blackhole', dst: 'fd01::/122' },
  { kind: 'via', dst: 'fd02::/122', nexthops: [{ via: 'fd99::2' }] },
  { kind: 'via', dst: 'fd03::/122', nexthops: [{ via: 'fd99::2', dev: 'd0' }, { via: 'fd99::3', dev: 'd0' }] },
];

// What `ip -N route show proto 44` prints for ALL_KINDS (the filter's own protocol is not repeated).
const ALL_KINDS_KERNEL = [
  '10.1.0.5 dev cali1 scope 253',
  '10.1.0.6 dev cali2 scope 253',
  '10.2.0.0/26 via 10.99.0.2 dev d0',
  '10.3.0.0/26 | nexthop via 10.99.0.2 dev d0 weight 1 | nexthop via 10.99.0.3 dev d0 weight 1',
  '10.5.0.0/26 via 10.99.0.4 dev d0 onlink',
  '6 10.1.0.0/26',
  '6 fd01::/122 dev lo metric 1024',
  'fd01::5 dev cali1 metric 1024',
  'fd02::/122 via fd99::2 dev d0 metric 1024',
  'fd03::/122 metric 1024 | nexthop via fd99::2 dev d0 weight 1 | nexthop via fd99::3 dev d0 weight 1',
].sort();

/** Records every route change in ns (`ip monitor route`) until stopped. */
function watchRoutes(): { lines: () => string[]; stop: () => void } {
  const c = spawn('ip', ['-n', ns, '-N', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  let out = '';
  c.stdout.on('data', (b: Buffer) => (out += b.toString()));
  return { lines: () => out.split('\n').filter(Boolean), stop: () => c.kill('SIGTERM') };
}

describe.each<ProgrammerMode>(['persistent', 'spawn'])('RouteManager (%s ip -batch)', (mode) => {
  it('installs every kind of route and reads them back; a second apply changes nothing', async () => {
    const m = manager({ programmer: mode });
    m.setDesired(ALL_KINDS);
    const first = await m.apply();
    expect(first.failures).toEqual([]);
    expect(first.adds).toBe(ALL_KINDS.length);
    expect(await ternRoutes(ns)).toEqual(ALL_KINDS_KERNEL);

    const writes = m.stats.kernelWrites;
    const again = await m.resync(); // full kernel read and diff
    expect(again).toMatchObject({ kernelRead: true, adds: 0, replaces: 0, deletes: 0, unchanged: ALL_KINDS.length });
    expect(m.stats.kernelWrites).toBe(writes);
  });

  it('changes a next hop in place, grows and shrinks ECMP, removes routes', async () => {
    const m = manager({ programmer: mode });
    m.setDesired(ALL_KINDS);
    await m.apply();
    const watch = watchRoutes();
    await sleep(100);

    m.upsert({ kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.7' }] });
    expect(await m.apply()).toMatchObject({ replaces: 1, adds: 0, deletes: 0 });
    expect(await routesFor(ns, '10.2.0.0/26')).toEqual(['10.2.0.0/26 via 10.99.0.7 dev d0 proto 44']);

    m.upsert({ kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.3' }, { via: '10.99.0.4' }] });
    expect(await m.apply()).toMatchObject({ replaces: 1 });
    expect((await ternRoutes(ns)).find((l) => l.startsWith('10.3.0.0/26'))).toBe(
      '10.3.0.0/26 | nexthop via 10.99.0.2 dev d0 weight 1 | nexthop via 10.99.0.3 dev d0 weight 1 | nexthop via 10.99.0.4 dev d0 weight 1',
    );
    m.upsert({ kind: 'via', dst: 'fd03::/122', nexthops: [{ via: 'fd99::3', dev: 'd0' }] });
    m.upsert({ kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.4' }, { via: '10.99.0.2' }] });
    expect(await m.apply()).toMatchObject({ replaces: 2 });
    expect((await ternRoutes(ns)).filter((l) => /^(10\.3|fd03)/.test(l))).toEqual([
      '10.3.0.0/26 | nexthop via 10.99.0.2 dev d0 weight 1 | nexthop via 10.99.0.4 dev d0 weight 1',
      'fd03::/122 via fd99::3 dev d0 metric 1024',
    ]);

    m.delete({ dst: '10.1.0.6/32' });
    m.setDesired(ALL_KINDS.filter((r) => r.dst !== '10.1.0.6/32' && r.dst !== 'fd01::/122' && r.dst !== '10.3.0.0/26' && r.dst !== 'fd03::/122'));
    const del = await m.apply();
    expect(del).toMatchObject({ deletes: 4, adds: 0 });
    const left = await ternRoutes(ns);
    expect(left.some((l) => /^(10\.1\.0\.6|6 fd01::|10\.3|fd03)/.test(l))).toBe(false);
    expect(left).toHaveLength(ALL_KINDS.length - 4);

    // The in-place change made no deletion of the changed prefixes (no gap in forwarding).
    await sleep(100);
    watch.stop();
    expect(watch.lines().filter((l) => /^Deleted (10\.2\.0\.0\/26)/.test(l))).toEqual([]);
  });
});

describe('RouteManager and routes it does not own', () => {
  it('never touches a foreign route, even on a prefix it wants, and reports the conflict', async () => {
    await ipOk(['-n', ns, 'route', 'add', '10.50.0.0/24', 'via', '10.99.0.9', 'proto', 'static']);
    await ipOk(['-n', ns, '-6', 'route', 'add', 'fd50::/64', 'via', 'fd99::9', 'proto', 'static']);
    await ipOk(['-n', ns, 'route', 'add', '10.51.0.0/24', 'via', '10.99.0.9', 'proto', 'static', 'metric', '100']);
    await ipOk(['-n', ns, 'route', 'add', '10.52.0.0/24', 'via', '10.99.0.9', 'proto', 'boot']);
    try {
      const m = manager();
      await m.start();
      m.setDesired([
        { kind: 'via', dst: '10.50.0.0/24', nexthops: [{ via: '10.99.0.2' }] }, // same key: blocked
        { kind: 'via', dst: 'fd50::/64', nexthops: [{ via: 'fd99::2' }] }, // same key: blocked
        { kind: 'via', dst: '10.51.0.0/24', nexthops: [{ via: '10.99.0.2' }] }, // other metric: both
      ]);
      await m.settled();
      const conflicts = m.conflicts().map((c) => `${c.key} p${c.foreignProtocol} ${c.blocking ? 'blocking' : 'shadow'}`).sort();
      expect(conflicts).toEqual(['254 10.50.0.0/24 0 p4 blocking', '254 10.51.0.0/24 0 p4 shadow', '254 fd50::/64 1024 p4 blocking']);
      expect(await routesFor(ns, '10.50.0.0/24')).toEqual(['10.50.0.0/24 via 10.99.0.9 dev d0 proto 4']);
      expect(await routesFor(ns, 'fd50::/64')).toEqual(['fd50::/64 via fd99::9 dev d0 proto 4 metric 1024 pref medium']);
      expect(await routesFor(ns, '10.51.0.0/24')).toEqual(['10.51.0.0/24 via 10.99.0.2 dev d0 proto 44', '10.51.0.0/24 via 10.99.0.9 dev d0 proto 4 metric 100']);
      // Undesired, synced: Tern's own go, the foreign one at 10.52 stays.
      m.setDesired([]);
      await m.settled();
      expect(await ternRoutes(ns)).toEqual([]);
      // `proto boot`, the default of a hand-made `ip route add`, is the one protocol ip does not print.
      expect(await routesFor(ns, '10.52.0.0/24')).toEqual(['10.52.0.0/24 via 10.99.0.9 dev d0']);
      expect(await routesFor(ns, '10.50.0.0/24')).toHaveLength(1);

      // Once the foreign route is gone, the monitor sees it and Tern's route goes in.
      m.setDesired([{ kind: 'via', dst: '10.50.0.0/24', nexthops: [{ via: '10.99.0.2' }] }]);
      await m.settled();
      await ipOk(['-n', ns, 'route', 'del', '10.50.0.0/24', 'proto', 'static']);
      await eventually('Tern route after the foreign one left', async () => (await routesFor(ns, '10.50.0.0/24'))[0] === '10.50.0.0/24 via 10.99.0.2 dev d0 proto 44');
      await m.settled();
      expect(m.conflicts()).toEqual([]);
    } finally {
      for (const p of ['10.50.0.0/24', '10.51.0.0/24', '10.52.0.0/24']) await ip(['-n', ns, 'route', 'flush', 'exact', p]);
      await ip(['-n', ns, '-6', 'route', 'flush', 'exact', 'fd50::/64']);
    }
  });
});

describe('RouteManager drift repair', () => {
  it('restores a Tern route deleted or changed by hand, through the monitor', async () => {
    const m = manager({ resyncIntervalMs: 0 });
    m.setDesired(ALL_KINDS);
    await m.start();
    expect(await ternRoutes(ns)).toEqual(ALL_KINDS_KERNEL);

    await ipOk(['-n', ns, 'route', 'del', '10.1.0.5/32', 'proto', '44']);
    await ipOk(['-n', ns, '-6', 'route', 'del', 'fd03::/122', 'proto', '44']);
    await eventually('deleted routes restored', async () => (await ternRoutes(ns)).length === ALL_KINDS_KERNEL.length);
    await ipOk(['-n', ns, 'route', 'replace', '10.2.0.0/26', 'via', '10.99.0.8', 'proto', '44']);
    await eventually('changed route restored', async () => (await routesFor(ns, '10.2.0.0/26'))[0] === '10.2.0.0/26 via 10.99.0.2 dev d0 proto 44');
    await m.settled();
    expect(await ternRoutes(ns)).toEqual(ALL_KINDS_KERNEL);
    expect(m.stats.driftEvents).toBeGreaterThanOrEqual(3);
  });

  it('restores a deleted route on the periodic resync when there is no monitor', async () => {
    const m = manager({ monitor: false, resyncIntervalMs: 200 });
    m.setDesired(ALL_KINDS);
    await m.start();
    const reads = m.stats.kernelReads;
    await ipOk(['-n', ns, 'route', 'del', 'blackhole', '10.1.0.0/26', 'proto', '44']);
    await eventually('blackhole restored', async () => (await ternRoutes(ns)).includes('6 10.1.0.0/26'));
    expect(m.stats.kernelReads).toBeGreaterThan(reads);
    expect(m.stats.driftEvents).toBe(0);
  });

  it('installs a pod route once its veth appears (link event), reporting the failure meanwhile', async () => {
    const m = manager();
    await m.start();
    try {
      m.setDesired([{ kind: 'local', dst: '10.1.0.9/32', dev: 'cali9' }]);
      await m.settled();
      expect(m.failures().map((f) => f.message)).toEqual(['Cannot find device "cali9"']);
      await ipOk(['-n', ns, 'link', 'add', 'cali9', 'type', 'veth', 'peer', 'name', 'cali9p']);
      await ipOk(['-n', ns, 'link', 'set', 'cali9', 'up']);
      await eventually('route on the new veth', async () => (await ternRoutes(ns)).includes('10.1.0.9 dev cali9 scope 253 linkdown'));
      await m.settled();
      expect(m.failures()).toEqual([]);
    } finally {
      await ip(['-n', ns, 'link', 'del', 'cali9']);
    }
  });
});

describe('RouteManager updates and restarts', () => {
  it('coalesces a burst of updates into one apply', async () => {
    const m = manager({ coalesceMs: 10 });
    await m.start();
    const applies = m.stats.applies;
    for (let i = 0; i < 200; i++) m.upsert({ kind: 'via', dst: `10.60.${i}.0/24`, nexthops: [{ via: '10.99.0.2' }] });
    await m.settled();
    expect(m.stats.applies - applies).toBe(1);
    expect(m.stats.adds).toBe(200);
    expect((await ternRoutes(ns)).length).toBe(200);
  });

  it('a new manager with the same desired state adopts the routes with zero kernel writes', async () => {
    const m1 = manager();
    m1.setDesired(ALL_KINDS);
    await m1.start();
    await m1.close();

    const watch = watchRoutes();
    await sleep(100);
    // Restart as an agent does: start before the desired state is rebuilt, then set it.
    const m2 = manager();
    const started = await m2.start();
    expect(started).toMatchObject({ kernelRead: true, adds: 0, replaces: 0, deletes: 0 });
    m2.setDesired(ALL_KINDS);
    await m2.settled();
    const r = await m2.resync();
    expect(r).toMatchObject({ adds: 0, replaces: 0, deletes: 0, unchanged: ALL_KINDS.length });
    expect(m2.stats.kernelWrites).toBe(0);
    await sleep(100);
    watch.stop();
    expect(watch.lines().filter((l) => / proto 44 /.test(l))).toEqual([]);
    expect(await ternRoutes(ns)).toEqual(ALL_KINDS_KERNEL);
  });

  it('a new manager deletes stale Tern routes only once its desired state is complete', async () => {
    const m1 = manager();
    m1.setDesired(ALL_KINDS);
    await m1.start();
    await m1.close();
    const m2 = manager();
    await m2.start();
    m2.upsert({ kind: 'blackhole', dst: '10.1.0.0/26' });
    await m2.settled();
    expect(await ternRoutes(ns)).toEqual(ALL_KINDS_KERNEL);
    m2.markSynced();
    await m2.settled();
    expect(await ternRoutes(ns)).toEqual(['6 10.1.0.0/26']);
  });
});

describe('RouteManager traffic', () => {
  let host: string;
  let pod: string;
  beforeAll(async () => {
    host = await t.add('h');
    pod = await t.add('p');
    await ipOk(['-n', host, 'link', 'add', 'calia1b2c3', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod]);
    await t.batch(host, ['link set calia1b2c3 up', 'addr add 10.99.0.1/32 dev lo', 'addr add fd99::1/128 dev lo']);
    await t.batch(pod, ['link set eth0 up', 'addr add 10.1.0.5/32 dev eth0', 'addr add fd01::5/128 dev eth0 nodad', 'route add 10.99.0.1/32 dev eth0 scope link']);
    // IPv6 back to the host over the veth's link-local address.
    await ipOk(['-n', host, '-6', 'addr', 'add', 'fe80::1/64', 'dev', 'calia1b2c3', 'nodad']);
    await ipOk(['-n', pod, '-6', 'route', 'add', 'fd99::1/128', 'via', 'fe80::1', 'dev', 'eth0']);
  });

  const POD_ROUTES: RouteSpec[] = [
    { kind: 'local', dst: '10.1.0.5/32', dev: 'calia1b2c3' },
    { kind: 'local', dst: 'fd01::5/128', dev: 'calia1b2c3' },
    { kind: 'blackhole', dst: '10.1.0.0/26' },
    { kind: 'blackhole', dst: 'fd01::/122' },
  ];

  async function ping(args: string[]): Promise<{ sent: number; received: number; out: string }> {
    const c = spawn('ip', ['netns', 'exec', host, 'ping', '-n', '-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((r) => c.once('close', r));
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), out };
  }

  it('pod traffic needs the route, blackholes drop the rest of the block, and a restart loses no packet', async () => {
    const routeGet = async (addr: string) => (await ipOk(['-n', host, '-N', 'route', 'get', addr])).trim();
    // Without Tern's route the pod is unreachable.
    expect((await ping(['-c', '1', '-W', '1', '10.1.0.5'])).received).toBe(0);

    const m1 = new RouteManager({ netns: host, resyncIntervalMs: 0 });
    managers.push(m1);
    m1.setDesired(POD_ROUTES);
    await m1.start();
    expect((await ping(['-c', '3', '-i', '0.01', '-W', '1', '10.1.0.5'])).received).toBe(3);
    expect((await ping(['-6', '-c', '3', '-i', '0.01', '-W', '1', 'fd01::5'])).received).toBe(3);
    // The kernel answers a lookup that hits a blackhole with EINVAL; the pod's /32 wins inside the block.
    expect((await ip(['-n', host, 'route', 'get', '10.1.0.9'])).stderr).toMatch(/Invalid argument/);
    expect((await ip(['-n', host, '-6', 'route', 'get', 'fd01::9'])).stderr).toMatch(/Invalid argument|Network is unreachable/);
    expect(await routeGet('10.1.0.5')).toMatch(/^10\.1\.0\.5 dev calia1b2c3/);

    // 500 pings, 10 ms apart, while the manager is closed and a new one adopts the routes.
    const watch = spawn('ip', ['-n', host, '-N', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(watch);
    let events = '';
    watch.stdout.on('data', (b: Buffer) => (events += b.toString()));
    const flood = ping(['-i', '0.01', '-c', '500', '-W', '1', '10.1.0.5']);
    await sleep(1000);
    await m1.close();
    const m2 = new RouteManager({ netns: host, resyncIntervalMs: 0 });
    managers.push(m2);
    await m2.start();
    m2.setDesired(POD_ROUTES);
    await m2.settled();
    const res = await flood;
    watch.kill('SIGTERM');
    expect(res.sent).toBe(500);
    expect(res.received).toBe(500);
    expect(m2.stats.kernelWrites).toBe(0);
    // Nothing Tern owns changed (the kernel's own events, e.g. a link-local address, are not Tern's).
    expect(events.split('\n').filter((l) => / proto 44 /.test(l))).toEqual([]);
  });
});
