// The request handler: bytes in, bytes out. Hot path = parse header+question, one cache
// lookup by a hash of the case-folded wire name, copy prepared bytes. Misses go to the resolver,
// whose record sets are encoded once (names compressed against the question) and cached until
// the index reports a change to one of the answer's tags.
import { logger } from '../../log/index.js';
import {
  CLASSIC_UDP_SIZE, DEFAULT_EDNS_BUFFER, Flag, HEADER_LEN, MAX_TCP_MESSAGE, OPT_RR_LEN, QueryStatus, RRClass, RRType, Rcode,
  SectionWriter, assembleResponse, newParsedQuery, parseQuery, preparedRcode, wireKey, wireKeyToLabels,
  type ParsedQuery, type Prepared, type RR,
} from '../wire/index.js';
import type { DnsIndex } from '../index/dns-index.js';
import { AnswerCache, questionHash } from './cache.js';
import { Resolver, type AnswerConfig, type Outcome } from './resolver.js';

/** Where out-of-zone questions go. Gets the client's query bytes, returns the response bytes. */
export interface Upstream {
  resolve(query: Buffer): Promise<Buffer>;
}

export type Transport = 'udp' | 'tcp';

/**
 * Who may have names outside our zones resolved for them. Gets the client's address (undefined
 * for in-process callers); a refused client gets REFUSED, like a recursive server with an ACL.
 */
export type RecursionPolicy = (client: string | undefined) => boolean;

export interface EngineOptions extends AnswerConfig {
  /** The UDP payload size we advertise and honour (RFC 6891 §6.2.5). */
  ednsBufferSize?: number;
  /** Bound on cached (name, type) answers; the cache is emptied when it is reached. */
  maxCacheEntries?: number;
  upstream?: Upstream;
  /** Default: every client may recurse. */
  recursion?: RecursionPolicy;
}

export const defaultEngineOptions: EngineOptions = {
  zones: ['cluster.local'],
  ttl: 5,
  negativeTtl: 5,
  pods: 'insecure',
  nameserverIps: [],
};

export interface EngineStats {
  queries: number;
  cacheHits: number;
  /** Cache hits that were NXDOMAIN or NODATA (CoreDNS's `denial` hits). */
  cacheHitsDenial: number;
  cacheMisses: number;
  cacheEntries: number;
  dropped: number;
  forwarded: number;
  internalErrors: number;
  rcodes: Record<number, number>;
}

const FORWARD = Symbol('forward');
type Cached = Prepared | typeof FORWARD;

const log = logger('dns-engine');

export class DnsEngine {
  private readonly q: ParsedQuery = newParsedQuery();
  private readonly cache: AnswerCache<Cached>;
  private readonly resolver: Resolver;
  private readonly ednsBuffer: number;
  private upstream: Upstream | undefined;
  private readonly recursion: RecursionPolicy | undefined;
  private readonly counters: Omit<EngineStats, 'rcodes' | 'cacheEntries'> = {
    queries: 0, cacheHits: 0, cacheHitsDenial: 0, cacheMisses: 0, dropped: 0, forwarded: 0, internalErrors: 0,
  };
  /** Responses by full rcode (12 bits: header + OPT extension). */
  private readonly rcodes = new Float64Array(4096);

  constructor(private readonly index: DnsIndex, opts: Partial<EngineOptions> = {}) {
    const o = { ...defaultEngineOptions, ...opts };
    this.ednsBuffer = Math.max(CLASSIC_UDP_SIZE, Math.min(o.ednsBufferSize ?? DEFAULT_EDNS_BUFFER, 65535));
    this.cache = new AnswerCache(o.maxCacheEntries ?? 200_000);
    this.upstream = o.upstream;
    this.recursion = o.recursion;
    this.resolver = new Resolver(index, o, () => this.upstream !== undefined);
    index.onChange((tags) => this.cache.invalidate(tags));
  }

  /** Plugs in (or removes) forwarding; cached "not ours" decisions are dropped. */
  setUpstream(u: Upstream | undefined): void {
    this.upstream = u;
    this.clearCache();
  }

  stats(): EngineStats {
    const rcodes: Record<number, number> = {};
    this.rcodes.forEach((n, r) => {
      if (n) rcodes[r] = n;
    });
    return { ...this.counters, cacheEntries: this.cache.size, rcodes };
  }

  /**
   * The parse state of the query `handle` was last given, valid until the next call (metrics
   * read the type from it without parsing again).
   */
  get lastQuery(): Readonly<ParsedQuery> {
    return this.q;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Answers one DNS message. Returns the response, null to send nothing, or a promise when the
   * question is forwarded. Never throws.
   */
  handle(msg: Buffer, transport: Transport, client?: string): Buffer | null | Promise<Buffer | null> {
    this.counters.queries++;
    const q = this.q;
    try {
      const st = parseQuery(msg, msg.length, q);
      if (st === QueryStatus.DROP) {
        this.counters.dropped++;
        return null;
      }
      const maxSize = transport === 'tcp'
        ? MAX_TCP_MESSAGE
        : q.edns ? Math.max(CLASSIC_UDP_SIZE, Math.min(q.udpSize, this.ednsBuffer)) : CLASSIC_UDP_SIZE;
      if (st === QueryStatus.FORMERR) return this.rcode(msg, q, Rcode.FORMERR, maxSize);
      if (q.opcode !== 0) return this.rcode(msg, q, Rcode.NOTIMP, maxSize);
      // RFC 6891 §6.1.3: a version we do not implement gets BADVERS with our version (0).
      if (q.edns && q.ednsVersion > 0) return this.rcode(msg, q, Rcode.BADVERS, maxSize);
      const qt = q.qtype;
      if (qt === RRType.AXFR || qt === RRType.IXFR) return this.rcode(msg, q, Rcode.REFUSED, maxSize);
      if (qt === RRType.OPT) return this.rcode(msg, q, Rcode.FORMERR, maxSize);
      if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) return this.rcode(msg, q, Rcode.REFUSED, maxSize);

      const nameEnd = q.qnameEnd;
      const hash = questionHash(msg, HEADER_LEN, nameEnd, qt);
      let p = this.cache.get(msg, HEADER_LEN, nameEnd, qt, hash);
      if (p === undefined) {
        this.counters.cacheMisses++;
        p = this.miss(msg, nameEnd, qt, hash);
      } else {
        this.counters.cacheHits++;
        if (p !== FORWARD && (p.rcode === Rcode.NXDOMAIN || (p.rcode === Rcode.NOERROR && p.an === 0))) this.counters.cacheHitsDenial++;
      }
      if (p === FORWARD) return this.forward(msg, q, maxSize, client);
      this.rcodes[p.rcode & 0xfff]!++;
      return assembleResponse(msg, q, p, maxSize, this.raFlag(), this.ednsBuffer);
    } catch (e) {
      // A bug must cost one answer, not the server.
      this.counters.internalErrors++;
      log.error({ err: e }, 'query handling failed');
      try {
        return msg.length >= HEADER_LEN && q.qdcount === 1 ? this.rcode(msg, q, Rcode.SERVFAIL, CLASSIC_UDP_SIZE) : null;
      } catch {
        return null;
      }
    }
  }

  private raFlag(): number {
    return this.upstream ? Flag.RA : 0;
  }

  private rcode(msg: Buffer, q: ParsedQuery, rcode: number, maxSize: number): Buffer | null {
    this.rcodes[rcode & 0xfff]!++;
    return assembleResponse(msg, q, preparedRcode(rcode), maxSize, this.raFlag(), this.ednsBuffer);
  }

  private miss(msg: Buffer, nameEnd: number, qtype: number, hash: number): Cached {
    const key = wireKey(msg, HEADER_LEN, nameEnd);
    const labels = wireKeyToLabels(key);
    const out = this.resolver.resolve(labels, qtype);
    let p: Cached;
    let cacheable = true;
    if (out.kind === 'forward') p = FORWARD;
    else if (out.kind === 'refused') p = preparedRcode(Rcode.REFUSED);
    else {
      p = encodeOutcome(out, labels, key.length);
      cacheable = out.cacheable;
    }
    if (cacheable && this.index.synced) this.cache.set(msg, HEADER_LEN, nameEnd, qtype, hash, p, out.tags);
    return p;
  }

  private async forward(msg: Buffer, q0: ParsedQuery, maxSize: number, client: string | undefined): Promise<Buffer | null> {
    const q = { ...q0 }; // the shared parse state is reused by the next query
    const up = this.upstream;
    if (!up || (this.recursion && !this.recursion(client))) return this.rcode(msg, q, Rcode.REFUSED, maxSize);
    this.counters.forwarded++;
    try {
      const res = await up.resolve(msg);
      if (res.length < HEADER_LEN) throw new Error('short upstream response');
      if (res.length <= maxSize) {
        res.writeUInt16BE(q.id, 0);
        // We recursed for the client, whatever the upstream (an authoritative one sets no RA).
        res[3] = res[3]! | Flag.RA;
        return res;
      }
      return assembleResponse(msg, q, preparedRcode(res[3]! & 0xf), maxSize, this.raFlag() | Flag.TC, this.ednsBuffer);
    } catch (e) {
      log.debug({ err: e }, 'upstream failed');
      return this.rcode(msg, q, Rcode.SERVFAIL, maxSize);
    }
  }
}

/**
 * Encodes an outcome's sections for a question whose wire name is `nameLen` bytes long. The
 * body is capped so header + question + body + OPT fits a TCP message; records past the cap
 * are left out (a client asking over UDP still sees TC through the size check).
 */
export function encodeOutcome(out: Extract<Outcome, { kind: 'answer' }>, qname: readonly string[], nameLen: number): Prepared {
  const base = HEADER_LEN + nameLen + 4;
  const cap = MAX_TCP_MESSAGE - base - OPT_RR_LEN;
  const w = new SectionWriter(base, qname);
  const counts = [0, 0, 0];
  const sections: readonly RR[][] = [out.answer, out.authority, out.additional];
  let full = false;
  let lastGood = 0;
  for (let s = 0; s < 3 && !full; s++) {
    for (const rr of sections[s]!) {
      w.rr(rr);
      if (w.length > cap) {
        full = true;
        break;
      }
      lastGood = w.length;
      counts[s]!++;
    }
  }
  const body = w.finish().subarray(0, lastGood);
  return { rcode: out.rcode, aa: out.aa, an: counts[0]!, ns: counts[1]!, ar: counts[2]!, body };
}
