// Shared by the IPAM tests: writing pools and nodes, and reading back every IPAM record to
// check the invariants that must hold after any sequence of operations.
import type { Etcd3 } from 'etcd3';
import { expect } from 'vitest';
import { Keys, keyToCidr } from '../../src/datastore/keys.js';
import { Block } from '../../src/ipam/block.js';
import { decodeHandle, type HandleRecord } from '../../src/ipam/records.js';
import { cidrOverlaps } from '../../src/net/ip.js';

let seq = 0;
/** A fresh key prefix per test, so tests sharing one etcd never see each other's records. */
export function freshKeys(): Keys {
  return new Keys(`/t${process.pid}-${++seq}/`);
}

export async function putPool(client: Etcd3, keys: Keys, name: string, spec: Record<string, unknown>): Promise<void> {
  await client.put(keys.resource('IPPool', name)).value(JSON.stringify({ apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name }, spec }));
}

export async function putNode(client: Etcd3, keys: Keys, name: string, labels: Record<string, string> = {}): Promise<void> {
  await client.put(keys.resource('Node', name)).value(JSON.stringify({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name, labels }, spec: {} }));
}

export interface StoredAllocation {
  ip: string;
  block: string;
  ordinal: number;
  handle: string;
  node: string;
  affinity: string | null;
}

export interface IpamState {
  blocks: Block[];
  handles: Map<string, HandleRecord>;
  allocations: StoredAllocation[];
  /** node -> block cidrs from affinity keys */
  affinities: Map<string, string[]>;
}

/**
 * Reads every block, handle and affinity and asserts: records decode; blocks do not overlap;
 * each allocation's handle record names it and each handle entry is backed by an allocation
 * of that handle; affinity keys and block affinity fields agree both ways.
 */
export async function checkState(client: Etcd3, keys: Keys): Promise<IpamState> {
  const blockVals = await client.getAll().prefix(keys.blocksPrefix).strings();
  const handleVals = await client.getAll().prefix(keys.handlesPrefix).strings();
  const affKeys = await client.getAll().prefix(keys.affinityPrefix).keys();

  const blocks: Block[] = [];
  for (const [k, v] of Object.entries(blockVals)) {
    const d = Block.decode(v);
    if (!d.ok) throw new Error(`${k}: ${d.error}`);
    expect(keys.block(d.block.cidrText)).toBe(k);
    blocks.push(d.block);
  }
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) expect(cidrOverlaps(blocks[i]!.cidr, blocks[j]!.cidr), `${blocks[i]!.cidrText} overlaps ${blocks[j]!.cidrText}`).toBe(false);
  }
  const handles = new Map<string, HandleRecord>();
  for (const [k, v] of Object.entries(handleVals)) {
    const d = decodeHandle(v);
    if (!d.ok) throw new Error(`${k}: ${d.error}`);
    expect(keys.handle(d.value.handle)).toBe(k);
    handles.set(d.value.handle, d.value);
  }
  const allocations: StoredAllocation[] = [];
  const byCidr = new Map(blocks.map((b) => [b.cidrText, b]));
  for (const b of blocks) {
    for (const [ord, a] of b.allocations) {
      const ip = b.ipOf(ord);
      allocations.push({ ip, block: b.cidrText, ordinal: ord, handle: a.handle, node: a.node, affinity: b.affinity });
      const h = handles.get(a.handle);
      expect(h, `allocation ${ip} has no handle record ${a.handle}`).toBeDefined();
      expect(h!.ips).toContainEqual({ ip, block: b.cidrText, ordinal: ord });
      expect(h!.node).toBe(a.node);
    }
  }
  for (const h of handles.values()) {
    const fams = h.ips.map((e) => (e.ip.includes(':') ? 6 : 4));
    expect(new Set(fams).size, `handle ${h.handle} holds two addresses of one family`).toBe(fams.length);
    for (const e of h.ips) {
      const b = byCidr.get(e.block);
      expect(b, `handle ${h.handle} names missing block ${e.block}`).toBeDefined();
      expect(b!.allocations.get(e.ordinal)?.handle).toBe(h.handle);
      expect(b!.ipOf(e.ordinal)).toBe(e.ip);
    }
  }
  const affinities = new Map<string, string[]>();
  for (const k of affKeys) {
    const [node, seg] = k.slice(keys.affinityPrefix.length).split('/') as [string, string];
    const cidr = keyToCidr(seg);
    affinities.set(node, [...(affinities.get(node) ?? []), cidr]);
    expect(byCidr.get(cidr)?.affinity, `affinity key ${k} without matching block`).toBe(node);
  }
  for (const b of blocks) {
    if (b.affinity !== null) expect(affinities.get(b.affinity) ?? []).toContain(b.cidrText);
  }
  return { blocks, handles, allocations, affinities };
}
