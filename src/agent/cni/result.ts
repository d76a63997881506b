// The CNI result of ADD (SPEC §"Success" / §"ADD Success"): interfaces, ips, routes, dns,
// merged after a previous plugin's result in a chain, and written in the configuration's
// cniVersion. Pure.
import { parseCidr } from '../../net/ip.js';
import type { Dns } from './config.js';

export interface ResultInterface {
  name: string;
  mac?: string;
  /** CNI 1.1.0 §"Result": only written for 1.1.0. */
  mtu?: number;
  sandbox?: string;
  [k: string]: unknown;
}

export interface ResultIp {
  address: string;
  gateway?: string;
  interface?: number;
  [k: string]: unknown;
}

export interface ResultRoute {
  dst: string;
  gw?: string;
  [k: string]: unknown;
}

/** The version-neutral form: ips carry no `version` field (added back for 0.3.x/0.4.0). */
export interface CniResult {
  interfaces: ResultInterface[];
  ips: ResultIp[];
  routes: ResultRoute[];
  dns: Dns;
}

export type PrevParsed = { ok: true; value: CniResult } | { ok: false; error: string };

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A previous plugin's result of any supported version, checked enough to merge safely. */
export function parsePrevResult(raw: unknown): PrevParsed {
  if (!isObj(raw)) return { ok: false, error: 'prevResult must be an object' };
  const out: CniResult = { interfaces: [], ips: [], routes: [], dns: {} };
  if (raw.interfaces !== undefined) {
    if (!Array.isArray(raw.interfaces)) return { ok: false, error: 'prevResult.interfaces must be a list' };
    for (const [i, x] of raw.interfaces.entries()) {
      if (!isObj(x) || typeof x.name !== 'string') return { ok: false, error: `prevResult.interfaces[${i}] needs a "name"` };
      out.interfaces.push({ ...x, name: x.name });
    }
  }
  if (raw.ips !== undefined) {
    if (!Array.isArray(raw.ips)) return { ok: false, error: 'prevResult.ips must be a list' };
    for (const [i, x] of raw.ips.entries()) {
      if (!isObj(x) || typeof x.address !== 'string') return { ok: false, error: `prevResult.ips[${i}] needs an "address"` };
      if (x.interface !== undefined && (typeof x.interface !== 'number' || x.interface < 0 || x.interface >= out.interfaces.length)) {
        return { ok: false, error: `prevResult.ips[${i}].interface is not an index into interfaces` };
      }
      const { version: _v, ...rest } = x;
      out.ips.push({ ...rest, address: x.address });
    }
  }
  if (raw.routes !== undefined) {
    if (!Array.isArray(raw.routes)) return { ok: false, error: 'prevResult.routes must be a list' };
    for (const [i, x] of raw.routes.entries()) {
      if (!isObj(x) || typeof x.dst !== 'string') return { ok: false, error: `prevResult.routes[${i}] needs a "dst"` };
      out.routes.push({ ...x, dst: x.dst });
    }
  }
  if (isObj(raw.dns)) out.dns = raw.dns as Dns;
  return { ok: true, value: out };
}

export interface AddOutcome {
  hostIface: string;
  hostMac: string;
  podIface: string;
  podMac: string;
  sandbox: string;
  mtu: number;
  /** `10.244.1.5/32`. */
  ipv4?: string;
  /** `fd00::5/128`. */
  ipv6?: string;
  gateway4: string;
  gateway6: string;
  dns?: Dns;
}

const union = (a: string[] | undefined, b: string[] | undefined): string[] | undefined => {
  const all = [...(a ?? []), ...(b ?? [])];
  return all.length ? [...new Set(all)] : undefined;
};

function mergeDns(prev: Dns, mine: Dns | undefined): Dns {
  const out: Dns = {};
  const ns = union(prev.nameservers, mine?.nameservers);
  const search = union(prev.search, mine?.search);
  const options = union(prev.options, mine?.options);
  const domain = prev.domain ?? mine?.domain;
  if (ns) out.nameservers = ns;
  if (domain) out.domain = domain;
  if (search) out.search = search;
  if (options) out.options = options;
  return out;
}

/**
 * ADD's result: the host veth and the pod's interface appended after the previous result's
 * interfaces, our addresses pointing at the pod's interface by index, default routes per
 * family (the gateway is in ips; routes without `gw` use it, SPEC §"Result").
 */
export function buildAddResult(o: AddOutcome, prev?: CniResult): CniResult {
  const base: CniResult = prev ? structuredClone(prev) : { interfaces: [], ips: [], routes: [], dns: {} };
  const hostIdx = base.interfaces.length;
  base.interfaces.push({ name: o.hostIface, mac: o.hostMac, mtu: o.mtu });
  base.interfaces.push({ name: o.podIface, mac: o.podMac, mtu: o.mtu, sandbox: o.sandbox });
  const podIdx = hostIdx + 1;
  if (o.ipv4) {
    base.ips.push({ address: o.ipv4, gateway: o.gateway4, interface: podIdx });
    if (!base.routes.some((r) => r.dst === '0.0.0.0/0')) base.routes.push({ dst: '0.0.0.0/0' });
  }
  if (o.ipv6) {
    base.ips.push({ address: o.ipv6, gateway: o.gateway6, interface: podIdx });
    if (!base.routes.some((r) => r.dst === '::/0')) base.routes.push({ dst: '::/0' });
  }
  base.dns = mergeDns(base.dns, o.dns);
  return base;
}

const familyOf = (address: string): '4' | '6' => (parseCidr(address, { strict: false }).family === 4 ? '4' : '6');

/**
 * The result as JSON in the requested version: 0.3.x and 0.4.0 give each ip a `version`
 * ("4"/"6"); 1.0.0 dropped it; `mtu` on interfaces is new in 1.1.0.
 */
export function encodeResult(r: CniResult, cniVersion: string): string {
  const legacy = cniVersion.startsWith('0.');
  const v11 = cniVersion === '1.1.0';
  const doc: Record<string, unknown> = {
    cniVersion,
    interfaces: r.interfaces.map((i) => {
      if (v11 || i.mtu === undefined) return i;
      const { mtu: _m, ...rest } = i;
      return rest;
    }),
    ips: r.ips.map((ip) => (legacy ? { version: familyOf(ip.address), ...ip } : ip)),
    routes: r.routes,
    dns: r.dns,
  };
  return JSON.stringify(doc);
}
