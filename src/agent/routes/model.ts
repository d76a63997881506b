// The route model: what the agent wants in the kernel, normalised so that a desired route and
// the route the kernel reports back compare equal exactly when no write is needed. Pure: no
// I/O, no timers.
import { formatCidr, parseCidr, parseIp, type Family } from '../../net/ip.js';

/**
 * Tern's route protocol number (`proto 44` in `ip route`). Linux's rtnetlink.h and
 * /etc/iproute2/rt_protos(.d) leave 44 unassigned (babel is 42, openr 99, FRR 186-197, Calico's
 * Felix 80). Every route Tern writes carries it; every route without it belongs to someone else
 * and is never modified or deleted.
 */
export const TERN_ROUTE_PROTOCOL = 44;
/** RT_TABLE_MAIN. */
export const MAIN_TABLE = 254;
/** RT_SCOPE_LINK: a pod's /32 is directly on its veth, no gateway. */
export const SCOPE_LINK = 253;
/** The kernel's metric when none is given: 0 for IPv4, IP6_RT_PRIO_USER (1024) for IPv6. */
export const defaultMetric = (f: Family): number => (f === 4 ? 0 : 1024);

/** Linux rtm_type values that the model distinguishes (include/uapi/linux/rtnetlink.h). */
export const RouteType = { UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5, BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8 } as const;

export interface NexthopSpec {
  /** Gateway address, same family as the destination. */
  via: string;
  /** Outgoing interface; the kernel resolves it from the gateway when absent. */
  dev?: string;
  /** 1-256; only meaningful with several next hops (ECMP). */
  weight?: number;
  /** Gateway is on-link even without a connected route to it (needs `dev`). */
  onlink?: boolean;
}

interface RouteBase {
  /** Destination prefix, e.g. `10.244.1.5/32`, `fd00:244::/122`. */
  dst: string;
  /** Routing table; main (254) by default. */
  table?: number;
  /** Route priority; the kernel's default for the family when absent. */
  metric?: number;
}

/** A pod's address on its host-side veth: `dst dev caliXXXX scope link`. */
export interface LocalRoute extends RouteBase {
  kind: 'local';
  dev: string;
}
/** An IPAM block owned by this node: traffic to unassigned addresses is dropped here. */
export interface BlackholeRoute extends RouteBase {
  kind: 'blackhole';
}
/** A block owned by other nodes: one next hop, or several equal ones (ECMP) from BGP. */
export interface ViaRoute extends RouteBase {
  kind: 'via';
  nexthops: readonly NexthopSpec[];
}
export type RouteSpec = LocalRoute | BlackholeRoute | ViaRoute;

export interface Nexthop {
  via: string;
  dev: string | undefined;
  weight: number;
  onlink: boolean;
}

/** A route in canonical form: every default filled in, next hops sorted. */
export interface NormalRoute {
  family: Family;
  /** Canonical CIDR, always with a prefix length (`10.1.0.5/32`). */
  dst: string;
  table: number;
  metric: number;
  kind: 'local' | 'blackhole' | 'via';
  /** For `local`. */
  dev: string | undefined;
  /** For `via`: one or more, sorted by gateway then device. */
  nexthops: readonly Nexthop[];
}

/** A route as the kernel reports it (any protocol). */
export interface KernelRoute {
  family: Family;
  dst: string;
  table: number;
  metric: number;
  protocol: number;
  /** rtm_type. */
  type: number;
  /** rtm_scope (IPv6 always reports 0). */
  scope: number;
  /** What the model makes of it; `other` for types Tern never writes (unreachable, local, ...). */
  kind: 'local' | 'blackhole' | 'via' | 'other';
  dev: string | undefined;
  nexthops: readonly Nexthop[];
}

/** Identity of a route in the kernel's FIB: two routes with the same key cannot both be installed by `ip route add`. */
export type RouteKey = string;
export const routeKey = (r: { table: number; dst: string; metric: number }): RouteKey => `${r.table} ${r.dst} ${r.metric}`;
/** Same destination in the same table, any metric: used to find routes that shadow each other. */
export const dstKey = (r: { table: number; dst: string }): string => `${r.table} ${r.dst}`;

export interface RouteIssue {
  field: string;
  message: string;
}
export type Normalized = { ok: true; route: NormalRoute } | { ok: false; issue: RouteIssue };

// Interface names go into `ip -batch` lines: anything beyond IFNAMSIZ-1 characters of a
// conservative alphabet is refused, so a name can never carry a second token or a new line.
const IFNAME_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;
const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

const cmpNexthop = (a: Nexthop, b: Nexthop): number =>
  a.via < b.via ? -1 : a.via > b.via ? 1 : (a.dev ?? '') < (b.dev ?? '') ? -1 : (a.dev ?? '') > (b.dev ?? '') ? 1 : 0;

export function sortNexthops(nhs: Nexthop[]): Nexthop[] {
  return nhs.sort(cmpNexthop);
}

function canonicalIp(s: string): string | undefined {
  try {
    const ip = parseIp(s);
    // Through parseCidr/formatCidr so IPv6 is RFC 5952 text, as the kernel prints it.
    return formatCidr({ family: ip.family, base: ip.value, prefixLen: ip.family === 4 ? 32 : 128 }).split('/')[0];
  } catch {
    return undefined;
  }
}

/**
 * Validates a desired route and fills in its defaults. Refuses what the kernel would refuse
 * (link-local IPv6 gateway without a device, onlink without a device) and what the manager
 * must not write (tables it does not manage are checked by the manager).
 */
export function normalizeRoute(spec: RouteSpec): Normalized {
  const bad = (field: string, message: string): Normalized => ({ ok: false, issue: { field, message } });
  let family: Family;
  let dst: string;
  try {
    const c = parseCidr(spec.dst);
    family = c.family;
    dst = formatCidr(c);
  } catch (e) {
    return bad('dst', (e as Error).message);
  }
  const table = spec.table ?? MAIN_TABLE;
  // 0 (unspec), 253 (default), 255 (local) are the kernel's own.
  if (!u32(table) || table === 0 || table === 253 || table === 255) return bad('table', `invalid or reserved table ${table}`);
  const metric = spec.metric ?? defaultMetric(family);
  if (!u32(metric)) return bad('metric', `invalid metric ${metric}`);
  const base = { family, dst, table, metric };
  switch (spec.kind) {
    case 'local':
      if (!IFNAME_RE.test(spec.dev)) return bad('dev', `invalid interface name "${spec.dev}"`);
      return { ok: true, route: { ...base, kind: 'local', dev: spec.dev, nexthops: [] } };
    case 'blackhole':
      return { ok: true, route: { ...base, kind: 'blackhole', dev: undefined, nexthops: [] } };
    case 'via': {
      if (spec.nexthops.length === 0) return bad('nexthops', 'a via route needs at least one next hop');
      const nhs: Nexthop[] = [];
      const seen = new Set<string>();
      for (const [i, nh] of spec.nexthops.entries()) {
        const via = canonicalIp(nh.via);
        if (via === undefined) return bad(`nexthops[${i}].via`, `invalid gateway "${nh.via}"`);
        if (parseIp(via).family !== family) return bad(`nexthops[${i}].via`, `gateway ${via} is not IPv${family}`);
        if (nh.dev !== undefined && !IFNAME_RE.test(nh.dev)) return bad(`nexthops[${i}].dev`, `invalid interface name "${nh.dev}"`);
        if (family === 6 && /^fe[89ab]/i.test(via) && nh.dev === undefined) {
          return bad(`nexthops[${i}].dev`, `link-local gateway ${via} needs a device`);
        }
        if (nh.onlink && nh.dev === undefined) return bad(`nexthops[${i}].dev`, 'onlink needs a device');
        const weight = spec.nexthops.length === 1 ? 1 : (nh.weight ?? 1);
        if (!Number.isInteger(weight) || weight < 1 || weight > 256) return bad(`nexthops[${i}].weight`, `weight ${weight} outside 1-256`);
        const id = `${via} ${nh.dev ?? ''}`;
        if (seen.has(id)) return bad(`nexthops[${i}]`, `duplicate next hop ${via}`);
        seen.add(id);
        nhs.push({ via, dev: nh.dev, weight, onlink: nh.onlink ?? false });
      }
      return { ok: true, route: { ...base, kind: 'via', dev: undefined, nexthops: sortNexthops(nhs) } };
    }
    default: {
      const never: never = spec;
      return bad('kind', `unknown route kind ${JSON.stringify((never as { kind: unknown }).kind)}`);
    }
  }
}

/**
 * True when the kernel route is exactly what `want` asks for, so no write is needed. A next
 * hop without a device in `want` accepts whatever device the kernel resolved.
 */
export function satisfies(want: NormalRoute, have: KernelRoute): boolean {
  if (have.protocol !== TERN_ROUTE_PROTOCOL || routeKey(want) !== routeKey(have) || want.kind !== have.kind) return false;
  switch (want.kind) {
    case 'blackhole':
      return true;
    case 'local':
      // IPv6 has no route scopes: the kernel reports 0 whatever was asked.
      return have.dev === want.dev && (want.family === 6 || have.scope === SCOPE_LINK);
    case 'via': {
      if (have.nexthops.length !== want.nexthops.length) return false;
      return want.nexthops.every((w, i) => {
        const h = have.nexthops[i]!;
        return h.via === w.via && (w.dev === undefined || h.dev === w.dev) && h.weight === w.weight && h.onlink === w.onlink;
      });
    }
  }
}

/** One line for logs and conflict reports, in `ip route` words. */
export function describeRoute(r: NormalRoute | KernelRoute): string {
  const parts: string[] = [];
  if (r.kind === 'blackhole') parts.push('blackhole');
  parts.push(r.dst);
  if (r.kind === 'local' && r.dev) parts.push('dev', r.dev);
  if (r.kind === 'via' || r.kind === 'other') {
    if (r.nexthops.length === 1) {
      const nh = r.nexthops[0]!;
      parts.push('via', nh.via);
      if (nh.dev) parts.push('dev', nh.dev);
    } else {
      for (const nh of r.nexthops) parts.push('nexthop', 'via', nh.via, ...(nh.dev ? ['dev', nh.dev] : []), 'weight', String(nh.weight));
    }
    if (r.kind === 'other' && r.dev && r.nexthops.length === 0) parts.push('dev', r.dev);
  }
  parts.push('table', String(r.table), 'metric', String(r.metric));
  if ('protocol' in r) parts.push('proto', String(r.protocol));
  return parts.join(' ');
}

/** Two kernel routes at the same key describe the same forwarding (used on monitor events). */
export function sameKernelRoute(a: KernelRoute, b: KernelRoute): boolean {
  if (a.protocol !== b.protocol || a.type !== b.type || a.kind !== b.kind || routeKey(a) !== routeKey(b)) return false;
  if (a.kind === 'local' || a.kind === 'other') {
    if (a.dev !== b.dev) return false;
    if (a.family === 4 && a.scope !== b.scope) return false;
  }
  if (a.nexthops.length !== b.nexthops.length) return false;
  return a.nexthops.every((x, i) => {
    const y = b.nexthops[i]!;
    return x.via === y.via && x.weight === y.weight && x.onlink === y.onlink && (x.dev === undefined || y.dev === undefined || x.dev === y.dev);
  });
}

/** What the kernel reports once `r` is installed (a device the kernel resolves stays undefined). */
export function asKernelRoute(r: NormalRoute): KernelRoute {
  return {
    family: r.family,
    dst: r.dst,
    table: r.table,
    metric: r.metric,
    protocol: TERN_ROUTE_PROTOCOL,
    type: r.kind === 'blackhole' ? RouteType.BLACKHOLE : RouteType.UNICAST,
    scope: r.kind === 'local' && r.family === 4 ? SCOPE_LINK : 0,
    kind: r.kind,
    dev: r.kind === 'local' ? r.dev : r.kind === 'via' && r.nexthops.length === 1 ? r.nexthops[0]!.dev : undefined,
    nexthops: r.nexthops,
  };
}
