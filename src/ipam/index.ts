// Block-based pod IPAM over etcd, the way Calico's works: each node claims whole blocks of a
// pool and hands out addresses from its own blocks, so the fabric sees one route per block.
//
// Assignment order for each family (the first that finds room wins):
//   1. a free address in a block affine to the node;
//   2. a new block, claimed for the node (block + affinity created only if both are absent);
//   3. a block whose node was released (no affinity) with room: adopted by the node;
//   4. unless the pool is strictAffinity, an address borrowed from another node's block;
//   5. TERN_ERR_IPAM_EXHAUSTED.
// Steps 2-5 decide from one consistent read of every block, so "exhausted" means the pools
// really were full at one etcd revision.
//
// Safety: every write is one etcd transaction guarded by the mod_revision of each block it
// touches (create_revision 0 for keys it creates) and of the handle key; a lost race re-reads
// and retries with jitter. The handle record is written in the same transaction as its
// allocations. Within one process, assignments for the same node run one at a time (Calico's
// CNI plugin holds a host-wide lock for the same reason): they all want the same block, and
// queueing them costs less than having them lose compare-and-swap races to each other.
import type { Etcd3 } from 'etcd3';
import { keyToCidr, type Keys } from '../datastore/keys.js';
import { TernError, isTernError } from '../errors/index.js';
import { logger, type Logger } from '../log/index.js';
import { bitsOf, cidrContains, cidrContainsIp, cidrLast, cidrOverlaps, formatCidr, isCidr, parseCidr, parseIp, type Cidr, type Family } from '../net/ip.js';
import { Block, type Allocation } from './block.js';
import { normalizePool, type Pool } from './pool.js';
import { decodeHandle, encodeAffinity, encodeHandle, validateHandle, validateNode, type HandleIp, type HandleRecord } from './records.js';
import type { BlockReport, IpamReport, PoolReport } from './report.js';
import { matchSelector } from '../resources/selector.js';
import { cas, snapshot, type Guard, type Kv, type Write } from './store.js';

export type { IpamReport, PoolReport, BlockReport } from './report.js';
export { formatReport, filterReport } from './report.js';

export interface IpamOptions {
  logger?: Logger;
  /** Compare-and-swap attempts per operation before giving up with TERN_ERR_CONFLICT (default 100). */
  maxRetries?: number;
}

export interface AssignRequest {
  /** `<containerID>.<ifname>`. */
  handle: string;
  node: string;
  ipv4?: boolean;
  ipv6?: boolean;
  /** Pool names to use. Named pools are used even if their nodeSelector leaves the node out. */
  pools?: string[];
  /** Stored with each allocation, e.g. {namespace, pod}. */
  attrs?: Record<string, string>;
}

export interface AssignResult {
  ipv4?: string;
  ipv6?: string;
  /** The blocks the addresses came from. */
  blocks: string[];
}

export interface IpLookup {
  ip: string;
  block: string;
  /** The block's affine node (null when none). */
  affinity: string | null;
  ordinal: number;
  allocated: boolean;
  handle?: string;
  node?: string;
  attrs?: Record<string, string>;
}

/** Returned by one attempt that lost a compare-and-swap race. */
const CONFLICT = Symbol('conflict');
type Attempt<T> = T | typeof CONFLICT;

/** A pool with the etcd key and revision it was read at. */
type StoredPool = Pool & { key: string; mod: string };

interface LoadedBlock {
  key: string;
  mod: string;
  block: Block;
}

type Plan =
  | { kind: 'use' | 'borrow'; lb: LoadedBlock; ordinal: number }
  | { kind: 'claim'; block: Block; ordinal: number; pool: StoredPool }
  | { kind: 'adopt'; lb: LoadedBlock; ordinal: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs callbacks one at a time per key, in call order. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      done();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function hash32(s: string): number {
  // FNV-1a: spreads borrowers of the same pool over different blocks.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const familyName = (f: Family): string => `IPv${f}`;

export class Ipam {
  private readonly log: Logger;
  private readonly maxRetries: number;
  private readonly nodeLocks = new KeyedMutex();
  /** Counters since construction, for metrics and diagnostics. */
  readonly stats = { conflicts: 0, claimed: 0, adopted: 0, borrowed: 0 };

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
    opts: IpamOptions = {},
  ) {
    this.log = opts.logger ?? logger('ipam');
    this.maxRetries = opts.maxRetries ?? 100;
  }

  // ---------------------------------------------------------------- public API

  async assign(req: AssignRequest): Promise<AssignResult> {
    const bad = validateHandle(req.handle) ?? validateNode(req.node);
    if (bad) throw new TernError('TERN_ERR_IPAM', bad);
    const families: Family[] = [];
    if (req.ipv4 ?? true) families.push(4);
    if (req.ipv6 ?? false) families.push(6);
    if (families.length === 0) throw new TernError('TERN_ERR_IPAM', `assign ${req.handle}: neither IPv4 nor IPv6 requested`);
    return this.nodeLocks.run(req.node, () => this.retry(`assign ${req.handle}`, () => this.tryAssign(req, families)));
  }

  /** Frees the handle's addresses; returns them. An unknown handle frees nothing. */
  async release(handle: string): Promise<string[]> {
    const bad = validateHandle(handle);
    if (bad) throw new TernError('TERN_ERR_IPAM', bad);
    return this.retry(`release ${handle}`, () => this.tryRelease(handle, []));
  }

  /**
   * Forgets a node: frees every address it holds (in its own blocks and borrowed ones), drops
   * its affinities, deletes its blocks that are then empty. Blocks still holding other nodes'
   * borrowed addresses stay, without affinity, until those are released.
   * `blocks` counts the affinities removed.
   */
  async releaseNode(node: string): Promise<{ blocks: number; addresses: number }> {
    const bad = validateNode(node);
    if (bad) throw new TernError('TERN_ERR_IPAM', bad);
    let addresses = 0;
    let blocks = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > this.maxRetries) throw new TernError('TERN_ERR_CONFLICT', `release node ${node}: still racing with writers after ${this.maxRetries} attempts`);
      const snap = await this.wrap(() =>
        snapshot(this.client, [{ prefix: this.keys.blocksPrefix }, { prefix: this.keys.handlesPrefix }, { prefix: this.keys.nodeAffinityPrefix(node), keysOnly: true }]),
      );
      const [blockKvs = [], handleKvs = [], affKvs = []] = snap.results;
      // Handles the node holds, found both ways: from allocations and from handle records.
      const held = new Map<string, HandleIp[]>();
      const loaded = this.decodeBlocks(blockKvs).blocks;
      for (const lb of loaded) {
        for (const [ord, a] of lb.block.allocations) {
          if (a.node !== node) continue;
          const list = held.get(a.handle) ?? [];
          list.push({ ip: lb.block.ipOf(ord), block: lb.block.cidrText, ordinal: ord });
          held.set(a.handle, list);
        }
      }
      for (const kv of handleKvs) {
        const h = decodeHandle(kv.value);
        if (h.ok && h.value.node === node && !held.has(h.value.handle)) held.set(h.value.handle, []);
      }
      for (const [h, hint] of held) addresses += (await this.retry(`release ${h}`, () => this.tryRelease(h, hint))).length;

      // Then the affinities: from the node's affinity keys and from blocks naming the node.
      const cidrs = new Set<string>();
      for (const kv of affKvs) cidrs.add(keyToCidr(kv.key.slice(this.keys.nodeAffinityPrefix(node).length)));
      for (const lb of loaded) if (lb.block.affinity === node) cidrs.add(lb.block.cidrText);
      let raced = false;
      for (const cidr of cidrs) {
        const r = await this.wrap(() => this.tryDropAffinity(node, cidr));
        if (r === CONFLICT) raced = true;
        else blocks += r;
      }
      if (!raced) {
        this.log.info({ node, blocks, addresses }, 'released node');
        return { blocks, addresses };
      }
      await sleep(Math.random() * Math.min(50, 2 + attempt * 3));
    }
  }

  /**
   * Frees every address whose handle is not alive, and deletes empty blocks that have no node.
   * The callback also gets the node holding the handle and its addresses, so a caller can judge
   * liveness by node (e.g. "the node no longer exists") as well as by handle.
   */
  async gc(liveHandles: (handle: string, info: { node: string | undefined; ips: string[] }) => boolean | Promise<boolean>): Promise<{ released: string[] }> {
    const snap = await this.wrap(() => snapshot(this.client, [{ prefix: this.keys.blocksPrefix }, { prefix: this.keys.handlesPrefix }]));
    const [blockKvs = [], handleKvs = []] = snap.results;
    const seen = new Map<string, { node: string | undefined; hint: HandleIp[] }>();
    const loaded = this.decodeBlocks(blockKvs).blocks;
    for (const lb of loaded) {
      for (const [ord, a] of lb.block.allocations) {
        const e = seen.get(a.handle) ?? { node: a.node, hint: [] };
        e.hint.push({ ip: lb.block.ipOf(ord), block: lb.block.cidrText, ordinal: ord });
        seen.set(a.handle, e);
      }
    }
    const prefix = this.keys.handlesPrefix;
    for (const kv of handleKvs) {
      const h = kv.key.slice(prefix.length);
      if (seen.has(h)) continue;
      const d = decodeHandle(kv.value);
      seen.set(h, { node: d.ok ? d.value.node : undefined, hint: [] });
    }
    const released: string[] = [];
    for (const [h, { node, hint }] of seen) {
      if (await liveHandles(h, { node, ips: hint.map((e) => e.ip) })) continue;
      released.push(...(await this.retry(`gc ${h}`, () => this.tryRelease(h, hint))));
    }
    // Blocks left without node and without addresses (e.g. a release that raced a node removal).
    for (const lb of loaded) {
      if (lb.block.affinity === null && lb.block.used === 0) {
        await this.wrap(() => cas(this.client, [{ key: lb.key, mod: lb.mod }], [{ del: lb.key }]));
      }
    }
    if (released.length) this.log.info({ released: released.length }, 'gc released addresses');
    return { released };
  }

  async show(): Promise<IpamReport> {
    const snap = await this.wrap(() => snapshot(this.client, [{ prefix: this.keys.kindPrefix('IPPool') }, { prefix: this.keys.blocksPrefix }]));
    const [poolKvs = [], blockKvs = []] = snap.results;
    const { pools, invalid } = this.decodePools(poolKvs);
    const { blocks, corrupt } = this.decodeBlocks(blockKvs);
    const report: IpamReport = { pools: [], unpooled: [], invalid, corrupt };
    const byPool = new Map<Pool, BlockReport[]>(pools.map((p) => [p, []]));
    for (const lb of blocks) {
      const b = lb.block;
      const byNode: Record<string, number> = {};
      let borrowed = 0;
      for (const a of b.allocations.values()) {
        byNode[a.node] = (byNode[a.node] ?? 0) + 1;
        if (a.node !== b.affinity) borrowed++;
      }
      const br: BlockReport = { cidr: b.cidrText, node: b.affinity, used: b.used, total: b.size, borrowed, byNode };
      const pool = pools.find((p) => cidrContains(p.cidr, b.cidr));
      if (pool) byPool.get(pool)!.push(br);
      else report.unpooled.push(br);
    }
    for (const [p, list] of byPool) {
      const pr: PoolReport = {
        name: p.name,
        cidr: p.cidrText,
        family: p.family,
        blockSize: p.blockSize,
        strictAffinity: p.strictAffinity,
        disabled: p.disabled,
        nodeSelector: p.nodeSelector,
        blocks: list,
        totals: {
          blocks: list.length,
          used: list.reduce((s, b) => s + b.used, 0),
          capacity: list.reduce((s, b) => s + b.total, 0),
          size: (1n << BigInt(bitsOf(p.family) - p.cidr.prefixLen)).toString(),
        },
      };
      report.pools.push(pr);
    }
    return report;
  }

  /** Where an address is in IPAM: its block and, when allocated, its handle, node and attributes. */
  async lookup(ip: string): Promise<IpLookup | undefined> {
    let addr;
    try {
      addr = parseIp(ip);
    } catch (e) {
      throw new TernError('TERN_ERR_IPAM', (e as Error).message);
    }
    // The pools' block sizes name the one key the block would have; a block of another size
    // (its pool was redefined) is found by listing the keys.
    const pre = await this.wrap(() => snapshot(this.client, [{ prefix: this.keys.kindPrefix('IPPool') }]));
    const guesses = new Set<string>();
    for (const p of this.decodePools(pre.results[0] ?? []).pools) {
      if (!cidrContainsIp(p.cidr, addr)) continue;
      guesses.add(formatCidr(parseCidr(`${ip}/${p.blockSize}`, { strict: false })));
    }
    let kv: Kv | undefined;
    for (const g of guesses) {
      kv = (await this.wrap(() => snapshot(this.client, [{ key: this.keys.block(g) }]))).results[0]?.[0];
      if (kv) break;
    }
    if (!kv) {
      const all = await this.wrap(() => snapshot(this.client, [{ prefix: this.keys.blocksPrefix, keysOnly: true }]));
      const key = (all.results[0] ?? [])
        .map((k) => k.key)
        .find((k) => {
          const c = keyToCidr(k.slice(this.keys.blocksPrefix.length));
          return isCidr(c) && cidrContainsIp(parseCidr(c), addr);
        });
      if (key) kv = (await this.wrap(() => snapshot(this.client, [{ key }]))).results[0]?.[0];
    }
    if (!kv) return undefined;
    const d = Block.decode(kv.value);
    if (!d.ok) throw new TernError('TERN_ERR_IPAM', `${kv.key}: ${d.error}`);
    const b = d.block;
    const ordinal = b.ordinalOf(addr);
    if (ordinal === undefined) return undefined;
    const a = b.allocations.get(ordinal);
    const out: IpLookup = { ip, block: b.cidrText, affinity: b.affinity, ordinal, allocated: a !== undefined };
    if (a) {
      out.handle = a.handle;
      out.node = a.node;
      if (a.attrs) out.attrs = a.attrs;
    }
    return out;
  }

  async handleOf(ip: string): Promise<string | undefined> {
    return (await this.lookup(ip))?.handle;
  }

  // ---------------------------------------------------------------- assign

  private async tryAssign(req: AssignRequest, families: Family[]): Promise<Attempt<AssignResult>> {
    const handleKey = this.keys.handle(req.handle);
    const affPrefix = this.keys.nodeAffinityPrefix(req.node);
    const s1 = await snapshot(this.client, [
      { key: handleKey },
      { prefix: this.keys.kindPrefix('IPPool') },
      { key: this.keys.resource('Node', req.node) },
      { prefix: affPrefix, keysOnly: true },
    ]);
    const [handleKvs = [], poolKvs = [], nodeKvs = [], affKvs = []] = s1.results;

    // Idempotency: a handle already holding the requested families is answered as is.
    let existing: HandleRecord | undefined;
    const hkv = handleKvs[0];
    if (hkv) {
      const d = decodeHandle(hkv.value);
      if (!d.ok) throw new TernError('TERN_ERR_IPAM', `${handleKey}: ${d.error}; release the handle and assign again`);
      existing = d.value;
      if (existing.node !== req.node) {
        throw new TernError('TERN_ERR_IPAM', `handle ${req.handle} already holds ${existing.ips.map((e) => e.ip).join(', ')} on node ${existing.node}, not ${req.node}`);
      }
    }
    const heldFamilies = new Set((existing?.ips ?? []).map((e) => parseIp(e.ip).family));
    const missing = families.filter((f) => !heldFamilies.has(f));
    if (existing && missing.length === 0) return resultOf(existing);

    const { pools, invalid } = this.decodePools(poolKvs);
    for (const i of invalid) this.log.warn(i);
    const labels = nodeLabels(nodeKvs[0]?.value);
    const candidates = new Map<Family, StoredPool[]>();
    for (const f of missing) candidates.set(f, this.choosePools(f, req, pools, labels));

    // Fast path: the node's own blocks.
    const affineCidrs = affKvs.map((kv) => keyToCidr(kv.key.slice(affPrefix.length))).filter(isCidr);
    const plans = new Map<Family, Plan>();
    if (affineCidrs.length) {
      const s2 = await snapshot(this.client, affineCidrs.map((c) => ({ key: this.keys.block(c) })));
      const affine = this.decodeBlocks(s2.results.flat()).blocks.filter((lb) => lb.block.affinity === req.node);
      for (const f of missing) {
        const plan = this.planAffine(affine, candidates.get(f)!);
        if (plan) plans.set(f, plan);
      }
    }
    // Slow path: one read of every block decides claim, adopt, borrow or exhausted.
    const slow = missing.filter((f) => !plans.has(f));
    if (slow.length) {
      const s3 = await snapshot(this.client, [{ prefix: this.keys.blocksPrefix }]);
      const all = this.decodeBlocks(s3.results[0] ?? []);
      for (const f of slow) plans.set(f, this.planSlow(f, req, candidates.get(f)!, all.blocks, all.occupied));
    }

    // One transaction: the handle and every block it touches, each guarded.
    const record: HandleRecord = existing ? { ...existing, ips: [...existing.ips] } : { handle: req.handle, node: req.node, ips: [] };
    if (req.attrs && !existing) record.attrs = req.attrs;
    const guards: Guard[] = [{ key: handleKey, mod: hkv?.mod ?? '0' }];
    const writes: Write[] = [];
    const alloc: Allocation = req.attrs ? { handle: req.handle, node: req.node, attrs: req.attrs } : { handle: req.handle, node: req.node };
    for (const f of missing) {
      const plan = plans.get(f)!;
      const block = plan.kind === 'claim' ? plan.block : plan.lb.block;
      const key = this.keys.block(block.cidrText);
      block.allocate(plan.ordinal, alloc);
      if (plan.kind === 'claim') {
        // The pool guard: a claim computed from a pool definition that has since changed (a new
        // blockSize, a deleted pool) must not land, or it could overlap a block claimed under
        // the new definition by another agent.
        guards.push({ key, mod: '0' }, { key: this.keys.affinity(req.node, block.cidrText), mod: '0' }, { key: plan.pool.key, mod: plan.pool.mod });
        writes.push({ put: this.keys.affinity(req.node, block.cidrText), value: encodeAffinity({ node: req.node, cidr: block.cidrText }) });
      } else if (plan.kind === 'adopt') {
        block.affinity = req.node;
        guards.push({ key, mod: plan.lb.mod }, { key: this.keys.affinity(req.node, block.cidrText), mod: '0' });
        writes.push({ put: this.keys.affinity(req.node, block.cidrText), value: encodeAffinity({ node: req.node, cidr: block.cidrText }) });
      } else {
        guards.push({ key, mod: plan.lb.mod });
      }
      writes.push({ put: key, value: block.encode() });
      record.ips.push({ ip: block.ipOf(plan.ordinal), block: block.cidrText, ordinal: plan.ordinal });
    }
    record.ips.sort((a, b) => parseIp(a.ip).family - parseIp(b.ip).family);
    writes.push({ put: handleKey, value: encodeHandle(record) });
    if (!(await cas(this.client, guards, writes))) return CONFLICT;
    for (const f of missing) {
      const plan = plans.get(f)!;
      if (plan.kind !== 'use') {
        this.stats[plan.kind === 'claim' ? 'claimed' : plan.kind === 'adopt' ? 'adopted' : 'borrowed']++;
        const cidr = plan.kind === 'claim' ? plan.block.cidrText : plan.lb.block.cidrText;
        this.log.info({ node: req.node, block: cidr, handle: req.handle }, plan.kind === 'borrow' ? 'borrowed address from another node\'s block' : `${plan.kind}ed block`);
      }
    }
    this.log.debug({ handle: req.handle, node: req.node, ips: record.ips.map((e) => e.ip) }, 'assigned');
    return resultOf(record);
  }

  /** The pools a request may use for one family; throws when there are none. */
  private choosePools(f: Family, req: AssignRequest, pools: StoredPool[], labels: Record<string, string>): StoredPool[] {
    const fam = pools.filter((p) => p.family === f);
    if (req.pools && req.pools.length) {
      const out: StoredPool[] = [];
      for (const name of req.pools) {
        const p = pools.find((x) => x.name === name);
        if (!p) throw new TernError('TERN_ERR_IPAM', `pool ${name} requested by ${req.handle} does not exist (or is invalid)`);
        if (p.disabled) throw new TernError('TERN_ERR_IPAM', `pool ${name} requested by ${req.handle} is disabled`);
        if (p.family === f) out.push(p);
      }
      if (!out.length) throw new TernError('TERN_ERR_IPAM', `none of the requested pools (${req.pools.join(', ')}) is ${familyName(f)}`);
      return out;
    }
    const out = fam.filter((p) => !p.disabled && matchSelector(p.selector, labels));
    if (!out.length) {
      throw new TernError('TERN_ERR_IPAM', `no enabled ${familyName(f)} pool selects node ${req.node}` + (fam.length ? ` (pools: ${fam.map((p) => `${p.name} ${p.disabled ? 'disabled' : `nodeSelector ${p.nodeSelector}`}`).join('; ')})` : ''));
    }
    return out;
  }

  private planAffine(affine: LoadedBlock[], pools: Pool[]): Plan | undefined {
    for (const lb of affine) {
      if (!pools.some((p) => cidrContains(p.cidr, lb.block.cidr))) continue;
      const ordinal = lb.block.findFree();
      if (ordinal !== undefined) return { kind: 'use', lb, ordinal };
    }
    return undefined;
  }

  private planSlow(f: Family, req: AssignRequest, pools: StoredPool[], all: LoadedBlock[], occupied: Cidr[]): Plan {
    const inPool = (p: Pool) => (lb: LoadedBlock) => cidrContains(p.cidr, lb.block.cidr);
    // 1. Own blocks (this read may be newer than the fast path's).
    const own = all.filter((lb) => lb.block.affinity === req.node);
    const a = this.planAffine(own, pools);
    if (a) return a;
    // 2. A new block.
    for (const p of pools) {
      const cidr = firstFreeBlock(p, occupied);
      if (cidr) return { kind: 'claim', block: Block.empty(cidr, req.node), ordinal: 0, pool: p }; // a new block starts at ordinal 0
    }
    // 3. A block without node.
    for (const p of pools) {
      for (const lb of all.filter(inPool(p))) {
        if (lb.block.affinity !== null) continue;
        const ordinal = lb.block.findFree();
        if (ordinal !== undefined) return { kind: 'adopt', lb, ordinal };
      }
    }
    // 4. Borrow, starting at a block picked by the handle so concurrent borrowers spread out.
    for (const p of pools) {
      if (p.strictAffinity) continue;
      const lend = all.filter((lb) => inPool(p)(lb) && lb.block.affinity !== req.node && lb.block.free > 0);
      if (!lend.length) continue;
      const start = hash32(req.handle) % lend.length;
      for (let i = 0; i < lend.length; i++) {
        const lb = lend[(start + i) % lend.length]!;
        const ordinal = lb.block.findFree();
        if (ordinal !== undefined) return { kind: 'borrow', lb, ordinal };
      }
    }
    const strict = pools.filter((p) => p.strictAffinity).map((p) => p.name);
    throw new TernError(
      'TERN_ERR_IPAM_EXHAUSTED',
      `no free ${familyName(f)} address for node ${req.node} (handle ${req.handle}) in pool${pools.length > 1 ? 's' : ''} ` +
        pools.map((p) => `${p.name} (${p.cidrText}, /${p.blockSize} blocks)`).join(', ') +
        (strict.length ? `; ${strict.join(', ')} ${strict.length > 1 ? 'have' : 'has'} strictAffinity, so addresses of other nodes' blocks are not borrowed` : ''),
    );
  }

  // ---------------------------------------------------------------- release

  /**
   * Frees what the handle record names plus `hint` (allocations found by a scan, for a handle
   * whose record is missing), deletes the record, and deletes blocks left empty and without node.
   */
  private async tryRelease(handle: string, hint: HandleIp[]): Promise<Attempt<string[]>> {
    const handleKey = this.keys.handle(handle);
    const s1 = await snapshot(this.client, [{ key: handleKey }]);
    const hkv = s1.results[0]?.[0];
    const entries = [...hint];
    if (hkv) {
      const d = decodeHandle(hkv.value);
      if (d.ok) entries.push(...d.value.ips);
      else this.log.warn({ handle, error: d.error }, 'corrupt handle record: releasing what blocks say it holds');
    }
    if (!hkv && entries.length === 0) return [];
    const cidrs = [...new Set(entries.map((e) => e.block))];
    const s2 = cidrs.length ? await snapshot(this.client, cidrs.map((c) => ({ key: this.keys.block(c) }))) : { results: [] };
    const guards: Guard[] = [];
    const writes: Write[] = [];
    const released: string[] = [];
    if (hkv) {
      guards.push({ key: handleKey, mod: hkv.mod });
      writes.push({ del: handleKey });
    }
    for (const lb of this.decodeBlocks(s2.results.flat()).blocks) {
      let changed = false;
      for (const e of entries) {
        if (e.block !== lb.block.cidrText || lb.block.allocations.get(e.ordinal)?.handle !== handle) continue;
        lb.block.release(e.ordinal);
        released.push(lb.block.ipOf(e.ordinal));
        changed = true;
      }
      if (!changed) continue;
      guards.push({ key: lb.key, mod: lb.mod });
      writes.push(lb.block.affinity === null && lb.block.used === 0 ? { del: lb.key } : { put: lb.key, value: lb.block.encode() });
    }
    if (writes.length === 0) return [];
    if (!(await cas(this.client, guards, writes))) return CONFLICT;
    this.log.debug({ handle, released }, 'released');
    return released;
  }

  /** Drops one affinity of a node; 1 if it was dropped, CONFLICT when the node still holds addresses there or a write raced. */
  private async tryDropAffinity(node: string, cidr: string): Promise<Attempt<number>> {
    const blockKey = this.keys.block(cidr);
    const affKey = this.keys.affinity(node, cidr);
    const s = await snapshot(this.client, [{ key: blockKey }, { key: affKey }]);
    const bkv = s.results[0]?.[0];
    const akv = s.results[1]?.[0];
    const guards: Guard[] = [{ key: blockKey, mod: bkv?.mod ?? '0' }, { key: affKey, mod: akv?.mod ?? '0' }];
    const writes: Write[] = [];
    if (akv) writes.push({ del: affKey });
    if (bkv) {
      const d = Block.decode(bkv.value);
      if (!d.ok) throw new TernError('TERN_ERR_IPAM', `${blockKey}: ${d.error}`);
      const b = d.block;
      if (b.affinity === node) {
        // An address assigned to the node after the scan: go round again and free it first.
        if ([...b.allocations.values()].some((a) => a.node === node)) return CONFLICT;
        if (b.used === 0) writes.push({ del: blockKey });
        else {
          b.affinity = null;
          writes.push({ put: blockKey, value: b.encode() });
        }
      }
    }
    if (writes.length === 0) return 0;
    if (!(await cas(this.client, guards, writes))) return CONFLICT;
    return 1;
  }

  // ---------------------------------------------------------------- helpers

  private async retry<T>(what: string, attempt: () => Promise<Attempt<T>>): Promise<T> {
    for (let i = 0; i <= this.maxRetries; i++) {
      const r = await this.wrap(attempt);
      if (r !== CONFLICT) return r;
      this.stats.conflicts++;
      // Jitter grows with the attempt so a crowd of losers does not collide again in lockstep.
      await sleep(Math.random() * Math.min(50, 2 + i * 3));
    }
    throw new TernError('TERN_ERR_CONFLICT', `${what}: lost ${this.maxRetries + 1} compare-and-swap races in a row; etcd is too contended`);
  }

  /** etcd failures become TERN_ERR_DATASTORE; our own errors pass through. */
  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isTernError(e)) throw e;
      throw new TernError('TERN_ERR_DATASTORE', `etcd: ${(e as Error).message}`, { cause: e });
    }
  }

  private decodePools(kvs: Kv[]): { pools: StoredPool[]; invalid: string[] } {
    const pools: StoredPool[] = [];
    const invalid: string[] = [];
    for (const kv of kvs) {
      let raw: unknown;
      try {
        raw = JSON.parse(kv.value);
      } catch {
        invalid.push(`${kv.key}: not JSON`);
        continue;
      }
      const r = normalizePool(raw);
      if (r.ok) pools.push({ ...r.pool, key: kv.key, mod: kv.mod });
      else invalid.push(`${kv.key}: ${r.error}`);
    }
    pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { pools, invalid };
  }

  /** Decodes block records; `occupied` also covers corrupt ones (by key) so they are never claimed over. */
  private decodeBlocks(kvs: Kv[]): { blocks: LoadedBlock[]; occupied: Cidr[]; corrupt: string[] } {
    const blocks: LoadedBlock[] = [];
    const occupied: Cidr[] = [];
    const corrupt: string[] = [];
    for (const kv of kvs) {
      const d = Block.decode(kv.value);
      if (d.ok) {
        blocks.push({ key: kv.key, mod: kv.mod, block: d.block });
        occupied.push(d.block.cidr);
        continue;
      }
      corrupt.push(`${kv.key}: ${d.error}`);
      this.log.warn({ key: kv.key, error: d.error }, 'corrupt IPAM block: left alone');
      const c = keyToCidr(kv.key.slice(this.keys.blocksPrefix.length));
      if (isCidr(c)) occupied.push(parseCidr(c));
    }
    blocks.sort((a, b) => cmpCidr(a.block.cidr, b.block.cidr));
    return { blocks, occupied, corrupt };
  }
}

function cmpCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefixLen - b.prefixLen;
}

/**
 * The lowest block of the pool that overlaps no existing block. Walks the existing blocks in
 * address order and returns the first gap, so the cost grows with the blocks that exist, never
 * with the pool's size (an IPv6 /64 pool has 2^58 /122 blocks).
 */
export function firstFreeBlock(pool: Pool, occupied: Cidr[]): Cidr | undefined {
  const step = 1n << BigInt(bitsOf(pool.family) - pool.blockSize);
  const end = cidrLast(pool.cidr);
  const inside = occupied.filter((c) => cidrOverlaps(c, pool.cidr)).sort(cmpCidr);
  let cand = pool.cidr.base;
  const alignUp = (v: bigint): bigint => pool.cidr.base + ((v - pool.cidr.base + step - 1n) / step) * step;
  for (const c of inside) {
    if (cand + step - 1n > end) return undefined;
    if (cand + step - 1n < c.base) break;
    const last = cidrLast(c);
    if (last >= cand) cand = alignUp(last + 1n);
  }
  if (cand < pool.cidr.base || cand + step - 1n > end) return undefined;
  return { family: pool.family, base: cand, prefixLen: pool.blockSize };
}

function nodeLabels(value: string | undefined): Record<string, string> {
  if (!value) return {};
  try {
    const n = JSON.parse(value) as { metadata?: { labels?: unknown } };
    const l = n?.metadata?.labels;
    if (typeof l !== 'object' || l === null) return {};
    return Object.fromEntries(Object.entries(l).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

function resultOf(h: HandleRecord): AssignResult {
  const out: AssignResult = { blocks: [...new Set(h.ips.map((e) => e.block))] };
  for (const e of h.ips) {
    if (parseIp(e.ip).family === 4) out.ipv4 = e.ip;
    else out.ipv6 = e.ip;
  }
  return out;
}
