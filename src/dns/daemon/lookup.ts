// `tern dns lookup`: runs the engine on a synthesized query and says which record answered
// and why, in the terms of the Kubernetes DNS spec (service, endpoint, pod, PTR) or as
// forwarded / negative.
import type { DnsEngine } from '../answer/engine.js';
import type { DnsIndex } from '../index/dns-index.js';
import { SvcKind } from '../index/strip.js';
import { RRType, Rcode, decodeMessage, encodeQuery, typeName, type DecodedRR } from '../wire/index.js';
import { RCODE_LABELS } from './metrics.js';

export interface LookupResult {
  rcode: string;
  answers: string[];
  authority: string[];
  additional: string[];
  explanation: string;
}

export function parseType(t: string): number | undefined {
  const u = (t || 'A').toUpperCase();
  if (/^TYPE\d+$/.test(u)) return Number(u.slice(4));
  return (RRType as Record<string, number>)[u];
}

export function rrText(r: DecodedRR): string {
  const head = `${r.name} ${r.ttl} IN ${typeName(r.type)}`;
  if (r.address !== undefined) return `${head} ${r.address}`;
  if (r.soa) {
    const s = r.soa;
    return `${head} ${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  }
  if (r.port !== undefined) return `${head} ${r.priority} ${r.weight} ${r.port} ${r.target}`;
  if (r.target !== undefined) return `${head} ${r.target}`;
  if (r.strings) return `${head} ${r.strings.map((s) => JSON.stringify(s)).join(' ')}`;
  return `${head} \\# ${r.raw.length} ${r.raw.toString('hex')}`;
}

const labelsOf = (name: string): string[] => name.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);

/** Why the engine answered `name` the way it did, from the shape of the name and the index. */
export function explain(index: DnsIndex, zones: readonly string[], name: string, qtype: number, rcode: number, answers: number, hasUpstream: boolean): string {
  const l = labelsOf(name);
  const zone = zones.map(labelsOf).sort((a, b) => b.length - a.length).find((z) => z.length <= l.length && z.every((x, i) => l[l.length - z.length + i] === x));
  const negative = rcode === Rcode.NXDOMAIN ? 'negative (NXDOMAIN): ' : rcode === Rcode.NOERROR && answers === 0 ? `negative (NODATA: the name exists, no ${typeName(qtype)} records): ` : '';
  if (rcode === Rcode.SERVFAIL && zone && !index.synced) return 'SERVFAIL: the index has not finished its initial listing from etcd';
  if (!zone) {
    const rev = l.slice(-2).join('.');
    if (rev === 'in-addr.arpa' || rev === 'ip6.arpa') {
      if (qtype === RRType.PTR && answers > 0 && rcode === Rcode.NOERROR) return 'PTR: the address is a cluster IP or a headless endpoint of the service(s) named';
      if (hasUpstream) return `forwarded: the address is not one of the cluster's; asked the upstreams${negative ? ` — ${negative.slice(0, -2)}` : ''}`;
      return `${negative || ''}the address is not one of the cluster's and forwarding is off`;
    }
    if (rcode === Rcode.REFUSED) return 'refused: outside the cluster zones and forwarding is off (or the client is outside the recursion ACL)';
    return `forwarded: outside the cluster zones (${zones.join(', ')}); answered by an upstream${negative ? ` — ${negative.slice(0, -2)}` : ''}`;
  }
  const rel = l.slice(0, l.length - zone.length);
  const n = rel.length;
  const top = rel[n - 1];
  if (top === 'svc' && n >= 3) {
    const ns = rel[n - 2]!;
    const svcName = rel[n - 3]!;
    const svc = index.service(ns, svcName);
    if (!svc) {
      return `${negative}no service ${ns}/${svcName}${index.namespaceExists(ns) ? '' : ` (and no namespace ${ns})`}`;
    }
    const kind = svc.kind === SvcKind.ClusterIP ? 'ClusterIP' : svc.kind === SvcKind.Headless ? 'headless' : 'ExternalName';
    if (n === 3) {
      if (svc.kind === SvcKind.ExternalName) return `service ${ns}/${svcName} (ExternalName): CNAME to ${svc.externalName}`;
      if (svc.kind === SvcKind.ClusterIP) return `${negative}service ${ns}/${svcName} (ClusterIP): cluster IPs ${svc.ips.join(', ') || 'none'}`;
      const eps = index.endpointsOf(svc);
      return `${negative}service ${ns}/${svcName} (headless): ${eps.length} ${svc.publishNotReady ? '' : 'ready '}endpoint(s) ${eps.map((e) => e.ip).join(', ')}`;
    }
    if (rel[0]!.startsWith('_')) {
      return `${negative}service ${ns}/${svcName} (${kind}): SRV of named port ${rel[0]!.slice(1)}/${(rel[1] ?? '').slice(1)}${svc.kind === SvcKind.Headless ? ', one per ready endpoint' : ' on the cluster IP'}`;
    }
    if (n === 4) return `${negative}endpoint ${rel[0]} of service ${ns}/${svcName} (${kind}): hostname or dashed address of an endpoint`;
  }
  if (top === 'pod' && n === 3) return `${negative}pod record ${rel[0]} in namespace ${rel[1]}: the address spelled in the name`;
  if (top === 'svc' && n === 2) return `${negative}namespace ${rel[0]} (${index.namespaceExists(rel[0]!) ? 'exists' : 'unknown'})`;
  if (n === 0) return `${negative}zone apex ${zone.join('.')}`;
  if (n === 1 && rel[0] === 'dns-version') return 'dns-version: the schema version of the Kubernetes DNS specification served';
  return `${negative}not a name the Kubernetes DNS schema defines`;
}

/** Runs one lookup through the engine as an in-process client (inside every ACL). */
export async function lookup(engine: DnsEngine, index: DnsIndex, zones: readonly string[], hasUpstream: boolean, name: string, type: string): Promise<LookupResult> {
  const qtype = parseType(type);
  if (qtype === undefined) throw new Error(`unknown record type "${type}"`);
  const fq = name.endsWith('.') ? name : `${name}.`;
  const res = await engine.handle(encodeQuery(fq, qtype, { edns: { udpSize: 65535 } }), 'tcp');
  if (!res) throw new Error('the engine gave no answer');
  const d = decodeMessage(res);
  if (!d.ok) throw new Error(`undecodable answer: ${d.error}`);
  const m = d.msg;
  return {
    rcode: RCODE_LABELS[m.rcode & 0xf] ?? String(m.rcode),
    answers: m.answers.map(rrText),
    authority: m.authorities.map(rrText),
    additional: m.additionals.filter((r) => r.type !== RRType.OPT).map(rrText),
    explanation: explain(index, zones, fq, qtype, m.rcode, m.answers.length, hasUpstream),
  };
}
