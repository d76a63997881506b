// The contract between a BGP session (src/bgp/session: FSM, TCP, timers) and the routing table
// (src/bgp/rib: Adj-RIB-In, Loc-RIB, best path, Adj-RIB-Out). Sessions know bytes and time; the
// RIB knows paths. Neither imports the other: the speaker (src/bgp/speaker) wires them.
import type { UpdateScan, WireContext } from './wire/index.js';

/** What the RIB needs to know about an Established session. */
export interface PeerDescriptor {
  /** Small integer, unique within one speaker for the life of the process. */
  readonly id: number;
  readonly address: string;
  readonly peerAs: number;
  readonly localAs: number;
  /** BGP Identifiers as unsigned 32-bit numbers (from the OPENs). */
  readonly remoteRouterId: number;
  readonly localRouterId: number;
  /** The local address of the TCP connection (used for next-hop-self). */
  readonly localAddress: string;
  /**
   * RFC 2545 §3: the link-local (fe80::/10) address of the interface that holds `localAddress`,
   * when the peer's address is inside one of that interface's prefixes (a directly connected
   * IPv6 session). Absent otherwise; with it, our own IPv6 next hops go out as 32 octets.
   */
  readonly localLinkLocal?: string;
  readonly ibgp: boolean;
  /** RFC 4456: this peer is a route-reflector client of ours. */
  readonly routeReflectorClient: boolean;
  /** Negotiated per direction: decode with receiveCtx, encode with sendCtx. */
  readonly receiveCtx: WireContext;
  readonly sendCtx: WireContext;
  /** familyKey(afi, safi) of every family negotiated (multiprotocol capability on both sides). */
  readonly families: readonly number[];
  /** RFC 4724: the peer will keep our routes across our restart / we keep its routes across its. */
  readonly gracefulRestart: { readonly peerRestartTimeSec: number; readonly peerPreservedFamilies: readonly number[] } | null;
  /** Names of policies (resolved by the RIB's policy table); empty = defaults. */
  readonly importPolicies: readonly string[];
  readonly exportPolicies: readonly string[];
  /** Max-prefix limit on accepted prefixes; 0 = none. */
  readonly maxPrefixes: number;
}

/** What a session calls on the RIB. All calls come from the speaker's one event loop, in order. */
export interface RibPort {
  /**
   * The session reached Established. `wake` is called by the RIB whenever it has output queued for
   * this peer; the session then pulls with drainOut when its socket can take more.
   */
  peerUp(peer: PeerDescriptor, wake: () => void): void;
  /**
   * The session left Established. With keepStale (graceful restart helper, RFC 4724 §4.2) the
   * peer's routes stay, marked stale, until its End-of-RIB or staleTimeMs; otherwise they are
   * withdrawn at once.
   */
  peerDown(peerId: number, opts: { keepStale: boolean; staleTimeMs: number }): void;
  /**
   * One received UPDATE, already scanned. The scan and its buffer are valid only during the call:
   * the RIB copies what it keeps. Returns a max-prefix violation, if any, so the session can send
   * Cease subcode 1.
   */
  update(peerId: number, scan: UpdateScan): { maxPrefixExceeded: boolean };
  /** End-of-RIB received for a family: stale routes of this peer in it are swept. */
  endOfRib(peerId: number, family: number): void;
  /**
   * ROUTE-REFRESH received: re-send this peer's whole Adj-RIB-Out for the family. `enhanced`
   * (RFC 7313 negotiated): frame it with BoRR before and EoRR after, in the drained messages.
   */
  routeRefresh(peerId: number, family: number, enhanced: boolean): void;
  /** RFC 7313 BoRR received: the peer's routes of the family are about to be sent again. */
  refreshBegin(peerId: number, family: number): void;
  /** RFC 7313 EoRR received: routes of the family not sent again since BoRR are withdrawn. */
  refreshEnd(peerId: number, family: number): void;
  /**
   * Encoded messages (UPDATEs, End-of-RIB) for this peer, up to about maxBytes. Returns an empty
   * array when nothing is queued. Messages are complete BGP messages encoded with peer.sendCtx.
   */
  drainOut(peerId: number, maxBytes: number): Uint8Array[];
}
