// The answer logic: Kubernetes DNS-Based Service Discovery 1.1.0 over the index, plus
// CoreDNS's pod records and its NXDOMAIN/NODATA rules. Produces record sets; encoding and
// caching happen in `engine.ts`. Runs only on a cache miss, so clarity beats speed here.
import { isIPv4, isIPv6 } from 'node:net';
import { parseIp, formatIp } from '../../net/ip.js';
import { RRType, Rcode, type RR, type RData } from '../wire/index.js';
import { DnsIndex, Tag } from '../index/dns-index.js';
import { SvcKind, type EndpointRec, type ServiceRec } from '../index/strip.js';

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface AnswerConfig {
  /** Zones served, e.g. ["cluster.local"]. The first one names PTR targets. */
  zones: string[];
  /** TTL of positive answers (seconds). */
  ttl: number;
  /** SOA minimum and TTL in negative answers (RFC 2308 §5). */
  negativeTtl: number;
  pods: PodMode;
  /** Addresses of this DNS service, answered for ns.dns.<zone> (the SOA/NS name). */
  nameserverIps: string[];
  /** SOA serial; defaults to the start time in seconds. */
  serial?: number;
}

export const SCHEMA_VERSION = '1.1.0';

/** What to do with a question. Answers carry the cache tags they were computed from. */
export type Outcome =
  | { kind: 'answer'; rcode: number; aa: boolean; answer: RR[]; authority: RR[]; additional: RR[]; tags: string[]; cacheable: boolean }
  | { kind: 'forward'; tags: string[] }
  | { kind: 'refused'; tags: string[] };

const STATIC = 'static';
const REVERSE_V4 = ['in-addr', 'arpa'];
const REVERSE_V6 = ['ip6', 'arpa'];

/** What exists at one name: its records (all types) and glue keyed by record type. */
interface NameNode {
  exists: boolean;
  records: RR[];
  glue: RR[];
  /** For ExternalName: the CNAME target, chased by `resolve`. */
  cname?: readonly string[];
  tags: string[];
}

const endsWith = (a: readonly string[], suffix: readonly string[]): boolean => {
  if (suffix.length > a.length) return false;
  for (let i = 1; i <= suffix.length; i++) if (a[a.length - i] !== suffix[suffix.length - i]) return false;
  return true;
};

/** IP text -> address bytes; undefined for anything else. */
export function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) return undefined;
  const v = parseIp(ip).value;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((v >> BigInt(8 * (15 - i))) & 0xffn);
  return out;
}

/** "10.0.0.1" -> "10-0-0-1"; "fd00::1" -> "fd00--1" (CoreDNS's endpoint and pod labels). */
export const dashed = (ip: string): string => ip.replace(/[.:]/g, '-');

function undash(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (isIPv4(v4)) return v4;
  const v6 = label.replace(/-/g, ':');
  if (isIPv6(v6)) return formatIp(parseIp(v6));
  return undefined;
}

export class Resolver {
  private readonly zones: string[][];
  private readonly serial: number;

  constructor(
    private readonly index: DnsIndex,
    private readonly cfg: AnswerConfig,
    private readonly hasUpstream: () => boolean,
  ) {
    // Longest zone first so a nested zone wins over its parent.
    this.zones = cfg.zones
      .map((z) => z.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean))
      .sort((a, b) => b.length - a.length);
    this.serial = cfg.serial ?? Math.floor(Date.now() / 1000) >>> 0;
  }

  private get primary(): string[] {
    const z = this.cfg.zones[0] ?? 'cluster.local';
    return z.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);
  }

  resolve(labels: readonly string[], qtype: number): Outcome {
    const zone = this.zones.find((z) => endsWith(labels, z));
    if (zone) {
      if (!this.index.synced) return this.rcodeOnly(Rcode.SERVFAIL, false);
      const rel = labels.slice(0, labels.length - zone.length);
      return this.answerFrom(labels, qtype, zone, this.zoneNode(rel, zone));
    }
    const rev = endsWith(labels, REVERSE_V4) ? REVERSE_V4 : endsWith(labels, REVERSE_V6) ? REVERSE_V6 : undefined;
    if (rev) {
      if (!this.index.synced) return this.rcodeOnly(Rcode.SERVFAIL, false);
      const node = this.reverseNode(labels, rev);
      // Addresses the cluster does not own belong to someone else's reverse zone.
      if (!node.exists && this.hasUpstream()) return { kind: 'forward', tags: node.tags };
      return this.answerFrom(labels, qtype, rev, node);
    }
    return this.hasUpstream() ? { kind: 'forward', tags: [STATIC] } : { kind: 'refused', tags: [STATIC] };
  }

  private rcodeOnly(rcode: number, aa: boolean): Outcome {
    return { kind: 'answer', rcode, aa, answer: [], authority: [], additional: [], tags: [STATIC], cacheable: false };
  }

  private soa(zone: readonly string[]): RR {
    const p = this.primary;
    return {
      name: zone, type: RRType.SOA, ttl: this.cfg.negativeTtl,
      data: {
        t: 'soa', mname: ['ns', 'dns', ...p], rname: ['hostmaster', ...p], serial: this.serial,
        refresh: 7200, retry: 1800, expire: 86400, minimum: this.cfg.negativeTtl,
      },
    };
  }

  private answerFrom(qname: readonly string[], qtype: number, zone: readonly string[], node: NameNode): Outcome {
    const tags = [...node.tags];
    const answer: RR[] = [];
    const additional: RR[] = [];
    let cur = node;
    let curZone = zone;
    let noData = false;
    // RFC 1034 §4.3.2 step 3a: follow CNAMEs inside our zones; stop at the first name we are
    // not authoritative for and let the client resolve the rest.
    for (let hops = 0; hops < 8; hops++) {
      // After a CNAME, the rcode describes the last name of the chain (RFC 6604 §2).
      if (!cur.exists) {
        return { kind: 'answer', rcode: Rcode.NXDOMAIN, aa: true, answer, authority: [this.soa(curZone)], additional: [], tags, cacheable: true };
      }
      const cnameRec = cur.cname ? cur.records.find((r) => r.type === RRType.CNAME) : undefined;
      if (cnameRec && qtype !== RRType.CNAME && qtype !== RRType.ANY) {
        answer.push(cnameRec);
        const target = cur.cname!;
        const tz = this.zones.find((z) => endsWith(target, z));
        if (!tz || !this.index.synced) break;
        const next = this.zoneNode(target.slice(0, target.length - tz.length), tz);
        tags.push(...next.tags);
        cur = next;
        curZone = tz;
        continue;
      }
      const want = cur.records.filter((r) => qtype === RRType.ANY || r.type === qtype);
      answer.push(...want);
      noData = want.length === 0;
      if (want.length) {
        for (const g of cur.glue) if (want.some((w) => w.type === RRType.SRV || w.type === RRType.NS)) additional.push(g);
      }
      break;
    }
    // NODATA, also at the end of a CNAME chain (RFC 2308 §2.2): the SOA goes in authority.
    if (noData) {
      return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority: [this.soa(curZone)], additional: [], tags, cacheable: true };
    }
    return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority: [], additional: dedupe(additional), tags, cacheable: true };
  }

  // ---- forward zones -----------------------------------------------------------------------

  private zoneNode(rel: readonly string[], zone: readonly string[]): NameNode {
    const full = (...l: string[]): string[] => [...l, ...zone];
    const none = (tags: string[]): NameNode => ({ exists: false, records: [], glue: [], tags });
    const ent = (tags: string[]): NameNode => ({ exists: true, records: [], glue: [], tags });
    const ttl = this.cfg.ttl;
    const n = rel.length;
    if (n === 0) {
      const records: RR[] = [this.soa(zone), { name: zone, type: RRType.NS, ttl, data: { t: 'name', name: full('ns', 'dns') } }];
      return { exists: true, records, glue: this.addrRecords(full('ns', 'dns'), this.cfg.nameserverIps), tags: [STATIC] };
    }
    const top = rel[n - 1]!;
    if (n === 1 && top === 'dns-version') {
      return { exists: true, records: [{ name: full('dns-version'), type: RRType.TXT, ttl, data: { t: 'txt', strings: [SCHEMA_VERSION] } }], glue: [], tags: [STATIC] };
    }
    if (top === 'dns') {
      if (n === 1) return ent([STATIC]);
      if (n === 2 && rel[0] === 'ns') return { exists: true, records: this.addrRecords(full('ns', 'dns'), this.cfg.nameserverIps), glue: [], tags: [STATIC] };
      return none([STATIC]);
    }
    if (top === 'svc') return this.svcNode(rel, zone);
    if (top === 'pod') return this.podNode(rel, zone);
    return none([STATIC]);
  }

  private svcNode(rel: readonly string[], zone: readonly string[]): NameNode {
    const n = rel.length;
    const ttl = this.cfg.ttl;
    if (n === 1) return { exists: true, records: [], glue: [], tags: [STATIC] };
    const ns = rel[n - 2]!;
    if (n === 2) return { exists: this.index.namespaceExists(ns), records: [], glue: [], tags: [Tag.namespace(ns)] };
    const svcName = rel[n - 3]!;
    const tags = [Tag.service(ns, svcName)];
    const svc = this.index.service(ns, svcName);
    const none: NameNode = { exists: false, records: [], glue: [], tags };
    if (!svc) return none;
    const svcFqdn = [svcName, ns, 'svc', ...zone];

    if (n === 3) {
      if (svc.kind === SvcKind.ExternalName) {
        const target = svc.externalName.split('.').filter(Boolean);
        return { exists: true, records: [{ name: svcFqdn, type: RRType.CNAME, ttl, data: { t: 'name', name: target } }], glue: [], cname: target, tags };
      }
      const ips = svc.kind === SvcKind.ClusterIP ? svc.ips : this.index.endpointsOf(svc).map((e) => e.ip);
      return { exists: true, records: this.addrRecords(svcFqdn, ips), glue: [], tags };
    }
    if (svc.kind === SvcKind.ExternalName) return none;

    const first = rel[0]!;
    if (n === 4) {
      if (first.startsWith('_')) {
        // `_<proto>.<svc>...` exists as an empty non-terminal when a named port uses it.
        const proto = first.slice(1);
        return { exists: this.namedPorts(svc).some((p) => p.proto === proto), records: [], glue: [], tags };
      }
      if (svc.kind !== SvcKind.Headless) return none;
      const eps = this.index.endpointsOf(svc).filter((e) => endpointLabel(e) === first);
      if (eps.length === 0) return none;
      return { exists: true, records: this.addrRecords([first, ...svcFqdn], eps.map((e) => e.ip)), glue: [], tags };
    }
    if (n === 5 && first.startsWith('_') && rel[1]!.startsWith('_')) {
      const portName = first.slice(1);
      const proto = rel[1]!.slice(1);
      if (!this.namedPorts(svc).some((p) => p.name === portName && p.proto === proto)) return none;
      const owner = [first, rel[1]!, ...svcFqdn];
      const records: RR[] = [];
      const glue: RR[] = [];
      if (svc.kind === SvcKind.ClusterIP) {
        for (const p of svc.ports) {
          if (p.name !== portName || p.proto !== proto) continue;
          records.push(srv(owner, ttl, p.port, svcFqdn));
        }
        if (records.length) glue.push(...this.addrRecords(svcFqdn, svc.ips));
      } else {
        // Headless: one SRV per (ready endpoint × matching port), each slice pairing its own
        // ports with its own endpoints (spec 1.1.0 §2.4.2).
        const seen = new Set<string>();
        const glued = new Set<string>();
        for (const slice of this.index.slicesOf(ns, svcName)) {
          for (const p of slice.ports) {
            if (p.name !== portName || p.proto !== proto) continue;
            for (const e of slice.endpoints) {
              if (!e.ready && !svc.publishNotReady) continue;
              const label = endpointLabel(e);
              const k = `${label}/${p.port}`;
              if (seen.has(k)) continue;
              seen.add(k);
              const target = [label, ...svcFqdn];
              records.push(srv(owner, ttl, p.port, target));
              if (!glued.has(e.ip)) {
                glued.add(e.ip);
                glue.push(...this.addrRecords(target, [e.ip]));
              }
            }
          }
        }
      }
      // CoreDNS spreads weight evenly: 100 / number of records, at least 1.
      const w = records.length ? Math.max(1, Math.floor(100 / records.length)) : 0;
      for (const r of records) if (r.data.t === 'srv') (r.data as { weight: number }).weight = w;
      return { exists: true, records, glue, tags };
    }
    return none;
  }

  private namedPorts(svc: ServiceRec): { name: string; proto: string }[] {
    const out = svc.ports.filter((p) => p.name !== '');
    if (svc.kind === SvcKind.Headless) {
      for (const s of this.index.slicesOf(svc.ns, svc.name)) for (const p of s.ports) if (p.name !== '') out.push(p);
    }
    return out;
  }

  private podNode(rel: readonly string[], zone: readonly string[]): NameNode {
    const n = rel.length;
    if (this.cfg.pods === 'disabled') return { exists: false, records: [], glue: [], tags: [STATIC] };
    if (n === 1) return { exists: true, records: [], glue: [], tags: [STATIC] };
    const ns = rel[n - 2]!;
    const tags = [Tag.pods(ns)];
    if (n === 2) return { exists: this.index.namespaceExists(ns), records: [], glue: [], tags: [Tag.namespace(ns)] };
    if (n !== 3) return { exists: false, records: [], glue: [], tags };
    const ip = undash(rel[0]!);
    if (!ip) return { exists: false, records: [], glue: [], tags };
    if (this.cfg.pods === 'verified' && !this.index.podHasIp(ns, ip)) return { exists: false, records: [], glue: [], tags };
    return { exists: true, records: this.addrRecords([rel[0]!, ns, 'pod', ...zone], [ip]), glue: [], tags };
  }

  // ---- reverse zones -----------------------------------------------------------------------

  private reverseNode(labels: readonly string[], rev: readonly string[]): NameNode {
    const rel = labels.slice(0, labels.length - rev.length);
    let ip: string | undefined;
    if (rev === REVERSE_V4 && rel.length === 4 && rel.every((l) => /^(0|[1-9]\d{0,2})$/.test(l))) {
      const s = [...rel].reverse().join('.');
      if (isIPv4(s)) ip = s;
    } else if (rev === REVERSE_V6 && rel.length === 32 && rel.every((l) => /^[0-9a-f]$/.test(l))) {
      const hex = [...rel].reverse().join('');
      ip = formatIp({ family: 6, value: BigInt(`0x${hex}`) });
    }
    if (!ip) return { exists: false, records: [], glue: [], tags: [STATIC] };
    const tags = [Tag.ptr(ip)];
    const zone = this.primary;
    const targets: string[][] = [];
    for (const key of this.index.ptrOwners(ip)) {
      const svc = this.index.serviceByKey(key);
      if (!svc) continue;
      const fqdn = [svc.name, svc.ns, 'svc', ...zone];
      if (svc.ips.includes(ip)) targets.push(fqdn);
      if (svc.kind === SvcKind.Headless) {
        for (const e of this.index.endpointsOf(svc)) if (e.ip === ip) targets.push([endpointLabel(e), ...fqdn]);
      }
    }
    const ttl = this.cfg.ttl;
    const seen = new Set<string>();
    const records: RR[] = [];
    for (const t of targets) {
      const k = t.join('.');
      if (seen.has(k)) continue;
      seen.add(k);
      records.push({ name: labels, type: RRType.PTR, ttl, data: { t: 'name', name: t } });
    }
    return { exists: records.length > 0, records, glue: [], tags };
  }

  private addrRecords(name: readonly string[], ips: readonly string[]): RR[] {
    const out: RR[] = [];
    for (const ip of ips) {
      const bytes = ipBytes(ip);
      if (!bytes) continue;
      out.push({ name, type: bytes.length === 4 ? RRType.A : RRType.AAAA, ttl: this.cfg.ttl, data: { t: 'addr', bytes } });
    }
    return out;
  }
}

export const endpointLabel = (e: EndpointRec): string => e.hostname ?? dashed(e.ip);

function srv(owner: readonly string[], ttl: number, port: number, target: readonly string[]): RR {
  const data: RData = { t: 'srv', priority: 0, weight: 0, port, target };
  return { name: owner, type: RRType.SRV, ttl, data };
}

function dedupe(rrs: RR[]): RR[] {
  const seen = new Set<string>();
  return rrs.filter((r) => {
    const k = `${r.name.join('.')}/${r.type}/${r.data.t === 'addr' ? r.data.bytes.join(',') : ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
