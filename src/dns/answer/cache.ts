// The answer cache, keyed by the question's wire bytes rather than a string: a hit hashes the
// name where it lies in the request (ASCII case folded, RFC 4343 §3) and compares bytes, so the
// hot path creates no key string and calls into no C++ (a latin1 decode plus toLowerCase cost
// two strings and a string hash per query). Entries are chained per hash and filed under the
// index tags they were built from, so an index change drops exactly the answers it touches.

/** One cached answer for (name, qtype). */
interface Entry<V> {
  readonly hash: number;
  readonly qtype: number;
  /** The question name's wire bytes, ASCII-lowercased. */
  readonly name: Uint8Array;
  value: V;
  next: Entry<V> | undefined;
  /** False once dropped: tag lists may still point at it until their tag fires. */
  live: boolean;
}

/** Tags that are never invalidated: not worth remembering. */
const STATIC_TAG = 'static';

/**
 * FNV-1a over b[start..end) with A-Z folded to a-z, mixed with the query type. Length octets
 * are at most 63, below 'A', so folding never touches them.
 */
export function questionHash(b: Uint8Array, start: number, end: number, qtype: number): number {
  let h = 0x811c9dc5 ^ qtype;
  for (let i = start; i < end; i++) {
    let c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h | 0;
}

function sameName(name: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (name.length !== end - start) return false;
  for (let i = 0; i < name.length; i++) {
    let c = b[start + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name[i]) return false;
  }
  return true;
}

export class AnswerCache<V> {
  private readonly buckets = new Map<number, Entry<V>>();
  private readonly byTag = new Map<string, Entry<V>[]>();
  private count = 0;

  /** At `maxEntries` (name, type) pairs the cache empties itself before taking another. */
  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.count;
  }

  /** The value cached for the name at b[start..end) and `qtype`; `hash` from `questionHash`. */
  get(b: Uint8Array, start: number, end: number, qtype: number, hash: number): V | undefined {
    for (let e = this.buckets.get(hash); e !== undefined; e = e.next) {
      if (e.qtype === qtype && sameName(e.name, b, start, end)) return e.value;
    }
    return undefined;
  }

  set(b: Uint8Array, start: number, end: number, qtype: number, hash: number, value: V, tags: readonly string[]): void {
    let e = this.find(b, start, end, qtype, hash);
    if (e) e.value = value;
    else {
      if (this.count >= this.maxEntries) this.clear();
      const name = new Uint8Array(end - start);
      for (let i = 0; i < name.length; i++) {
        const c = b[start + i]!;
        name[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      e = { hash, qtype, name, value, next: this.buckets.get(hash), live: true };
      this.buckets.set(hash, e);
      this.count++;
    }
    for (const t of tags) {
      if (t === STATIC_TAG) continue;
      const list = this.byTag.get(t);
      if (list) list.push(e);
      else this.byTag.set(t, [e]);
    }
  }

  /** Drops every entry filed under one of `tags`. */
  invalidate(tags: Iterable<string>): void {
    for (const t of tags) {
      const list = this.byTag.get(t);
      if (!list) continue;
      this.byTag.delete(t);
      for (const e of list) this.drop(e);
    }
  }

  clear(): void {
    for (const head of this.buckets.values()) {
      for (let e: Entry<V> | undefined = head; e !== undefined; e = e.next) e.live = false;
    }
    this.buckets.clear();
    this.byTag.clear();
    this.count = 0;
  }

  private find(b: Uint8Array, start: number, end: number, qtype: number, hash: number): Entry<V> | undefined {
    for (let e = this.buckets.get(hash); e !== undefined; e = e.next) {
      if (e.qtype === qtype && sameName(e.name, b, start, end)) return e;
    }
    return undefined;
  }

  private drop(e: Entry<V>): void {
    if (!e.live) return;
    e.live = false;
    this.count--;
    const head = this.buckets.get(e.hash);
    if (head === e) {
      if (e.next) this.buckets.set(e.hash, e.next);
      else this.buckets.delete(e.hash);
      return;
    }
    for (let p = head; p !== undefined; p = p.next) {
      if (p.next === e) {
        p.next = e.next;
        return;
      }
    }
  }
}
