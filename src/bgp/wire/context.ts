// Session-negotiated facts that change how bytes are read or written. One context per direction:
// ADD-PATH (RFC 7911 §4) is negotiated separately for sending and receiving, so the session keeps
// a receive context (for decode) and a send context (for encode).

export interface WireContext {
  /** RFC 6793: both sides sent the 4-octet AS capability; AS_PATH/AGGREGATOR carry 4-octet ASNs. */
  readonly as4: boolean;
  /** RFC 8654: both sides sent the extended message capability; UPDATE etc. may reach 65535 octets. */
  readonly extendedMessage: boolean;
  /** RFC 7911: families (familyKey) whose NLRI carry a 4-octet path identifier in this direction. */
  readonly addPath: ReadonlySet<number>;
  /** RFC 8950: families (familyKey) whose MP_REACH_NLRI may carry an IPv6 next hop for IPv4 NLRI. */
  readonly extendedNextHop: ReadonlySet<number>;
}

/** A compact key for an AFI/SAFI pair, usable in Sets without allocating strings. */
export const familyKey = (afi: number, safi: number): number => afi * 256 + safi;

export const IPV4_UNICAST = familyKey(1, 1);
export const IPV6_UNICAST = familyKey(2, 1);

const EMPTY: ReadonlySet<number> = new Set<number>();

/** The context before OPEN is exchanged: 2-octet AS, 4096-octet messages, no ADD-PATH. */
export const DEFAULT_CONTEXT: WireContext = makeContext();

/**
 * A context. Every context is made here, so all have one hidden class: the header check and the
 * UPDATE scanner see the default context (before OPEN) and negotiated ones on one session, and a
 * second class would throw away their optimized code (not frozen for the same reason; the type
 * is read-only).
 */
export function makeContext(p: Partial<WireContext> = {}): WireContext {
  return {
    as4: p.as4 ?? false,
    extendedMessage: p.extendedMessage ?? false,
    addPath: p.addPath ?? EMPTY,
    extendedNextHop: p.extendedNextHop ?? EMPTY,
  };
}

export const maxMessageLength = (ctx: WireContext): number => (ctx.extendedMessage ? 65535 : 4096);
