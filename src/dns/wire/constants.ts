// Numeric protocol constants (RFC 1035 §3.2, §4.1.1; RFC 6891 for OPT/BADVERS; RFC 3596 AAAA;
// RFC 2782 SRV). Plain `as const` objects so they survive isolated-module builds.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RRClass = {
  IN: 1,
  CH: 3,
  NONE: 254,
  ANY: 255,
} as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode (RFC 6891 §6.1.3): upper 8 bits travel in the OPT TTL. */
  BADVERS: 16,
} as const;

export const Opcode = {
  QUERY: 0,
} as const;

/** Header flag bits of the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

export const HEADER_LEN = 12;
/** Owner (root, 1) + type (2) + class (2) + TTL (4) + RDLENGTH (2), no options. */
export const OPT_RR_LEN = 11;
/** RFC 1035 §4.2.1: the UDP limit without EDNS. */
export const CLASSIC_UDP_SIZE = 512;
/** DNS Flag Day 2020 recommendation: avoids IP fragmentation on common paths. */
export const DEFAULT_EDNS_BUFFER = 1232;
export const MAX_TCP_MESSAGE = 65535;
/** RFC 1035 §2.3.4. */
export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;

export const typeName = (t: number): string => {
  for (const [k, v] of Object.entries(RRType)) if (v === t) return k;
  return `TYPE${t}`;
};
