// The pure part: which socket options peers' passwords and hop counts ask for, and the
// session config checks for them. No sockets.
import { describe, expect, it } from 'vitest';
import { classifyChange, resolvePeerConfig } from '../../../src/bgp/session/config.js';
import { acceptedSettings, connectSettings, listenerSettings, minTtlFor, type PeerSecurity } from '../../../src/bgp/sockopt/security.js';

const peers = (o: Record<string, Partial<PeerSecurity>>): Map<string, PeerSecurity> =>
  new Map(Object.entries(o).map(([a, s]) => [a, { password: s.password ?? null, ttlSecurity: s.ttlSecurity ?? null }]));

describe('GTSM and MD5 settings', () => {
  it('RFC 5082 §3: one hop means TTL 255, n hops 256 - n', () => {
    expect([1, 2, 3, 255].map(minTtlFor)).toEqual([255, 254, 253, 1]);
  });

  it('an outgoing socket gets its peer\'s key and TTLs, nothing for a plain peer', () => {
    expect(connectSettings('10.0.0.1', { password: 'pw', ttlSecurity: 2 })).toEqual({ md5: [{ address: '10.0.0.1', key: 'pw' }], ttl: 255, minTtl: 254 });
    expect(connectSettings('10.0.0.1', { password: null, ttlSecurity: null })).toEqual({ md5: [] });
    expect(connectSettings('10.0.0.1', undefined)).toEqual({ md5: [] });
  });

  interface Row {
    name: string;
    family: 4 | 6;
    p: Record<string, Partial<PeerSecurity>>;
    md5: string[];
    ttl: number;
    minTtl: number;
    minHopCount: number;
  }
  it.each<Row>([
    { name: 'no peers', family: 4 as const, p: {}, md5: [], ttl: -1, minTtl: 0, minHopCount: 0 },
    { name: 'all IPv4 peers GTSM: the lowest floor', family: 4 as const, p: { '10.0.0.1': { ttlSecurity: 1 }, '10.0.0.2': { ttlSecurity: 3 } }, md5: [], ttl: 255, minTtl: 253, minHopCount: 0 },
    { name: 'one plain peer opens the listener', family: 4 as const, p: { '10.0.0.1': { ttlSecurity: 1 }, '10.0.0.2': { password: 'x' } }, md5: ['10.0.0.2'], ttl: 255, minTtl: 0, minHopCount: 0 },
    { name: 'IPv4 listener ignores IPv6 peers', family: 4 as const, p: { '2001:db8::1': { password: 'x', ttlSecurity: 1 } }, md5: [], ttl: -1, minTtl: 0, minHopCount: 0 },
    { name: 'dual-stack: each family its own floor', family: 6 as const, p: { '10.0.0.1': { ttlSecurity: 1 }, '2001:db8::1': { password: 'y' } }, md5: ['2001:db8::1'], ttl: 255, minTtl: 255, minHopCount: 0 },
    { name: 'dual-stack: IPv6 GTSM only', family: 6 as const, p: { '10.0.0.1': {}, '2001:db8::1': { ttlSecurity: 2 } }, md5: [], ttl: 255, minTtl: 0, minHopCount: 254 },
  ])('listener: $name', ({ family, p, md5, ttl, minTtl, minHopCount }) => {
    const s = listenerSettings(family, peers(p));
    expect(s.md5.map((k) => k.address)).toEqual(md5);
    expect({ ttl: s.ttl, minTtl: s.minTtl, minHopCount: s.minHopCount }).toEqual({ ttl, minTtl, minHopCount });
  });

  it('an accepted connection gets exactly its peer\'s floor', () => {
    expect(acceptedSettings({ password: null, ttlSecurity: 1 })).toEqual({ ttl: 255, minTtl: 255 });
    expect(acceptedSettings({ password: 'x', ttlSecurity: null })).toEqual({ ttl: -1, minTtl: 0 });
    expect(acceptedSettings(undefined)).toEqual({ ttl: -1, minTtl: 0 });
  });
});

describe('peer config: password and ttlSecurity', () => {
  const base = { address: '10.0.0.1', peerAs: 65001, localAs: 65000, routerId: '10.0.0.9' };

  it('defaults to off, keeps valid values', () => {
    expect(resolvePeerConfig(base)).toMatchObject({ password: null, ttlSecurity: null });
    expect(resolvePeerConfig({ ...base, password: 'k'.repeat(80), ttlSecurity: 255 })).toMatchObject({ password: 'k'.repeat(80), ttlSecurity: 255 });
  });

  it.each([
    ['password', { password: '' }],
    ['password', { password: 'k'.repeat(81) }],
    ['password', { password: 'é'.repeat(41) }], // 82 bytes in UTF-8
    ['ttlSecurity', { ttlSecurity: 0 }],
    ['ttlSecurity', { ttlSecurity: 256 }],
    ['ttlSecurity', { ttlSecurity: 1.5 }],
  ])('rejects a bad %s', (field, extra) => {
    expect(() => resolvePeerConfig({ ...base, ...extra })).toThrow(expect.objectContaining({ code: 'TERN_ERR_CONFIG', field }));
  });

  it('changing either resets the session (the sockets change)', () => {
    const a = resolvePeerConfig(base);
    expect(classifyChange(a, resolvePeerConfig({ ...base, password: 'x' }))).toEqual({ kind: 'hard', fields: ['password'] });
    expect(classifyChange(a, resolvePeerConfig({ ...base, ttlSecurity: 1 }))).toEqual({ kind: 'hard', fields: ['ttlSecurity'] });
  });
});
