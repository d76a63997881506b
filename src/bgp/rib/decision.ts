// The BGP decision process (RFC 4271 §9.1.2) with the usual tie-breaks, and the multipath set.
// Pure functions over candidates; the RIB builds the candidates from its path records.
import type { AttrInfo } from './attrs.js';

/**
 * Why the best path won against its closest competitor, as a closed set. The index of a reason
 * in this list is the step of the decision process that decided (0: there was no competitor).
 */
export const BEST_REASONS = [
  'only-path',
  'higher-local-pref', // RFC 4271 §9.1.1 degree of preference
  'locally-originated',
  'shorter-as-path', // §9.1.2.2 (a)
  'lower-origin', // (b)
  'lower-med', // (c)
  'ebgp-over-ibgp', // (d)
  'lower-router-id', // (f), RFC 4456 §9: ORIGINATOR_ID stands for the router id
  'shorter-cluster-list', // RFC 4456 §9
  'lower-peer-address', // (g)
  'lower-path-id', // RFC 7911: several paths from one peer
] as const;
export type BestReason = (typeof BEST_REASONS)[number];

/** The step after which multipath candidates may differ (IGP cost is not compared). */
const MULTIPATH_EQUAL_THROUGH = 6;

export interface Candidate {
  path: number;
  peerId: number;
  pathId: number;
  local: boolean;
  ibgp: boolean;
  routerId: number;
  address: bigint;
  info: AttrInfo;
}

export interface DecisionOptions {
  /** Compare MED between paths from different neighbouring ASes too (off by default, RFC 4271 §9.1.2.2 (c)). */
  alwaysCompareMed: boolean;
  /** LOCAL_PREF assumed when a path has none (eBGP-learned routes). */
  defaultLocalPref: number;
}

/**
 * Compares two paths: negative when `a` is preferred, positive when `b` is, the absolute value
 * being the deciding step (an index in BEST_REASONS). Never 0 for two distinct candidates.
 */
export function compare(a: Candidate, b: Candidate, o: DecisionOptions): number {
  const ia = a.info;
  const ib = b.info;
  const lpa = ia.localPref ?? o.defaultLocalPref;
  const lpb = ib.localPref ?? o.defaultLocalPref;
  if (lpa !== lpb) return lpa > lpb ? -1 : 1;
  if (a.local !== b.local) return a.local ? -2 : 2;
  if (ia.asPathLen !== ib.asPathLen) return ia.asPathLen < ib.asPathLen ? -3 : 3;
  if (ia.origin !== ib.origin) return ia.origin < ib.origin ? -4 : 4;
  // RFC 4271 §9.1.2.2 (c): MED only between routes from the same neighbouring AS; missing = 0.
  if (o.alwaysCompareMed || ia.neighborAs === ib.neighborAs) {
    const ma = ia.med ?? 0;
    const mb = ib.med ?? 0;
    if (ma !== mb) return ma < mb ? -5 : 5;
  }
  if (a.ibgp !== b.ibgp) return a.ibgp ? 6 : -6;
  const ra = ia.originatorId ?? a.routerId;
  const rb = ib.originatorId ?? b.routerId;
  if (ra !== rb) return ra < rb ? -7 : 7;
  if (ia.clusterIds.length !== ib.clusterIds.length) return ia.clusterIds.length < ib.clusterIds.length ? -8 : 8;
  if (a.address !== b.address) return a.address < b.address ? -9 : 9;
  if (a.pathId !== b.pathId) return a.pathId < b.pathId ? -10 : 10;
  return a.peerId <= b.peerId ? -10 : 10;
}

export interface Decision {
  /** Index into the candidates. */
  best: number;
  /** Index into BEST_REASONS. */
  reason: number;
  /** Indices of the multipath set, best first; just [best] when multipath is off. */
  multipath: number[];
}

export interface MultipathOptions {
  enabled: boolean;
  maxPaths: number;
  /** Allow paths from different neighbouring ASes in one set (as-path multipath-relax). */
  relax?: boolean;
}

/**
 * Picks the best path. Without always-compare-med the comparison is not transitive (MED counts
 * only within a neighbouring AS), so the winner is chosen per neighbouring AS first and among
 * the group winners after (deterministic MED): the result then does not depend on the order the
 * paths arrived in.
 */
export function decide(c: readonly Candidate[], o: DecisionOptions, mp: MultipathOptions): Decision {
  if (c.length === 1) return { best: 0, reason: 0, multipath: [0] };
  let best = -1;
  if (o.alwaysCompareMed) {
    best = 0;
    for (let i = 1; i < c.length; i++) if (compare(c[i]!, c[best]!, o) < 0) best = i;
  } else {
    const groups = new Map<number, number>();
    for (let i = 0; i < c.length; i++) {
      const as = c[i]!.info.neighborAs;
      const w = groups.get(as);
      if (w === undefined || compare(c[i]!, c[w]!, o) < 0) groups.set(as, i);
    }
    for (const w of groups.values()) if (best < 0 || compare(c[w]!, c[best]!, o) < 0) best = w;
  }
  const b = c[best]!;
  let reason = 0;
  for (let i = 0; i < c.length; i++) {
    if (i === best) continue;
    const s = Math.abs(compare(b, c[i]!, o));
    if (s > reason) reason = s;
  }
  const multipath = [best];
  if (mp.enabled && mp.maxPaths > 1) {
    const extra: number[] = [];
    for (let i = 0; i < c.length; i++) {
      if (i === best) continue;
      const s = Math.abs(compare(b, c[i]!, o));
      if (s > MULTIPATH_EQUAL_THROUGH && (mp.relax === true || c[i]!.info.neighborAs === b.info.neighborAs)) extra.push(i);
    }
    extra.sort((x, y) => c[x]!.peerId - c[y]!.peerId || c[x]!.pathId - c[y]!.pathId);
    for (const i of extra) {
      if (multipath.length >= mp.maxPaths) break;
      multipath.push(i);
    }
  }
  return { best, reason, multipath };
}
