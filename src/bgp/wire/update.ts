// UPDATE messages (RFC 4271 §4.3) with RFC 7606 revised error handling.
//
// Two ways in. scanUpdate validates the whole message without materialising prefixes or
// attributes: it returns offsets into the received buffer, the attribute block as a view and a
// key of the attribute set for interning, and visitNlri then walks prefixes with callbacks. This
// is the receive hot path. decodeUpdate builds plain objects on top of the same scan.
import { AttrFlag, AttrType, ErrCode, MsgType, UpdateSubcode } from './constants.js';
import type { WireContext } from './context.js';
import { familyKey, IPV4_UNICAST, maxMessageLength } from './context.js';
import { u16, w16 } from './bytes.js';
import type { BgpError, ErrorAction, Result } from './errors.js';
import { bgpError, fail, ok, strongerAction } from './errors.js';
import type { PathAttribute } from './attributes.js';
import { ATTR_BY_CODE, attributesLength, encodeAttributes } from './attributes.js';
import type { Prefix } from './prefix.js';
import {
  countPrefixes,
  decodePrefixes,
  encodePrefixes,
  forEachIpv4Prefix,
  forEachPrefixBytes,
  prefixesLength,
} from './prefix.js';
import { headerAndLength, writeHeader } from './header.js';

export interface MpReachView {
  afi: number;
  safi: number;
  /** Next-hop octets as received (4, 16 or 32): a view into the message. */
  nextHop: Uint8Array;
  nlriStart: number;
  nlriEnd: number;
  addPath: boolean;
}

export interface MpUnreachView {
  afi: number;
  safi: number;
  nlriStart: number;
  nlriEnd: number;
  addPath: boolean;
}

/** A validated UPDATE as offsets into `buf`; nothing is copied. */
export interface UpdateScan {
  buf: Uint8Array;
  withdrawnStart: number;
  withdrawnEnd: number;
  attrsStart: number;
  attrsEnd: number;
  nlriStart: number;
  nlriEnd: number;
  /** ADD-PATH for the classic IPv4 unicast fields (withdrawn routes and NLRI). */
  addPath: boolean;
  mpReach: MpReachView | null;
  mpUnreach: MpUnreachView | null;
  /** Offsets of the flags octet of each attribute kept after RFC 7606 discards, in received order. */
  kept: number[];
  /** Non-fatal errors (attribute-discard, treat-as-withdraw, afisafi-disable); empty when clean. */
  errors: BgpError[];
  /** The strongest action among `errors`, or null. */
  action: ErrorAction | null;
  /** RFC 7606 §2: every reachable prefix in this UPDATE must be handled as a withdrawal. */
  treatAsWithdraw: boolean;
  /** The path-attribute block exactly as received (a view). */
  attributes: Uint8Array;
  /**
   * Identity of the attribute set: the kept attributes ordered by type code, flags normalised to
   * O/T/P, MP_UNREACH_NLRI left out and MP_REACH_NLRI reduced to AFI/SAFI/next hop. Two UPDATEs
   * whose routes share attributes give equal keys; '' under treat-as-withdraw.
   */
  attrKey: string;
}

export interface UpdateMessage {
  type: 'UPDATE';
  /** Classic IPv4 unicast withdrawn routes. */
  withdrawn: Prefix[];
  attributes: PathAttribute[];
  /** Classic IPv4 unicast NLRI. */
  nlri: Prefix[];
  /** Present only when RFC 7606 handling changed the message. */
  errors?: BgpError[];
  action?: ErrorAction;
  treatAsWithdraw?: boolean;
}

const MP_REACH = AttrType.MP_REACH_NLRI;
const MP_UNREACH = AttrType.MP_UNREACH_NLRI;

// Reused across calls: the parser is synchronous and not re-entrant, so one table suffices.
const seen = new Uint8Array(256);

const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function updateError(subcode: number, action: ErrorAction, message: string, data?: Uint8Array, extra?: { attrType?: number; afi?: number; safi?: number }): BgpError {
  return bgpError(ErrCode.UPDATE_MESSAGE, subcode, action, message, data, extra);
}

/**
 * Validates the UPDATE whose header starts at `offset`. A failure (ok: false) is always a
 * session reset; everything softer comes back inside the scan's `errors`.
 */
export function scanUpdate(buf: Uint8Array, offset: number, ctx: WireContext): Result<UpdateScan> {
  const len = headerAndLength(buf, offset, ctx);
  if (typeof len !== 'number') return fail(len);
  if (buf[offset + 18] !== MsgType.UPDATE) return fail(updateError(0, 'session-reset', 'not an UPDATE message'));
  return scanUpdateBody(buf, offset + 19, offset + len, ctx);
}

/** The same on a body whose header was already checked (MessageReader output). */
export function scanUpdateBody(input: Uint8Array, start: number, end: number, ctx: WireContext): Result<UpdateScan> {
  const buf = toBuffer(input);
  // RFC 4271 §6.3 / RFC 7606 §5.3: lengths that overrun the message leave nothing to trust.
  if (end - start < 4) return fail(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset', 'UPDATE too short'));
  const wlen = u16(buf, start);
  const withdrawnStart = start + 2;
  const withdrawnEnd = withdrawnStart + wlen;
  if (withdrawnEnd + 2 > end)
    return fail(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset', `withdrawn routes length ${wlen} overruns the message`));
  const alen = u16(buf, withdrawnEnd);
  const attrsStart = withdrawnEnd + 2;
  const attrsEnd = attrsStart + alen;
  if (attrsEnd > end)
    return fail(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset', `total path attribute length ${alen} overruns the message`));
  const addPath = ctx.addPath.has(IPV4_UNICAST);
  if (countPrefixes(buf, withdrawnStart, withdrawnEnd, 1, addPath) < 0)
    return fail(updateError(UpdateSubcode.INVALID_NETWORK_FIELD, 'session-reset', 'malformed withdrawn routes'));
  // RFC 7606 §5.3: a malformed NLRI field cannot be withdrawn either: session reset.
  if (countPrefixes(buf, attrsEnd, end, 1, addPath) < 0)
    return fail(updateError(UpdateSubcode.INVALID_NETWORK_FIELD, 'session-reset', 'malformed NLRI'));

  const scan: UpdateScan = {
    buf,
    withdrawnStart,
    withdrawnEnd,
    attrsStart,
    attrsEnd,
    nlriStart: attrsEnd,
    nlriEnd: end,
    addPath,
    mpReach: null,
    mpUnreach: null,
    kept: [],
    errors: [],
    action: null,
    treatAsWithdraw: false,
    attributes: buf.subarray(attrsStart, attrsEnd),
    attrKey: '',
  };
  const soft = (e: BgpError): void => {
    scan.errors.push(e);
    scan.action = strongerAction(scan.action ?? undefined, e.action);
  };

  seen.fill(0);
  let o = attrsStart;
  while (o < attrsEnd) {
    const rem = attrsEnd - o;
    const flags = buf[o]!;
    const hdr = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (rem < hdr) {
      // RFC 7606 §4: too few octets left for an attribute header; the Total Path Attribute
      // Length still locates the NLRI.
      soft(updateError(UpdateSubcode.ATTRIBUTE_LENGTH, 'treat-as-withdraw', `${rem} trailing octets in the attribute block`, buf.subarray(o, attrsEnd)));
      break;
    }
    const code = buf[o + 1]!;
    const vlen = hdr === 4 ? u16(buf, o + 2) : buf[o + 2]!;
    const vs = o + hdr;
    const ve = vs + vlen;
    if (ve > attrsEnd) {
      // RFC 7606 §4: the last attribute overruns the block. If it is MP_REACH/MP_UNREACH the
      // NLRI it carries cannot be located, so neither withdraw nor AFI/SAFI disable is safe.
      const e = updateError(UpdateSubcode.ATTRIBUTE_LENGTH, code === MP_REACH || code === MP_UNREACH ? 'session-reset' : 'treat-as-withdraw',
        `attribute ${code} length ${vlen} overruns the attribute block`, buf.subarray(o, attrsEnd), { attrType: code });
      if (e.action === 'session-reset') return fail(e);
      soft(e);
      break;
    }
    const data = buf.subarray(o, ve);
    if (seen[code]) {
      // RFC 7606 §3 (g): repeated MP_REACH/MP_UNREACH is a Malformed Attribute List; any other
      // repeated attribute is dropped after its first occurrence.
      if (code === MP_REACH || code === MP_UNREACH)
        return fail(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'session-reset', `attribute ${code} appears twice`, data, { attrType: code }));
      soft(updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, 'attribute-discard', `duplicate attribute ${code} discarded`, data, { attrType: code }));
      o = ve;
      continue;
    }
    seen[code] = 1;
    const d = ATTR_BY_CODE[code];
    if (d === undefined) {
      // RFC 4271 §6.3: an unrecognised well-known attribute is fatal; unknown optional ones are kept raw.
      if ((flags & AttrFlag.OPTIONAL) === 0)
        return fail(updateError(UpdateSubcode.UNRECOGNIZED_WELL_KNOWN, 'session-reset', `unrecognised well-known attribute ${code}`, data, { attrType: code }));
      scan.kept.push(o);
      o = ve;
      continue;
    }
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== d.flags) {
      // RFC 7606 §3 (c), with the per-attribute exceptions of §7 held in the table.
      let action = d.flagsAction;
      const extra: { attrType: number; afi?: number; safi?: number } = { attrType: code };
      if (action === 'afisafi-disable') {
        if (vlen < 3) action = 'session-reset';
        else {
          extra.afi = u16(buf, vs);
          extra.safi = buf[vs + 2]!;
        }
      }
      const e = updateError(UpdateSubcode.ATTRIBUTE_FLAGS, action, `${d.name}: flags 0x${flags.toString(16)} conflict with 0x${d.flags.toString(16)}`, data, extra);
      if (action === 'session-reset') return fail(e);
      soft(e);
      o = ve;
      continue;
    }
    const p = d.check(buf, vs, ve, ctx);
    if (p !== null) {
      const extra: { attrType: number; afi?: number; safi?: number } = { attrType: code };
      if (p.afi !== undefined) extra.afi = p.afi;
      if (p.safi !== undefined) extra.safi = p.safi;
      const e = updateError(p.subcode, p.action, p.message, data, extra);
      if (p.action === 'session-reset') return fail(e);
      soft(e);
      o = ve;
      continue;
    }
    scan.kept.push(o);
    if (code === MP_REACH) {
      const afi = u16(buf, vs);
      const safi = buf[vs + 2]!;
      const nhLen = buf[vs + 3]!;
      scan.mpReach = {
        afi,
        safi,
        nextHop: buf.subarray(vs + 4, vs + 4 + nhLen),
        nlriStart: vs + 5 + nhLen,
        nlriEnd: ve,
        addPath: ctx.addPath.has(familyKey(afi, safi)),
      };
    } else if (code === MP_UNREACH) {
      const afi = u16(buf, vs);
      const safi = buf[vs + 2]!;
      scan.mpUnreach = { afi, safi, nlriStart: vs + 3, nlriEnd: ve, addPath: ctx.addPath.has(familyKey(afi, safi)) };
    }
    o = ve;
  }

  // RFC 7606 §3 (d): a missing well-known mandatory attribute is treat-as-withdraw. RFC 4760 §3
  // makes NEXT_HOP mandatory only with classic NLRI.
  const hasNlri = end > attrsEnd;
  if (hasNlri || scan.mpReach !== null) {
    const missing = (c: number, name: string): void =>
      soft(updateError(UpdateSubcode.MISSING_WELL_KNOWN, 'treat-as-withdraw', `missing well-known attribute ${name}`, new Uint8Array([c]), { attrType: c }));
    if (!seen[AttrType.ORIGIN]) missing(AttrType.ORIGIN, 'ORIGIN');
    if (!seen[AttrType.AS_PATH]) missing(AttrType.AS_PATH, 'AS_PATH');
    if (hasNlri && !seen[AttrType.NEXT_HOP]) missing(AttrType.NEXT_HOP, 'NEXT_HOP');
  }
  for (const e of scan.errors) if (e.action === 'treat-as-withdraw') scan.treatAsWithdraw = true;
  if (!scan.treatAsWithdraw) scan.attrKey = attributeKey(buf, scan);
  return ok(scan);
}

function attributeKey(buf: Buffer, scan: UpdateScan): string {
  let order = scan.kept;
  for (let i = 1; i < order.length; i++) {
    if (buf[order[i]! + 1]! < buf[order[i - 1]! + 1]!) {
      order = [...scan.kept].sort((a, b) => buf[a + 1]! - buf[b + 1]!);
      break;
    }
  }
  let key = '';
  for (const o of order) {
    const flags = buf[o]!;
    const code = buf[o + 1]!;
    if (code === MP_UNREACH) continue;
    const hdr = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    let end = o + hdr + (hdr === 4 ? u16(buf, o + 2) : buf[o + 2]!);
    // Only AFI, SAFI and next hop of MP_REACH_NLRI describe the path; its NLRI are the routes.
    if (code === MP_REACH) end = scan.mpReach!.nlriStart - 1;
    key += String.fromCharCode(code, flags & 0xe0, end - o - hdr) + buf.toString('latin1', o + hdr, end);
  }
  return key;
}

/** FNV-1a over an attribute key, for tables that want a number (e.g. sharding). */
export function attrHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Callbacks of the allocation-free walk. IPv4 prefixes (classic or MP) come as a 32-bit number;
 * IPv6 ones as a view (`buf[offset ..]`, ceil(len/8) octets). `withdrawn` is true for withdrawals
 * and for NLRI turned into withdrawals by treat-as-withdraw.
 */
export interface NlriVisitor {
  ipv4?(addr: number, len: number, pathId: number, withdrawn: boolean): void;
  ipv6?(buf: Uint8Array, offset: number, len: number, pathId: number, withdrawn: boolean): void;
}

/** Walks every prefix of a scanned UPDATE: withdrawals first, then announcements (RFC 4271 §9.1.4 order). */
export function visitNlri(scan: UpdateScan, v: NlriVisitor): void {
  const { buf } = scan;
  const taw = scan.treatAsWithdraw;
  const v4 = v.ipv4;
  const v6 = v.ipv6;
  const walk = (afi: number, s: number, e: number, addPath: boolean, withdrawn: boolean): void => {
    if (s >= e) return;
    if (afi === 1 && v4) forEachIpv4Prefix(buf, s, e, addPath, (a, l, id) => v4(a, l, id, withdrawn));
    else if (afi === 2 && v6) forEachPrefixBytes(buf, s, e, addPath, (b, o, l, id) => v6(b, o, l, id, withdrawn));
  };
  walk(1, scan.withdrawnStart, scan.withdrawnEnd, scan.addPath, true);
  const u = scan.mpUnreach;
  if (u) walk(u.afi, u.nlriStart, u.nlriEnd, u.addPath, true);
  walk(1, scan.nlriStart, scan.nlriEnd, scan.addPath, taw);
  const r = scan.mpReach;
  if (r) walk(r.afi, r.nlriStart, r.nlriEnd, r.addPath, taw);
}

/** RFC 4724 §2: an UPDATE with nothing in it (IPv4 unicast) or only an empty MP_UNREACH_NLRI. */
export function endOfRib(scan: UpdateScan): { afi: number; safi: number } | null {
  if (scan.withdrawnEnd > scan.withdrawnStart || scan.nlriEnd > scan.nlriStart || scan.mpReach) return null;
  if (scan.attrsEnd === scan.attrsStart) return { afi: 1, safi: 1 };
  const u = scan.mpUnreach;
  if (u && scan.kept.length === 1 && u.nlriEnd === u.nlriStart && scan.errors.length === 0) return { afi: u.afi, safi: u.safi };
  return null;
}

/** Full decode: the scan's results as objects. A failure is a session reset. */
export function decodeUpdate(buf: Uint8Array, offset: number, ctx: WireContext): Result<UpdateMessage> {
  const r = scanUpdate(buf, offset, ctx);
  return r.ok ? ok(materialize(r.value, ctx)) : r;
}

export function materialize(scan: UpdateScan, ctx: WireContext): UpdateMessage {
  const { buf } = scan;
  const msg: UpdateMessage = { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] };
  decodePrefixes(buf, scan.withdrawnStart, scan.withdrawnEnd, 1, scan.addPath, msg.withdrawn);
  decodePrefixes(buf, scan.nlriStart, scan.nlriEnd, 1, scan.addPath, scan.treatAsWithdraw ? msg.withdrawn : msg.nlri);
  for (const o of scan.kept) {
    const flags = buf[o]!;
    const code = buf[o + 1]!;
    const hdr = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    const vs = o + hdr;
    const ve = vs + (hdr === 4 ? u16(buf, o + 2) : buf[o + 2]!);
    if (scan.treatAsWithdraw && code !== MP_REACH && code !== MP_UNREACH) continue;
    const d = ATTR_BY_CODE[code];
    const a: PathAttribute = d ? d.decode(flags, buf, vs, ve, ctx) : { type: 'UNKNOWN', flags, code, value: new Uint8Array(buf.subarray(vs, ve)) };
    if (scan.treatAsWithdraw && a.type === 'MP_REACH_NLRI') {
      // RFC 7606 §2: the announced prefixes become withdrawals of the same family.
      const same = msg.attributes.find((x) => x.type === 'MP_UNREACH_NLRI' && x.afi === a.afi && x.safi === a.safi);
      if (same && same.type === 'MP_UNREACH_NLRI') same.withdrawn.push(...a.nlri);
      else msg.attributes.push({ type: 'MP_UNREACH_NLRI', flags: AttrFlag.OPTIONAL, afi: a.afi, safi: a.safi, withdrawn: a.nlri });
      continue;
    }
    msg.attributes.push(a);
  }
  if (scan.errors.length > 0) {
    msg.errors = scan.errors;
    msg.action = scan.action!;
    if (scan.treatAsWithdraw) msg.treatAsWithdraw = true;
  }
  return msg;
}

export function updateEncodingLength(m: UpdateMessage, ctx: WireContext): number {
  const addPath = ctx.addPath.has(IPV4_UNICAST);
  return 23 + prefixesLength(m.withdrawn, addPath) + attributesLength(m.attributes, ctx) + prefixesLength(m.nlri, addPath);
}

/** Encodes an UPDATE; throws RangeError when it exceeds the session's maximum message length. */
export function encodeUpdate(m: UpdateMessage, buf: Uint8Array, offset: number, ctx: WireContext): number {
  const len = updateEncodingLength(m, ctx);
  if (len > maxMessageLength(ctx)) throw new RangeError(`UPDATE of ${len} octets exceeds ${maxMessageLength(ctx)}`);
  const addPath = ctx.addPath.has(IPV4_UNICAST);
  writeHeader(buf, offset, len, MsgType.UPDATE);
  let o = offset + 19;
  const w = encodePrefixes(m.withdrawn, buf, o + 2, addPath);
  w16(buf, o, w);
  o += 2 + w;
  const a = encodeAttributes(m.attributes, buf, o + 2, ctx);
  w16(buf, o, a);
  o += 2 + a;
  o += encodePrefixes(m.nlri, buf, o, addPath);
  return o - offset;
}
