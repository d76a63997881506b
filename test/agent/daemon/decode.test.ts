// The WorkloadEndpoint decoder's field check (strip.ts stripStoredEndpoint) against the schema:
// for every stored value, decoding with the check gives exactly what decoding through the
// schema gives (the same stripped object, or the same error), and the common valid forms
// never reach the schema. Pure: no etcd.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Interner, stripStoredEndpoint } from '../../../src/agent/daemon/strip.js';
import { decodeEndpoint } from '../../../src/agent/daemon/watch.js';
import { Keys } from '../../../src/datastore/keys.js';
import { storedDecoder } from '../../../src/resources/index.js';

const keys = new Keys('/tern/');
const isEndpointKey = (k: string): boolean => keys.parseResource(k)?.kind === 'WorkloadEndpoint';
const KEY = keys.resource('WorkloadEndpoint', 'p1', 'x');

function bothWays(key: string, value: Buffer) {
  const schema = storedDecoder(keys, 'WorkloadEndpoint');
  let schemaCalls = 0;
  const counted = (k: string, v: Buffer) => {
    schemaCalls++;
    return schema(k, v);
  };
  const fast = decodeEndpoint(counted, new Interner(), key, value, isEndpointKey);
  const slow = decodeEndpoint(schema, new Interner(), key, value);
  return { fast, slow, schemaCalls };
}

const good = {
  apiVersion: 'tern.dev/v1',
  kind: 'WorkloadEndpoint',
  metadata: { name: 'p1', namespace: 'x', labels: { app: 'web', 'example.com/tier': 'f' }, annotations: { note: 'any text', 'a.b/c': '' }, uid: 'u-1', creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: {
    node: 'n1',
    pod: 'p1',
    containerID: 'c1',
    interfaceName: 'cali1234',
    mac: '0a:58:0a:f4:01:05',
    ipNetworks: ['10.244.1.1/32', 'fd00::1/128'],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53 }],
    hostname: 'h',
    subdomain: 's',
    serviceAccountName: 'sa.x',
  },
};

describe('WorkloadEndpoint decoding without the schema', () => {
  it('gives the schema result for valid values, without calling the schema', () => {
    const minimal = { apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: 'p1' }, spec: { node: 'n1' } };
    for (const doc of [good, minimal]) {
      const r = bothWays(KEY, Buffer.from(JSON.stringify(doc)));
      expect(r.fast).toEqual(r.slow);
      expect(r.fast.ok).toBe(true);
      expect(r.schemaCalls).toBe(0);
    }
    // Defaults as the schema applies them: namespace, pod name, ports' protocol, no addresses.
    const m = bothWays(KEY, Buffer.from(JSON.stringify(minimal))).fast;
    expect(m.ok && m.value).toMatchObject({ metadata: { name: 'p1', namespace: 'default' }, spec: { node: 'n1', pod: 'p1', ipNetworks: [] } });
    const g = bothWays(KEY, Buffer.from(JSON.stringify(good))).fast;
    expect(g.ok && g.value.kind === 'WorkloadEndpoint' && g.value.spec.ports?.[1]).toEqual({ name: 'dns', port: 53, protocol: 'TCP' });
  });

  it('leaves every value it is unsure of to the schema, which then decides', () => {
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { ...good, apiVersion: 'v1' },
      { ...good, metadata: { ...good.metadata, name: 'Upper' } },
      { ...good, metadata: { ...good.metadata, namespace: 'a.b' } },
      { ...good, metadata: { ...good.metadata, labels: { '-bad': 'x' } } },
      { ...good, metadata: { ...good.metadata, labels: { app: 'has space' } } },
      { ...good, metadata: { ...good.metadata, labels: JSON.parse('{"__proto__":"x"}') as unknown } },
      { ...good, metadata: { ...good.metadata, resourceVersion: 'x1' } },
      { ...good, spec: { ...good.spec, ipNetworks: null } },
      { ...good, spec: { ...good.spec, ipNetworks: ['10.0.0.1/32', '10.0.0.2/32'] } },
      { ...good, spec: { ...good.spec, ipNetworks: ['10.0.0.1/24'] } },
      { ...good, spec: { ...good.spec, ports: [{ name: 'http', port: 1 }, { name: 'http', port: 2 }] } },
      { ...good, spec: { ...good.spec, ports: [{ name: 'http', port: 1, protocol: 'ICMP' }] } },
      { ...good, spec: { ...good.spec, ports: [{ name: 'http', port: 1.5 }] } },
      { ...good, spec: { ...good.spec, interfaceName: 'a/b' } },
      { ...good, spec: { ...good.spec, containerID: '' } },
      { ...good, spec: { ...good.spec, mac: '0a:58' } },
      { ...good, spec: { ...good.spec, node: null } },
      [good],
      'text',
    ];
    for (const doc of bad) {
      const r = bothWays(KEY, Buffer.from(JSON.stringify(doc)));
      expect(r.fast).toEqual(r.slow);
    }
    const notJson = bothWays(KEY, Buffer.from('{"apiVersion":'));
    expect(notJson.fast).toEqual(notJson.slow);
    expect(notJson.fast.ok).toBe(false);
    // A value under another kind's key is the schema decoder's error, as before.
    const otherKey = bothWays(keys.resource('Namespace', 'x'), Buffer.from(JSON.stringify(good)));
    expect(otherKey.fast).toEqual(otherKey.slow);
    expect(otherKey.fast.ok).toBe(false);
  });

  it('never disagrees with the schema over random values', () => {
    // Valid documents, then zero to two mutations each: a field set to a value of another
    // shape or an invalid one, a field deleted, or an unknown field added.
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
    const name = fc.constantFrom('p1', 'a.b', 'web-0', '1');
    const label = fc.constantFrom('app', 'a.io/b', 'k8s.io/x_y');
    const value = fc.constantFrom('web', '', 'a_b.c', 'v1');
    const validDoc = fc.record({
      apiVersion: fc.constant('tern.dev/v1'),
      kind: fc.constant('WorkloadEndpoint'),
      metadata: fc.record({ name, namespace: maybe(fc.constantFrom('x', 'default')), labels: maybe(fc.dictionary(label, value, { maxKeys: 3 })), annotations: maybe(fc.dictionary(label, fc.string(), { maxKeys: 2 })), uid: maybe(fc.string()) }, { requiredKeys: ['name'] }),
      spec: fc.record(
        {
          node: name,
          pod: maybe(name),
          containerID: maybe(fc.constantFrom('c1', 'abc')),
          interfaceName: maybe(fc.constantFrom('cali1', 'b1f', 'x'.repeat(15))),
          mac: maybe(fc.constant('0a:58:0a:f4:01:05')),
          ipNetworks: maybe(fc.constantFrom([], ['10.0.0.1/32'], ['fd00::1/128'], ['10.0.0.1/32', 'fd00::2/128'], ['10.0.0.0/24'])),
          ports: maybe(fc.uniqueArray(fc.record({ name: fc.constantFrom('http', 'dns', 'metrics'), port: fc.integer({ min: 1, max: 65535 }), protocol: maybe(fc.constantFrom('TCP', 'UDP', 'SCTP')) }, { requiredKeys: ['name', 'port'] }), { selector: (p) => p.name, maxLength: 3 })),
          hostname: maybe(fc.constant('h')),
          subdomain: maybe(fc.constant('s')),
          serviceAccountName: maybe(fc.constant('sa.x')),
        },
        { requiredKeys: ['node'] },
      ),
    });
    const weird = fc.constantFrom<unknown>(null, 0, 1.5, 65536, true, [], {}, '', 'Upper', '-x', 'a b', 'a'.repeat(64), 'a'.repeat(254), '10.0.0.1/24', '10.0.0.1', 'ICMP', 'a/b', ['10.0.0.1/32', '10.0.0.2/32'], [{ name: 'http', port: 1 }, { name: 'http', port: 2 }], { _bad: 'x' }, { app: 'x y' });
    const path = fc.constantFrom(
      ['x'], ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'namespace'], ['metadata', 'labels'], ['metadata', 'labels', 'app'], ['metadata', 'labels', '-k'],
      ['metadata', 'annotations'], ['metadata', 'uid'], ['metadata', 'resourceVersion'], ['metadata', 'x'], ['spec'], ['spec', 'node'], ['spec', 'pod'], ['spec', 'containerID'],
      ['spec', 'interfaceName'], ['spec', 'mac'], ['spec', 'ipNetworks'], ['spec', 'ipNetworks', '0'], ['spec', 'ports'], ['spec', 'ports', '0'], ['spec', 'ports', '0', 'port'],
      ['spec', 'ports', '0', 'protocol'], ['spec', 'ports', '0', 'name'], ['spec', 'ports', '0', 'x'], ['spec', 'hostname'], ['spec', 'subdomain'], ['spec', 'serviceAccountName'], ['spec', 'x'],
    );
    const mutation = fc.record({ path, value: fc.oneof(weird, fc.constant(undefined)) });
    const mutate = (doc: unknown, muts: Array<{ path: readonly string[]; value: unknown }>): unknown => {
      const d = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
      for (const { path: p, value: v } of muts) {
        let o: unknown = d;
        for (const k of p.slice(0, -1)) o = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;
        if (typeof o !== 'object' || o === null) continue;
        const last = p[p.length - 1]!;
        if (v === undefined) delete (o as Record<string, unknown>)[last];
        else (o as Record<string, unknown>)[last] = v;
      }
      return d;
    };
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(validDoc, fc.array(mutation, { maxLength: 2 }), (doc, muts) => {
        const d = mutate(doc, muts);
        const r = bothWays(KEY, Buffer.from(JSON.stringify(d)));
        expect(r.fast).toEqual(r.slow);
        if (stripStoredEndpoint(d, new Interner())) {
          accepted++;
          expect(r.slow.ok).toBe(true);
        } else if (!r.slow.ok) refused++;
      }),
      { numRuns: 4000, seed: 20240611 },
    );
    // Both sides are reached, or the property would prove little.
    expect(accepted).toBeGreaterThan(400);
    expect(refused).toBeGreaterThan(400);
  });
});
