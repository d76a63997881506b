// IPAM against a real etcd: assignment order (affine, claim, adopt, borrow, exhausted),
// idempotency, release, releaseNode, gc, IPv6 blocks, lookups and the report.
import { describe, expect, it } from 'vitest';
import { useEtcd } from '../helpers/etcd.js';
import { Ipam } from '../../src/ipam/index.js';
import { isTernError, type TernError } from '../../src/errors/index.js';
import { cidrContainsIp, parseCidr, parseIp } from '../../src/net/ip.js';
import { checkState, freshKeys, putNode, putPool } from './helpers.js';

const etcd = useEtcd();

async function setup(pools: Record<string, Record<string, unknown>>) {
  const keys = freshKeys();
  for (const [name, spec] of Object.entries(pools)) await putPool(etcd.client, keys, name, spec);
  return { keys, ipam: new Ipam(etcd.client, keys) };
}

async function rejects(p: Promise<unknown>): Promise<TernError> {
  try {
    await p;
  } catch (e) {
    if (isTernError(e)) return e;
    throw e;
  }
  throw new Error('expected a TernError');
}

const inside = (cidr: string, ip: string) => cidrContainsIp(parseCidr(cidr), parseIp(ip));

describe('assign and release', () => {
  it('claims a block for the node, records affinity and handle, and is idempotent', async () => {
    const { keys, ipam } = await setup({ default: { cidr: '10.244.0.0/16' } });
    const r = await ipam.assign({ handle: 'c1.eth0', node: 'n1', attrs: { namespace: 'default', pod: 'web-1' } });
    expect(r.ipv6).toBeUndefined();
    expect(r.blocks).toEqual(['10.244.0.0/26']);
    expect(inside('10.244.0.0/26', r.ipv4!)).toBe(true);

    const again = await ipam.assign({ handle: 'c1.eth0', node: 'n1' });
    expect(again).toEqual(r);
    const r2 = await ipam.assign({ handle: 'c2.eth0', node: 'n1' });
    expect(r2.blocks).toEqual(['10.244.0.0/26']);
    expect(r2.ipv4).not.toBe(r.ipv4);
    // Another node claims the next block.
    const r3 = await ipam.assign({ handle: 'c3.eth0', node: 'n2' });
    expect(r3.blocks).toEqual(['10.244.0.64/26']);

    const s = await checkState(etcd.client, keys);
    expect(s.allocations).toHaveLength(3);
    expect(s.affinities.get('n1')).toEqual(['10.244.0.0/26']);
    expect(s.affinities.get('n2')).toEqual(['10.244.0.64/26']);
    expect(s.handles.get('c1.eth0')?.attrs).toEqual({ namespace: 'default', pod: 'web-1' });
    expect(s.allocations.find((a) => a.handle === 'c1.eth0')?.ip).toBe(r.ipv4);

    expect(await ipam.release('c1.eth0')).toEqual([r.ipv4]);
    expect(await ipam.release('c1.eth0')).toEqual([]);
    expect(await ipam.release('never-assigned.eth0')).toEqual([]);
    const s2 = await checkState(etcd.client, keys);
    expect(s2.allocations.map((a) => a.handle).sort()).toEqual(['c2.eth0', 'c3.eth0']);
    // The node keeps its (now partly free) block; the freed address is not the next one given.
    const r4 = await ipam.assign({ handle: 'c4.eth0', node: 'n1' });
    expect(r4.blocks).toEqual(['10.244.0.0/26']);
    expect(r4.ipv4).not.toBe(r.ipv4);
  });

  it('refuses bad handles, a handle held by another node, and requests for no family', async () => {
    const { ipam } = await setup({ default: { cidr: '10.1.0.0/24' } });
    expect((await rejects(ipam.assign({ handle: 'a/b', node: 'n1' }))).code).toBe('TERN_ERR_IPAM');
    expect((await rejects(ipam.assign({ handle: 'ok.eth0', node: 'bad node' }))).code).toBe('TERN_ERR_IPAM');
    expect((await rejects(ipam.assign({ handle: 'ok.eth0', node: 'n1', ipv4: false }))).code).toBe('TERN_ERR_IPAM');
    await ipam.assign({ handle: 'ok.eth0', node: 'n1' });
    const e = await rejects(ipam.assign({ handle: 'ok.eth0', node: 'n2' }));
    expect(e.code).toBe('TERN_ERR_IPAM');
    expect(e.message).toContain('n1');
  });

  it('gives dual-stack handles one address per family and can add a family later', async () => {
    const { keys, ipam } = await setup({ v4: { cidr: '10.2.0.0/24' }, v6: { cidr: 'fd00:2::/64' } });
    const r = await ipam.assign({ handle: 'd1.eth0', node: 'n1', ipv6: true });
    expect(inside('10.2.0.0/26', r.ipv4!)).toBe(true);
    expect(inside('fd00:2::/122', r.ipv6!)).toBe(true);
    expect(r.blocks.sort()).toEqual(['10.2.0.0/26', 'fd00:2::/122']);

    const v4only = await ipam.assign({ handle: 'd2.eth0', node: 'n1' });
    const both = await ipam.assign({ handle: 'd2.eth0', node: 'n1', ipv6: true });
    expect(both.ipv4).toBe(v4only.ipv4);
    expect(both.ipv6).toBeDefined();
    const v6only = await ipam.assign({ handle: 'd3.eth0', node: 'n1', ipv4: false, ipv6: true });
    expect(v6only.ipv4).toBeUndefined();

    const s = await checkState(etcd.client, keys);
    expect(s.handles.get('d2.eth0')?.ips).toHaveLength(2);
    const freed = await ipam.release('d2.eth0');
    expect(freed.sort()).toEqual([both.ipv4!, both.ipv6!].sort());
    expect((await checkState(etcd.client, keys)).allocations).toHaveLength(3);
  });

  it('uses /122 blocks for IPv6 and claims the next one when a block is full', async () => {
    const { keys, ipam } = await setup({ v6: { cidr: 'fd00:6::/120' } });
    const ips: string[] = [];
    for (let i = 0; i < 65; i++) ips.push((await ipam.assign({ handle: `v6-${i}.eth0`, node: 'n1', ipv4: false, ipv6: true })).ipv6!);
    expect(new Set(ips).size).toBe(65);
    // Every address of the block is used, the network address (ordinal 0) and the last one too.
    expect(ips).toContain('fd00:6::');
    expect(ips).toContain('fd00:6::3f');
    expect(ips[64]).toBe('fd00:6::40');
    const s = await checkState(etcd.client, keys);
    expect(s.affinities.get('n1')?.sort()).toEqual(['fd00:6::/122', 'fd00:6::40/122']);
    expect((await ipam.lookup('fd00:6::40'))?.handle).toBe('v6-64.eth0');
  });

  it('keeps existing blocks when the pool\'s blockSize changes and claims new ones around them', async () => {
    const { keys, ipam } = await setup({ p: { cidr: '10.11.0.0/24', blockSize: 28 } });
    await ipam.assign({ handle: 'old.eth0', node: 'n1' });
    await putPool(etcd.client, keys, 'p', { cidr: '10.11.0.0/24', blockSize: 26 });
    // The /26 at .0 would overlap the /28 still in use: the next free /26 is .64.
    expect((await ipam.assign({ handle: 'new.eth0', node: 'n2' })).blocks).toEqual(['10.11.0.64/26']);
    // n1 keeps using its /28.
    expect((await ipam.assign({ handle: 'old2.eth0', node: 'n1' })).blocks).toEqual(['10.11.0.0/28']);
    await checkState(etcd.client, keys);
  });

  it('picks pools by node selector, uses a named pool even when its selector excludes the node, skips disabled pools', async () => {
    const { keys, ipam } = await setup({
      'zone-a': { cidr: '10.10.0.0/24', nodeSelector: 'zone == "a"' },
      'zone-b': { cidr: '10.20.0.0/24', nodeSelector: 'zone == "b" && !has(edge)' },
      special: { cidr: '10.30.0.0/24', nodeSelector: '!all()' },
      off: { cidr: '10.40.0.0/24', disabled: true },
    });
    await putNode(etcd.client, keys, 'na', { zone: 'a' });
    await putNode(etcd.client, keys, 'nb', { zone: 'b' });
    await putNode(etcd.client, keys, 'nedge', { zone: 'b', edge: 'true' });
    expect(inside('10.10.0.0/24', (await ipam.assign({ handle: 'a.eth0', node: 'na' })).ipv4!)).toBe(true);
    expect(inside('10.20.0.0/24', (await ipam.assign({ handle: 'b.eth0', node: 'nb' })).ipv4!)).toBe(true);
    const none = await rejects(ipam.assign({ handle: 'e.eth0', node: 'nedge' }));
    expect(none.code).toBe('TERN_ERR_IPAM');
    expect(none.message).toMatch(/no enabled IPv4 pool selects node nedge/);
    expect(inside('10.30.0.0/24', (await ipam.assign({ handle: 's.eth0', node: 'nedge', pools: ['special'] })).ipv4!)).toBe(true);
    expect((await rejects(ipam.assign({ handle: 'o.eth0', node: 'na', pools: ['off'] }))).message).toContain('disabled');
    expect((await rejects(ipam.assign({ handle: 'x.eth0', node: 'na', pools: ['nope'] }))).message).toContain('does not exist');
    // A node without a Node resource has no labels: only all()-style pools would take it.
    expect((await rejects(ipam.assign({ handle: 'u.eth0', node: 'unknown' }))).code).toBe('TERN_ERR_IPAM');
  });
});

describe('borrowing, strict affinity and exhaustion', () => {
  // A /28 with /30 blocks: four blocks of four addresses.
  const tiny = (extra: Record<string, unknown> = {}) => ({ tiny: { cidr: '10.50.0.0/28', blockSize: 30, ...extra } });

  it('borrows from another node\'s block once every block is claimed', async () => {
    const { keys, ipam } = await setup(tiny());
    for (const n of ['n1', 'n2', 'n3', 'n4']) await ipam.assign({ handle: `${n}-0.eth0`, node: n });
    const r = await ipam.assign({ handle: 'n5-0.eth0', node: 'n5' });
    const s = await checkState(etcd.client, keys);
    const a = s.allocations.find((x) => x.handle === 'n5-0.eth0')!;
    expect(a.ip).toBe(r.ipv4);
    expect(a.node).toBe('n5');
    expect(a.affinity).not.toBe('n5');
    expect(s.affinities.get('n5')).toBeUndefined();
    expect((await ipam.show()).pools[0]!.blocks.reduce((n, b) => n + b.borrowed, 0)).toBe(1);
  });

  it('does not borrow from a strictAffinity pool and says why', async () => {
    const { ipam } = await setup(tiny({ strictAffinity: true }));
    for (const n of ['n1', 'n2', 'n3', 'n4']) await ipam.assign({ handle: `${n}-0.eth0`, node: n });
    const e = await rejects(ipam.assign({ handle: 'n5-0.eth0', node: 'n5' }));
    expect(e.code).toBe('TERN_ERR_IPAM_EXHAUSTED');
    expect(e.message).toContain('n5');
    expect(e.message).toContain('tiny (10.50.0.0/28');
    expect(e.message).toContain('strictAffinity');
    // n1 still has room in its own block.
    expect((await ipam.assign({ handle: 'n1-1.eth0', node: 'n1' })).blocks).toEqual(['10.50.0.0/30']);
  });

  it('throws TERN_ERR_IPAM_EXHAUSTED when the pool is full, and assigns again after a release', async () => {
    const { keys, ipam } = await setup(tiny());
    const got: string[] = [];
    for (let i = 0; i < 16; i++) got.push((await ipam.assign({ handle: `h${i}.eth0`, node: i % 2 ? 'n1' : 'n2' })).ipv4!);
    expect(new Set(got).size).toBe(16);
    const e = await rejects(ipam.assign({ handle: 'h16.eth0', node: 'n3' }));
    expect(e.code).toBe('TERN_ERR_IPAM_EXHAUSTED');
    expect(e.message).toMatch(/no free IPv4 address for node n3 .* in pool tiny \(10\.50\.0\.0\/28, \/30 blocks\)/);
    // Nothing half-written by the failed request.
    expect((await checkState(etcd.client, keys)).handles.has('h16.eth0')).toBe(false);
    await ipam.release('h5.eth0');
    expect((await ipam.assign({ handle: 'h16.eth0', node: 'n3' })).ipv4).toBe(got[5]);
  });

  it('a dual-stack request with one family exhausted allocates neither', async () => {
    const { keys, ipam } = await setup({ v4: { cidr: '10.60.0.0/30', blockSize: 30 }, v6: { cidr: 'fd00:60::/64' } });
    for (let i = 0; i < 4; i++) await ipam.assign({ handle: `f${i}.eth0`, node: 'n1' });
    expect((await rejects(ipam.assign({ handle: 'ds.eth0', node: 'n1', ipv6: true }))).code).toBe('TERN_ERR_IPAM_EXHAUSTED');
    const s = await checkState(etcd.client, keys);
    expect(s.handles.has('ds.eth0')).toBe(false);
    expect(s.blocks.filter((b) => b.cidr.family === 6)).toHaveLength(0);
  });
});

describe('releaseNode, gc, lookup, show', () => {
  it('releases a node: frees its addresses everywhere, keeps blocks with borrowed addresses without affinity, lets them be adopted', async () => {
    // Two /30 blocks: A and B.
    const { keys, ipam } = await setup({ small: { cidr: '10.70.0.0/29', blockSize: 30 } });
    for (let i = 0; i < 3; i++) await ipam.assign({ handle: `n1-${i}.eth0`, node: 'n1' }); // A: 3 of n1
    for (let i = 0; i < 4; i++) await ipam.assign({ handle: `n2-${i}.eth0`, node: 'n2' }); // B: 4 of n2
    const b5 = await ipam.assign({ handle: 'n2-4.eth0', node: 'n2' }); // borrowed: last of A
    expect(b5.blocks).toEqual(['10.70.0.0/30']);
    await ipam.release('n2-0.eth0');
    const b6 = await ipam.assign({ handle: 'n1-3.eth0', node: 'n1' }); // borrowed in B
    expect(b6.blocks).toEqual(['10.70.0.4/30']);

    expect(await ipam.releaseNode('n1')).toEqual({ blocks: 1, addresses: 4 });
    let s = await checkState(etcd.client, keys);
    expect(s.allocations.filter((a) => a.node === 'n1')).toHaveLength(0);
    expect([...s.handles.values()].filter((h) => h.node === 'n1')).toHaveLength(0);
    expect(s.affinities.has('n1')).toBe(false);
    const a = s.blocks.find((b) => b.cidrText === '10.70.0.0/30')!;
    expect(a.affinity).toBeNull();
    expect([...a.allocations.values()].map((x) => x.handle)).toEqual(['n2-4.eth0']);
    expect(await ipam.releaseNode('n1')).toEqual({ blocks: 0, addresses: 0 });

    // A node arriving now adopts the block left without affinity.
    const n3 = await ipam.assign({ handle: 'n3-0.eth0', node: 'n3' });
    expect(n3.blocks).toEqual(['10.70.0.0/30']);
    s = await checkState(etcd.client, keys);
    expect(s.affinities.get('n3')).toEqual(['10.70.0.0/30']);

    expect(await ipam.releaseNode('n3')).toEqual({ blocks: 1, addresses: 1 });
    expect(await ipam.releaseNode('n2')).toEqual({ blocks: 1, addresses: 4 });
    s = await checkState(etcd.client, keys);
    // A lost its last (borrowed) address with n2 and had no node: deleted. B was emptied: deleted.
    expect(s.blocks).toHaveLength(0);
    expect(s.handles.size).toBe(0);
    expect(s.affinities.size).toBe(0);
  });

  it('gc frees dead handles, including allocations whose handle record was lost', async () => {
    const { keys, ipam } = await setup({ default: { cidr: '10.80.0.0/24' } });
    const ips = new Map<string, string>();
    for (let i = 0; i < 6; i++) ips.set(`g${i}.eth0`, (await ipam.assign({ handle: `g${i}.eth0`, node: i < 3 ? 'n1' : 'n2' })).ipv4!);
    // Simulate a record lost outside IPAM: the allocation stays in the block with no handle key.
    await etcd.client.delete().key(keys.handle('g5.eth0'));
    const asked: Array<[string, string | undefined]> = [];
    const { released } = await ipam.gc(async (h, info) => {
      asked.push([h, info.node]);
      return h === 'g0.eth0' || h === 'g3.eth0';
    });
    expect(asked).toContainEqual(['g1.eth0', 'n1']);
    expect(asked).toContainEqual(['g5.eth0', 'n2']);
    expect(released.sort()).toEqual(['g1.eth0', 'g2.eth0', 'g4.eth0', 'g5.eth0'].map((h) => ips.get(h)!).sort());
    const s = await checkState(etcd.client, keys);
    expect([...s.handles.keys()].sort()).toEqual(['g0.eth0', 'g3.eth0']);
    expect((await ipam.gc(() => true)).released).toEqual([]);
  });

  it('lookup and handleOf answer for allocated, free and foreign addresses', async () => {
    const { ipam } = await setup({ default: { cidr: '10.90.0.0/24', blockSize: 28 } });
    const r = await ipam.assign({ handle: 'l.eth0', node: 'n1', attrs: { pod: 'p' } });
    expect(await ipam.handleOf(r.ipv4!)).toBe('l.eth0');
    expect(await ipam.lookup(r.ipv4!)).toMatchObject({ block: '10.90.0.0/28', affinity: 'n1', allocated: true, node: 'n1', attrs: { pod: 'p' } });
    expect(await ipam.lookup('10.90.0.15')).toMatchObject({ allocated: false, ordinal: 15 });
    expect(await ipam.lookup('10.90.0.16')).toBeUndefined();
    expect(await ipam.lookup('192.0.2.1')).toBeUndefined();
    expect((await rejects(ipam.lookup('nonsense'))).code).toBe('TERN_ERR_IPAM');
  });

  it('show reports pools, blocks, nodes and totals', async () => {
    const { ipam } = await setup({ a: { cidr: '10.100.0.0/24', blockSize: 28 }, b: { cidr: 'fd00:100::/64' } });
    for (let i = 0; i < 3; i++) await ipam.assign({ handle: `s${i}.eth0`, node: 'n1', ipv6: i === 0 });
    await ipam.assign({ handle: 't.eth0', node: 'n2' });
    const rep = await ipam.show();
    expect(rep.pools.map((p) => p.name)).toEqual(['a', 'b']);
    const [a, b] = rep.pools;
    expect(a!.blocks).toEqual([
      { cidr: '10.100.0.0/28', node: 'n1', used: 3, total: 16, borrowed: 0, byNode: { n1: 3 } },
      { cidr: '10.100.0.16/28', node: 'n2', used: 1, total: 16, borrowed: 0, byNode: { n2: 1 } },
    ]);
    expect(a!.totals).toEqual({ blocks: 2, used: 4, capacity: 32, size: '256' });
    expect(b!.totals).toEqual({ blocks: 1, used: 1, capacity: 64, size: (1n << 64n).toString() });
  });
});
