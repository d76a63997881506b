// Turns stored Kubernetes-form objects (see the shared resource shapes) into the few fields
// answers need. Anything else in the object is dropped here, so the index stays small
// (CoreDNS does the same with its stripped objects). Invalid input yields a reason string.
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp, parseIp } from '../../net/ip.js';

export const SvcKind = { ClusterIP: 0, Headless: 1, ExternalName: 2 } as const;
export type SvcKind = (typeof SvcKind)[keyof typeof SvcKind];

export interface PortRec {
  readonly name: string;
  /** Lowercase: "tcp" | "udp" | "sctp", as it appears in the SRV label `_tcp`. */
  readonly proto: string;
  readonly port: number;
}

export interface ServiceRec {
  readonly ns: string;
  readonly name: string;
  readonly kind: SvcKind;
  /** Canonical text of each cluster IP, in clusterIPs order (dual stack). */
  readonly ips: readonly string[];
  readonly ports: readonly PortRec[];
  readonly externalName: string;
  readonly publishNotReady: boolean;
}

export interface EndpointRec {
  readonly ip: string;
  readonly ready: boolean;
  readonly hostname: string | undefined;
}

export interface SliceRec {
  readonly ns: string;
  readonly name: string;
  /** "<ns>/<service>" from the kubernetes.io/service-name label. */
  readonly svc: string;
  readonly endpoints: readonly EndpointRec[];
  readonly ports: readonly PortRec[];
}

export interface PodRec {
  readonly ns: string;
  readonly name: string;
  readonly ips: readonly string[];
}

export type Stripped<T> = { ok: true; rec: T } | { ok: false; reason: string; ns?: string; name?: string };

type Obj = Record<string, unknown>;

const NONE: readonly never[] = Object.freeze([]);
/**
 * Arrays grown by push keep spare capacity (16+ slots); at 10,000 services that is most of a
 * stripped record. Stored arrays are copied to their exact size.
 */
const exact = <T>(a: T[]): readonly T[] => (a.length === 0 ? NONE : a.slice());
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

/** BIRD-style interning: thousands of services share a handful of port records. */
const portPool = new Map<string, PortRec>();
function internPort(name: string, proto: string, port: number): PortRec {
  const k = `${name}/${proto}/${port}`;
  let p = portPool.get(k);
  if (!p) {
    p = Object.freeze({ name, proto, port });
    if (portPool.size < 100_000) portPool.set(k, p);
  }
  return p;
}

export function canonicalIp(s: string): string | undefined {
  if (isIPv4(s)) return s;
  if (isIPv6(s)) return formatIp(parseIp(s));
  return undefined;
}

function meta(o: unknown): { ns: string; name: string } | undefined {
  if (!isObj(o) || !isObj(o.metadata)) return undefined;
  const name = str(o.metadata.name);
  if (!name) return undefined;
  return { ns: (str(o.metadata.namespace) ?? '').toLowerCase(), name: name.toLowerCase() };
}

function ports(list: unknown): readonly PortRec[] {
  if (!Array.isArray(list)) return NONE;
  const out: PortRec[] = [];
  for (const p of list) {
    if (!isObj(p)) continue;
    const port = p.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) continue;
    out.push(internPort((str(p.name) ?? '').toLowerCase(), (str(p.protocol) ?? 'TCP').toLowerCase(), port));
  }
  return exact(out);
}

export function stripService(o: unknown): Stripped<ServiceRec> {
  const m = meta(o);
  if (!m) return { ok: false, reason: 'metadata.name missing' };
  if (!m.ns) return { ok: false, reason: 'metadata.namespace missing', ...m };
  const spec = isObj((o as Obj).spec) ? ((o as Obj).spec as Obj) : {};
  const type = str(spec.type) ?? 'ClusterIP';
  const publishNotReady = spec.publishNotReadyAddresses === true;
  if (type === 'ExternalName') {
    const ext = str(spec.externalName);
    if (!ext) return { ok: false, reason: 'spec.externalName missing', ...m };
    return {
      ok: true,
      rec: { ...m, kind: SvcKind.ExternalName, ips: NONE, ports: NONE, externalName: ext.toLowerCase().replace(/\.$/, ''), publishNotReady },
    };
  }
  const raw: unknown[] = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length ? spec.clusterIPs : [spec.clusterIP];
  const headless = raw.some((x) => x === 'None');
  const ips: string[] = [];
  if (!headless) {
    for (const x of raw) {
      const c = typeof x === 'string' ? canonicalIp(x) : undefined;
      if (c && !ips.includes(c)) ips.push(c);
    }
  }
  return {
    ok: true,
    rec: { ...m, kind: headless ? SvcKind.Headless : SvcKind.ClusterIP, ips: exact(ips), ports: ports(spec.ports), externalName: '', publishNotReady },
  };
}

export function stripSlice(o: unknown): Stripped<SliceRec> {
  const m = meta(o);
  if (!m) return { ok: false, reason: 'metadata.name missing' };
  if (!m.ns) return { ok: false, reason: 'metadata.namespace missing', ...m };
  const obj = o as Obj;
  const labels = isObj((obj.metadata as Obj).labels) ? ((obj.metadata as Obj).labels as Obj) : {};
  const svcName = str(labels['kubernetes.io/service-name']);
  if (!svcName) return { ok: false, reason: 'label kubernetes.io/service-name missing', ...m };
  const addressType = str(obj.addressType) ?? 'IPv4';
  const endpoints: EndpointRec[] = [];
  // FQDN slices carry names, not addresses: nothing to answer from (spec 1.1.0 has no use).
  if ((addressType === 'IPv4' || addressType === 'IPv6') && Array.isArray(obj.endpoints)) {
    for (const e of obj.endpoints) {
      if (!isObj(e) || !Array.isArray(e.addresses)) continue;
      const cond = isObj(e.conditions) ? e.conditions : {};
      // EndpointConditions.ready: "nil should be interpreted as true" (discovery/v1 API).
      const ready = cond.ready !== false;
      const hn = str(e.hostname);
      const hostname = hn ? hn.toLowerCase() : undefined;
      for (const a of e.addresses) {
        const ip = typeof a === 'string' ? canonicalIp(a) : undefined;
        if (!ip || (addressType === 'IPv4') !== isIPv4(ip)) continue;
        endpoints.push({ ip, ready, hostname });
      }
    }
  }
  return { ok: true, rec: { ...m, svc: `${m.ns}/${svcName.toLowerCase()}`, endpoints: exact(endpoints), ports: ports(obj.ports) } };
}

export function stripPod(o: unknown): Stripped<PodRec> {
  const m = meta(o);
  if (!m) return { ok: false, reason: 'metadata.name missing' };
  if (!m.ns) return { ok: false, reason: 'metadata.namespace missing', ...m };
  const spec = isObj((o as Obj).spec) ? ((o as Obj).spec as Obj) : {};
  const ips: string[] = [];
  if (Array.isArray(spec.ipNetworks)) {
    for (const n of spec.ipNetworks) {
      if (typeof n !== 'string') continue;
      const slash = n.indexOf('/');
      const c = canonicalIp(slash < 0 ? n : n.slice(0, slash));
      if (c && !ips.includes(c)) ips.push(c);
    }
  }
  return { ok: true, rec: { ...m, ips: exact(ips) } };
}

export function stripNamespace(o: unknown): Stripped<{ name: string }> {
  const m = meta(o);
  if (!m) return { ok: false, reason: 'metadata.name missing' };
  return { ok: true, rec: { name: m.name } };
}
