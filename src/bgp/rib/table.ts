// Compact storage for a large table. A prefix is a slot number; a path is a record number. Both
// live in typed arrays (struct of arrays) that grow by doubling, so 500,000 routes cost a handful
// of typed arrays and an index entry per prefix instead of several JS objects per route.
//
// Prefix keys: one open-addressing index per family over the slots' own address and length
// (IPv4: a 32-bit word; IPv6: four), so a lookup hashes the wire octets and allocates nothing.
import type { PolicyPrefix } from '../policy/index.js';
import { formatIpBytes } from '../wire/index.js';

function grow<T extends Int32Array | Uint32Array | Uint16Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
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
  /** Freed records, a stack: freeRecs[0 .. freeCount). */
  private freeRecs = new Int32Array(64);
  private freeCount = 0;
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
    if (this.freeCount === 0 && this.hi === this.cap) this.reserve(1);
    return this.take();
  }

  /**
   * Makes room for `n` more records, so that the next `n` alloc / take calls move no array: a
   * caller may hold the arrays in locals meanwhile.
   */
  reserve(n: number): void {
    if (this.freeCount + this.cap - this.hi >= n) return;
    let c = this.cap * 2;
    while (this.freeCount + c - this.hi < n) c *= 2;
    this.peer = grow(this.peer, c);
    this.pathId = grow(this.pathId, c);
    this.attrs = grow(this.attrs, c);
    this.flags = grow(this.flags, c);
    this.next = grow(this.next, c);
    this.prefix = grow(this.prefix, c);
    this.fam = grow(this.fam, c);
    this.cap = c;
  }

  /** A record from the room `reserve` made. */
  take(): number {
    this.count++;
    return this.freeCount > 0 ? this.freeRecs[--this.freeCount]! : this.hi++;
  }

  release(i: number): void {
    this.count--;
    this.fam[i] = 0;
    if (this.freeCount === this.freeRecs.length) this.freeRecs = grow(this.freeRecs, this.freeCount * 2);
    this.freeRecs[this.freeCount++] = i;
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
  /** Freed slots, a stack: freeSlots[0 .. freeCount). */
  private freeSlots = new Int32Array(64);
  private freeCount = 0;
  /**
   * Prefix → slot: open addressing over the slot arrays themselves (the key is addr4/addr6 + len
   * of the slot found), linear probing, at most half full, deletion by backward shift (no
   * tombstones). Each position holds (slot, key hash): probes compare hashes before reading a
   * slot's key, and growth and deletion never hash again. Replaces a Map per prefix length plus,
   * for IPv6, a key string per prefix: a lookup reads the wire octets directly, allocates
   * nothing, and a prefix costs 16-32 octets of index.
   */
  private index: Int32Array;
  /** Positions - 1 (a power of two); the index holds two int32 per position. */
  private indexMask: number;
  /** First path record, -1 when none (set when a slot is first handed out: valid below `hi`). */
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
  /** IPv6 network address: four big-endian 32-bit words per slot (as int32), host bits clear. */
  addr6: Int32Array;
  /**
   * Slots touched by the UPDATE being processed: touched[0 .. touchedCount). Typed and reused
   * (two buffers, see takeTouched): a fresh array per UPDATE was most of the receive path's garbage.
   */
  touched = new Int32Array(1024);
  touchedCount = 0;
  private touchedSpare = new Int32Array(1024);
  /** This family's path records (a path id sent under ADD-PATH is a record number + 1). */
  readonly paths: PathStore;
  /** Output of `resolveField`: the slot and path id of each prefix of an NLRI field. */
  fieldSlots = new Int32Array(1024);
  fieldIds = new Uint32Array(1024);
  /** resolveField's first pass: each prefix's key hash, key (IPv4: one word; IPv6: four) and length. */
  private fieldHash = new Int32Array(1024);
  private fieldKey = new Int32Array(4096);
  private fieldLen = new Uint8Array(1024);
  /** Keeps resolveField's first-pass reads from being optimized away. */
  sink = 0;
  /** The IPv6 key being looked up by find6 / get6 (words as in addr6). */
  private readonly k6 = new Int32Array(4);

  /**
   * `cap`: the slots (and path records) reserved up front. The per-slot arrays are made that long
   * and not filled, so a slot's memory is first touched when the slot is handed out: a large
   * reservation costs address space, not resident memory, and spares a growing table its copies
   * (each doubling allocates, copies and faults in every array again, and leaves the old ones to
   * the garbage collector, whose external-memory trigger then runs collections mid-table). The
   * index is written all over by each insert, so the default table's starts small and grows with
   * the count; a reservation (more than the default) gets an index of `cap` positions at once,
   * filled up front: half the reservation fits before a first rehash, and a table growing to that
   * pays neither the rehashes nor their page faults (the index doublings add up to twice the final
   * index, each page faulted in while the table grows). Measured: a first table of 500k IPv4 +
   * 100k IPv6 routes took about 10 % less time, and peak RSS fell, since no old index lives
   * beside its successor.
   */
  constructor(readonly family: 4 | 6, cap = 1024) {
    this.afi = family === 4 ? 1 : 2;
    this.bits = family === 4 ? 32 : 128;
    this.cap = cap;
    this.paths = new PathStore(cap);
    let positions = 2048;
    if (cap > 1024) while (positions < cap) positions *= 2;
    this.index = new Int32Array(positions * 2).fill(-1);
    this.indexMask = positions - 1;
    this.head = new Int32Array(cap);
    this.best = new Int32Array(cap);
    this.bestAttrs = new Int32Array(cap);
    this.bestPeer = new Uint16Array(cap);
    this.reason = new Uint8Array(cap);
    this.flags = new Uint8Array(cap);
    this.outRefs = new Int32Array(cap);
    this.len = new Uint8Array(cap);
    this.addr4 = new Uint32Array(family === 4 ? cap : 0);
    this.addr6 = new Int32Array(family === 6 ? cap * 4 : 0);
  }

  private allocSlot(): number {
    this.count++;
    if (this.count * 2 > this.indexMask + 1) this.rehash((this.indexMask + 1) * 2);
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount]!;
    if (this.hi === this.cap) this.growSlots();
    const i = this.hi++;
    this.head[i] = -1;
    this.best[i] = -1;
    this.bestAttrs[i] = -1;
    return i;
  }

  /** Doubles the per-slot arrays (apart from allocSlot, which the lookup loops inline). */
  private growSlots(): void {
    const n = this.cap * 2;
    // No fill: a slot gets its -1s when first handed out, so the new part of each array stays
    // untouched (not even faulted in) until the table reaches it.
    this.head = grow(this.head, n);
    this.best = grow(this.best, n);
    this.bestAttrs = grow(this.bestAttrs, n);
    this.bestPeer = grow(this.bestPeer, n);
    this.reason = grow(this.reason, n);
    this.flags = grow(this.flags, n);
    this.outRefs = grow(this.outRefs, n);
    this.len = grow(this.len, n);
    if (this.family === 4) this.addr4 = grow(this.addr4, n);
    else this.addr6 = grow(this.addr6, n * 4);
    this.cap = n;
  }

  // ---- index ----

  /** Hash of a slot's own key, as the index holds it beside the slot. */
  private keyHash(i: number): number {
    if (this.family === 4) return hash4(this.addr4[i]!, this.len[i]!);
    const a = this.addr6;
    const w = i * 4;
    return hash6(a[w]!, a[w + 1]!, a[w + 2]!, a[w + 3]!, this.len[i]!);
  }

  private rehash(positions: number): void {
    const old = this.index;
    const idx = new Int32Array(positions * 2).fill(-1);
    const mask = positions - 1;
    // In the old index's order: linear probing keeps entries close to their home, and the new
    // home is the old one or the old one + the old size, so reads and writes both go forward
    // through memory instead of one cache miss per entry.
    for (let p = 0; p < old.length; p += 2) {
      const i = old[p]!;
      if (i === -1) continue;
      const hv = old[p + 1]!;
      let h = hv & mask;
      while (idx[h << 1] !== -1) h = (h + 1) & mask;
      idx[h << 1] = i;
      idx[(h << 1) | 1] = hv;
    }
    this.index = idx;
    this.indexMask = mask;
  }

  /** Puts slot i (key hash hv) at the first free position from its home. */
  private place(i: number, hv: number): void {
    const idx = this.index;
    const mask = this.indexMask;
    let h = hv & mask;
    while (idx[h << 1] !== -1) h = (h + 1) & mask;
    idx[h << 1] = i;
    idx[(h << 1) | 1] = hv;
  }

  /** Removes slot i from the index (Knuth's algorithm R: later entries of the run move back). */
  private unindex(i: number): void {
    const idx = this.index;
    const mask = this.indexMask;
    let h = this.keyHash(i) & mask;
    while (idx[h << 1] !== i) h = (h + 1) & mask;
    let j = h;
    for (;;) {
      j = (j + 1) & mask;
      const s = idx[j << 1]!;
      if (s === -1) break;
      const k = idx[(j << 1) | 1]! & mask;
      // s may move to the hole at h unless its home lies cyclically in (h, j].
      if (h <= j ? h < k && k <= j : h < k || k <= j) continue;
      idx[h << 1] = s;
      idx[(h << 1) | 1] = idx[(j << 1) | 1]!;
      h = j;
    }
    idx[h << 1] = -1;
  }

  /** The slot of addr/len (addr unsigned, host bits clear), or -1. */
  find4(addr: number, len: number): number {
    return this.find4h(addr, len, hash4(addr, len));
  }

  /** find4 with the key hash already computed. */
  private find4h(addr: number, len: number, hv: number): number {
    const idx = this.index;
    const mask = this.indexMask;
    for (let h = hv & mask; ; h = (h + 1) & mask) {
      const i = idx[h << 1]!;
      if (i === -1) return -1;
      if (idx[(h << 1) | 1] === hv && this.addr4[i] === addr && this.len[i] === len) return i;
    }
  }

  /** Like find4, making the slot when absent. */
  get4(addr: number, len: number): number {
    return this.get4h(addr, len, hash4(addr, len));
  }

  /** get4 with the key hash already computed. */
  private get4h(addr: number, len: number, hv: number): number {
    const idx = this.index;
    const mask = this.indexMask;
    let h = hv & mask;
    for (;;) {
      const i = idx[h << 1]!;
      if (i === -1) break;
      if (idx[(h << 1) | 1] === hv && this.addr4[i] === addr && this.len[i] === len) return i;
      h = (h + 1) & mask;
    }
    const i = this.allocSlot();
    this.len[i] = len;
    this.addr4[i] = addr;
    if (idx === this.index) {
      idx[h << 1] = i;
      idx[(h << 1) | 1] = hv;
    } else this.place(i, hv); // allocSlot rehashed
    return i;
  }

  /**
   * Index position of the IPv6 key at keys[ko .. ko+4) (words as in addr6) with length len and
   * key hash hv: its slot, or -1 - (the empty position where it would go).
   */
  private probe6(keys: Int32Array, ko: number, len: number, hv: number): number {
    const w0 = keys[ko]!;
    const w1 = keys[ko + 1]!;
    const w2 = keys[ko + 2]!;
    const w3 = keys[ko + 3]!;
    const a = this.addr6;
    const idx = this.index;
    const mask = this.indexMask;
    for (let h = hv & mask; ; h = (h + 1) & mask) {
      const i = idx[h << 1]!;
      if (i === -1) return -1 - h;
      const w = i * 4;
      if (idx[(h << 1) | 1] === hv && a[w] === w0 && a[w + 1] === w1 && a[w + 2] === w2 && a[w + 3] === w3 && this.len[i] === len) return i;
    }
  }

  /** The key (into k6) and key hash of the IPv6 prefix whose ceil(len/8) network octets are at buf[o..]. */
  private key6(buf: Uint8Array, o: number, len: number): number {
    const k = this.k6;
    const n = (len + 7) >> 3;
    const w0 = word6(buf, o, n) & wordMask(len);
    const w1 = word6(buf, o + 4, n - 4) & wordMask(len - 32);
    const w2 = word6(buf, o + 8, n - 8) & wordMask(len - 64);
    const w3 = word6(buf, o + 12, n - 12) & wordMask(len - 96);
    k[0] = w0;
    k[1] = w1;
    k[2] = w2;
    k[3] = w3;
    return hash6(w0, w1, w2, w3, len);
  }

  /** The slot of the IPv6 prefix whose ceil(len/8) network octets are at buf[o..], or -1. */
  find6(buf: Uint8Array, o: number, len: number): number {
    const r = this.probe6(this.k6, 0, len, this.key6(buf, o, len));
    return r < 0 ? -1 : r;
  }

  /** Like find6, making the slot when absent. */
  get6(buf: Uint8Array, o: number, len: number): number {
    const hv = this.key6(buf, o, len);
    return this.insert6(this.k6, 0, len, hv, this.probe6(this.k6, 0, len, hv));
  }

  /** The slot found by probe6 (r) for the key at keys[ko..], or a new one for it when r < 0. */
  private insert6(keys: Int32Array, ko: number, len: number, hv: number, r: number): number {
    if (r >= 0) return r;
    const idx = this.index;
    const i = this.allocSlot();
    this.len[i] = len;
    // Four stores, not addr6.set(…): that is a builtin call costing ~160 instructions a prefix.
    const a = this.addr6;
    a[i * 4] = keys[ko]!;
    a[i * 4 + 1] = keys[ko + 1]!;
    a[i * 4 + 2] = keys[ko + 2]!;
    a[i * 4 + 3] = keys[ko + 3]!;
    if (idx === this.index) {
      const h = -1 - r;
      idx[h << 1] = i;
      idx[(h << 1) | 1] = hv;
    } else this.place(i, hv); // allocSlot rehashed
    return i;
  }

  /**
   * Resolves every prefix of an already validated NLRI field of this family to its slot (made
   * when `create`, else -1 for an unknown prefix) into `fieldSlots` / `fieldIds`; returns the
   * count. One tight loop per UPDATE instead of a callback per prefix.
   *
   * Two passes: the first decodes and hashes every prefix and reads the home position of each
   * in the index, the second probes. A sender in hash order (BIRD) makes nearly every lookup a
   * cache miss; in the first pass the reads do not depend on one another, so the processor
   * has many misses in flight at once instead of waiting for each in turn (memory-level
   * parallelism: JS has no prefetch instruction), and the second pass finds the lines cached.
   */
  resolveField(buf: Uint8Array, start: number, end: number, addPath: boolean, create: boolean): number {
    // Every prefix takes at least one octet (five with ADD-PATH).
    const most = end - start;
    if (this.fieldSlots.length < most) {
      let m = this.fieldSlots.length;
      while (m < most) m *= 2;
      this.fieldSlots = new Int32Array(m);
      this.fieldIds = new Uint32Array(m);
      this.fieldHash = new Int32Array(m);
      this.fieldKey = new Int32Array(m * (this.family === 4 ? 1 : 4));
      this.fieldLen = new Uint8Array(m);
    }
    // One function per family, alike in shape on purpose: each gets V8's whole inlining budget for
    // its own helpers (with one function for both, hash6 and the IPv6 probe stayed calls).
    return this.family === 4 ? this.resolve4(buf, start, end, addPath, create) : this.resolve6(buf, start, end, addPath, create);
  }

  private resolve4(buf: Uint8Array, start: number, end: number, addPath: boolean, create: boolean): number {
    // Booleans in locals: V8 would test each parameter's type on every prefix.
    const ap = addPath === true;
    const cr = create === true;
    const slots = this.fieldSlots;
    const ids = this.fieldIds;
    const hashes = this.fieldHash;
    const keys = this.fieldKey;
    const lens = this.fieldLen;
    const idx = this.index;
    const mask = this.indexMask;
    let touch = 0;
    let n = 0;
    let o = start;
    while (o < end) {
      let id = 0;
      if (ap) {
        id = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
        o += 4;
      }
      const len = buf[o++]!;
      let a = 0;
      if (len > 0) a = buf[o++]! << 24;
      if (len > 8) a |= buf[o++]! << 16;
      if (len > 16) a |= buf[o++]! << 8;
      if (len > 24) a |= buf[o++]!;
      const addr = (len === 0 ? 0 : a & (0xffffffff << (32 - len))) >>> 0;
      const hv = hash4(addr, len);
      keys[n] = addr;
      touch ^= idx[(hv & mask) << 1]!;
      hashes[n] = hv;
      lens[n] = len;
      ids[n] = id;
      n++;
    }
    this.sink = touch;
    for (let k = 0; k < n; k++) {
      const addr = keys[k]! >>> 0;
      slots[k] = cr ? this.get4h(addr, lens[k]!, hashes[k]!) : this.find4h(addr, lens[k]!, hashes[k]!);
    }
    return n;
  }

  private resolve6(buf: Uint8Array, start: number, end: number, addPath: boolean, create: boolean): number {
    // Booleans in locals: V8 would test each parameter's type on every prefix.
    const ap = addPath === true;
    const cr = create === true;
    const slots = this.fieldSlots;
    const ids = this.fieldIds;
    const hashes = this.fieldHash;
    const keys = this.fieldKey;
    const lens = this.fieldLen;
    const idx = this.index;
    const mask = this.indexMask;
    let touch = 0;
    let n = 0;
    let o = start;
    while (o < end) {
      let id = 0;
      if (ap) {
        id = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
        o += 4;
      }
      const len = buf[o++]!;
      let w0 = 0;
      let w1 = 0;
      let w2 = 0;
      let w3 = 0;
      if (o + 16 <= buf.length) {
        // Whole words, read past the prefix's own octets (into the next prefix or whatever follows
        // in the buffer) and masked: no per-octet loop and no call, which V8 would not inline here.
        if (len > 0) {
          w0 = (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
          if (len < 32) w0 &= ~(-1 >>> len);
          else if (len > 32) {
            w1 = (buf[o + 4]! << 24) | (buf[o + 5]! << 16) | (buf[o + 6]! << 8) | buf[o + 7]!;
            if (len < 64) w1 &= ~(-1 >>> (len - 32));
            else if (len > 64) {
              w2 = (buf[o + 8]! << 24) | (buf[o + 9]! << 16) | (buf[o + 10]! << 8) | buf[o + 11]!;
              if (len < 96) w2 &= ~(-1 >>> (len - 64));
              else if (len > 96) {
                w3 = (buf[o + 12]! << 24) | (buf[o + 13]! << 16) | (buf[o + 14]! << 8) | buf[o + 15]!;
                if (len < 128) w3 &= ~(-1 >>> (len - 96));
              }
            }
          }
        }
      } else {
        // Near the buffer's end: octet by octet, as find6 / get6 read a key.
        this.key6(buf, o, len);
        const k = this.k6;
        w0 = k[0]!;
        w1 = k[1]!;
        w2 = k[2]!;
        w3 = k[3]!;
      }
      o += (len + 7) >> 3;
      const hv = hash6(w0, w1, w2, w3, len);
      keys[n * 4] = w0;
      keys[n * 4 + 1] = w1;
      keys[n * 4 + 2] = w2;
      keys[n * 4 + 3] = w3;
      touch ^= idx[(hv & mask) << 1]!;
      hashes[n] = hv;
      lens[n] = len;
      ids[n] = id;
      n++;
    }
    this.sink = touch;
    for (let k = 0; k < n; k++) {
      const r = this.probe6(keys, k * 4, lens[k]!, hashes[k]!);
      slots[k] = cr ? this.insert6(keys, k * 4, lens[k]!, hashes[k]!, r) : r < 0 ? -1 : r;
    }
    return n;
  }

  touch(i: number): void {
    if ((this.flags[i]! & PrefixFlag.TOUCHED) === 0) {
      this.flags[i] = this.flags[i]! | PrefixFlag.TOUCHED;
      if (this.touchedCount === this.touched.length) this.touched = grow(this.touched, this.touched.length * 2);
      this.touched[this.touchedCount++] = i;
    }
  }

  /**
   * Hands over the touched list (its first `touchedCount` entries, read that first) and starts an
   * empty one in the other buffer, so slots touched while the caller walks it are not lost.
   */
  takeTouched(): Int32Array {
    const t = this.touched;
    this.touched = this.touchedSpare;
    this.touchedSpare = t;
    this.touchedCount = 0;
    return t;
  }

  /** Frees the slot once nothing holds it: no path, no decision, nothing queued for a peer. */
  maybeFree(i: number): void {
    if (this.head[i] !== -1 || this.outRefs[i] !== 0 || (this.flags[i]! & PrefixFlag.TOUCHED) !== 0) return;
    this.unindex(i);
    this.best[i] = -1;
    this.bestAttrs[i] = -1;
    this.flags[i] = 0;
    this.count--;
    if (this.freeCount === this.freeSlots.length) this.freeSlots = grow(this.freeSlots, this.freeCount * 2);
    this.freeSlots[this.freeCount++] = i;
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
    const a = this.addr6;
    for (let j = 0; j < 16; j++) out[j] = (a[i * 4 + (j >> 2)]! >>> (24 - ((j & 3) << 3))) & 255;
    return out;
  }

  format(i: number): string {
    return `${formatIpBytes(this.octets(i, new Uint8Array(this.family === 4 ? 4 : 16)))}/${this.len[i]}`;
  }

  policyPrefix(i: number): PolicyPrefix {
    if (this.family === 4) return { family: 4, addr: this.addr4[i]!, len: this.len[i]! };
    let v = 0n;
    for (let j = 0; j < 4; j++) v = (v << 32n) | BigInt(this.addr6[i * 4 + j]! >>> 0);
    return { family: 6, addr: v, len: this.len[i]! };
  }
}

/** The big-endian 32-bit word of the `n` octets at buf[o..] (fewer than four: zero-filled; none: 0). */
function word6(buf: Uint8Array, o: number, n: number): number {
  if (n >= 4) return (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
  if (n <= 0) return 0;
  let v = buf[o]! << 24;
  if (n > 1) v |= buf[o + 1]! << 16;
  if (n > 2) v |= buf[o + 2]! << 8;
  return v;
}

/** The network bits of a 32-bit word that starts `bits` bits into a prefix of that length. */
const wordMask = (bits: number): number => (bits <= 0 ? 0 : bits >= 32 ? -1 : ~(-1 >>> bits));

/** lowbias32 (Wellons' hash prospector). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

// Key hashes. The last three network bits of a prefix stay as they are in the low bits of the
// hash and only the rest is mixed: eight neighbouring prefixes of one length (tables arrive
// largely in address order) then share one 8-position block of the index, a cache line, instead
// of costing a cache miss each; the blocks themselves are spread by the mix. The price: two
// groups meeting in one block spill whole into the next, so a full table of consecutive /24s
// probes ~7.6 positions per insert where a whole-key mix probes ~1.8. Measured both ways, the
// first table of a receiver-paced replay was no faster with the whole-key mix (fewer
// instructions, more cache misses), so the grouping stays.

/** IPv4: addr unsigned with host bits clear. */
function hash4(addr: number, len: number): number {
  const key = len === 0 ? 0 : addr >>> (32 - len);
  return (mix32((key >>> 3) ^ Math.imul(len, 0x9e3779b9)) & ~7) | (key & 7);
}

/** IPv6: four words (int32) with host bits clear. */
function hash6(w0: number, w1: number, w2: number, w3: number, len: number): number {
  let low = 0;
  if (len > 0) {
    // The last network bits, within the word holding the last one (fewer when it is the word's first).
    const pos = len - 1;
    const shift = 31 - (pos & 31);
    const bits = Math.min(3, (pos & 31) + 1);
    const m = ((1 << bits) - 1) << shift;
    const word = pos >> 5;
    if (word === 0) {
      low = (w0 & m) >>> shift;
      w0 &= ~m;
    } else if (word === 1) {
      low = (w1 & m) >>> shift;
      w1 &= ~m;
    } else if (word === 2) {
      low = (w2 & m) >>> shift;
      w2 &= ~m;
    } else {
      low = (w3 & m) >>> shift;
      w3 &= ~m;
    }
  }
  const g = mix32(Math.imul(w0, 0x9e3779b1) + Math.imul(w1, 0x85ebca77) + Math.imul(w2, 0xc2b2ae3d) + Math.imul(w3, 0x27d4eb2f) + len);
  return (g & ~7) | low;
}
