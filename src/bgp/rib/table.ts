// Compact storage for a large table. A prefix is a slot number; a path is a record number. Both
// live in typed arrays (struct of arrays) that grow by doubling, so 500,000 routes cost a handful
// of typed arrays and one Map entry per prefix instead of several JS objects per route.
//
// Prefix keys: one Map per prefix length. IPv4 key = the network bits as an integer
// (addr >>> (32 - len)), a small integer (V8 Smi, no heap number) for every length up to /30.
// IPv6 key = the ceil(len/8) network octets as a latin1 string (a /48 is a 6-character string).
import type { PolicyPrefix } from '../policy/index.js';
import { formatIpBytes } from '../wire/index.js';

function grow<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array>(a: T, n: number, fill = 0): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

/**
 * STALE: kept across the peer's restart (RFC 4724 §4.2), shown as stale, swept by End-of-RIB.
 * REFRESH: not yet re-announced since the peer's BoRR (RFC 7313 §4.2), swept by its EoRR; such a
 * path is as good as any other meanwhile, so the flag changes no best-path event.
 */
export const PathFlag = { STALE: 1, REFRESH: 2 } as const;

/** Path records: {peer, pathId, attrs, flags, next, prefix slot, family}. */
export class PathStore {
  cap: number;
  hi = 0;
  count = 0;
  private readonly freeList: number[] = [];
  peer: Uint16Array;
  pathId: Uint32Array;
  attrs: Int32Array;
  flags: Uint8Array;
  next: Int32Array;
  prefix: Int32Array;
  /** 4 or 6; 0 for a free record. */
  fam: Uint8Array;

  constructor(cap = 1024) {
    this.cap = cap;
    this.peer = new Uint16Array(cap);
    this.pathId = new Uint32Array(cap);
    this.attrs = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
    this.next = new Int32Array(cap);
    this.prefix = new Int32Array(cap);
    this.fam = new Uint8Array(cap);
  }

  alloc(): number {
    this.count++;
    const f = this.freeList.pop();
    if (f !== undefined) return f;
    if (this.hi === this.cap) {
      const n = this.cap * 2;
      this.peer = grow(this.peer, n);
      this.pathId = grow(this.pathId, n);
      this.attrs = grow(this.attrs, n);
      this.flags = grow(this.flags, n);
      this.next = grow(this.next, n);
      this.prefix = grow(this.prefix, n);
      this.fam = grow(this.fam, n);
      this.cap = n;
    }
    return this.hi++;
  }

  release(i: number): void {
    this.count--;
    this.fam[i] = 0;
    this.freeList.push(i);
  }
}

export const PrefixFlag = { TOUCHED: 1, BEST_STALE: 2 } as const;

/** One address family's prefixes and their Loc-RIB decision. */
export class FamilyTable {
  readonly afi: number;
  readonly bits: number;
  cap: number;
  hi = 0;
  count = 0;
  private readonly freeList: number[] = [];
  private readonly maps: Map<number | string, number>[];
  /** First path record, -1 when none. */
  head: Int32Array;
  /** Best path record (-1 none), its attribute set and source peer as of the last decision. */
  best: Int32Array;
  bestAttrs: Int32Array;
  bestPeer: Uint16Array;
  reason: Uint8Array;
  flags: Uint8Array;
  /** Things outside the path list that still name this slot (Adj-RIB-Out entries, dirty marks, queued withdrawals). */
  outRefs: Int32Array;
  len: Uint8Array;
  /** IPv4 network address. */
  addr4: Uint32Array;
  /** IPv6 key (network octets, latin1). */
  key6: (string | undefined)[] = [];
  /** Slots touched by the UPDATE being processed. */
  touched: number[] = [];
  /** This family's path records (a path id sent under ADD-PATH is a record number + 1). */
  readonly paths = new PathStore();

  constructor(readonly family: 4 | 6, cap = 1024) {
    this.afi = family === 4 ? 1 : 2;
    this.bits = family === 4 ? 32 : 128;
    this.cap = cap;
    this.maps = Array.from({ length: this.bits + 1 }, () => new Map<number | string, number>());
    this.head = new Int32Array(cap).fill(-1);
    this.best = new Int32Array(cap).fill(-1);
    this.bestAttrs = new Int32Array(cap).fill(-1);
    this.bestPeer = new Uint16Array(cap);
    this.reason = new Uint8Array(cap);
    this.flags = new Uint8Array(cap);
    this.outRefs = new Int32Array(cap);
    this.len = new Uint8Array(cap);
    this.addr4 = new Uint32Array(family === 4 ? cap : 0);
  }

  private allocSlot(): number {
    this.count++;
    const f = this.freeList.pop();
    if (f !== undefined) return f;
    if (this.hi === this.cap) {
      const n = this.cap * 2;
      this.head = grow(this.head, n, -1);
      this.best = grow(this.best, n, -1);
      this.bestAttrs = grow(this.bestAttrs, n, -1);
      this.bestPeer = grow(this.bestPeer, n);
      this.reason = grow(this.reason, n);
      this.flags = grow(this.flags, n);
      this.outRefs = grow(this.outRefs, n);
      this.len = grow(this.len, n);
      if (this.family === 4) this.addr4 = grow(this.addr4, n);
      this.cap = n;
    }
    return this.hi++;
  }

  find4(addr: number, len: number): number {
    return this.maps[len]!.get(len === 0 ? 0 : addr >>> (32 - len)) ?? -1;
  }

  get4(addr: number, len: number): number {
    const m = this.maps[len]!;
    const k = len === 0 ? 0 : addr >>> (32 - len);
    let i = m.get(k);
    if (i === undefined) {
      i = this.allocSlot();
      m.set(k, i);
      this.len[i] = len;
      this.addr4[i] = addr;
    }
    return i;
  }

  find6(key: string, len: number): number {
    return this.maps[len]!.get(key) ?? -1;
  }

  get6(key: string, len: number): number {
    const m = this.maps[len]!;
    let i = m.get(key);
    if (i === undefined) {
      i = this.allocSlot();
      m.set(key, i);
      this.len[i] = len;
      this.key6[i] = key;
    }
    return i;
  }

  touch(i: number): void {
    if ((this.flags[i]! & PrefixFlag.TOUCHED) === 0) {
      this.flags[i] = this.flags[i]! | PrefixFlag.TOUCHED;
      this.touched.push(i);
    }
  }

  /** Frees the slot once nothing holds it: no path, no decision, nothing queued for a peer. */
  maybeFree(i: number): void {
    if (this.head[i] !== -1 || this.outRefs[i] !== 0 || (this.flags[i]! & PrefixFlag.TOUCHED) !== 0) return;
    const len = this.len[i]!;
    if (this.family === 4) this.maps[len]!.delete(len === 0 ? 0 : this.addr4[i]! >>> (32 - len));
    else {
      this.maps[len]!.delete(this.key6[i]!);
      this.key6[i] = undefined;
    }
    this.best[i] = -1;
    this.bestAttrs[i] = -1;
    this.flags[i] = 0;
    this.count--;
    this.freeList.push(i);
  }

  /** Network octets of a slot (4 or 16, zero-filled past the prefix). */
  octets(i: number, out: Uint8Array): Uint8Array {
    if (this.family === 4) {
      const a = this.addr4[i]!;
      out[0] = a >>> 24;
      out[1] = (a >>> 16) & 255;
      out[2] = (a >>> 8) & 255;
      out[3] = a & 255;
      return out;
    }
    out.fill(0);
    const k = this.key6[i]!;
    for (let j = 0; j < k.length; j++) out[j] = k.charCodeAt(j);
    return out;
  }

  format(i: number): string {
    return `${formatIpBytes(this.octets(i, new Uint8Array(this.family === 4 ? 4 : 16)))}/${this.len[i]}`;
  }

  policyPrefix(i: number): PolicyPrefix {
    if (this.family === 4) return { family: 4, addr: this.addr4[i]!, len: this.len[i]! };
    let v = 0n;
    const k = this.key6[i]!;
    for (let j = 0; j < 16; j++) v = (v << 8n) | BigInt(j < k.length ? k.charCodeAt(j) : 0);
    return { family: 6, addr: v, len: this.len[i]! };
  }
}

const scratch6 = new Uint8Array(16);

/** The map key of an IPv6 prefix in wire form (host bits past `len` cleared). */
export function key6(buf: Uint8Array, o: number, len: number): string {
  const n = (len + 7) >> 3;
  const rem = len & 7;
  if (rem === 0 || (buf[o + n - 1]! & (0xff >> rem)) === 0) {
    const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    return b.toString('latin1', o, o + n);
  }
  scratch6.set(buf.subarray(o, o + n));
  scratch6[n - 1] = scratch6[n - 1]! & (0xff << (8 - rem)) & 0xff;
  return Buffer.from(scratch6.buffer, scratch6.byteOffset, n).toString('latin1');
}
