// NOTIFICATION (RFC 4271 §4.5, RFC 8203/9003 shutdown communication), KEEPALIVE (§4.4) and
// ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3.2 subtypes).
import { CeaseSubcode, ErrCode, MsgType } from './constants.js';
import type { WireContext } from './context.js';
import { DEFAULT_CONTEXT } from './context.js';
import { u16, w16 } from './bytes.js';
import type { Result } from './errors.js';
import { bgpError, fail, ok } from './errors.js';
import { headerAndLength, writeHeader } from './header.js';

export interface NotificationMessage {
  type: 'NOTIFICATION';
  code: number;
  subcode: number;
  data: Uint8Array;
  /**
   * RFC 9003 §2: for Cease / Administrative Shutdown (2) and Administrative Reset (4), a
   * length-prefixed UTF-8 message. When set, it is what gets encoded and `data` is ignored; a
   * received one is taken out of `data` only when it is well-formed UTF-8 of the stated length.
   */
  shutdownMessage?: string;
}

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
}

export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  afi: number;
  safi: number;
  /** RFC 7313: 0 normal request, 1 BoRR, 2 EoRR; other values are to be ignored by the session. */
  subtype: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

const carriesShutdown = (code: number, subcode: number): boolean =>
  code === ErrCode.CEASE && (subcode === CeaseSubcode.ADMIN_SHUTDOWN || subcode === CeaseSubcode.ADMIN_RESET);

function notificationData(m: NotificationMessage): Uint8Array {
  if (m.shutdownMessage === undefined || !carriesShutdown(m.code, m.subcode)) return m.data;
  let text = encoder.encode(m.shutdownMessage);
  // RFC 9003 §2: at most 255 octets; cut on a character boundary rather than send broken UTF-8.
  if (text.length > 255) {
    let n = 255;
    while (n > 0 && (text[n]! & 0xc0) === 0x80) n--;
    text = text.subarray(0, n);
  }
  const out = new Uint8Array(1 + text.length);
  out[0] = text.length;
  out.set(text, 1);
  return out;
}

export const notificationEncodingLength = (m: NotificationMessage): number => 21 + notificationData(m).length;

export function encodeNotification(m: NotificationMessage, buf: Uint8Array, offset: number): number {
  const data = notificationData(m);
  const len = 21 + data.length;
  writeHeader(buf, offset, len, MsgType.NOTIFICATION);
  buf[offset + 19] = m.code;
  buf[offset + 20] = m.subcode;
  buf.set(data, offset + 21);
  return len;
}

export function decodeNotification(buf: Uint8Array, offset: number, ctx: WireContext = DEFAULT_CONTEXT): Result<NotificationMessage> {
  const len = headerAndLength(buf, offset, ctx);
  if (typeof len !== 'number') return fail(len);
  return ok(decodeNotificationBody(buf, offset + 19, offset + len));
}

export function decodeNotificationBody(buf: Uint8Array, s: number, e: number): NotificationMessage {
  const code = buf[s]!;
  const subcode = buf[s + 1]!;
  const data = new Uint8Array(buf.subarray(s + 2, e));
  const m: NotificationMessage = { type: 'NOTIFICATION', code, subcode, data };
  if (carriesShutdown(code, subcode) && data.length >= 1 && data[0] === data.length - 1) {
    try {
      m.shutdownMessage = strictUtf8.decode(data.subarray(1));
      m.data = new Uint8Array(0);
    } catch {
      // Not UTF-8: RFC 9003 §4 says log it as is; the raw data stays in `data`.
    }
  }
  return m;
}

export const KEEPALIVE: Readonly<KeepaliveMessage> = Object.freeze({ type: 'KEEPALIVE' });

export function encodeKeepalive(buf: Uint8Array, offset: number): number {
  writeHeader(buf, offset, 19, MsgType.KEEPALIVE);
  return 19;
}

export function encodeRouteRefresh(m: RouteRefreshMessage, buf: Uint8Array, offset: number): number {
  writeHeader(buf, offset, 23, MsgType.ROUTE_REFRESH);
  w16(buf, offset + 19, m.afi);
  buf[offset + 21] = m.subtype;
  buf[offset + 22] = m.safi;
  return 23;
}

export function decodeRouteRefreshBody(buf: Uint8Array, s: number, e: number): Result<RouteRefreshMessage> {
  // RFC 7313 §5: a ROUTE-REFRESH whose length is not 23 is "Invalid Message Length" (7/1).
  if (e - s !== 4)
    return fail(bgpError(ErrCode.ROUTE_REFRESH, 1, 'session-reset', `ROUTE-REFRESH body of ${e - s} octets`, new Uint8Array(buf.subarray(s - 19, e))));
  return ok({ type: 'ROUTE-REFRESH', afi: u16(buf, s), subtype: buf[s + 2]!, safi: buf[s + 3]! });
}
