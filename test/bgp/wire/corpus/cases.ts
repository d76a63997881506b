// Malformed messages, each with the outcome RFC 4271 §6 / RFC 7606 prescribe. Replayed by
// corpus.test.ts and used as seeds by fuzz/bgp.ts.
import type { ErrorAction } from '../../../../src/bgp/wire/errors.js';

export type CtxName = 'as2' | 'as4' | 'as4-ext';

export interface CorpusCase {
  name: string;
  ctx: CtxName;
  bytes: Buffer;
  /** 'fail' = the decoder returns ok: false (session reset with this NOTIFICATION). */
  expect: { outcome: 'fail' | ErrorAction; code: number; subcode: number };
}

const HDR = (len: number, type: number): number[] => [...Array<number>(16).fill(0xff), len >> 8, len & 255, type];
const msg = (type: number, body: number[]): Buffer => Buffer.from([...HDR(19 + body.length, type), ...body]);
const u16 = (n: number): number[] => [n >> 8, n & 255];

/** An UPDATE from its three fields; lengths are filled in. */
function upd(attrs: number[], nlri: number[] = [0x18, 10, 0, 0], withdrawn: number[] = []): Buffer {
  return msg(2, [...u16(withdrawn.length), ...withdrawn, ...u16(attrs.length), ...attrs, ...nlri]);
}

const ORIGIN = [0x40, 0x01, 0x01, 0x00];
const AS_PATH = [0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9]; // 4-octet: 65001
const NEXT_HOP = [0x40, 0x03, 0x04, 192, 0, 2, 1];
const BASE = [...ORIGIN, ...AS_PATH, ...NEXT_HOP];
const V6_NH = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
/** MP_REACH_NLRI IPv6 unicast with the given next-hop octets and NLRI. */
const mpReach = (nh: number[], nlri: number[], flags = 0x80): number[] => {
  const v = [0x00, 0x02, 0x01, nh.length, ...nh, 0x00, ...nlri];
  return [flags, 0x0e, v.length, ...v];
};
const V6_NLRI = [0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01];

const fail = (code: number, subcode: number) => ({ outcome: 'fail' as const, code, subcode });
const soft = (outcome: ErrorAction, subcode: number) => ({ outcome, code: 3, subcode });

export const CORPUS: CorpusCase[] = [
  // ---- header (RFC 4271 §6.1) ----
  { name: 'marker not all ones', ctx: 'as4', bytes: Buffer.from([...Array(15).fill(0xff), 0xfe, 0, 19, 4]), expect: fail(1, 1) },
  { name: 'length below 19', ctx: 'as4', bytes: Buffer.from([...HDR(18, 4), 0]), expect: fail(1, 2) },
  { name: 'length above 4096 without extended messages', ctx: 'as4', bytes: Buffer.concat([Buffer.from(HDR(4097, 2)), Buffer.alloc(4078)]), expect: fail(1, 2) },
  { name: 'unknown message type 6', ctx: 'as4', bytes: msg(6, []), expect: fail(1, 3) },
  { name: 'KEEPALIVE with a body', ctx: 'as4', bytes: msg(4, [0]), expect: fail(1, 2) },
  { name: 'OPEN shorter than 29', ctx: 'as4', bytes: msg(1, [4, 0, 1, 0, 90, 1, 2, 3]), expect: fail(1, 2) },
  { name: 'UPDATE shorter than 23', ctx: 'as4', bytes: msg(2, [0, 0, 0]), expect: fail(1, 2) },
  { name: 'NOTIFICATION shorter than 21', ctx: 'as4', bytes: msg(3, [6]), expect: fail(1, 2) },
  { name: 'OPEN above 4096 even with extended messages (RFC 8654 §4)', ctx: 'as4-ext', bytes: Buffer.concat([Buffer.from(HDR(5000, 1)), Buffer.alloc(4981)]), expect: fail(1, 2) },
  // ---- ROUTE-REFRESH (RFC 7313 §5) ----
  { name: 'ROUTE-REFRESH of 24 octets', ctx: 'as4', bytes: msg(5, [0, 1, 0, 1, 0]), expect: fail(7, 1) },
  // ---- OPEN (RFC 4271 §6.2, RFC 5492) ----
  { name: 'OPEN version 3', ctx: 'as4', bytes: msg(1, [3, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 0]), expect: fail(2, 1) },
  { name: 'OPEN optional parameters length beyond the message', ctx: 'as4', bytes: msg(1, [4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 8, 2, 2, 2, 0]), expect: fail(2, 0) },
  { name: 'OPEN capability overruns its parameter', ctx: 'as4', bytes: msg(1, [4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 4, 2, 2, 65, 4]), expect: fail(2, 0) },
  { name: 'OPEN multiprotocol capability of 3 octets', ctx: 'as4', bytes: msg(1, [4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 7, 2, 5, 1, 3, 0, 1, 0]), expect: fail(2, 0) },
  { name: 'OPEN truncated optional parameter', ctx: 'as4', bytes: msg(1, [4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 1, 2]), expect: fail(2, 0) },
  { name: 'OPEN graceful restart capability of odd length', ctx: 'as4', bytes: msg(1, [4, 0xfd, 0xe9, 0, 90, 192, 0, 2, 1, 5, 2, 3, 64, 1, 0]), expect: fail(2, 0) },
  // ---- UPDATE, session reset (RFC 7606 §3 (g), §4, §5.3; RFC 4271 §6.3) ----
  { name: 'withdrawn routes length overruns', ctx: 'as4', bytes: msg(2, [0, 9, 0x18, 10, 0, 0, 0, 0]), expect: fail(3, 1) },
  { name: 'total attribute length overruns', ctx: 'as4', bytes: msg(2, [0, 0, 0, 40, ...ORIGIN]), expect: fail(3, 1) },
  { name: 'NLRI prefix length 33', ctx: 'as4', bytes: upd(BASE, [33, 10, 0, 0, 0, 0]), expect: fail(3, 10) },
  { name: 'NLRI prefix truncated', ctx: 'as4', bytes: upd(BASE, [0x18, 10, 0]), expect: fail(3, 10) },
  { name: 'withdrawn prefix length 40', ctx: 'as4', bytes: upd([], [], [40, 1, 2, 3, 4, 5]), expect: fail(3, 10) },
  { name: 'unrecognised well-known attribute', ctx: 'as4', bytes: upd([...BASE, 0x40, 100, 1, 0]), expect: fail(3, 2) },
  { name: 'MP_REACH_NLRI twice', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, ...mpReach(V6_NH, V6_NLRI), ...mpReach(V6_NH, V6_NLRI)], []), expect: fail(3, 1) },
  { name: 'MP_REACH_NLRI overruns the attribute block', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x80, 0x0e, 0x30, 0, 2, 1, 16], []), expect: fail(3, 5) },
  { name: 'MP_REACH_NLRI too short for AFI/SAFI', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x80, 0x0e, 0x02, 0, 2], []), expect: fail(3, 9) },
  { name: 'MP_UNREACH_NLRI flags error without AFI/SAFI', ctx: 'as4', bytes: upd([0x40, 0x0f, 0x02, 0, 2], []), expect: fail(3, 4) },
  // ---- UPDATE, treat-as-withdraw (RFC 7606 §3, §4, §7) ----
  { name: 'ORIGIN length 2', ctx: 'as4', bytes: upd([0x40, 0x01, 0x02, 0, 0, ...AS_PATH, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 5) },
  { name: 'ORIGIN value 3', ctx: 'as4', bytes: upd([0x40, 0x01, 0x01, 3, ...AS_PATH, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 6) },
  { name: 'AS_PATH segment type 5', ctx: 'as4', bytes: upd([...ORIGIN, 0x40, 0x02, 0x06, 5, 1, 0, 0, 0xfd, 0xe9, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 11) },
  { name: 'AS_PATH zero-length segment', ctx: 'as4', bytes: upd([...ORIGIN, 0x40, 0x02, 0x02, 2, 0, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 11) },
  { name: 'AS_PATH segment overruns', ctx: 'as4', bytes: upd([...ORIGIN, 0x40, 0x02, 0x06, 2, 2, 0, 0, 0xfd, 0xe9, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 11) },
  { name: 'AS_PATH 2-octet reading of a 4-octet path', ctx: 'as2', bytes: upd([...ORIGIN, 0x40, 0x02, 0x05, 2, 1, 0, 0, 0xfd, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 11) },
  { name: 'NEXT_HOP length 5', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x40, 0x03, 0x05, 192, 0, 2, 1, 0]), expect: soft('treat-as-withdraw', 5) },
  { name: 'NEXT_HOP 0.0.0.0', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x40, 0x03, 0x04, 0, 0, 0, 0]), expect: soft('treat-as-withdraw', 8) },
  { name: 'NEXT_HOP multicast', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x40, 0x03, 0x04, 224, 0, 0, 5]), expect: soft('treat-as-withdraw', 8) },
  { name: 'MULTI_EXIT_DISC length 3', ctx: 'as4', bytes: upd([...BASE, 0x80, 0x04, 0x03, 0, 0, 1]), expect: soft('treat-as-withdraw', 5) },
  { name: 'LOCAL_PREF length 0', ctx: 'as4', bytes: upd([...BASE, 0x40, 0x05, 0x00]), expect: soft('treat-as-withdraw', 5) },
  { name: 'COMMUNITIES length 5', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x08, 0x05, 1, 2, 3, 4, 5]), expect: soft('treat-as-withdraw', 5) },
  { name: 'COMMUNITIES length 0', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x08, 0x00]), expect: soft('treat-as-withdraw', 5) },
  { name: 'ORIGINATOR_ID length 3', ctx: 'as4', bytes: upd([...BASE, 0x80, 0x09, 0x03, 1, 2, 3]), expect: soft('treat-as-withdraw', 5) },
  { name: 'CLUSTER_LIST length 6', ctx: 'as4', bytes: upd([...BASE, 0x80, 0x0a, 0x06, 1, 2, 3, 4, 5, 6]), expect: soft('treat-as-withdraw', 5) },
  { name: 'EXTENDED_COMMUNITIES length 7', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x10, 0x07, 0, 2, 0, 1, 0, 0, 0]), expect: soft('treat-as-withdraw', 5) },
  { name: 'LARGE_COMMUNITY length 11', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x20, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]), expect: soft('treat-as-withdraw', 5) },
  { name: 'ORIGIN with the Optional bit (flags error)', ctx: 'as4', bytes: upd([0xc0, 0x01, 0x01, 0x00, ...AS_PATH, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 4) },
  { name: 'COMMUNITIES without the Transitive bit', ctx: 'as4', bytes: upd([...BASE, 0x80, 0x08, 0x04, 0, 1, 0, 1]), expect: soft('treat-as-withdraw', 4) },
  { name: 'missing ORIGIN', ctx: 'as4', bytes: upd([...AS_PATH, ...NEXT_HOP]), expect: soft('treat-as-withdraw', 3) },
  { name: 'missing NEXT_HOP with classic NLRI', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH]), expect: soft('treat-as-withdraw', 3) },
  { name: 'missing AS_PATH with MP_REACH_NLRI', ctx: 'as4', bytes: upd([...mpReach(V6_NH, V6_NLRI), ...ORIGIN], []), expect: soft('treat-as-withdraw', 3) },
  { name: 'two trailing octets in the attribute block', ctx: 'as4', bytes: upd([...BASE, 0x40, 0x05]), expect: soft('treat-as-withdraw', 5) },
  { name: 'last attribute overruns the attribute block', ctx: 'as4', bytes: upd([...BASE, 0x80, 0x04, 0x08, 0, 0, 0, 1]), expect: soft('treat-as-withdraw', 5) },
  // ---- UPDATE, attribute-discard (RFC 7606 §3 (g), §7.6, §7.7; RFC 6793 §6) ----
  { name: 'ATOMIC_AGGREGATE length 1', ctx: 'as4', bytes: upd([...BASE, 0x40, 0x06, 0x01, 0]), expect: soft('attribute-discard', 5) },
  { name: 'AGGREGATOR length 7 on a 4-octet session', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x07, 0x07, 0, 0, 0xfd, 0xe9, 192, 0, 2]), expect: soft('attribute-discard', 5) },
  { name: 'AGGREGATOR length 8 on a 2-octet session', ctx: 'as2', bytes: upd([...ORIGIN, 0x40, 0x02, 0x04, 2, 1, 0xfd, 0xe9, ...NEXT_HOP, 0xc0, 0x07, 0x08, 0, 0, 0xfd, 0xe9, 192, 0, 2, 1]), expect: soft('attribute-discard', 5) },
  { name: 'AS4_PATH with an empty segment', ctx: 'as2', bytes: upd([...ORIGIN, 0x40, 0x02, 0x04, 2, 1, 0x5b, 0xa0, ...NEXT_HOP, 0xc0, 0x11, 0x02, 2, 0]), expect: soft('attribute-discard', 11) },
  { name: 'AS4_AGGREGATOR length 6', ctx: 'as2', bytes: upd([...ORIGIN, 0x40, 0x02, 0x04, 2, 1, 0x5b, 0xa0, ...NEXT_HOP, 0xc0, 0x12, 0x06, 0, 1, 192, 0, 2, 1]), expect: soft('attribute-discard', 5) },
  { name: 'AGGREGATOR flags error', ctx: 'as4', bytes: upd([...BASE, 0x40, 0x07, 0x08, 0, 0, 0xfd, 0xe9, 192, 0, 2, 1]), expect: soft('attribute-discard', 4) },
  { name: 'duplicate ORIGIN', ctx: 'as4', bytes: upd([...BASE, 0x40, 0x01, 0x01, 0x02]), expect: soft('attribute-discard', 1) },
  { name: 'duplicate unknown optional attribute', ctx: 'as4', bytes: upd([...BASE, 0xc0, 0x63, 0x00, 0xc0, 0x63, 0x01, 0x07]), expect: soft('attribute-discard', 1) },
  { name: 'MP_REACH_NLRI for an unsupported AFI', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x80, 0x0e, 0x06, 0, 25, 65, 1, 0, 0], []), expect: soft('attribute-discard', 9) },
  // ---- UPDATE, AFI/SAFI disable (RFC 7606 §7.11, §5.3; RFC 4760 §7) ----
  { name: 'MP_REACH_NLRI IPv6 next hop of 8 octets', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, ...mpReach([1, 2, 3, 4, 5, 6, 7, 8], V6_NLRI)], []), expect: soft('afisafi-disable', 9) },
  { name: 'MP_REACH_NLRI IPv6 prefix length 129', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, ...mpReach(V6_NH, [129, ...Array(17).fill(0)])], []), expect: soft('afisafi-disable', 9) },
  { name: 'MP_UNREACH_NLRI truncated IPv6 prefix', ctx: 'as4', bytes: upd([0x80, 0x0f, 0x06, 0, 2, 1, 0x40, 0x20, 0x01], []), expect: soft('afisafi-disable', 9) },
  { name: 'MP_REACH_NLRI without the Optional bit', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, ...mpReach(V6_NH, V6_NLRI, 0x40)], []), expect: soft('afisafi-disable', 4) },
  { name: 'MP_REACH_NLRI IPv4 with IPv6 next hop not negotiated', ctx: 'as4', bytes: upd([...ORIGIN, ...AS_PATH, 0x80, 0x0e, 0x19, 0, 1, 1, 16, ...V6_NH, 0, 0x18, 10, 0, 0], []), expect: soft('afisafi-disable', 9) },
  // ---- several errors: the strongest approach wins (RFC 7606 §3 (h)) ----
  { name: 'bad ATOMIC_AGGREGATE and bad ORIGIN', ctx: 'as4', bytes: upd([0x40, 0x01, 0x01, 9, ...AS_PATH, ...NEXT_HOP, 0x40, 0x06, 0x01, 0]), expect: soft('treat-as-withdraw', 6) },
];
