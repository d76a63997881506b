// DnsIndex: merging, deduplication, order independence, O(changed) invalidation, bad input.
import { describe, expect, it } from 'vitest';
import { DnsIndex, type IndexEvent } from '../../src/dns/index/index.js';
import { RRType } from '../../src/dns/wire/index.js';
import { DnsEngine } from '../../src/dns/answer/index.js';
import { clusterFixture, scaleService, scaleSlice, service, slice } from './fixtures.js';
import { ask, rrText, sorted } from './helpers.js';

const probes: [string, number][] = [
  ['hdls.ns1.svc.cluster.local.', RRType.A], ['hdls.ns1.svc.cluster.local.', RRType.AAAA],
  ['_http._tcp.hdls.ns1.svc.cluster.local.', RRType.SRV], ['svc1.ns1.svc.cluster.local.', RRType.A],
  ['2.0.17.172.in-addr.arpa.', RRType.PTR], ['pnr.ns1.svc.cluster.local.', RRType.A], ['10-244-1-5.ns1.pod.cluster.local.', RRType.A],
  ['extin.ns1.svc.cluster.local.', RRType.A], ['emptyns.svc.cluster.local.', RRType.A],
];

async function snapshot(events: IndexEvent[][]): Promise<string[]> {
  const index = new DnsIndex();
  for (const b of events) index.applyBatch(b);
  index.markSynced();
  const engine = new DnsEngine(index, { serial: 1, pods: 'verified' });
  const out: string[] = [];
  for (const [n, t] of probes) {
    const m = await ask(engine, n, t);
    out.push(`${n} ${t} rcode=${m.rcode} ${sorted(m.answers.map(rrText)).join(' | ')} || ${sorted(m.additionals.map(rrText)).join(' | ')}`);
  }
  return out;
}

function shuffle<T>(a: T[], seed: number): T[] {
  const out = [...a];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('DnsIndex', () => {
  it('gives the same answers whatever the order, batching or duplication of events', async () => {
    const fx = clusterFixture();
    const want = await snapshot([fx]);
    expect(want.join('\n')).toContain('172.17.0.4');
    for (let seed = 1; seed <= 5; seed++) {
      const sh = shuffle(fx, seed);
      expect(await snapshot([sh])).toEqual(want);
      expect(await snapshot(sh.map((e) => [e]))).toEqual(want); // one event per batch
      expect(await snapshot([[...sh, ...shuffle(fx, seed + 100)]])).toEqual(want); // duplicated
    }
  });

  it('moves endpoints when a slice changes owner and drops them on delete', () => {
    const index = new DnsIndex();
    index.applyBatch([
      service('a', 's1', { clusterIP: 'None' }), service('a', 's2', { clusterIP: 'None' }),
      slice('a', 'x', 's1', [{ ip: '10.1.0.1' }, { ip: '10.1.0.1' }], []),
    ]);
    const s1 = index.service('a', 's1')!;
    const s2 = index.service('a', 's2')!;
    expect(index.endpointsOf(s1).map((e) => e.ip)).toEqual(['10.1.0.1']); // deduplicated
    expect(index.ptrOwners('10.1.0.1')).toEqual(['a/s1']);
    index.applyBatch([slice('a', 'x', 's2', [{ ip: '10.1.0.1' }], [])]);
    expect(index.endpointsOf(s1)).toEqual([]);
    expect(index.endpointsOf(s2).map((e) => e.ip)).toEqual(['10.1.0.1']);
    expect(index.ptrOwners('10.1.0.1')).toEqual(['a/s2']);
    index.applyBatch([{ type: 'delete', kind: 'EndpointSlice', namespace: 'a', name: 'x' }]);
    expect(index.endpointsOf(s2)).toEqual([]);
    expect(index.ptrOwners('10.1.0.1')).toEqual([]);
    expect(index.stats().endpoints).toBe(0);
  });

  it('ignores invalid objects (counted) and an invalid update removes the old version', () => {
    const index = new DnsIndex();
    index.applyBatch([service('a', 's1', { clusterIP: '10.0.0.1' })]);
    index.applyBatch([
      { type: 'put', kind: 'Service', obj: { metadata: { name: 'x' } } }, // no namespace
      { type: 'put', kind: 'Service', obj: 42 },
      { type: 'put', kind: 'EndpointSlice', obj: { metadata: { name: 'y', namespace: 'a' } } }, // no service label
      { type: 'put', kind: 'Service', obj: { metadata: { name: 's1', namespace: 'a' }, spec: { type: 'ExternalName' } } },
    ]);
    expect(index.stats().rejected).toBe(4);
    expect(index.service('a', 's1')).toBeUndefined();
    expect(index.ptrOwners('10.0.0.1')).toEqual([]);
  });

  it('reports only the changed objects’ tags, however large the index', () => {
    const index = new DnsIndex();
    for (let i = 0; i < 2000; i += 500) {
      index.applyBatch(Array.from({ length: 500 }, (_, k) => scaleService(i + k)));
      index.applyBatch(Array.from({ length: 500 }, (_, k) => scaleSlice(i + k, 5)));
    }
    const seen: string[][] = [];
    index.onChange((t) => seen.push([...t]));
    index.applyBatch([scaleSlice(7, 6)]); // service-7 (ClusterIP) gains an endpoint
    expect(seen).toEqual([['svc:team-7/service-7']]);
    seen.length = 0;
    index.applyBatch([scaleSlice(8, 6)]); // service-8 is headless: its endpoints have PTRs (all renumbered here)
    expect(seen.length).toBe(1);
    // The service tag plus the old (5) and new (6) endpoint addresses: nothing from other services.
    expect(seen[0]!.length).toBe(1 + 5 + 6);
    expect(seen[0]).toContain('svc:team-8/service-8');
  });
});
