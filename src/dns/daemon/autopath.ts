// Autopath (CoreDNS's plugin of that name): a pod with `ndots:5` and the search path
// `<ns>.svc.<zone> svc.<zone> <zone>` asks `name.<ns>.svc.<zone>` first. When that does not
// exist, the server walks the rest of the search path itself and answers the first query with
// a CNAME to the name that does, sparing the pod two to four round trips. Only for clients
// that are pods of `<ns>` (their address is a WorkloadEndpoint IP there), whose search path
// the server can therefore know.
import { ipBytes } from '../answer/resolver.js';
import type { DnsEngine, Transport } from '../answer/engine.js';
import type { DnsIndex } from '../index/dns-index.js';
import {
  CLASSIC_UDP_SIZE, DEFAULT_EDNS_BUFFER, HEADER_LEN, MAX_TCP_MESSAGE, QueryStatus, RRType, Rcode, SectionWriter,
  assembleResponse, decodeMessage, encodeQuery, newParsedQuery, parseQuery, wireKey, wireKeyToLabels,
  type Prepared, type RR, type RData, type DecodedRR,
} from '../wire/index.js';
import type { QueryHandler } from '../server/server.js';

const labelsOf = (z: string): string[] => z.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean);

/** Re-encodable form of a decoded record, or undefined for types we do not write. */
function toRR(r: DecodedRR): RR | undefined {
  const name = labelsOf(r.name);
  let data: RData | undefined;
  if ((r.type === RRType.A || r.type === RRType.AAAA) && r.address) {
    const b = ipBytes(r.address);
    if (b) data = { t: 'addr', bytes: b };
  } else if ((r.type === RRType.CNAME || r.type === RRType.PTR || r.type === RRType.NS) && r.target !== undefined) {
    data = { t: 'name', name: labelsOf(r.target) };
  } else if (r.type === RRType.SRV && r.target !== undefined) {
    data = { t: 'srv', priority: r.priority ?? 0, weight: r.weight ?? 0, port: r.port ?? 0, target: labelsOf(r.target) };
  } else if (r.type === RRType.TXT && r.strings) {
    data = { t: 'txt', strings: r.strings };
  }
  return data ? { name, type: r.type, ttl: r.ttl, data } : undefined;
}

/** The namespace of the pod holding `ip`, if any (dual-stack sockets report ::ffff:a.b.c.d). */
type PodNamespaceOf = (ip: string) => string | undefined;

export function autopathHandler(inner: QueryHandler, engine: DnsEngine, index: DnsIndex, zones: readonly string[], podNamespaceOf?: PodNamespaceOf): QueryHandler {
  const zoneLabels = zones.map(labelsOf);
  const q = newParsedQuery();
  const cache = new Map<string, Prepared>();
  const podNs = new Map<string, string | null>();
  // Any index change may change which search-path name exists, or who the pods are.
  index.onChange(() => {
    cache.clear();
    podNs.clear();
  });
  const nsOf = (client: string): string | undefined => {
    let v = podNs.get(client);
    if (v === undefined) {
      const ip = client.startsWith('::ffff:') && client.includes('.') ? client.slice(7) : client;
      v = (podNamespaceOf ?? ((a) => index.podNamespaceOf(a)))(ip) ?? null;
      if (podNs.size > 10_000) podNs.clear();
      podNs.set(client, v);
    }
    return v ?? undefined;
  };

  const first = (msg: Buffer, transport: Transport, client: string | undefined, nx: Buffer): Buffer | Promise<Buffer> => {
    if (!client || parseQuery(msg, msg.length, q) !== QueryStatus.OK) return nx;
    const key = wireKey(msg, HEADER_LEN, q.qnameEnd);
    const labels = wireKeyToLabels(key);
    const ns = nsOf(client);
    if (!ns) return nx;
    // The name must end in the pod's first search domain, <ns>.svc.<zone>, with something before it.
    const zone = zoneLabels.find((z) => {
      const sfx = [ns, 'svc', ...z];
      return labels.length > sfx.length && sfx.every((x, i) => labels[labels.length - sfx.length + i] === x);
    });
    if (!zone) return nx;
    const base = labels.slice(0, labels.length - zone.length - 2);
    const maxSize = transport === 'tcp' ? MAX_TCP_MESSAGE : q.edns ? Math.max(CLASSIC_UDP_SIZE, Math.min(q.udpSize, DEFAULT_EDNS_BUFFER)) : CLASSIC_UDP_SIZE;
    const req = { ...q };
    const ckey = `${key}|${q.qtype}|${q.dnssecOk ? 1 : 0}`;
    const hit = cache.get(ckey);
    if (hit) return assembleResponse(msg, req, hit, maxSize, 0, DEFAULT_EDNS_BUFFER) ?? nx;
    const candidates = [[...base, 'svc', ...zone], [...base, ...zone], base];
    return walk(msg, req, labels, candidates, client, maxSize, ckey, nx);
  };

  const walk = async (msg: Buffer, req: ReturnType<typeof newParsedQuery>, qname: string[], candidates: string[][], client: string, maxSize: number, ckey: string, nx: Buffer): Promise<Buffer> => {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      const inZone = i < candidates.length - 1;
      const sub = await engine.handle(encodeQuery(`${c.join('.')}.`, req.qtype, { edns: { udpSize: 65535, do: req.dnssecOk } }), 'tcp', client);
      if (!sub) return nx;
      const d = decodeMessage(sub);
      if (!d.ok) return nx;
      const rcode = d.msg.rcode;
      if (rcode === Rcode.NXDOMAIN) continue;
      if (rcode !== Rcode.NOERROR) return nx;
      const rrs: RR[] = [{ name: qname, type: RRType.CNAME, ttl: 5, data: { t: 'name', name: c } }];
      for (const r of d.msg.answers) {
        const rr = toRR(r);
        if (!rr) return nx; // a type we cannot re-encode: let the client walk its search path
        rrs.push(rr);
      }
      const w = new SectionWriter(req.questionEnd, qname);
      for (const rr of rrs) w.rr(rr);
      const body = w.finish();
      // The CNAME lives as long as the shortest record it leads to (at most our TTL).
      const p: Prepared = { rcode: Rcode.NOERROR, aa: inZone, an: rrs.length, ns: 0, ar: 0, body: Buffer.from(body) };
      if (inZone) cache.set(ckey, p);
      if (cache.size > 50_000) cache.clear();
      return assembleResponse(msg, req, p, maxSize, 0, DEFAULT_EDNS_BUFFER) ?? nx;
    }
    return nx;
  };

  return {
    handle(msg: Buffer, transport: Transport, client?: string) {
      const res = inner.handle(msg, transport, client);
      if (res === null || !(res instanceof Uint8Array) || (res[3]! & 0xf) !== Rcode.NXDOMAIN) return res;
      return first(msg, transport, client, res);
    },
  };
}
