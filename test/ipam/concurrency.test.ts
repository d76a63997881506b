// Many agents assigning at once against one real etcd: several Ipam instances, each with its own
// etcd client, and every node's requests spread over all of them so that instances race for the
// same blocks. Whatever the interleaving: no address is given twice, none is lost, and the
// stored records agree with each other and with what the callers were told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { EtcdServer } from '../../src/lab/etcd.js';
import { Ipam, type AssignResult } from '../../src/ipam/index.js';
import { isTernError } from '../../src/errors/index.js';
import { cidrContainsIp, parseCidr, parseIp } from '../../src/net/ip.js';
import { checkState, freshKeys, putPool } from './helpers.js';

const AGENTS = 4;
const server = new EtcdServer();
let clients: Etcd3[] = [];

beforeAll(async () => {
  await server.start();
  clients = Array.from({ length: AGENTS }, () => new Etcd3({ hosts: server.endpoint }));
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.destroy();
});

type Outcome = { handle: string; node: string; ok: AssignResult } | { handle: string; node: string; err: unknown };

async function storm(ipams: Ipam[], nodes: number, perNode: number): Promise<{ outcomes: Outcome[]; ms: number }> {
  const calls: Promise<Outcome>[] = [];
  const t0 = performance.now();
  for (let n = 0; n < nodes; n++) {
    for (let j = 0; j < perNode; j++) {
      const node = `node-${n}`;
      const handle = `ctr-${n}-${j}.eth0`;
      const ipam = ipams[(n + j) % ipams.length]!;
      calls.push(ipam.assign({ handle, node }).then((ok) => ({ handle, node, ok }), (err: unknown) => ({ handle, node, err })));
    }
  }
  const outcomes = await Promise.all(calls);
  return { outcomes, ms: performance.now() - t0 };
}

describe('concurrent assignment', () => {
  it('20 nodes x 50 pods at once through 4 agents: unique, complete, every address in its node\'s own blocks', async () => {
    const keys = freshKeys();
    await putPool(clients[0]!, keys, 'big', { cidr: '10.128.0.0/16', blockSize: 26 });
    const ipams = clients.map((c) => new Ipam(c, keys));
    const { outcomes, ms } = await storm(ipams, 20, 50);
    const conflicts = ipams.reduce((n, i) => n + i.stats.conflicts, 0);
    const claimed = ipams.reduce((n, i) => n + i.stats.claimed, 0);
    console.log(`IPAM: 1000 concurrent assignments (20 nodes x 50, ${AGENTS} agents) took ${ms.toFixed(0)} ms; ${conflicts} lost compare-and-swap races retried, ${claimed} blocks claimed`);

    const failed = outcomes.filter((o) => 'err' in o);
    expect(failed.map((o) => String((o as { err: unknown }).err))).toEqual([]);
    const ok = outcomes as Array<{ handle: string; node: string; ok: AssignResult }>;
    const ips = ok.map((o) => o.ok.ipv4!);
    expect(new Set(ips).size).toBe(1000);
    for (const ip of ips) expect(cidrContainsIp(parseCidr('10.128.0.0/16'), parseIp(ip))).toBe(true);

    const s = await checkState(clients[0]!, keys);
    // None lost: exactly the 1000 allocations, each mapping back to the handle that was told it.
    expect(s.allocations).toHaveLength(1000);
    expect(s.handles.size).toBe(1000);
    const byHandle = new Map(s.allocations.map((a) => [a.handle, a]));
    for (const o of ok) {
      const a = byHandle.get(o.handle)!;
      expect(a.ip).toBe(o.ok.ipv4);
      expect(a.node).toBe(o.node);
      // With room in the pool nobody borrows: the block is affine to the node holding the address.
      expect(a.affinity).toBe(o.node);
      expect(o.ok.blocks).toEqual([a.block]);
    }
    // Each agent claims at most one block per node before it has room again: no more than 4 blocks a node.
    for (let n = 0; n < 20; n++) {
      const mine = s.affinities.get(`node-${n}`) ?? [];
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.length).toBeLessThanOrEqual(AGENTS);
    }

    // The same 1000 requests again: idempotent, nothing new allocated.
    const again = await storm(ipams, 20, 50);
    expect(again.outcomes.map((o) => ('ok' in o ? o.ok.ipv4 : 'error'))).toEqual(ips);
    expect((await checkState(clients[0]!, keys)).allocations).toHaveLength(1000);
  });

  it('a pool too small for a block per node: nodes borrow, the pool fills exactly, the rest get EXHAUSTED', async () => {
    const keys = freshKeys();
    // 16 blocks of 16 addresses = 256 addresses for 20 nodes x 13 = 260 requests.
    await putPool(clients[0]!, keys, 'small', { cidr: '10.129.0.0/24', blockSize: 28 });
    const ipams = clients.map((c) => new Ipam(c, keys));
    const { outcomes } = await storm(ipams, 20, 13);

    const ok = outcomes.filter((o): o is Extract<Outcome, { ok: AssignResult }> => 'ok' in o);
    const failed = outcomes.filter((o): o is Extract<Outcome, { err: unknown }> => 'err' in o);
    expect(failed.map((f) => (isTernError(f.err) ? f.err.code : String(f.err)))).toEqual(Array(4).fill('TERN_ERR_IPAM_EXHAUSTED'));
    expect(ok).toHaveLength(256);
    expect(new Set(ok.map((o) => o.ok.ipv4)).size).toBe(256);

    const s = await checkState(clients[0]!, keys);
    expect(s.blocks).toHaveLength(16);
    expect(ipams.reduce((n, i) => n + i.stats.borrowed, 0)).toBe(s.allocations.filter((a) => a.affinity !== a.node).length);
    expect(s.allocations).toHaveLength(256);
    const byHandle = new Map(s.allocations.map((a) => [a.handle, a]));
    for (const o of ok) expect(byHandle.get(o.handle)).toMatchObject({ ip: o.ok.ipv4, node: o.node });
    for (const f of failed) expect(s.handles.has(f.handle)).toBe(false);
    // At most 16 nodes hold a block; the others got every address they have by borrowing.
    const withBlocks = [...s.affinities.keys()];
    expect(withBlocks.length).toBeLessThanOrEqual(16);
    const homeless = Array.from({ length: 20 }, (_, n) => `node-${n}`).filter((n) => !s.affinities.has(n));
    expect(homeless.length).toBeGreaterThanOrEqual(4);
    const borrowed = s.allocations.filter((a) => a.affinity !== a.node);
    for (const n of homeless) expect(borrowed.filter((a) => a.node === n).length).toBeGreaterThan(0);
  });

  it('releases racing assignments and releases of the same handles keep the records consistent', async () => {
    const keys = freshKeys();
    await putPool(clients[0]!, keys, 'churn', { cidr: '10.130.0.0/22', blockSize: 27 });
    const ipams = clients.map((c) => new Ipam(c, keys));
    await storm(ipams, 8, 20);
    const ops: Promise<unknown>[] = [];
    for (let n = 0; n < 8; n++) {
      for (let j = 0; j < 20; j++) {
        const ipam = ipams[(n * 3 + j) % AGENTS]!;
        // Half are released, a quarter re-assigned at the same time (ADD racing DEL), and new pods arrive.
        if (j % 2 === 0) ops.push(ipam.release(`ctr-${n}-${j}.eth0`));
        if (j % 4 === 0) ops.push(ipams[(n + j + 1) % AGENTS]!.assign({ handle: `ctr-${n}-${j}.eth0`, node: `node-${n}` }));
        ops.push(ipam.assign({ handle: `new-${n}-${j}.eth0`, node: `node-${n}` }));
      }
    }
    const settled = await Promise.allSettled(ops);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    const s = await checkState(clients[0]!, keys);
    expect(new Set(s.allocations.map((a) => a.ip)).size).toBe(s.allocations.length);
    // 80 kept + 160 new + between 0 and 40 re-assigned after their release.
    expect(s.allocations.length).toBeGreaterThanOrEqual(240);
    expect(s.allocations.length).toBeLessThanOrEqual(280);
    for (let n = 0; n < 8; n++) for (let j = 1; j < 20; j += 2) expect(s.handles.has(`ctr-${n}-${j}.eth0`)).toBe(true);
  });
});
