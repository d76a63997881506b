// `tern ipam` run in-process against a real etcd, output captured from the passed streams.
import { describe, expect, it } from 'vitest';
import { useEtcd } from '../helpers/etcd.js';
import { Command } from 'commander';
import { Ipam } from '../../src/ipam/index.js';
import type { IpamReport } from '../../src/ipam/report.js';
import { ipamCommand } from '../../src/cli/ipam.js';
import type { Keys } from '../../src/datastore/keys.js';
import { checkState, freshKeys, putNode, putPool } from './helpers.js';

const etcd = useEtcd();

async function run(keys: Keys, ...args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  let out = '';
  let err = '';
  const program = new Command('tern').exitOverride();
  const cmd = ipamCommand(async () => ({ client: etcd.client, keys, store: undefined }), { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } });
  program.addCommand(cmd);
  cmd.exitOverride();
  for (const c of cmd.commands) c.exitOverride();
  try {
    await program.parseAsync(['node', 'tern', 'ipam', ...args]);
  } catch (error) {
    return { out, err, error };
  }
  return { out, err };
}

describe('tern ipam', () => {
  it('show prints a table per block with pool totals, JSON with -o json, and filters by node', async () => {
    const keys = freshKeys();
    await putPool(etcd.client, keys, 'default', { cidr: '10.244.0.0/24', blockSize: 28 });
    const ipam = new Ipam(etcd.client, keys);
    for (let i = 0; i < 3; i++) await ipam.assign({ handle: `a${i}.eth0`, node: 'node-a' });
    await ipam.assign({ handle: 'b0.eth0', node: 'node-b' });

    const { out, error } = await run(keys, 'show');
    expect(error).toBeUndefined();
    if (process.env.SHOW_TABLE) console.log(out);
    const [pools, blocks] = out.trimEnd().split('\n\n').map((t) => t.split('\n'));
    expect(pools![0]).toMatch(/^POOL\s+CIDR\s+BLOCK SIZE\s+BLOCKS\s+USED\/CAPACITY\s+SIZE\s+FLAGS$/);
    expect(pools![1]).toMatch(/^default\s+10\.244\.0\.0\/24\s+\/28\s+2\s+4\/32\s+256$/);
    expect(blocks![0]).toMatch(/^POOL\s+BLOCK\s+NODE\s+USED\/TOTAL\s+BORROWED$/);
    expect(blocks![1]).toMatch(/^default\s+10\.244\.0\.0\/28\s+node-a\s+3\/16$/);
    expect(blocks![2]).toMatch(/^default\s+10\.244\.0\.16\/28\s+node-b\s+1\/16$/);
    expect(blocks).toHaveLength(3);

    const json = JSON.parse((await run(keys, 'show', '-o', 'json')).out) as IpamReport;
    expect(json.pools[0]!.totals).toEqual({ blocks: 2, used: 4, capacity: 32, size: '256' });

    const onlyB = (await run(keys, 'show', '--node', 'node-b')).out;
    expect(onlyB).toContain('10.244.0.16/28');
    expect(onlyB).not.toContain('10.244.0.0/28 ');
    expect(onlyB).toMatch(/default\s+10\.244\.0\.0\/24\s+\/28\s+1\s+1\/16/);
  });

  it('release frees a handle; lookup names the holder; gc frees addresses of nodes that are gone', async () => {
    const keys = freshKeys();
    await putPool(etcd.client, keys, 'default', { cidr: '10.245.0.0/24' });
    await putNode(etcd.client, keys, 'alive');
    const ipam = new Ipam(etcd.client, keys);
    const r = await ipam.assign({ handle: 'x.eth0', node: 'alive', attrs: { pod: 'web' } });
    const keep = await ipam.assign({ handle: 'k.eth0', node: 'alive' });
    const gone = await ipam.assign({ handle: 'g.eth0', node: 'gone' });

    const look = (await run(keys, 'lookup', r.ipv4!)).out;
    expect(look).toContain('handle x.eth0 on node alive');
    expect(look).toContain('pod=web');

    expect((await run(keys, 'release', 'x.eth0')).out).toBe(`released ${r.ipv4}\n`);
    expect((await run(keys, 'release', 'x.eth0')).out).toBe('handle x.eth0 held no addresses\n');

    const dry = (await run(keys, 'gc', '--dry-run')).out;
    expect(dry).toContain(`g.eth0 (node gone: ${gone.ipv4})`);
    expect((await checkState(etcd.client, keys)).handles.has('g.eth0')).toBe(true);
    const done = (await run(keys, 'gc')).out;
    expect(done).toContain('released 1 address:');
    const s = await checkState(etcd.client, keys);
    expect([...s.handles.keys()]).toEqual(['k.eth0']);
    expect(s.allocations.map((a) => a.ip)).toEqual([keep.ipv4]);
    expect((await run(keys, 'gc')).out).toBe('nothing to release\n');
  });

  it('rejects an unknown output format through the error stream', async () => {
    const keys = freshKeys();
    const r = await run(keys, 'show', '-o', 'yaml');
    expect(r.error).toBeDefined();
    expect(r.err).toMatch(/argument 'yaml' is invalid/);
    expect(r.out).toBe('');
  });
});
