// Text codecs for iproute2, the route manager's only way into the kernel: `ip -batch` command
// lines out, `ip -N -j route show` dumps, `ip -N monitor` events and `ip -batch` error reports
// in. Pure: no processes, no timers.
//
// Everything is numeric on purpose (`proto 44`, `table 254`, `scope 253`, and `ip -N` when
// reading). iproute2's name lookups (rtnl_rtprot_a2n and friends) keep a one-entry cache that
// survives between lines of one `ip -batch` process; when a name and a number are mixed, a
// later line's name can resolve to an earlier line's number (seen with iproute2 6.1: `proto
// static` installed as `proto 44`). Names in rt_protos are also local configuration: an admin
// naming 44 would change what `ip` prints.
import type { Family } from '../../net/ip.js';
import {
  RouteType,
  SCOPE_LINK,
  TERN_ROUTE_PROTOCOL,
  MAIN_TABLE,
  sortNexthops,
  type KernelRoute,
  type Nexthop,
  type NormalRoute,
} from './model.js';

export type RouteOp =
  /** The key is free in the kernel: `ip route add` fails rather than overwrite a route that appeared meanwhile. */
  | { op: 'add'; route: NormalRoute }
  /** The key holds a Tern route that differs: replaced in place, one netlink message, no gap in forwarding. */
  | { op: 'replace'; route: NormalRoute }
  | { op: 'delete'; route: KernelRoute };

function nexthopWords(nh: Nexthop): string[] {
  return ['via', nh.via, ...(nh.dev ? ['dev', nh.dev] : []), ...(nh.onlink ? ['onlink'] : [])];
}

function routeWords(r: NormalRoute): string[] {
  const own = ['proto', String(TERN_ROUTE_PROTOCOL), 'table', String(r.table), 'metric', String(r.metric)];
  switch (r.kind) {
    case 'blackhole':
      return ['blackhole', r.dst, ...own];
    case 'local':
      // IPv6 has no route scopes; IPv4 needs `scope link` for a gatewayless pod route.
      return [r.dst, 'dev', r.dev!, ...(r.family === 4 ? ['scope', String(SCOPE_LINK)] : []), ...own];
    case 'via':
      if (r.nexthops.length === 1) return [r.dst, ...nexthopWords(r.nexthops[0]!), ...own];
      return [r.dst, ...own, ...r.nexthops.flatMap((nh) => ['nexthop', ...nexthopWords(nh), 'weight', String(nh.weight)])];
  }
}

/** One `ip -batch` line (without `ip` and without the newline). */
export function encodeOp(op: RouteOp): string {
  switch (op.op) {
    case 'add':
    case 'replace':
      return ['route', op.op, ...routeWords(op.route)].join(' ');
    case 'delete': {
      // The protocol makes the kernel match only Tern's route at this key (fib_table_delete
      // and ip6_route_del both compare it), so a foreign route on the same prefix survives.
      // No type word: iproute2 sends RTN_UNSPEC on delete, which matches any type.
      const r = op.route;
      return ['route', 'del', r.dst, 'proto', String(TERN_ROUTE_PROTOCOL), 'table', String(r.table), 'metric', String(r.metric)].join(' ');
    }
    default: {
      const never: never = op;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// `ip -N -j route show` dumps

interface JsonNexthop {
  gateway?: string;
  dev?: string;
  weight?: number;
  flags?: string[];
}
interface JsonRoute extends JsonNexthop {
  type?: string;
  dst?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  nexthops?: JsonNexthop[];
  via?: unknown;
}

export interface DumpResult {
  routes: KernelRoute[];
  /** Entries that could not be understood; they are reported, never acted on. */
  errors: string[];
}

function fullDst(dst: string | undefined, family: Family): string | undefined {
  if (dst === undefined) return undefined;
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  return dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

const num = (s: string | number | undefined, dflt: number): number => {
  if (s === undefined) return dflt;
  const n = typeof s === 'number' ? s : Number(s);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
};

function classify(
  type: number,
  gateway: string | undefined,
  dev: string | undefined,
  nexthops: Nexthop[],
  crossFamily: boolean,
): KernelRoute['kind'] {
  if (type === RouteType.BLACKHOLE) return 'blackhole';
  if (type !== RouteType.UNICAST || crossFamily) return 'other';
  if (nexthops.length > 0) return 'via';
  if (gateway === undefined && dev !== undefined) return 'local';
  return 'other';
}

/** Parses `ip -N -j -4|-6 route show ...`. Every route of every protocol is returned. */
export function parseRouteDump(text: string, family: Family): DumpResult {
  const out: DumpResult = { routes: [], errors: [] };
  const trimmed = text.trim();
  if (trimmed === '') return out;
  let arr: unknown;
  try {
    arr = JSON.parse(trimmed);
  } catch (e) {
    out.errors.push(`route dump is not JSON: ${(e as Error).message}`);
    return out;
  }
  if (!Array.isArray(arr)) {
    out.errors.push('route dump is not a JSON array');
    return out;
  }
  for (const raw of arr as JsonRoute[]) {
    const dst = fullDst(raw.dst, family);
    const type = num(raw.type, RouteType.UNICAST);
    const table = num(raw.table, MAIN_TABLE);
    const protocol = num(raw.protocol, 0);
    const scope = num(raw.scope, 0);
    const metric = num(raw.metric, 0);
    if (dst === undefined || [type, table, protocol, scope, metric].some(Number.isNaN)) {
      out.errors.push(`unparsable route ${JSON.stringify(raw)}`);
      continue;
    }
    const onlink = (f: string[] | undefined) => f?.includes('onlink') ?? false;
    let nexthops: Nexthop[] = [];
    let crossFamily = raw.via !== undefined;
    if (raw.nexthops) {
      for (const nh of raw.nexthops) {
        if (nh.gateway === undefined) crossFamily = true;
        else nexthops.push({ via: nh.gateway, dev: nh.dev, weight: nh.weight ?? 1, onlink: onlink(nh.flags) });
      }
      nexthops = sortNexthops(nexthops);
    } else if (raw.gateway !== undefined) {
      nexthops = [{ via: raw.gateway, dev: raw.dev, weight: 1, onlink: onlink(raw.flags) }];
    }
    out.routes.push({
      family,
      dst,
      table,
      metric,
      protocol,
      type,
      scope,
      kind: classify(type, raw.gateway, raw.dev, nexthops, crossFamily),
      dev: raw.dev,
      nexthops,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// `ip -N monitor route link` events (iproute2 6.1 prints monitor events as text even with -j)

export type MonitorEvent =
  | { kind: 'route'; deleted: boolean; route: KernelRoute }
  | { kind: 'link'; deleted: boolean; ifname: string }
  | { kind: 'unknown'; line: string };

const LINK_RE = /^(Deleted )?\d+: ([^:@\s]+)[@:]/;

function parseRouteLine(tokens: string[]): { deleted: boolean; route: KernelRoute } | undefined {
  let i = 0;
  const deleted = tokens[0] === 'Deleted';
  if (deleted) i++;
  let type: number = RouteType.UNICAST;
  if (/^\d+$/.test(tokens[i] ?? '')) type = Number(tokens[i++]);
  const rawDst = tokens[i++];
  if (rawDst === undefined) return undefined;
  const family: Family = rawDst.includes(':') ? 6 : 4;
  const dst = fullDst(rawDst, family)!;
  let gateway: string | undefined;
  let dev: string | undefined;
  let table = MAIN_TABLE;
  let protocol = 0;
  let scope = 0;
  let metric = 0;
  let onlink = false;
  let crossFamily = false;
  while (i < tokens.length) {
    const w = tokens[i++]!;
    const v = tokens[i];
    switch (w) {
      case 'via':
        // `via inet6 fe80::1` is an IPv4 route through an IPv6 gateway (RFC 5549): not ours.
        if (v === 'inet' || v === 'inet6') { crossFamily = true; i++; }
        gateway = tokens[i++];
        break;
      case 'dev': dev = v; i++; break;
      case 'table': table = Number(v); i++; break;
      case 'proto': protocol = Number(v); i++; break;
      case 'scope': scope = Number(v); i++; break;
      case 'metric': metric = Number(v); i++; break;
      case 'onlink': onlink = true; break;
      case 'src': case 'pref': case 'expires': case 'mtu': case 'advmss': case 'hoplimit': case 'realm': case 'from': case 'tos': case 'dsfield':
        i++;
        break;
      default:
        break; // flags such as linkdown, dead, offload
    }
  }
  if ([table, protocol, scope, metric].some((n) => !Number.isInteger(n))) return undefined;
  const nexthops: Nexthop[] = gateway !== undefined ? [{ via: gateway, dev, weight: 1, onlink }] : [];
  const route: KernelRoute = { family, dst, table, metric, protocol, type, scope, kind: 'other', dev, nexthops };
  route.kind = classify(type, gateway, dev, nexthops, crossFamily);
  return { deleted, route };
}

function parseNexthopLine(tokens: string[]): Nexthop | undefined {
  if (tokens[0] !== 'nexthop') return undefined;
  let via: string | undefined;
  let dev: string | undefined;
  let weight = 1;
  let onlink = false;
  for (let i = 1; i < tokens.length; i++) {
    const w = tokens[i];
    if (w === 'via') via = tokens[++i];
    else if (w === 'dev') dev = tokens[++i];
    else if (w === 'weight') weight = Number(tokens[++i]);
    else if (w === 'onlink') onlink = true;
  }
  return via === undefined ? undefined : { via, dev, weight, onlink };
}

/**
 * Incremental parser for `ip -N monitor route link`. A multipath route spans several lines
 * (`\tnexthop via ...`), so a route event is complete only at the next event line or at
 * flush(); ip flushes its output after each netlink message, so the caller flushes once a
 * read chunk has been consumed.
 */
export class MonitorParser {
  private partial = '';
  private pending: { deleted: boolean; route: KernelRoute; nexthops: Nexthop[] } | undefined;

  push(chunk: string): MonitorEvent[] {
    const out: MonitorEvent[] = [];
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line, out);
    return out;
  }

  /** Completes the event whose continuation lines may still be missing. */
  flush(): MonitorEvent[] {
    const out: MonitorEvent[] = [];
    if (this.partial !== '') {
      const p = this.partial;
      this.partial = '';
      this.line(p, out);
    }
    this.finish(out);
    return out;
  }

  private finish(out: MonitorEvent[]): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (p.nexthops.length > 0) {
      const nexthops = sortNexthops(p.nexthops);
      const multipathOk = p.route.type === RouteType.UNICAST;
      out.push({ kind: 'route', deleted: p.deleted, route: { ...p.route, nexthops, kind: multipathOk ? 'via' : 'other' } });
    } else {
      out.push({ kind: 'route', deleted: p.deleted, route: p.route });
    }
  }

  private line(line: string, out: MonitorEvent[]): void {
    if (line.trim() === '') return;
    if (/^\s/.test(line)) {
      // Continuation: a next hop of the pending route, or a link's address line.
      const nh = parseNexthopLine(line.trim().split(/\s+/));
      if (nh && this.pending) this.pending.nexthops.push(nh);
      return;
    }
    this.finish(out);
    const link = LINK_RE.exec(line);
    if (link) {
      out.push({ kind: 'link', deleted: link[1] !== undefined, ifname: link[2]! });
      return;
    }
    const r = parseRouteLine(line.trim().split(/\s+/));
    if (r) this.pending = { ...r, nexthops: [] };
    else out.push({ kind: 'unknown', line });
  }
}

// ---------------------------------------------------------------------------------------------
// `ip -force -batch -` error reports

export interface BatchLineError {
  /** 1-based line number within the ip process's input. */
  line: number;
  /** What ip printed before `Command failed` for that line. */
  message: string;
}

/**
 * Incremental parser for the stderr of `ip -force -batch`: every failing line prints its
 * reason(s), then `Command failed <file>:<line>`. Chunks may split lines anywhere.
 */
export class BatchStderrParser {
  private partial = '';
  private messages: string[] = [];

  push(chunk: string): BatchLineError[] {
    const out: BatchLineError[] = [];
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const m = /^Command failed .*:(\d+)\s*$/.exec(l);
      if (m) {
        out.push({ line: Number(m[1]), message: this.messages.join('; ') || 'failed' });
        this.messages = [];
      } else if (l.trim() !== '') {
        this.messages.push(l.trim());
      }
    }
    return out;
  }
}

/** Errno-like class of an ip error message, for deciding what a failure means. */
export function classifyError(message: string): 'exists' | 'no-such-route' | 'no-device' | 'unreachable-gateway' | 'other' {
  if (/File exists/.test(message)) return 'exists';
  if (/No such process/.test(message)) return 'no-such-route';
  if (/Cannot find device|No such device/.test(message)) return 'no-device';
  if (/invalid gateway|Network is unreachable|No route to host/i.test(message)) return 'unreachable-gateway';
  return 'other';
}
