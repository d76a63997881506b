// Forwarding of names outside the cluster zones (CoreDNS's `forward` + `cache` for them).
// UDP first, with a per-attempt timeout; TCP again when the answer comes back truncated
// (RFC 7766 §5); the next upstream on timeout, network error, SERVFAIL or REFUSED; and when
// every upstream has failed, a stale cached answer (RFC 8767) before giving up.
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { logger } from '../../log/index.js';
import type { Upstream } from '../answer/engine.js';
import { HEADER_LEN, QueryStatus, Rcode, newParsedQuery, parseQuery, wireKey, type ParsedQuery } from '../wire/index.js';
import { ForwardCache, cacheKey, type ForwardCacheOptions } from './cache.js';
import type { UpstreamAddress } from './resolv.js';

export interface ForwarderOptions {
  upstreams: UpstreamAddress[];
  /** One attempt's deadline (default 2000 ms, CoreDNS's read timeout). */
  timeoutMs?: number;
  cache: ForwardCacheOptions;
  /** Forwarded queries in flight beyond this are refused with SERVFAIL (default 1000). */
  maxConcurrent?: number;
  /** Clock for the cache (tests). */
  now?: () => number;
}

/** Histogram bucket bounds (seconds) of forwarded request durations, as CoreDNS's forward. */
export const FORWARD_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

export interface UpstreamStats {
  to: string;
  requests: number;
  /** By rcode name, plus "timeout" and "error". */
  responses: Record<string, number>;
  /** Cumulative counts per FORWARD_BUCKETS bound, then the sum of seconds. */
  buckets: number[];
  durationSum: number;
  durationCount: number;
  tcpRetries: number;
  healthy: boolean;
}

export interface ForwarderStats {
  upstreams: UpstreamStats[];
  cacheHits: number;
  cacheHitsDenial: number;
  cacheMisses: number;
  cacheEntries: number;
  staleServed: number;
  /** Questions no upstream answered and no stale entry covered. */
  failures: number;
  maxConcurrentRejects: number;
}

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };
const rcodeName = (r: number): string => RCODE_NAMES[r] ?? String(r);

const log = logger('dns-forward');

interface Pending {
  host: string;
  port: number;
  question: Buffer;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface UpstreamState {
  addr: UpstreamAddress;
  stats: UpstreamStats;
  consecutiveFails: number;
}

/** After this many failures in a row an upstream is tried last until it answers again. */
const UNHEALTHY_AFTER = 2;

/** Question sections are compared case-insensitively (the upstream may change case, RFC 4343). */
function sameQuestion(a: Buffer, b: Buffer, len: number): boolean {
  if (b.length < HEADER_LEN + len) return false;
  for (let i = 0; i < len; i++) {
    let x = a[i]!;
    let y = b[HEADER_LEN + i]!;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

export class Forwarder implements Upstream {
  private readonly ups: UpstreamState[];
  private readonly cache: ForwardCache;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly now: () => number;
  private readonly q: ParsedQuery = newParsedQuery();
  private readonly pending = new Map<number, Pending>();
  private sockets: { 4?: UdpSocket; 6?: UdpSocket } = {};
  private rr = 0;
  private inflight = 0;
  private failures = 0;
  private rejects = 0;
  private closed = false;

  constructor(opts: ForwarderOptions) {
    if (opts.upstreams.length === 0) throw new Error('a forwarder needs at least one upstream');
    this.ups = opts.upstreams.map((addr) => ({
      addr,
      consecutiveFails: 0,
      stats: {
        to: `${isIPv6(addr.host) ? `[${addr.host}]` : addr.host}:${addr.port}`, requests: 0, responses: {},
        buckets: FORWARD_BUCKETS.map(() => 0), durationSum: 0, durationCount: 0, tcpRetries: 0, healthy: true,
      },
    }));
    this.cache = new ForwardCache(opts.cache);
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxConcurrent = opts.maxConcurrent ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  stats(): ForwarderStats {
    return {
      upstreams: this.ups.map((u) => ({ ...u.stats, responses: { ...u.stats.responses }, buckets: [...u.stats.buckets], healthy: u.consecutiveFails < UNHEALTHY_AFTER })),
      cacheHits: this.cache.hits, cacheHitsDenial: this.cache.hitsDenial, cacheMisses: this.cache.misses, cacheEntries: this.cache.size, staleServed: this.cache.staleServed,
      failures: this.failures, maxConcurrentRejects: this.rejects,
    };
  }

  clearCache(): void {
    this.cache.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
    }
    this.pending.clear();
    for (const s of [this.sockets[4], this.sockets[6]]) if (s) await new Promise<void>((r) => s.close(() => r()));
    this.sockets = {};
  }

  async resolve(query: Buffer): Promise<Buffer> {
    const q = this.q;
    if (parseQuery(query, query.length, q) !== QueryStatus.OK) throw new Error('unparsable query');
    const id = q.id;
    const qEnd = q.questionEnd;
    const key = cacheKey(wireKey(query, HEADER_LEN, q.qnameEnd), q.qtype, q.qclass, q.dnssecOk);
    const hit = this.cache.get(key, this.now());
    if (hit) return this.toClient(hit.msg, query, id, qEnd);
    if (this.inflight >= this.maxConcurrent) {
      this.rejects++;
      throw new Error('too many forwarded queries in flight');
    }
    this.inflight++;
    try {
      let last: Buffer | undefined;
      for (const u of this.order()) {
        const res = await this.attempt(u, query);
        if (!res) continue;
        const rcode = res[3]! & 0xf;
        if (rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
          // This upstream cannot help; another might (CoreDNS tries the next one too).
          last = res;
          continue;
        }
        this.cache.put(key, res, this.now());
        return this.toClient(res, query, id, qEnd);
      }
      const stale = this.cache.getStale(key, this.now());
      if (stale) return this.toClient(stale, query, id, qEnd);
      this.failures++;
      if (last) return this.toClient(last, query, id, qEnd);
      throw new Error('no upstream answered');
    } finally {
      this.inflight--;
    }
  }

  /** The client's ID and question bytes (its letter case) on a copy of a response. */
  private toClient(res: Buffer, query: Buffer, id: number, qEnd: number): Buffer {
    const out = Buffer.from(res);
    out.writeUInt16BE(id, 0);
    if (out.length >= qEnd) query.copy(out, HEADER_LEN, HEADER_LEN, qEnd);
    return out;
  }

  /** Healthy upstreams first, each request starting one further along (round robin). */
  private order(): UpstreamState[] {
    const n = this.ups.length;
    const start = this.rr++ % n;
    const healthy: UpstreamState[] = [];
    const sick: UpstreamState[] = [];
    for (let i = 0; i < n; i++) {
      const u = this.ups[(start + i) % n]!;
      (u.consecutiveFails < UNHEALTHY_AFTER ? healthy : sick).push(u);
    }
    return healthy.concat(sick);
  }

  private async attempt(u: UpstreamState, query: Buffer): Promise<Buffer | undefined> {
    const st = u.stats;
    st.requests++;
    const t0 = process.hrtime.bigint();
    let res: Buffer | undefined;
    let outcome: string;
    try {
      res = await this.udpExchange(u.addr, query);
      if ((res[2]! & 0x02) !== 0) {
        st.tcpRetries++;
        res = await this.tcpExchange(u.addr, query);
      }
      outcome = rcodeName(res[3]! & 0xf);
      u.consecutiveFails = outcome === 'SERVFAIL' ? u.consecutiveFails + 1 : 0;
    } catch (e) {
      outcome = (e as Error).message === 'timeout' ? 'timeout' : 'error';
      u.consecutiveFails++;
      log.debug({ err: e, upstream: st.to }, 'upstream attempt failed');
      res = undefined;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    st.responses[outcome] = (st.responses[outcome] ?? 0) + 1;
    st.durationSum += secs;
    st.durationCount++;
    for (let i = 0; i < FORWARD_BUCKETS.length; i++) if (secs <= FORWARD_BUCKETS[i]!) st.buckets[i]!++;
    return res;
  }

  private socket(family: 4 | 6): UdpSocket {
    const have = this.sockets[family];
    if (have) return have;
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    s.on('error', (err) => log.warn({ err }, 'forwarder socket error'));
    s.bind(0);
    this.sockets[family] = s;
    return s;
  }

  private onMessage(msg: Buffer, host: string, port: number): void {
    if (msg.length < HEADER_LEN || (msg[2]! & 0x80) === 0) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    // Only the upstream we asked, with our question, settles a query (RFC 5452 §9.1).
    if (!p || p.port !== port || p.host !== host.replace(/^::ffff:/, '') || !sameQuestion(p.question, msg, p.question.length)) return;
    this.pending.delete(msg.readUInt16BE(0));
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  /** A fresh random ID per attempt: the client's ID is its own business (RFC 5452 §4.3). */
  private freshId(): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.pending.has(id)) return id;
    }
  }

  private udpExchange(addr: UpstreamAddress, query: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('forwarder closed'));
    const id = this.freshId();
    const out = Buffer.from(query);
    out.writeUInt16BE(id, 0);
    const question = out.subarray(HEADER_LEN, this.questionEnd(out));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('timeout'));
      }, this.timeoutMs);
      this.pending.set(id, { host: addr.host, port: addr.port, question, resolve, reject, timer });
      this.socket(isIPv6(addr.host) ? 6 : 4).send(out, addr.port, addr.host, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private questionEnd(b: Buffer): number {
    let p = HEADER_LEN;
    while (p < b.length && b[p] !== 0) p += b[p]! + 1;
    return Math.min(b.length, p + 5);
  }

  private tcpExchange(addr: UpstreamAddress, query: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const id = this.freshId();
      const framed = Buffer.allocUnsafe(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      framed.writeUInt16BE(id, 2);
      const sock = connect({ host: addr.host, port: addr.port });
      let buf: Buffer = Buffer.alloc(0);
      const done = (e: Error | undefined, b?: Buffer): void => {
        clearTimeout(timer);
        sock.destroy();
        if (e) reject(e);
        else resolve(b!);
      };
      const timer = setTimeout(() => done(new Error('timeout')), this.timeoutMs);
      sock.on('connect', () => sock.write(framed));
      sock.on('error', (e) => done(e));
      sock.on('data', (c: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, c]) : c;
        if (buf.length < 2) return;
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const msg = buf.subarray(2, 2 + len);
        if (len < HEADER_LEN || msg.readUInt16BE(0) !== id) return done(new Error('mismatched TCP answer'));
        done(undefined, Buffer.from(msg));
      });
      sock.on('end', () => done(new Error('connection closed before the answer')));
    });
  }
}
