// Fuzzes tern-dnsd's request handler: random bytes, mutated valid queries and random headers,
// over both transports, with the index churning and an upstream that answers garbage.
// Usage: node dist/fuzz/dns.js [--iterations N] [--seed S]
// Exits 1 on an escaped exception, an internal error, an undecodable or oversized response.
import { DnsEngine } from '../src/dns/answer/index.js';
import { DnsIndex } from '../src/dns/index/index.js';
import {
  CLASSIC_UDP_SIZE, DEFAULT_EDNS_BUFFER, QueryStatus, RRType, decodeMessage, encodeQuery, newParsedQuery, parseQuery,
} from '../src/dns/wire/index.js';
import { clusterFixture, service } from '../test/dns/fixtures.js';
import { Rng } from '../test/robustness/generators.js';
import { numberArg, seedArg } from './args.js';

const iterations = numberArg('iterations', 200_000);
const startSeed = seedArg();
const rng = new Rng(startSeed);
const rnd = (): number => rng.int(0x100000000);
const below = (n: number): number => rnd() % n;
const pick = <T>(a: readonly T[]): T => a[below(a.length)]!;

const names = [
  'svc1.ns1.svc.cluster.local.', 'BIG.ns1.svc.cluster.local.', '_http._tcp.hdls.ns1.svc.cluster.local.', 'hdls.ns1.svc.cluster.local.',
  '1.0.0.10.in-addr.arpa.', 'extin.ns1.svc.cluster.local.', '10-244-1-5.ns1.pod.cluster.local.', 'example.com.', 'cluster.local.',
  'pod-a.hdls.ns1.svc.cluster.local.', 'ns1.svc.cluster.local.', '.',
];
const types = [RRType.A, RRType.AAAA, RRType.SRV, RRType.PTR, RRType.ANY, RRType.TXT, RRType.SOA, RRType.CNAME, RRType.AXFR, RRType.OPT, 65];

function validQuery(): Buffer {
  const edns = below(2) === 0
    ? { udpSize: below(65536), version: below(4) === 0 ? below(3) : 0, do: below(2) === 0, options: below(3) === 0 ? [{ code: below(65536), data: Buffer.alloc(below(40)) }] : [] }
    : undefined;
  return encodeQuery(pick(names), pick(types), { id: below(65536), ...(edns ? { edns } : {}) });
}

function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = below(256);
  return b;
}

function mutate(b: Buffer): Buffer {
  let out = Buffer.from(b);
  const n = 1 + below(4);
  for (let k = 0; k < n && out.length > 0; k++) {
    const at = below(out.length);
    switch (below(5)) {
      case 0: out[at] = below(256); break;
      case 1: out[at]! ^= 1 << below(8); break;
      case 2: out = out.subarray(0, at); break;
      case 3: out = Buffer.concat([out.subarray(0, at), randomBytes(1 + below(8)), out.subarray(at)]); break;
      default: out = Buffer.concat([out, out.subarray(at)]); break;
    }
  }
  return out;
}

function input(): Buffer {
  switch (below(4)) {
    case 0: return randomBytes(below(700));
    case 1: { const q = validQuery(); randomBytes(12).copy(q, 0); return q; }
    default: return mutate(validQuery());
  }
}

const index = new DnsIndex();
index.applyBatch(clusterFixture());
index.markSynced();
const engine = new DnsEngine(index, { pods: below(2) === 0 ? 'verified' : 'insecure' });
const q = newParsedQuery();
let relayed: Buffer | undefined;

function fail(what: string, req: Buffer, extra = ''): never {
  console.error(`FAIL (seed ${startSeed}): ${what} ${extra}\ninput: ${req.toString('hex')}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (i % 1000 === 0) {
      // Churn: invalidation must never leave the cache inconsistent.
      const n = below(20);
      index.applyBatch([below(3) === 0
        ? { type: 'delete', kind: 'Service', namespace: 'ns1', name: `churn-${n}` }
        : service('ns1', `churn-${n}`, { clusterIP: `10.9.0.${n + 1}`, ports: [{ name: 'http', port: 80 }] })]);
      engine.setUpstream(below(2) === 0 ? undefined : {
        resolve: async () => (relayed = randomBytes(below(2000))),
      });
    }
    const req = input();
    const transport = below(2) === 0 ? 'udp' : 'tcp';
    let res: Buffer | null;
    try {
      const r = engine.handle(req, transport);
      res = r instanceof Promise ? await r : r;
    } catch (e) {
      fail('exception escaped the handler', req, String((e as Error)?.stack ?? e));
    }
    if (engine.stats().internalErrors !== 0) fail('internal error path taken', req);
    const st = parseQuery(req, req.length, q);
    if (res === null) {
      if (st !== QueryStatus.DROP) fail('dropped a query with a readable header', req);
      continue;
    }
    const max = transport === 'tcp' ? 65535 : q.edns ? Math.max(CLASSIC_UDP_SIZE, Math.min(q.udpSize, DEFAULT_EDNS_BUFFER)) : CLASSIC_UDP_SIZE;
    if (res.length > max) fail(`response of ${res.length} bytes over ${max}`, req);
    // Relayed upstream bytes are the upstream's business; our own answers must decode.
    if (res !== relayed) {
      const d = decodeMessage(res);
      if (!d.ok) fail(`undecodable response (${d.error})`, req, res.toString('hex'));
      else if (d.msg.id !== req.readUInt16BE(0)) fail('response id differs from query id', req);
    }
    relayed = undefined;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const s = engine.stats();
  console.log(
    `fuzz dns: ${iterations} iterations in ${secs.toFixed(2)} s (${Math.round(iterations / secs)}/s), seed ${startSeed}, ` +
      `rcodes ${JSON.stringify(s.rcodes)}, dropped ${s.dropped}, forwarded ${s.forwarded}`,
  );
}

main().catch((e: unknown) => {
  console.error('FAIL: fuzz driver crashed', e);
  process.exit(1);
});
