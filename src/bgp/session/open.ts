// OPEN for one session: the capabilities we announce from the peer configuration, the checks on
// the peer's OPEN (RFC 4271 §6.2, RFC 6286, RFC 6793, RFC 5492) and what the pair negotiates.
// Pure: no sockets, no timers.
import {
  AS_TRANS,
  type BgpError,
  bgpError,
  type Capability,
  ErrCode,
  familyKey,
  GR_FORWARDING,
  GR_NOTIFICATION,
  GR_RESTART,
  IPV4_UNICAST,
  makeOpen,
  negotiate,
  type OpenMessage,
  openAs,
  openCapabilities,
  OpenSubcode,
  OPT_PARAM_CAPABILITIES,
  parseDotted,
  type WireContext,
} from '../wire/index.js';
import type { ResolvedPeerConfig } from './config.js';

const ADD_PATH_CODE = { receive: 1, send: 2, both: 3 } as const;

/** Our OPEN. `restarting` sets the graceful-restart R bit (RFC 4724 §3). */
export function buildLocalOpen(cfg: ResolvedPeerConfig, restarting: boolean): OpenMessage {
  const caps: Capability[] = [];
  for (const f of cfg.families) caps.push({ kind: 'multiprotocol', afi: f >> 8, safi: f & 255 });
  if (cfg.routeRefresh) caps.push({ kind: 'route-refresh' });
  if (cfg.enhancedRouteRefresh) caps.push({ kind: 'enhanced-route-refresh' });
  if (cfg.extendedMessage) caps.push({ kind: 'extended-message' });
  if (cfg.extendedNextHop && cfg.families.includes(IPV4_UNICAST)) caps.push({ kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  const gr = cfg.gracefulRestart;
  const fwd = (f: number): number => (gr !== null && (gr.forwarding === true || (Array.isArray(gr.forwarding) && gr.forwarding.includes(f))) ? GR_FORWARDING : 0);
  if (gr) {
    caps.push({
      kind: 'graceful-restart',
      restartFlags: (restarting || gr.restarting ? GR_RESTART : 0) | (gr.notification ? GR_NOTIFICATION : 0),
      restartTime: gr.restartTime,
      families: cfg.families.map((f) => ({ afi: f >> 8, safi: f & 255, flags: fwd(f) })),
    });
  }
  if (cfg.as4) caps.push({ kind: 'as4', as: cfg.localAs });
  if (cfg.addPath) {
    const sr = ADD_PATH_CODE[cfg.addPath];
    caps.push({ kind: 'add-path', families: cfg.families.map((f) => ({ afi: f >> 8, safi: f & 255, sendReceive: sr })) });
  }
  if (cfg.llgrStaleTime !== null && gr) {
    const staleTime = Math.min(cfg.llgrStaleTime, 0xffffff);
    caps.push({ kind: 'llgr', families: cfg.families.map((f) => ({ afi: f >> 8, safi: f & 255, flags: fwd(f), staleTime })) });
  }
  return makeOpen({ as: cfg.localAs, holdTime: cfg.holdTime, bgpId: cfg.routerId, capabilities: caps });
}

const openError = (subcode: number, message: string, data?: Uint8Array): BgpError => bgpError(ErrCode.OPEN_MESSAGE, subcode, 'session-reset', message, data);

/** The peer's AS as this session sees it: the 4-octet capability's only when we speak RFC 6793 too. */
export function remoteAs(cfg: ResolvedPeerConfig, remote: OpenMessage): number {
  return cfg.as4 ? openAs(remote) : remote.myAs;
}

/** RFC 4271 §6.2 checks, with the NOTIFICATION the session must send; null when acceptable. */
export function checkRemoteOpen(cfg: ResolvedPeerConfig, remote: OpenMessage): BgpError | null {
  // Version is checked by the decoder (2/1 with the version we support as data).
  for (const p of remote.params) {
    if (p.type !== OPT_PARAM_CAPABILITIES) return openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unsupported optional parameter ${p.type}`);
  }
  const as = remoteAs(cfg, remote);
  // RFC 6793 §4.1: with the capability, My Autonomous System carries AS_TRANS for a 4-octet AS
  // and the real AS otherwise; a speaker saying AS_TRANS without the capability cannot be matched.
  if (cfg.peerAs !== 0 && as !== cfg.peerAs) {
    const data = new Uint8Array([remote.myAs >> 8, remote.myAs & 255]);
    return openError(OpenSubcode.BAD_PEER_AS, `peer AS ${as}${remote.myAs === AS_TRANS && as === AS_TRANS ? ' (AS_TRANS without the 4-octet AS capability)' : ''}, configured ${cfg.peerAs}`, data);
  }
  if (remote.holdTime === 1 || remote.holdTime === 2) return openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${remote.holdTime} s (RFC 4271 §4.2: 0 or at least 3)`);
  const id = parseDotted(remote.bgpId);
  if (id <= 0) return openError(OpenSubcode.BAD_BGP_IDENTIFIER, `BGP Identifier ${remote.bgpId}`);
  // RFC 6286 §2.2: the Identifier must differ from ours within one AS; between ASes equal ones
  // are allowed and collisions are then resolved by AS number (§2.3).
  if (as === cfg.localAs && id === parseDotted(cfg.routerId)) return openError(OpenSubcode.BAD_BGP_IDENTIFIER, `internal peer uses our BGP Identifier ${remote.bgpId}`);
  return null;
}

export interface Negotiated {
  peerAs: number;
  remoteRouterId: number;
  ibgp: boolean;
  /** Seconds; 0 = no hold timer and no keepalives (RFC 4271 §4.2). */
  holdTime: number;
  keepaliveTime: number;
  receiveCtx: WireContext;
  sendCtx: WireContext;
  families: number[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** Both sides announced graceful restart (RFC 4724): we are the peer's helper and it is ours. */
  gracefulRestart: { peerRestartTimeSec: number; peerPreservedFamilies: number[]; peerRestarting: boolean } | null;
  /** RFC 8538 §2: both sides set the N bit, so NOTIFICATIONs other than Hard Reset keep routes too. */
  notificationGr: boolean;
  /** The capabilities each side announced, for `show neighbor`. */
  localCapabilities: Capability[];
  remoteCapabilities: Capability[];
}

export function negotiateOpen(cfg: ResolvedPeerConfig, local: OpenMessage, remote: OpenMessage): Negotiated {
  const lc = openCapabilities(local);
  const rc = openCapabilities(remote);
  const { receive, send } = negotiate(local, remote);
  const holdTime = Math.min(local.holdTime, remote.holdTime);
  // RFC 4271 §10: one third of the hold time unless configured; never more than the hold time.
  const keepaliveTime = holdTime === 0 ? 0 : cfg.keepaliveTime > 0 ? Math.min(cfg.keepaliveTime, holdTime) : Math.max(1, Math.floor(holdTime / 3));
  const mp = (caps: Capability[]): Set<number> => new Set(caps.flatMap((c) => (c.kind === 'multiprotocol' ? [familyKey(c.afi, c.safi)] : [])));
  const lf = mp(lc);
  let rf = mp(rc);
  // RFC 4760 §8: a speaker without the multiprotocol capability speaks IPv4 unicast only.
  if (rf.size === 0) rf = new Set([IPV4_UNICAST]);
  if (lf.size === 0) lf.add(IPV4_UNICAST);
  const families = [...lf].filter((f) => rf.has(f));
  const lgr = lc.find((c) => c.kind === 'graceful-restart');
  const rgr = rc.find((c) => c.kind === 'graceful-restart');
  const gracefulRestart =
    lgr && rgr
      ? {
          peerRestartTimeSec: rgr.restartTime,
          peerPreservedFamilies: rgr.families.filter((f) => (f.flags & GR_FORWARDING) !== 0).map((f) => familyKey(f.afi, f.safi)).filter((k) => families.includes(k)),
          peerRestarting: (rgr.restartFlags & GR_RESTART) !== 0,
        }
      : null;
  const both = (kind: Capability['kind']): boolean => lc.some((c) => c.kind === kind) && rc.some((c) => c.kind === kind);
  const peerAs = remoteAs(cfg, remote);
  return {
    peerAs,
    remoteRouterId: parseDotted(remote.bgpId) >>> 0,
    ibgp: peerAs === cfg.localAs,
    holdTime,
    keepaliveTime,
    receiveCtx: receive,
    sendCtx: send,
    families,
    routeRefresh: lc.some((c) => c.kind === 'route-refresh') && rc.some((c) => c.kind === 'route-refresh' || c.kind === 'route-refresh-old'),
    enhancedRouteRefresh: both('enhanced-route-refresh'),
    gracefulRestart,
    notificationGr: !!(lgr && rgr && lgr.restartFlags & GR_NOTIFICATION && rgr.restartFlags & GR_NOTIFICATION),
    localCapabilities: lc,
    remoteCapabilities: rc,
  };
}
