// The 19-octet message header (RFC 4271 §4.1) and its error checks (§6.1).
import { ErrCode, HEADER_LENGTH, HeaderSubcode, MsgType } from './constants.js';
import type { WireContext } from './context.js';
import { u16, w16 } from './bytes.js';
import type { BgpError } from './errors.js';
import { bgpError } from './errors.js';

/** Minimum length of each message type (RFC 4271 §4.2-4.5, RFC 2918 §3). */
const MIN_LENGTH: readonly number[] = [0, 29, 23, 21, 19, 23];

/**
 * Validates the header at `offset` once its 19 octets are available. Returns the message length,
 * or a BgpError with NOTIFICATION code 1 (always session-reset).
 */
export function checkHeader(buf: Uint8Array, offset: number, ctx: WireContext): number | BgpError {
  for (let i = 0; i < 16; i++) {
    if (buf[offset + i] !== 0xff)
      return bgpError(ErrCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, 'session-reset', 'marker is not all ones');
  }
  const len = u16(buf, offset + 16);
  const type = buf[offset + 18]!;
  // RFC 4271 §6.1: the Data field of Bad Message Length is the erroneous Length field.
  const lenData = (): Uint8Array => new Uint8Array(buf.subarray(offset + 16, offset + 18));
  if (type < MsgType.OPEN || type > MsgType.ROUTE_REFRESH) {
    if (len < HEADER_LENGTH) return badLength(len, lenData());
    return bgpError(ErrCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE, 'session-reset', `unknown message type ${type}`, new Uint8Array([type]));
  }
  // RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 even with extended messages.
  const max = ctx.extendedMessage && type !== MsgType.OPEN && type !== MsgType.KEEPALIVE ? 65535 : 4096;
  if (len < MIN_LENGTH[type]! || len > max || (type === MsgType.KEEPALIVE && len !== HEADER_LENGTH)) return badLength(len, lenData());
  return len;
}

function badLength(len: number, data: Uint8Array): BgpError {
  return bgpError(ErrCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, 'session-reset', `bad message length ${len}`, data);
}

export function writeHeader(buf: Uint8Array, offset: number, length: number, type: number): void {
  buf.fill(0xff, offset, offset + 16);
  w16(buf, offset + 16, length);
  buf[offset + 18] = type;
}

/** Checks that a complete message of `len` octets is present at `offset`; for decoders given a whole buffer. */
export function headerAndLength(buf: Uint8Array, offset: number, ctx: WireContext): number | BgpError {
  if (offset < 0 || buf.length - offset < HEADER_LENGTH)
    return bgpError(ErrCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, 'session-reset', 'truncated message header');
  const len = checkHeader(buf, offset, ctx);
  if (typeof len !== 'number') return len;
  if (buf.length - offset < len)
    return bgpError(ErrCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, 'session-reset', `message of ${len} octets truncated to ${buf.length - offset}`);
  return len;
}
