// Micro-benchmark of the DNS answer path: tern-dnsd's handler (header+question parse, cached
// pre-encoded answer, byte copy) against dns2's Packet.parse + building and encoding the same
// answer with Packet, for three shapes of answer. No sockets: codec cost only.
// Usage: node dist/bench/dns-codec.js [--seconds S]
import Dns2 from 'dns2';
import { DnsEngine } from '../src/dns/answer/index.js';
import { DnsIndex } from '../src/dns/index/index.js';
import { RRType, decodeMessage, encodeQuery } from '../src/dns/wire/index.js';
import { clusterFixture } from '../test/dns/fixtures.js';

const { Packet } = Dns2;
const secIdx = process.argv.indexOf('--seconds');
const seconds = secIdx >= 0 ? Number(process.argv[secIdx + 1]) : 1;

const index = new DnsIndex();
index.applyBatch(clusterFixture());
index.markSynced();
const engine = new DnsEngine(index, {});

function measure(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

interface Shape {
  label: string;
  qname: string;
  qtype: number;
  transport: 'udp' | 'tcp';
}

const shapes: Shape[] = [
  { label: 'A, 1 record (ClusterIP)', qname: 'svc1.ns1.svc.cluster.local.', qtype: RRType.A, transport: 'udp' },
  { label: 'A, 100 records (headless, TCP)', qname: 'big.ns1.svc.cluster.local.', qtype: RRType.A, transport: 'tcp' },
  { label: 'NXDOMAIN + SOA', qname: 'nope.ns1.svc.cluster.local.', qtype: RRType.A, transport: 'udp' },
];

const rows: string[] = [];
for (const s of shapes) {
  const query = encodeQuery(s.qname, s.qtype, { edns: { udpSize: 1232 } });
  const ours = engine.handle(query, s.transport) as Buffer;
  const d = decodeMessage(ours);
  if (!d.ok) throw new Error(`bad response for ${s.qname}`);
  const m = d.msg;
  // The same records, built the way a dns2 handler would build them.
  const build = (): Buffer => {
    const req = Packet.parse(query);
    const res = Packet.createResponseFromRequest(req);
    res.header.aa = 1;
    res.header.rcode = m.rcode;
    for (const a of m.answers) {
      res.answers.push({ name: req.questions[0]!.name, type: a.type, class: 1, ttl: a.ttl, address: a.address } as never);
    }
    for (const a of m.authorities) {
      const soa = a.soa!;
      res.authorities.push({
        name: 'cluster.local', type: RRType.SOA, class: 1, ttl: a.ttl, primary: soa.mname.slice(0, -1), admin: soa.rname.slice(0, -1),
        serial: soa.serial, refresh: soa.refresh, retry: soa.retry, expiration: soa.expire, minimum: soa.minimum,
      } as never);
    }
    return res.toBuffer();
  };
  const check = decodeMessage(build());
  if (!check.ok || check.msg.answers.length !== m.answers.length) throw new Error(`dns2 built a different answer for ${s.qname}`);
  const a = measure(() => engine.handle(query, s.transport));
  const b = measure(build);
  rows.push(`${s.label.padEnd(34)} tern ${Math.round(a).toString().padStart(9)}/s   dns2 ${Math.round(b).toString().padStart(8)}/s   x${(a / b).toFixed(1)}`);
}
console.log(`dns codec (answers/s, one core, ${seconds}s per run)`);
for (const r of rows) console.log(r);
