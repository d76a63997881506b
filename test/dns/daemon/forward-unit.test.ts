// The forwarding pieces without sockets: the answer cache (TTL caps, countdown, negative
// caching per RFC 2308, serve-stale per RFC 8767), the recursion ACL, resolv.conf parsing,
// and the watch-batch mapping of the feed.
import { describe, expect, it } from 'vitest';
import { ForwardCache, STALE_TTL, cacheKey, recursionAcl, parseResolvConf, parseUpstream } from '../../../src/dns/forward/index.js';
import { toIndexEvents } from '../../../src/dns/daemon/feed.js';
import { Keys } from '../../../src/datastore/keys.js';
import { DnsIndex } from '../../../src/dns/index/index.js';
import { DnsEngine } from '../../../src/dns/answer/index.js';
import { SectionWriter, decodeMessage, encodeQuery, RRType, type RR } from '../../../src/dns/wire/index.js';

/** A response to `name`/A with the given answer and authority records, built with our encoder. */
function response(name: string, rcode: number, answer: RR[], authority: RR[]): Buffer {
  const q = encodeQuery(name, RRType.A);
  const w = new SectionWriter(q.length);
  for (const r of [...answer, ...authority]) w.rr(r);
  const out = Buffer.concat([q, w.finish()]);
  out.writeUInt16BE(0x8180 | rcode, 2);
  out.writeUInt16BE(answer.length, 6);
  out.writeUInt16BE(authority.length, 8);
  return out;
}
const a = (name: string, ttl: number): RR => ({ name: name.split('.'), type: RRType.A, ttl, data: { t: 'addr', bytes: Uint8Array.from([192, 0, 2, 1]) } });
const soa = (ttl: number, minimum: number): RR => ({
  name: ['example', 'test'], type: RRType.SOA, ttl,
  data: { t: 'soa', mname: ['ns', 'example', 'test'], rname: ['h', 'example', 'test'], serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
});
const ttls = (b: Buffer): number[] => {
  const d = decodeMessage(b);
  if (!d.ok) throw new Error(d.error);
  return [...d.msg.answers, ...d.msg.authorities].map((r) => r.ttl);
};

describe('ForwardCache', () => {
  const opts = { maxTtl: 100, maxNegativeTtl: 20, maxEntries: 3, staleSeconds: 60 };
  const key = cacheKey('www', 1, 1, false);

  it('counts TTLs down and caps them', () => {
    const c = new ForwardCache(opts);
    expect(c.put(key, response('www.example.test', 0, [a('www.example.test', 300)], []), 0)).toBe(true);
    expect(ttls(c.get(key, 0)!.msg)).toEqual([100]);
    expect(ttls(c.get(key, 40_500)!.msg)).toEqual([60]);
    expect(c.get(key, 100_000)).toBeUndefined();
    expect(c.hits).toBe(2);
  });

  it('caches negatives for min(SOA TTL, MINIMUM) capped, and not at all without an SOA', () => {
    const c = new ForwardCache(opts);
    expect(c.put(key, response('x.example.test', 3, [], [soa(60, 10)]), 0)).toBe(true);
    expect(c.get(key, 9_000)!.negative).toBe(true);
    expect(c.get(key, 10_000)).toBeUndefined();
    expect(c.put(cacheKey('y', 1, 1, false), response('y.example.test', 3, [], []), 0)).toBe(false);
    expect(c.put(cacheKey('z', 1, 1, false), response('z.example.test', 2, [], []), 0)).toBe(false); // SERVFAIL
  });

  it('serves stale within the window with TTL 30, then forgets', () => {
    const c = new ForwardCache(opts);
    c.put(key, response('www.example.test', 0, [a('www.example.test', 5)], []), 0);
    expect(c.get(key, 6_000)).toBeUndefined();
    expect(ttls(c.getStale(key, 6_000)!)).toEqual([STALE_TTL]);
    expect(c.getStale(key, 66_000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('evicts the oldest entry at the bound, and keys on the DO bit', () => {
    const c = new ForwardCache(opts);
    for (const n of ['a', 'b', 'c', 'd']) c.put(cacheKey(n, 1, 1, false), response(`${n}.example.test`, 0, [a(`${n}.example.test`, 50)], []), 0);
    expect(c.size).toBe(3);
    expect(c.get(cacheKey('a', 1, 1, false), 0)).toBeUndefined();
    expect(c.get(cacheKey('d', 1, 1, true), 0)).toBeUndefined();
    expect(c.get(cacheKey('d', 1, 1, false), 0)).toBeDefined();
  });
});

describe('recursion ACL', () => {
  it('admits the default ranges and nothing else', () => {
    const acl = recursionAcl(['127.0.0.0/8', '10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
    if (!acl.ok) throw new Error(acl.error);
    expect(['127.0.0.1', '10.1.2.3', '::ffff:10.9.9.9', 'fd00::1', '192.0.2.7', undefined].map(acl.allow)).toEqual([true, true, true, true, true, true]);
    expect(['11.0.0.1', '192.0.2.8', '2001:db8::1', '::ffff:8.8.8.8', 'garbage'].map(acl.allow)).toEqual([false, false, false, false, false]);
    expect(recursionAcl(['10.0.0.0/33']).ok).toBe(false);
  });
});

describe('upstream configuration', () => {
  it('reads nameservers from resolv.conf and parses addresses', () => {
    expect(parseResolvConf('# x\nsearch a b\nnameserver 10.0.0.1\nnameserver fd00::53 # v6\nnameserver bogus\noptions ndots:5\n')).toEqual(['10.0.0.1', 'fd00::53']);
    expect(parseUpstream('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseUpstream('10.0.0.1:5353')).toEqual({ host: '10.0.0.1', port: 5353 });
    expect(parseUpstream('[fd00::1]:5300')).toEqual({ host: 'fd00::1', port: 5300 });
    expect(parseUpstream('fd00::1')).toEqual({ host: 'fd00::1', port: 53 });
    expect(parseUpstream('example.com')).toHaveProperty('error');
  });
});

describe('feed mapping', () => {
  it('maps puts to objects and deletes to names parsed from the key', () => {
    const keys = new Keys('/tern/');
    const obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'ns1' }, spec: { clusterIP: '10.0.0.9', ports: [{ port: 80 }] } };
    const evs = toIndexEvents(keys, 'Service', [
      { type: 'put', key: '/tern/services/ns1/web', value: obj as never, modRevision: 2, createRevision: 2 },
      { type: 'delete', key: '/tern/services/ns1/old', modRevision: 3 },
      { type: 'delete', key: '/tern/nodes/n1', modRevision: 4 },
      { type: 'synced', revision: 4, relisted: false },
    ]);
    expect(evs).toEqual([{ type: 'put', kind: 'Service', obj }, { type: 'delete', kind: 'Service', namespace: 'ns1', name: 'old' }]);
    const index = new DnsIndex();
    index.applyBatch(evs);
    index.markSynced();
    expect(new DnsEngine(index, {}).stats().queries).toBe(0);
    expect(index.service('ns1', 'web')?.ips).toEqual(['10.0.0.9']);
  });
});
