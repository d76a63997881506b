// Response assembly from a prepared body: header, the question copied from the request (so the
// answer echoes the client's case, RFC 4343 §4.1), the cached record bytes, then OPT.
import { Flag, HEADER_LEN, OPT_RR_LEN, RRType } from './constants.js';
import type { ParsedQuery } from './query.js';

/**
 * Answer, authority and additional records encoded once for one (name, type), assuming the
 * question starts at offset 12 with the same name length: owner names are pointers into it.
 */
export interface Prepared {
  /** Full rcode (0..4095); the low 4 bits go in the header, the rest in OPT. */
  rcode: number;
  aa: boolean;
  an: number;
  ns: number;
  ar: number;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

export function preparedRcode(rcode: number, aa = false): Prepared {
  return { rcode, aa, an: 0, ns: 0, ar: 0, body: EMPTY };
}

/**
 * Builds the response. `maxSize` is the largest message the transport allows for this client;
 * when the full answer does not fit, TC is set and only the question and OPT are kept
 * (RFC 2181 §9, RFC 6891 §7); TC in `extraFlags` forces that. `ednsBuffer` is the UDP size this
 * server advertises.
 */
export function assembleResponse(
  req: Uint8Array,
  q: ParsedQuery,
  p: Prepared,
  maxSize: number,
  extraFlags: number,
  ednsBuffer: number,
): Buffer | null {
  const qEnd = q.questionEnd;
  const qLen = qEnd === 0 ? 0 : qEnd - HEADER_LEN;
  // An extended rcode needs OPT to carry it; a client without EDNS cannot see it.
  const withOpt = q.edns;
  const optLen = withOpt ? OPT_RR_LEN : 0;
  let body = p.body;
  let an = p.an;
  let ns = p.ns;
  let ar = p.ar;
  let flags = Flag.QR | (q.opcode << 11) | (q.flags & (Flag.RD | Flag.CD)) | extraFlags | (p.rcode & 0xf);
  if (p.aa) flags |= Flag.AA;
  let total = HEADER_LEN + qLen + body.length + optLen;
  if (total > maxSize || (extraFlags & Flag.TC) !== 0) {
    flags |= Flag.TC;
    body = EMPTY;
    an = ns = ar = 0;
    total = HEADER_LEN + qLen + optLen;
    if (total > maxSize) return null; // cannot happen for maxSize >= 512: a name is <= 255
  }
  const out = Buffer.allocUnsafe(total);
  out[0] = q.id >> 8;
  out[1] = q.id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = qLen === 0 ? 0 : 1;
  out[6] = an >> 8;
  out[7] = an & 0xff;
  out[8] = ns >> 8;
  out[9] = ns & 0xff;
  const arc = ar + (withOpt ? 1 : 0);
  out[10] = arc >> 8;
  out[11] = arc & 0xff;
  let o = HEADER_LEN;
  // A byte loop: a question is a few dozen bytes, less than the cost of a subarray view.
  for (let i = HEADER_LEN; i < qEnd; i++) out[o++] = req[i]!;
  if (body.length) {
    out.set(body, o);
    o += body.length;
  }
  if (withOpt) {
    // RFC 6891 §6.1.2-3: root owner, CLASS = our buffer size, TTL = ext-rcode | version 0 |
    // DO echoed (RFC 3225 §3) with every other flag bit cleared (RFC 8906 §6.2.4).
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = RRType.OPT;
    out[o + 3] = ednsBuffer >> 8;
    out[o + 4] = ednsBuffer & 0xff;
    out[o + 5] = (p.rcode >> 4) & 0xff;
    out[o + 6] = 0;
    out[o + 7] = q.dnssecOk ? 0x80 : 0;
    out[o + 8] = 0;
    out[o + 9] = 0;
    out[o + 10] = 0;
  }
  return out;
}
