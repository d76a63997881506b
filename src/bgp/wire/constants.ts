// Numbers from the IANA BGP registries, as `as const` objects (no const enum: isolated modules).

/** RFC 4271 §4.1 message types, RFC 2918 ROUTE-REFRESH. */
export const MsgType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 §4: extended messages raise the bound for every type except OPEN and KEEPALIVE. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

export const Afi = { IPV4: 1, IPV6: 2 } as const;
export const Safi = { UNICAST: 1, MULTICAST: 2 } as const;

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** RFC 4271 §4.3 attribute flag bits. */
export const AttrFlag = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const Origin = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;

/** AS_PATH segment types: RFC 4271 §4.3, RFC 5065 §3 (confederations). */
export const AsPathSegmentType = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;

/** RFC 6793 §9: the 2-octet placeholder for a 4-octet AS. */
export const AS_TRANS = 23456;

/** Well-known communities (IANA "BGP Well-known Communities"). */
export const WellKnownCommunity = {
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NO_PEER: 0xffffff04, // RFC 3765
  BLACKHOLE: 0xffff029a, // RFC 7999
  GRACEFUL_SHUTDOWN: 0xffff0000, // RFC 8326
  LLGR_STALE: 0xffff0006, // RFC 9494
  NO_LLGR: 0xffff0007,
} as const;

/** Capability codes (IANA "Capability Codes"). */
export const CapCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  AS4: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LLGR: 71,
  FQDN: 73,
  ROUTE_REFRESH_OLD: 128,
} as const;

/** RFC 4271 §4.5 NOTIFICATION error codes. */
export const ErrCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7, // RFC 7313 §5
} as const;

export const HeaderSubcode = { CONNECTION_NOT_SYNCHRONIZED: 1, BAD_MESSAGE_LENGTH: 2, BAD_MESSAGE_TYPE: 3 } as const;

export const OpenSubcode = {
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7, // RFC 5492 §5
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN: 2,
  MISSING_WELL_KNOWN: 3,
  ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const CeaseSubcode = {
  MAX_PREFIXES: 1,
  ADMIN_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMIN_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6,
  CONNECTION_COLLISION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9, // RFC 8538
  BFD_DOWN: 10, // RFC 9384
} as const;

/** RFC 7313 §3.2: the "Message Subtype" carried in the old Reserved octet of ROUTE-REFRESH. */
export const RouteRefreshSubtype = { NORMAL: 0, BORR: 1, EORR: 2 } as const;

/** RFC 9072 §2: an Optional Parameter Type of 255 in the old length octet announces the extended form. */
export const OPT_PARAM_EXTENDED = 255;
export const OPT_PARAM_CAPABILITIES = 2;
