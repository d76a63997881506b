// OPEN (RFC 4271 §4.2) with optional parameters, capabilities (RFC 5492) and the RFC 9072
// extended optional parameters length.
import { AS_TRANS, ErrCode, MsgType, OPT_PARAM_CAPABILITIES, OPT_PARAM_EXTENDED, OpenSubcode } from './constants.js';
import type { WireContext } from './context.js';
import { DEFAULT_CONTEXT, familyKey, makeContext } from './context.js';
import { dotted, u16, w16, writeDotted } from './bytes.js';
import type { BgpError, Result } from './errors.js';
import { bgpError, fail, ok } from './errors.js';
import type { Capability } from './capabilities.js';
import { capabilityValueLength, decodeCapabilities, encodeCapability } from './capabilities.js';
import { headerAndLength, writeHeader } from './header.js';

export type OptionalParameter =
  | { type: 2; capabilities: Capability[] }
  /** Any other parameter type (RFC 4271 §4.2 Authentication was 1, deprecated): kept raw. */
  | { type: number; value: Uint8Array; capabilities?: undefined };

export interface OpenMessage {
  type: 'OPEN';
  version: number;
  /** The 2-octet My Autonomous System field: AS_TRANS when the real AS needs 4 octets (RFC 6793 §4.1). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  /** Kept as received: speakers differ in packing all capabilities in one parameter or one each. */
  params: OptionalParameter[];
  /** RFC 9072 encoding was (or is to be) used. Set automatically when parameters exceed 255 octets. */
  extendedParams?: boolean;
}

function openError(subcode: number, message: string, data?: Uint8Array): BgpError {
  return bgpError(ErrCode.OPEN_MESSAGE, subcode, 'session-reset', message, data);
}

/** Every capability of an OPEN, flattened over its parameters. */
export function openCapabilities(m: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of m.params) if (p.type === OPT_PARAM_CAPABILITIES && p.capabilities) out.push(...p.capabilities);
  return out;
}

/** Builds an OPEN with all capabilities in one parameter, the way BIRD sends it. */
export function makeOpen(o: { as: number; holdTime: number; bgpId: string; capabilities: Capability[] }): OpenMessage {
  return {
    type: 'OPEN',
    version: 4,
    myAs: o.as > 65535 ? AS_TRANS : o.as,
    holdTime: o.holdTime,
    bgpId: o.bgpId,
    params: o.capabilities.length ? [{ type: 2, capabilities: o.capabilities }] : [],
  };
}

/** The speaker's real AS: the 4-octet capability's when present (RFC 6793 §4.1). */
export function openAs(m: OpenMessage): number {
  for (const c of openCapabilities(m)) if (c.kind === 'as4') return c.as;
  return m.myAs;
}

function paramValueLength(p: OptionalParameter): number {
  if (p.capabilities) {
    let n = 0;
    for (const c of p.capabilities) n += 2 + capabilityValueLength(c);
    return n;
  }
  return (p as { value: Uint8Array }).value.length;
}

function useExtended(m: OpenMessage): boolean {
  if (m.extendedParams) return true;
  let n = 0;
  for (const p of m.params) {
    const v = paramValueLength(p);
    if (v > 255) return true;
    n += 2 + v;
  }
  return n > 255;
}

export function openEncodingLength(m: OpenMessage): number {
  const ext = useExtended(m);
  let n = 0;
  for (const p of m.params) n += (ext ? 3 : 2) + paramValueLength(p);
  // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, then a 2-octet Extended Length.
  return 19 + 10 + (ext ? 3 : 0) + n;
}

export function encodeOpen(m: OpenMessage, buf: Uint8Array, offset: number): number {
  const len = openEncodingLength(m);
  if (len > 4096) throw new RangeError(`OPEN of ${len} octets exceeds 4096`);
  const ext = useExtended(m);
  writeHeader(buf, offset, len, MsgType.OPEN);
  let o = offset + 19;
  buf[o++] = m.version;
  o += w16(buf, o, m.myAs);
  o += w16(buf, o, m.holdTime);
  o += writeDotted(buf, o, m.bgpId);
  const paramsLen = len - 19 - 10 - (ext ? 3 : 0);
  if (ext) {
    buf[o++] = OPT_PARAM_EXTENDED;
    buf[o++] = OPT_PARAM_EXTENDED;
    o += w16(buf, o, paramsLen);
  } else buf[o++] = paramsLen;
  for (const p of m.params) {
    const v = paramValueLength(p);
    buf[o++] = p.type;
    if (ext) o += w16(buf, o, v);
    else buf[o++] = v;
    if (p.capabilities) for (const c of p.capabilities) o += encodeCapability(c, buf, o);
    else {
      buf.set((p as { value: Uint8Array }).value, o);
      o += v;
    }
  }
  return o - offset;
}

export function decodeOpen(buf: Uint8Array, offset: number, ctx: WireContext = DEFAULT_CONTEXT): Result<OpenMessage> {
  const len = headerAndLength(buf, offset, ctx);
  if (typeof len !== 'number') return fail(len);
  return decodeOpenBody(buf, offset + 19, offset + len);
}

export function decodeOpenBody(buf: Uint8Array, s: number, e: number): Result<OpenMessage> {
  if (e - s < 10) return fail(openError(0, 'OPEN too short'));
  const version = buf[s]!;
  // RFC 4271 §6.2: the data is the largest version this speaker supports.
  if (version !== 4) return fail(openError(OpenSubcode.UNSUPPORTED_VERSION, `unsupported BGP version ${version}`, new Uint8Array([0, 4])));
  const m: OpenMessage = {
    type: 'OPEN',
    version,
    myAs: u16(buf, s + 1),
    holdTime: u16(buf, s + 3),
    bgpId: dotted(buf, s + 5),
    params: [],
  };
  let o = s + 10;
  let plen = buf[s + 9]!;
  let ext = false;
  // RFC 9072 §2: a Non-Ext OP Type of 255 where the first parameter type would be.
  if (plen === OPT_PARAM_EXTENDED && e - o >= 3 && buf[o] === OPT_PARAM_EXTENDED) {
    ext = true;
    plen = u16(buf, o + 1);
    o += 3;
    m.extendedParams = true;
  }
  if (o + plen !== e) return fail(openError(0, `optional parameters length ${plen} does not match the message`));
  while (o < e) {
    if (e - o < (ext ? 3 : 2)) return fail(openError(0, 'truncated optional parameter'));
    const type = buf[o]!;
    const vlen = ext ? u16(buf, o + 1) : buf[o + 1]!;
    const vs = o + (ext ? 3 : 2);
    const ve = vs + vlen;
    if (ve > e) return fail(openError(0, `optional parameter ${type} overruns the message`));
    if (type === OPT_PARAM_CAPABILITIES) {
      const capabilities: Capability[] = [];
      const why = decodeCapabilities(buf, vs, ve, capabilities);
      if (why !== null) return fail(openError(0, why, new Uint8Array(buf.subarray(o, ve))));
      m.params.push({ type: 2, capabilities });
    } else m.params.push({ type, value: new Uint8Array(buf.subarray(vs, ve)) });
    o = ve;
  }
  return ok(m);
}

/**
 * The two contexts a session derives from the exchanged OPENs: `receive` for decoding what the
 * peer sends, `send` for encoding towards it (RFC 7911 §5 negotiates ADD-PATH per direction).
 */
export function negotiate(local: OpenMessage, remote: OpenMessage): { receive: WireContext; send: WireContext } {
  const l = openCapabilities(local);
  const r = openCapabilities(remote);
  const has = (caps: Capability[], kind: Capability['kind']): boolean => caps.some((c) => c.kind === kind);
  const as4 = has(l, 'as4') && has(r, 'as4');
  const extendedMessage = has(l, 'extended-message') && has(r, 'extended-message');
  const addPathOf = (caps: Capability[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const c of caps) if (c.kind === 'add-path') for (const f of c.families) m.set(familyKey(f.afi, f.safi), f.sendReceive);
    return m;
  };
  const la = addPathOf(l);
  const ra = addPathOf(r);
  const rx = new Set<number>();
  const tx = new Set<number>();
  for (const [k, v] of la) {
    const peer = ra.get(k) ?? 0;
    if (v & 1 && peer & 2) rx.add(k);
    if (v & 2 && peer & 1) tx.add(k);
  }
  const enhOf = (caps: Capability[]): Set<number> => {
    const s = new Set<number>();
    for (const c of caps) if (c.kind === 'extended-next-hop') for (const x of c.entries) if (x.nextHopAfi === 2) s.add(familyKey(x.afi, x.safi));
    return s;
  };
  const le = enhOf(l);
  const extendedNextHop = new Set<number>([...enhOf(r)].filter((k) => le.has(k)));
  return {
    receive: makeContext({ as4, extendedMessage, addPath: rx, extendedNextHop }),
    send: makeContext({ as4, extendedMessage, addPath: tx, extendedNextHop }),
  };
}
