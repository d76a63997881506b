// Request parsing for the hot path: the header, the single question and the OPT record, and
// nothing else. The caller owns one `ParsedQuery` and passes it to every call, so a query
// allocates nothing here. Failures are values (`QueryStatus`), never exceptions.
import { HEADER_LEN, MAX_LABEL, MAX_NAME_WIRE, RRType } from './constants.js';

export const QueryStatus = {
  OK: 0,
  /** Fewer than 12 bytes, or QR set (a response): nothing sensible can be answered. */
  DROP: 1,
  /** Header readable, message malformed or QDCOUNT != 1: answer FORMERR. */
  FORMERR: 2,
} as const;
export type QueryStatus = (typeof QueryStatus)[keyof typeof QueryStatus];

export interface ParsedQuery {
  id: number;
  flags: number;
  opcode: number;
  qdcount: number;
  /** Offset just past the question (12 + name + 4), or 0 when the question is unusable. */
  questionEnd: number;
  /** Offset just past the question name (where QTYPE starts). */
  qnameEnd: number;
  qtype: number;
  qclass: number;
  edns: boolean;
  /** Requestor's UDP payload size from the OPT CLASS field. */
  udpSize: number;
  ednsVersion: number;
  /** DO bit (RFC 3225). */
  dnssecOk: boolean;
}

export function newParsedQuery(): ParsedQuery {
  return {
    id: 0, flags: 0, opcode: 0, qdcount: 0, questionEnd: 0, qnameEnd: 0, qtype: 0, qclass: 0,
    edns: false, udpSize: 0, ednsVersion: 0, dnssecOk: false,
  };
}

/**
 * Skips a possibly compressed name in a section after the question; returns the offset after
 * it, or -1 when it runs past `end` or uses a reserved label type. Pointers are not followed:
 * only the length on the wire matters here.
 */
function skipName(b: Uint8Array, p: number, end: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (p >= end) return -1;
    const l = b[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if (l & 0xc0) return -1; // RFC 6891 §5: extended label types 01/10 are not supported
    p += l + 1;
  }
  return -1;
}

/**
 * Parses `b[0..len)`. On FORMERR, `questionEnd` is set when the question itself was fine so
 * the error response can echo it (RFC 1035 §4.1.1 leaves it open; most servers echo).
 */
export function parseQuery(b: Uint8Array, len: number, q: ParsedQuery): QueryStatus {
  q.questionEnd = 0;
  q.edns = false;
  q.ednsVersion = 0;
  q.dnssecOk = false;
  q.udpSize = 0;
  if (len < HEADER_LEN) return QueryStatus.DROP;
  q.id = (b[0]! << 8) | b[1]!;
  const flags = (b[2]! << 8) | b[3]!;
  q.flags = flags;
  if (flags & 0x8000) return QueryStatus.DROP; // never answer a response: loops, reflection
  q.opcode = (flags >> 11) & 0xf;
  const qd = (b[4]! << 8) | b[5]!;
  q.qdcount = qd;
  if (qd !== 1) return QueryStatus.FORMERR;

  // The question name: plain labels only. A pointer cannot point backwards from offset 12 to
  // an earlier name, so any pointer here is malformed.
  let p = HEADER_LEN;
  for (;;) {
    if (p >= len) return QueryStatus.FORMERR;
    const l = b[p]!;
    if (l === 0) { p++; break; }
    if (l > MAX_LABEL) return QueryStatus.FORMERR;
    p += l + 1;
    if (p - HEADER_LEN >= MAX_NAME_WIRE) return QueryStatus.FORMERR;
  }
  if (p + 4 > len) return QueryStatus.FORMERR;
  q.qnameEnd = p;
  q.qtype = (b[p]! << 8) | b[p + 1]!;
  q.qclass = (b[p + 2]! << 8) | b[p + 3]!;
  p += 4;
  q.questionEnd = p;

  const an = (b[6]! << 8) | b[7]!;
  const ns = (b[8]! << 8) | b[9]!;
  const ar = (b[10]! << 8) | b[11]!;
  // Trailing bytes after the last record are tolerated: some stubs pad queries.
  if (an === 0 && ns === 0 && ar === 0) return QueryStatus.OK;

  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const nameStart = p;
    p = skipName(b, p, len);
    if (p < 0 || p + 10 > len) return QueryStatus.FORMERR;
    const type = (b[p]! << 8) | b[p + 1]!;
    const rdlen = (b[p + 8]! << 8) | b[p + 9]!;
    const rdStart = p + 10;
    if (rdStart + rdlen > len) return QueryStatus.FORMERR;
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: only in the additional section, owner is root, at most one.
      if (i < an + ns || b[nameStart] !== 0 || q.edns) return QueryStatus.FORMERR;
      q.edns = true;
      q.udpSize = (b[p + 2]! << 8) | b[p + 3]!;
      q.ednsVersion = b[p + 5]!;
      q.dnssecOk = (b[p + 6]! & 0x80) !== 0;
      // Options are not interpreted (unknown ones are ignored, RFC 6891 §6.1.2), but their
      // framing must be sound.
      let o = rdStart;
      const oe = rdStart + rdlen;
      while (o < oe) {
        if (o + 4 > oe) return QueryStatus.FORMERR;
        o += 4 + ((b[o + 2]! << 8) | b[o + 3]!);
      }
      if (o !== oe) return QueryStatus.FORMERR;
    }
    p = rdStart + rdlen;
  }
  return QueryStatus.OK;
}
