// The cache of forwarded answers. Keyed by question name (lowercased wire form), type, class
// and the DO bit, since a DNSSEC-aware client gets a different answer (RFC 4035 §3.2.1).
// Entries are whole responses; TTLs are rewritten on the way out so a client never holds a
// record longer than the upstream allowed (RFC 1035 §7.3). Pure: time comes from the caller.
import { HEADER_LEN, RRType, Rcode } from '../wire/index.js';

export interface ForwardCacheOptions {
  /** Cap on the lifetime of a positive answer (seconds); CoreDNS's cache default is 3600. */
  maxTtl: number;
  /** Cap on the lifetime of NXDOMAIN/NODATA (seconds); CoreDNS's default is 1800. */
  maxNegativeTtl: number;
  /** Bound on entries; the oldest inserted goes first. */
  maxEntries: number;
  /** RFC 8767: how long past expiry an answer may still be served when every upstream fails (seconds, 0 = never). */
  staleSeconds: number;
}

/** RFC 8767 §4: stale answers carry a TTL of 30 s so clients come back soon. */
export const STALE_TTL = 30;

interface Entry {
  msg: Buffer;
  storedMs: number;
  /** Lifetime in seconds after the caps. */
  ttl: number;
  negative: boolean;
  /** Offsets of TTL fields (OPT excluded) and their values as received. */
  ttlAt: number[];
  ttlWas: number[];
}

export function cacheKey(qnameKey: string, qtype: number, qclass: number, dnssecOk: boolean): string {
  return `${qnameKey}|${qtype}|${qclass}|${dnssecOk ? 1 : 0}`;
}

function skipName(b: Buffer, p: number): number {
  for (let hops = 0; hops < 128 && p < b.length; hops++) {
    const l = b[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2;
    p += l + 1;
  }
  return -1;
}

export interface ScannedResponse {
  rcode: number;
  tc: boolean;
  answers: number;
  ttlAt: number[];
  ttlWas: number[];
  /** Types of each record, parallel to ttlAt. */
  types: number[];
  /** RFC 2308 §5: min(SOA TTL, SOA MINIMUM) of the authority SOA, when there is one. */
  negativeTtl?: number;
  /** Smallest TTL in the answer section. */
  minAnswerTtl?: number;
}

/** Walks a response's records once; undefined when it is malformed. */
export function scanResponse(b: Buffer): ScannedResponse | undefined {
  if (b.length < HEADER_LEN) return undefined;
  const qd = b.readUInt16BE(4);
  const counts = [b.readUInt16BE(6), b.readUInt16BE(8), b.readUInt16BE(10)];
  let p = HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    p = skipName(b, p);
    if (p < 0 || p + 4 > b.length) return undefined;
    p += 4;
  }
  const out: ScannedResponse = { rcode: b[3]! & 0xf, tc: (b[2]! & 0x02) !== 0, answers: counts[0]!, ttlAt: [], ttlWas: [], types: [] };
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      p = skipName(b, p);
      if (p < 0 || p + 10 > b.length) return undefined;
      const type = b.readUInt16BE(p);
      const ttl = b.readUInt32BE(p + 4);
      const rdlen = b.readUInt16BE(p + 8);
      const rd = p + 10;
      if (rd + rdlen > b.length) return undefined;
      if (type !== RRType.OPT) {
        out.ttlAt.push(p + 4);
        out.ttlWas.push(ttl);
        out.types.push(type);
        if (s === 0) out.minAnswerTtl = Math.min(out.minAnswerTtl ?? ttl, ttl);
        if (s === 1 && type === RRType.SOA) {
          // SOA RDATA: two names, then serial, refresh, retry, expire, minimum.
          let q = skipName(b, rd);
          if (q > 0) q = skipName(b, q);
          if (q > 0 && q + 20 <= rd + rdlen) out.negativeTtl = Math.min(ttl, b.readUInt32BE(q + 16));
        }
      }
      p = rd + rdlen;
    }
  }
  return out;
}

export class ForwardCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  hitsDenial = 0;
  misses = 0;
  staleServed = 0;

  constructor(private readonly opts: ForwardCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Stores a response when it is cacheable: NOERROR with answers (positive), NXDOMAIN or
   * NOERROR without answers carrying an SOA (negative; without one RFC 2308 §5 says not to
   * cache). Truncated answers and failures are not stored.
   */
  put(key: string, msg: Buffer, nowMs: number): boolean {
    const s = scanResponse(msg);
    if (!s || s.tc) return false;
    let ttl: number;
    let negative = false;
    if (s.rcode === Rcode.NOERROR && s.answers > 0) ttl = Math.min(s.minAnswerTtl ?? 0, this.opts.maxTtl);
    else if ((s.rcode === Rcode.NXDOMAIN || s.rcode === Rcode.NOERROR) && s.negativeTtl !== undefined) {
      ttl = Math.min(s.negativeTtl, this.opts.maxNegativeTtl);
      negative = true;
    } else return false;
    if (ttl <= 0 && this.opts.staleSeconds <= 0) return false;
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { msg: Buffer.from(msg), storedMs: nowMs, ttl, negative, ttlAt: s.ttlAt, ttlWas: s.ttlWas });
    return true;
  }

  /** A fresh answer with TTLs counted down, or undefined. */
  get(key: string, nowMs: number): { msg: Buffer; negative: boolean } | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    const age = Math.floor((nowMs - e.storedMs) / 1000);
    if (age >= e.ttl) {
      if (age >= e.ttl + this.opts.staleSeconds) this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (e.negative) this.hitsDenial++;
    return { msg: this.render(e, (was) => Math.max(0, Math.min(was, e.ttl) - age)), negative: e.negative };
  }

  /** RFC 8767 §5: an expired answer still inside the stale window, with TTL 30. */
  getStale(key: string, nowMs: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const age = (nowMs - e.storedMs) / 1000;
    if (age >= e.ttl + this.opts.staleSeconds) {
      this.entries.delete(key);
      return undefined;
    }
    this.staleServed++;
    return this.render(e, () => STALE_TTL);
  }

  clear(): void {
    this.entries.clear();
  }

  private render(e: Entry, ttl: (was: number) => number): Buffer {
    const out = Buffer.from(e.msg);
    for (let i = 0; i < e.ttlAt.length; i++) out.writeUInt32BE(ttl(e.ttlWas[i]!), e.ttlAt[i]!);
    return out;
  }
}
