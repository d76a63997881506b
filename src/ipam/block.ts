// An IPAM block: one CIDR of a pool (a /26 by default), affine to at most one node, and the
// allocations inside it. Pure codec plus in-memory operations; src/ipam/index.ts does the I/O.
//
// Stored JSON (one etcd key per block, keys.block(cidr)):
//   {
//     "cidr": "10.244.0.0/26",
//     "affinity": "node-a" | null,     null once the node is gone but borrowed addresses remain
//     "next": 5,                       where the next search for a free ordinal starts
//     "used": "<base64>",              bitmap, bit i set = ordinal i allocated; ordinal 0 is the
//                                      most significant bit of byte 0 (network bit order)
//     "allocations": { "5": { "handle": "c0ffee.eth0", "node": "node-a", "attrs": {...} } }
//   }
// The bitmap makes "find a free address" a byte scan and keeps a full /26 at 8 bytes; the
// allocation map carries what a bitmap cannot: who holds each address. decode() checks that
// both agree, so a hand-edited or truncated block is refused rather than half-trusted.
//
// Every address of a block is usable, network and broadcast addresses included, as in Calico:
// a block is not a link, pods get /32 (/128) routes, so nothing on the wire treats the first or
// last address of a /26 specially.
import { cidrContainsIp, formatCidr, formatIp, parseCidr, parseIp, cidrSize, type Cidr, type Ip } from '../net/ip.js';

export interface Allocation {
  handle: string;
  /** The node that holds the address: differs from the block's affinity when borrowed. */
  node: string;
  attrs?: Record<string, string>;
}

export interface BlockJson {
  cidr: string;
  affinity: string | null;
  next: number;
  used: string;
  allocations: Record<string, Allocation>;
}

/** Largest block allowed (a /20 or /116): keeps ordinals small numbers and a block key small. */
export const MAX_BLOCK_ADDRESSES = 4096;

export type BlockResult = { ok: true; block: Block } | { ok: false; error: string };

export class Block {
  private constructor(
    readonly cidr: Cidr,
    public affinity: string | null,
    public next: number,
    private readonly bitmap: Uint8Array,
    readonly allocations: Map<number, Allocation>,
  ) {}

  static empty(cidr: Cidr, affinity: string | null): Block {
    const size = Number(cidrSize(cidr));
    if (size > MAX_BLOCK_ADDRESSES) throw new Error(`block ${formatCidr(cidr)} is larger than ${MAX_BLOCK_ADDRESSES} addresses`);
    return new Block(cidr, affinity, 0, new Uint8Array(Math.ceil(size / 8)), new Map());
  }

  static decode(text: string): BlockResult {
    let j: Partial<BlockJson>;
    try {
      j = JSON.parse(text) as Partial<BlockJson>;
    } catch (e) {
      return { ok: false, error: `block is not JSON: ${(e as Error).message}` };
    }
    if (typeof j !== 'object' || j === null || typeof j.cidr !== 'string') return { ok: false, error: 'block without cidr' };
    let cidr: Cidr;
    try {
      cidr = parseCidr(j.cidr);
    } catch (e) {
      return { ok: false, error: `block cidr: ${(e as Error).message}` };
    }
    const size = cidrSize(cidr);
    if (size > BigInt(MAX_BLOCK_ADDRESSES)) return { ok: false, error: `block ${j.cidr} is too large` };
    const n = Number(size);
    if (j.affinity !== null && typeof j.affinity !== 'string') return { ok: false, error: `block ${j.cidr}: bad affinity` };
    if (typeof j.used !== 'string') return { ok: false, error: `block ${j.cidr}: missing bitmap` };
    const bitmap = new Uint8Array(Buffer.from(j.used, 'base64'));
    if (bitmap.length !== Math.ceil(n / 8)) return { ok: false, error: `block ${j.cidr}: bitmap has ${bitmap.length} bytes, want ${Math.ceil(n / 8)}` };
    const allocs = new Map<number, Allocation>();
    for (const [k, a] of Object.entries(j.allocations ?? {})) {
      const ord = Number(k);
      if (!Number.isInteger(ord) || ord < 0 || ord >= n || String(ord) !== k) return { ok: false, error: `block ${j.cidr}: bad ordinal "${k}"` };
      if (typeof a?.handle !== 'string' || typeof a.node !== 'string') return { ok: false, error: `block ${j.cidr}: allocation ${k} lacks handle or node` };
      if (!testBit(bitmap, ord)) return { ok: false, error: `block ${j.cidr}: ordinal ${k} has an allocation but its bit is clear` };
      allocs.set(ord, a.attrs ? { handle: a.handle, node: a.node, attrs: a.attrs } : { handle: a.handle, node: a.node });
    }
    if (popcount(bitmap) !== allocs.size) return { ok: false, error: `block ${j.cidr}: bitmap and allocations disagree` };
    const next = typeof j.next === 'number' && Number.isInteger(j.next) && j.next >= 0 && j.next < n ? j.next : 0;
    return { ok: true, block: new Block(cidr, j.affinity ?? null, next, bitmap, allocs) };
  }

  encode(): string {
    const allocations: Record<string, Allocation> = {};
    for (const [ord, a] of [...this.allocations].sort((x, y) => x[0] - y[0])) allocations[String(ord)] = a;
    const j: BlockJson = {
      cidr: this.cidrText,
      affinity: this.affinity,
      next: this.next,
      used: Buffer.from(this.bitmap).toString('base64'),
      allocations,
    };
    return JSON.stringify(j);
  }

  get cidrText(): string {
    return formatCidr(this.cidr);
  }

  get size(): number {
    return Number(cidrSize(this.cidr));
  }

  get used(): number {
    return this.allocations.size;
  }

  get free(): number {
    return this.size - this.allocations.size;
  }

  isUsed(ordinal: number): boolean {
    return testBit(this.bitmap, ordinal);
  }

  /**
   * The first free ordinal at or after `next`, wrapping. Starting after the last allocation
   * rather than at 0 keeps a just-released address out of use for as long as the block has
   * other room, so a new pod does not inherit conntrack entries or stale routes of an old one.
   */
  findFree(): number | undefined {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      const ord = (this.next + i) % n;
      // Skip whole full bytes quickly when aligned.
      if ((ord & 7) === 0 && this.bitmap[ord >> 3] === 0xff && ord + 8 <= n && i + 8 <= n) {
        i += 7;
        continue;
      }
      if (!testBit(this.bitmap, ord)) return ord;
    }
    return undefined;
  }

  allocate(ordinal: number, a: Allocation): void {
    if (ordinal < 0 || ordinal >= this.size) throw new Error(`ordinal ${ordinal} outside block ${this.cidrText}`);
    if (testBit(this.bitmap, ordinal)) throw new Error(`ordinal ${ordinal} of ${this.cidrText} is already allocated`);
    this.bitmap[ordinal >> 3]! |= 0x80 >> (ordinal & 7);
    this.allocations.set(ordinal, a);
    this.next = (ordinal + 1) % this.size;
  }

  release(ordinal: number): Allocation | undefined {
    const a = this.allocations.get(ordinal);
    if (!a) return undefined;
    this.bitmap[ordinal >> 3]! &= ~(0x80 >> (ordinal & 7));
    this.allocations.delete(ordinal);
    return a;
  }

  ipOf(ordinal: number): string {
    return formatIp({ family: this.cidr.family, value: this.cidr.base + BigInt(ordinal) });
  }

  ordinalOf(ip: Ip | string): number | undefined {
    const v = typeof ip === 'string' ? parseIp(ip) : ip;
    return cidrContainsIp(this.cidr, v) ? Number(v.value - this.cidr.base) : undefined;
  }
}

function testBit(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0;
}

function popcount(bitmap: Uint8Array): number {
  let c = 0;
  for (let b of bitmap) {
    while (b) {
      b &= b - 1;
      c++;
    }
  }
  return c;
}
