// Annotated wire fixtures. The two OPENs were captured from BIRD 2.0.12 and GoBGP 3.10 (the
// Debian packages) connecting to a loopback listener; the rest are built by hand from the RFCs.

/** Prepends the RFC 4271 §4.1 header (marker, length, type) to a body. */
export function message(type: number, body: readonly number[]): Buffer {
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(19 + body.length, 16);
  b[18] = type;
  Buffer.from(body).copy(b, 19);
  return b;
}

export const OPEN = 1;
export const UPDATE = 2;
export const NOTIFICATION = 3;
export const KEEPALIVE = 4;
export const ROUTE_REFRESH = 5;

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];

// ---------------------------------------------------------------------------------------------
// OPEN as BIRD 2.0.12 sends it: `local as 4200000001`, ipv4 (extended next hop) + ipv6 channels,
// graceful restart, long-lived GR, `advertise hostname on`, hostname "bird-node".
export const BIRD_OPEN_HEX =
  'ffffffffffffffffffffffffffffffff006601045ba000f0c000020149024701040001000101040002000102000506000100010002400a007800010100000201004104fa56ea014600470e00010100000e1000020100000e10490b09626972642d6e6f646500';
export const BIRD_OPEN = message(OPEN, [
  0x04, //                                  version 4
  0x5b, 0xa0, //                            My AS 23456 = AS_TRANS (real AS is 4-octet)
  0x00, 0xf0, //                            hold time 240
  0xc0, 0x00, 0x02, 0x01, //                BGP identifier 192.0.2.1
  0x49, //                                  optional parameters length 73
  0x02, 0x47, //                            parameter: Capabilities, 71 octets (all in one)
  0x01, 0x04, 0x00, 0x01, 0x00, 0x01, //    MP: AFI 1 (IPv4) / SAFI 1
  0x01, 0x04, 0x00, 0x02, 0x00, 0x01, //    MP: AFI 2 (IPv6) / SAFI 1
  0x02, 0x00, //                            route refresh
  0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, // extended next hop: IPv4/1 over IPv6
  0x40, 0x0a, 0x00, 0x78, //                graceful restart: flags 0, restart time 120
  0x00, 0x01, 0x01, 0x00, //                  IPv4 unicast, forwarding bit clear
  0x00, 0x02, 0x01, 0x00, //                  IPv6 unicast, forwarding bit clear
  0x41, 0x04, 0xfa, 0x56, 0xea, 0x01, //    4-octet AS 4200000001
  0x46, 0x00, //                            enhanced route refresh
  0x47, 0x0e, //                            long-lived GR, 2 families
  0x00, 0x01, 0x01, 0x00, 0x00, 0x0e, 0x10, // IPv4 unicast, flags 0, stale time 3600
  0x00, 0x02, 0x01, 0x00, 0x00, 0x0e, 0x10, // IPv6 unicast, flags 0, stale time 3600
  0x49, 0x0b, 0x09, ...ascii('bird-node'), 0x00, // FQDN: hostname "bird-node", empty domain
]);

// OPEN as GoBGP 3.10 sends it: AS 65001, ipv4-unicast (ADD-PATH receive, GR) + ipv6-unicast.
export const GOBGP_OPEN_HEX =
  'ffffffffffffffffffffffffffffffff004f0104fde9005ac00002023202300200490402766d0001040001000101040002000141040000fde940060078000101000506000100010002450400010101';
export const GOBGP_OPEN = message(OPEN, [
  0x04, //                                  version 4
  0xfd, 0xe9, //                            My AS 65001
  0x00, 0x5a, //                            hold time 90
  0xc0, 0x00, 0x02, 0x02, //                BGP identifier 192.0.2.2
  0x32, //                                  optional parameters length 50
  0x02, 0x30, //                            parameter: Capabilities, 48 octets
  0x02, 0x00, //                            route refresh
  0x49, 0x04, 0x02, ...ascii('vm'), 0x00, // FQDN: the host's name, empty domain
  0x01, 0x04, 0x00, 0x01, 0x00, 0x01, //    MP: IPv4 unicast
  0x01, 0x04, 0x00, 0x02, 0x00, 0x01, //    MP: IPv6 unicast
  0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9, //    4-octet AS 65001
  0x40, 0x06, 0x00, 0x78, //                graceful restart: flags 0, restart time 120
  0x00, 0x01, 0x01, 0x00, //                  IPv4 unicast
  0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, // extended next hop: IPv4/1 over IPv6
  0x45, 0x04, 0x00, 0x01, 0x01, 0x01, //    ADD-PATH: IPv4 unicast, receive
]);

// ---------------------------------------------------------------------------------------------
export const KEEPALIVE_MSG = message(KEEPALIVE, []);

// RFC 9003 §2: Cease / Administrative Shutdown with a shutdown communication.
export const NOTIFICATION_SHUTDOWN = message(NOTIFICATION, [
  0x06, 0x02, //                            Cease / Administrative Shutdown
  0x0b, ...ascii('maintenance'), //         length 11, UTF-8 text
]);
export const NOTIFICATION_AS_PATH = message(NOTIFICATION, [
  0x03, 0x0b, //                            UPDATE Message Error / Malformed AS_PATH
  0x40, 0x02, 0x02, 0x02, 0x00, //          data: the offending attribute (empty segment)
]);
export const NOTIFICATION_HOLD = message(NOTIFICATION, [0x04, 0x00]); // Hold Timer Expired

export const ROUTE_REFRESH_V4 = message(ROUTE_REFRESH, [0x00, 0x01, 0x00, 0x01]); // IPv4, normal, unicast
export const ROUTE_REFRESH_BORR_V6 = message(ROUTE_REFRESH, [0x00, 0x02, 0x01, 0x01]); // IPv6, BoRR (RFC 7313)
export const ROUTE_REFRESH_EORR_V6 = message(ROUTE_REFRESH, [0x00, 0x02, 0x02, 0x01]); // IPv6, EoRR

// ---------------------------------------------------------------------------------------------
// Every classic attribute, 4-octet AS session.
export const UPDATE_IPV4_ALL = message(UPDATE, [
  0x00, 0x04, //                            withdrawn routes length 4
  0x18, 0xc6, 0x33, 0x64, //                  198.51.100.0/24
  0x00, 0x78, //                            total path attribute length 120
  0x40, 0x01, 0x01, 0x00, //                ORIGIN IGP
  0x40, 0x02, 0x0e, //                      AS_PATH, 14 octets
  0x02, 0x03, //                              AS_SEQUENCE of 3
  0x00, 0x00, 0xfd, 0xe9, //                  65001
  0x00, 0x00, 0xfd, 0xea, //                  65002
  0xfa, 0x56, 0xea, 0x01, //                  4200000001
  0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01, // NEXT_HOP 192.0.2.1
  0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x64, // MULTI_EXIT_DISC 100
  0x40, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc8, // LOCAL_PREF 200
  0x40, 0x06, 0x00, //                      ATOMIC_AGGREGATE
  0xc0, 0x07, 0x08, 0x00, 0x00, 0xfd, 0xe9, 0xc0, 0x00, 0x02, 0x01, // AGGREGATOR 65001 192.0.2.1
  0xc0, 0x08, 0x0c, //                      COMMUNITIES, 3
  0xfd, 0xe9, 0x00, 0x64, //                  65001:100
  0xff, 0xff, 0xff, 0x01, //                  NO_EXPORT
  0xff, 0xff, 0x02, 0x9a, //                  BLACKHOLE (RFC 7999)
  0x80, 0x09, 0x04, 0xc0, 0x00, 0x02, 0x02, // ORIGINATOR_ID 192.0.2.2
  0x80, 0x0a, 0x08, 0xc0, 0x00, 0x02, 0x03, 0xc0, 0x00, 0x02, 0x04, // CLUSTER_LIST 192.0.2.3 192.0.2.4
  0xc0, 0x10, 0x08, 0x00, 0x02, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x64, // EXTENDED_COMMUNITIES rt 65001:100
  0xc0, 0x20, 0x0c, //                      LARGE_COMMUNITY, 1
  0xfa, 0x56, 0xea, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // 4200000001:1:2
  0xc0, 0xfe, 0x02, 0xbe, 0xef, //          unknown optional transitive type 254
  0x18, 0xcb, 0x00, 0x71, //                NLRI 203.0.113.0/24
  0x10, 0x0a, 0x01, //                      NLRI 10.1.0.0/16
  0x20, 0xc0, 0x00, 0x02, 0x63, //          NLRI 192.0.2.99/32
]);

// IPv6 via MP_REACH_NLRI with a global + link-local next hop (RFC 4760 §3, RFC 2545 §3).
export const UPDATE_IPV6_REACH = message(UPDATE, [
  0x00, 0x00, //                            no withdrawn routes
  0x00, 0x46, //                            total path attribute length 70
  0x90, 0x0e, 0x00, 0x35, //                MP_REACH_NLRI, extended length, 53 octets
  0x00, 0x02, 0x01, //                        AFI 2 / SAFI 1
  0x20, //                                    next hop length 32
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //  2001:db8::1
  0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //        fe80::1
  0x00, //                                    reserved
  0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, //  2001:db8:1::/48
  0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x03, // 2001:db8:2:3::/64
  0x40, 0x01, 0x01, 0x00, //                ORIGIN IGP
  0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9, // AS_PATH 65001
]);

export const UPDATE_IPV6_UNREACH = message(UPDATE, [
  0x00, 0x00, //                            no withdrawn routes
  0x00, 0x0d, //                            total path attribute length 13
  0x80, 0x0f, 0x0a, //                      MP_UNREACH_NLRI, 10 octets
  0x00, 0x02, 0x01, //                        AFI 2 / SAFI 1
  0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, //  2001:db8:1::/48
]);

// 2-octet AS session: AS_TRANS in AS_PATH/AGGREGATOR, the truth in AS4_PATH/AS4_AGGREGATOR
// (RFC 6793 §4.2.2); confederation and set segments.
export const UPDATE_AS2 = message(UPDATE, [
  0x00, 0x00, //                            no withdrawn routes
  0x00, 0x3d, //                            total path attribute length 61
  0x40, 0x01, 0x01, 0x02, //                ORIGIN INCOMPLETE
  0x40, 0x02, 0x0e, //                      AS_PATH, 14 octets, 2-octet ASNs
  0x03, 0x01, 0xfd, 0xe8, //                  AS_CONFED_SEQUENCE (65000)
  0x02, 0x02, 0x5b, 0xa0, 0xfd, 0xe9, //      AS_SEQUENCE 23456 65001
  0x01, 0x01, 0xfd, 0xea, //                  AS_SET {65002}
  0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01, // NEXT_HOP 192.0.2.1
  0xc0, 0x07, 0x06, 0x5b, 0xa0, 0xc0, 0x00, 0x02, 0x01, // AGGREGATOR AS_TRANS 192.0.2.1
  0xc0, 0x11, 0x0a, 0x02, 0x02, 0xfa, 0x56, 0xea, 0x01, 0x00, 0x00, 0xfd, 0xe9, // AS4_PATH 4200000001 65001
  0xc0, 0x12, 0x08, 0xfa, 0x56, 0xea, 0x01, 0xc0, 0x00, 0x02, 0x01, // AS4_AGGREGATOR 4200000001 192.0.2.1
  0x18, 0xc6, 0x33, 0x64, //                NLRI 198.51.100.0/24
]);

// RFC 8950: IPv4 NLRI with an IPv6 next hop in MP_REACH_NLRI (needs the capability in ctx).
export const UPDATE_IPV4_V6NH = message(UPDATE, [
  0x00, 0x00, //                            no withdrawn routes
  0x00, 0x24, //                            total path attribute length 36
  0x90, 0x0e, 0x00, 0x19, //                MP_REACH_NLRI, 25 octets
  0x00, 0x01, 0x01, //                        AFI 1 / SAFI 1
  0x10, //                                    next hop length 16
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //  2001:db8::1
  0x00, //                                    reserved
  0x18, 0xc6, 0x33, 0x64, //                  198.51.100.0/24
  0x40, 0x01, 0x01, 0x00, //                ORIGIN IGP
  0x40, 0x02, 0x00, //                      AS_PATH empty (iBGP)
]);

// RFC 7911: ADD-PATH on IPv4 unicast: a path identifier before every prefix.
export const UPDATE_ADD_PATH = message(UPDATE, [
  0x00, 0x08, //                            withdrawn routes length 8
  0x00, 0x00, 0x00, 0x07, 0x18, 0xc6, 0x33, 0x64, // path 7: 198.51.100.0/24
  0x00, 0x0e, //                            total path attribute length 14
  0x40, 0x01, 0x01, 0x00, //                ORIGIN IGP
  0x40, 0x02, 0x00, //                      AS_PATH empty
  0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01, // NEXT_HOP 192.0.2.1
  0x00, 0x00, 0x00, 0x01, 0x18, 0xcb, 0x00, 0x71, // path 1: 203.0.113.0/24
  0x00, 0x00, 0x00, 0x02, 0x18, 0xcb, 0x00, 0x71, // path 2: 203.0.113.0/24
]);

// RFC 4724 §2 End-of-RIB markers.
export const EOR_IPV4 = message(UPDATE, [0x00, 0x00, 0x00, 0x00]);
export const EOR_IPV6 = message(UPDATE, [
  0x00, 0x00, //                            no withdrawn routes
  0x00, 0x06, //                            total path attribute length 6
  0x80, 0x0f, 0x03, 0x00, 0x02, 0x01, //    MP_UNREACH_NLRI AFI 2 / SAFI 1, no NLRI
]);
