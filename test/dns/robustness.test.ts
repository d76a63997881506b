// Property tests: whatever arrives, the handler returns (never throws, never hits its internal
// error path) and never answers with more than the transport allows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLASSIC_UDP_SIZE, DEFAULT_EDNS_BUFFER, QueryStatus, RRType, decodeMessage, encodeQuery, newParsedQuery, parseQuery } from '../../src/dns/wire/index.js';
import { buildEngine } from './helpers.js';

const { engine } = buildEngine({ pods: 'verified' });

function allowed(req: Buffer, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return 65535;
  const q = newParsedQuery();
  parseQuery(req, req.length, q);
  return q.edns ? Math.max(CLASSIC_UDP_SIZE, Math.min(q.udpSize, DEFAULT_EDNS_BUFFER)) : CLASSIC_UDP_SIZE;
}

async function check(req: Buffer, transport: 'udp' | 'tcp'): Promise<void> {
  let res: Buffer | null;
  try {
    res = await engine.handle(req, transport);
  } catch (e) {
    throw new Error(`handler threw on ${req.toString('hex')}: ${String(e)}`);
  }
  expect(engine.stats().internalErrors).toBe(0);
  if (res === null) {
    const st = parseQuery(req, req.length, newParsedQuery());
    expect(st).toBe(QueryStatus.DROP);
    return;
  }
  expect(res.length).toBeLessThanOrEqual(allowed(req, transport));
  const d = decodeMessage(res);
  expect(d.ok, d.ok ? '' : `${d.error} in response to ${req.toString('hex')}`).toBe(true);
  if (d.ok) expect(d.msg.id).toBe(req.readUInt16BE(0));
}

const names = [
  'svc1.ns1.svc.cluster.local.', 'big.ns1.svc.cluster.local.', '_http._tcp.hdls.ns1.svc.cluster.local.', 'hdls.ns1.svc.cluster.local.',
  '1.0.0.10.in-addr.arpa.', 'extin.ns1.svc.cluster.local.', '10-244-1-5.ns1.pod.cluster.local.', 'x.example.com.', 'cluster.local.',
];
const types = [RRType.A, RRType.AAAA, RRType.SRV, RRType.PTR, RRType.ANY, RRType.TXT, RRType.SOA, RRType.CNAME, 99];

const validQuery = fc
  .record({
    name: fc.constantFrom(...names),
    type: fc.constantFrom(...types),
    edns: fc.option(fc.record({ udpSize: fc.integer({ min: 0, max: 65535 }), version: fc.integer({ min: 0, max: 2 }), do: fc.boolean() })),
  })
  .map((r) => encodeQuery(r.name, r.type, r.edns ? { edns: r.edns } : {}));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(b: Buffer, ms: { kind: 'flip' | 'cut' | 'insert'; at: number; value: number }[]): Buffer {
  let out = Buffer.from(b);
  for (const m of ms) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at] = m.value;
    else if (m.kind === 'cut') out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), Buffer.from([m.value]), out.subarray(at)]);
  }
  return out;
}

describe('robustness', () => {
  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.constantFrom('udp' as const, 'tcp' as const), async (bytes, t) => {
        await check(Buffer.from(bytes), t);
      }),
      { numRuns: 3000 },
    );
  });

  it('random header + valid-looking question', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 12, maxLength: 12 }), validQuery, async (hdr, q) => {
        const b = Buffer.from(q);
        Buffer.from(hdr).copy(b, 0);
        await check(b, 'udp');
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid queries', async () => {
    await fc.assert(
      fc.asyncProperty(validQuery, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.constantFrom('udp' as const, 'tcp' as const), async (q, ms, t) => {
        await check(mutate(q, ms), t);
      }),
      { numRuns: 5000 },
    );
  });
});
