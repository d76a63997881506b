import { describe, expect, it } from 'vitest';
import { parsePolicies, parseCommunity, type PolicyPrefix, type RouteFacts } from '../../../src/bgp/policy/index.js';
import { isTernError } from '../../../src/errors/index.js';
import { parseIp } from '../../../src/net/ip.js';
import { announce, attr, attrs, drain, ebgp, feed, ibgp, rib } from '../rib/helpers.js';

function pfx(cidr: string): PolicyPrefix {
  const [ip, len] = cidr.split('/') as [string, string];
  const p = parseIp(ip);
  return p.family === 4 ? { family: 4, addr: Number(p.value), len: Number(len) } : { family: 6, addr: p.value, len: Number(len) };
}

function facts(cidr: string | null, o: Partial<RouteFacts> = {}): RouteFacts {
  const prefix = cidr === null ? null : pfx(cidr);
  return { family: prefix?.family ?? 4, prefix, communities: [], largeCommunities: [], asPath: [], neighborAs: 0, ...o };
}

const one = (cfg: unknown) => parsePolicies([cfg]).chain([(cfg as { name: string }).name]);

describe('prefix lists', () => {
  const cases: Array<[string, { prefix: string; ge?: number; le?: number }, string, boolean]> = [
    ['exact match', { prefix: '10.0.0.0/8' }, '10.0.0.0/8', true],
    ['exact: longer does not match', { prefix: '10.0.0.0/8' }, '10.1.0.0/16', false],
    ['ge only: up to /32', { prefix: '10.0.0.0/8', ge: 24 }, '10.1.2.3/32', true],
    ['ge only: below ge', { prefix: '10.0.0.0/8', ge: 24 }, '10.1.0.0/23', false],
    ['le only: from the prefix length', { prefix: '10.0.0.0/8', le: 16 }, '10.0.0.0/8', true],
    ['le only: longer than le', { prefix: '10.0.0.0/8', le: 16 }, '10.1.1.0/24', false],
    ['ge..le inside', { prefix: '10.244.0.0/16', ge: 24, le: 26 }, '10.244.7.64/26', true],
    ['ge..le: upper edge +1', { prefix: '10.244.0.0/16', ge: 24, le: 26 }, '10.244.7.64/27', false],
    ['ge..le: lower edge -1', { prefix: '10.244.0.0/16', ge: 24, le: 26 }, '10.244.6.0/23', false],
    ['outside the covering prefix', { prefix: '10.244.0.0/16', ge: 24, le: 26 }, '10.245.0.0/24', false],
    ['/0 le 32 matches everything IPv4', { prefix: '0.0.0.0/0', le: 32 }, '192.0.2.1/32', true],
    ['IPv6 ge/le', { prefix: '2001:db8::/32', ge: 48, le: 64 }, '2001:db8:5::/48', true],
    ['IPv6 too long', { prefix: '2001:db8::/32', ge: 48, le: 64 }, '2001:db8:5::/65', false],
    ['IPv6 entry never matches IPv4', { prefix: '::/0', le: 128 }, '10.0.0.0/8', false],
    ['IPv4 entry never matches IPv6', { prefix: '0.0.0.0/0', le: 32 }, '2001:db8::/32', false],
  ];
  for (const [name, entry, route, want] of cases) {
    it(name, () => {
      const c = one({ name: 'p', default: 'reject', terms: [{ match: { prefixes: [entry] }, then: { action: 'accept' } }] });
      expect(c.matchesPrefix).toBe(true);
      expect(c.evaluate(facts(route)).accept).toBe(want);
    });
  }
});

describe('matches and actions', () => {
  it('community any/all, large community, AS path contains, neighbour AS, family', () => {
    const c = one({
      name: 'm',
      default: 'reject',
      terms: [
        { name: 'any', match: { community: { any: ['65000:1', '65000:2'] } }, then: { localPref: 10, action: 'accept' } },
        { name: 'all', match: { community: { all: ['65000:3', 'NO_EXPORT'] } }, then: { localPref: 20, action: 'accept' } },
        { name: 'lc', match: { largeCommunity: { any: ['65000:1:2'] } }, then: { localPref: 30, action: 'accept' } },
        { name: 'path', match: { asPathContains: [64999] }, then: { localPref: 40, action: 'accept' } },
        { name: 'nbr', match: { neighborAs: [65100], family: 'ipv6' }, then: { localPref: 50, action: 'accept' } },
      ],
    });
    expect(c.matchesPrefix).toBe(false);
    const lp = (f: RouteFacts) => {
      const r = c.evaluate(f);
      return r.accept ? r.edits?.localPref : 'reject';
    };
    expect(lp(facts(null, { communities: [parseCommunity('65000:2')!] }))).toBe(10);
    expect(lp(facts(null, { communities: [parseCommunity('65000:3')!] }))).toBe('reject');
    expect(lp(facts(null, { communities: [parseCommunity('65000:3')!, 0xffffff01] }))).toBe(20);
    expect(lp(facts(null, { largeCommunities: [{ global: 65000, local1: 1, local2: 2 }] }))).toBe(30);
    expect(lp(facts(null, { asPath: [1, 64999, 2] }))).toBe(40);
    expect(lp(facts(null, { neighborAs: 65100 }))).toBe('reject');
    expect(lp(facts(null, { neighborAs: 65100, family: 6 }))).toBe(50);
  });

  it('actions accumulate over terms without an action; communities add/remove/set; prepend; next hop', () => {
    const c = one({
      name: 'a',
      default: 'accept',
      terms: [
        { then: { communities: { add: ['65000:9'], remove: ['65000:1'] }, med: 5 } },
        { match: { community: { any: ['65000:9'] } }, then: { largeCommunities: { set: ['1:2:3'] }, prepend: { times: 2 }, nextHop: 'self' } },
        { then: { prepend: { times: 1, as: 64512 } } },
      ],
    });
    const r = c.evaluate(facts(null, { communities: [parseCommunity('65000:1')!, parseCommunity('65000:2')!] }));
    expect(r.accept).toBe(true);
    expect(r.edits).toEqual({
      communities: [parseCommunity('65000:2'), parseCommunity('65000:9')],
      med: 5,
      largeCommunities: [{ global: 1, local1: 2, local2: 3 }],
      prepend: [64512, null, null],
      nextHop: 'self',
    });
  });

  it('default action applies when no term decides; a chain needs every policy to accept', () => {
    const t = parsePolicies([
      { name: 'yes', default: 'accept' },
      { name: 'no', default: 'reject' },
      { name: 'lp', default: 'accept', terms: [{ then: { localPref: 7 } }] },
    ]);
    expect(t.chain(['yes']).evaluate(facts(null)).accept).toBe(true);
    expect(t.chain(['no']).evaluate(facts(null)).accept).toBe(false);
    expect(t.chain(['lp', 'no']).evaluate(facts(null)).accept).toBe(false);
    expect(t.chain(['yes', 'lp']).evaluate(facts(null))).toEqual({ accept: true, edits: { localPref: 7 } });
    expect(() => t.chain(['missing'])).toThrow(/unknown policy "missing"/);
  });
});

describe('schema errors name the field', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['bad prefix', [{ name: 'x', terms: [{ match: { prefixes: [{ prefix: '10.0.0.0/33' }] } }] }], /\[0\]\.terms\[0\]\.match\.prefixes\[0\]\.prefix: "10\.0\.0\.0\/33"/],
    ['ge below length', [{ name: 'x', terms: [{ match: { prefixes: [{ prefix: '10.0.0.0/16', ge: 8 }] } }] }], /prefixes\[0\]\.ge: ge 8 must be between/],
    ['le below ge', [{ name: 'x', terms: [{ match: { prefixes: [{ prefix: '10.0.0.0/16', ge: 24, le: 20 }] } }] }], /prefixes\[0\]\.le/],
    ['bad community', [{ name: 'x', terms: [{ match: { community: { any: ['65536:1'] } } }] }], /match\.community\.any\[0\]: not a community/],
    ['bad large community', [{ name: 'x', terms: [{ then: { largeCommunities: { add: ['1:2'] } } }] }], /then\.largeCommunities\.add\[0\]: not a large community/],
    ['unknown field', [{ name: 'x', terms: [{ then: { localpref: 5 } }] }], /\[0\]\.terms\[0\]\.then/],
    ['bad next hop', [{ name: 'x', terms: [{ then: { nextHop: 'me' } }] }], /then\.nextHop: must be "self" or an IP address/],
    ['duplicate name', [{ name: 'x' }, { name: 'x' }], /\[1\]\.name: policy "x" is defined twice/],
    ['bad default', [{ name: 'x', default: 'maybe' }], /\[0\]\.default/],
  ];
  for (const [name, input, re] of bad) {
    it(name, () => {
      try {
        parsePolicies(input);
        expect.unreachable();
      } catch (e) {
        expect(isTernError(e, 'TERN_ERR_CONFIG')).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    });
  }
});

describe('policies in the RIB', () => {
  it('import: reject by prefix, set LOCAL_PREF by community (cached per attribute set)', () => {
    const r = rib({
      policyConfig: [
        { name: 'no-default', default: 'accept', terms: [{ match: { prefixes: [{ prefix: '0.0.0.0/0' }] }, then: { action: 'reject' } }] },
        { name: 'pref', default: 'accept', terms: [{ match: { community: { any: ['65100:80'] } }, then: { localPref: 80 } }] },
      ],
    });
    r.peerUp(ebgp(1, { importPolicies: ['no-default', 'pref'] }), () => {});
    feed(r, 1, announce(['0.0.0.0/0', '10.0.0.0/24'], attrs({ asPath: [65101], communities: [65100 * 65536 + 80] })));
    feed(r, 1, announce(['10.0.1.0/24'], attrs({ asPath: [65101] })));
    expect(r.lookup('0.0.0.0/0')).toBeNull();
    expect(r.lookup('10.0.0.0/24')?.best?.localPref).toBe(80);
    expect(r.lookup('10.0.1.0/24')?.best?.localPref).toBe(100);

    const r2 = rib({ policyConfig: [{ name: 'pref', default: 'accept', terms: [{ match: { community: { any: ['65100:80'] } }, then: { localPref: 80 } }] }] });
    r2.peerUp(ebgp(1, { importPolicies: ['pref'] }), () => {});
    const a = attrs({ asPath: [65101], communities: [65100 * 65536 + 80] });
    feed(r2, 1, announce(['10.0.0.0/24'], a));
    feed(r2, 1, announce(['10.0.1.0/24'], a));
    // Received set + policy result set, shared by both prefixes.
    expect(r2.stats().attributeSets).toBe(2);
    feed(r2, 1, announce(['10.0.0.0/24', '10.0.1.0/24'], attrs({ asPath: [65101] })));
    expect(r2.stats().attributeSets).toBe(1);
  });

  it('export: prepend and community set towards eBGP; unknown policy names reject everything', () => {
    const r = rib({
      policyConfig: [{ name: 'out', default: 'reject', terms: [{ match: { prefixes: [{ prefix: '10.0.0.0/8', le: 24 }] }, then: { prepend: { times: 2 }, communities: { set: ['65000:100'] }, action: 'accept' } }] }],
    });
    r.peerUp(ibgp(1), () => {});
    r.peerUp(ebgp(2, { exportPolicies: ['out'] }), () => {});
    r.peerUp(ebgp(3, { exportPolicies: ['nope'] }), () => {});
    feed(r, 1, announce(['10.0.0.0/24', '192.168.0.0/24'], attrs({ asPath: [65300], communities: [1] })));
    const d = drain(r, 2);
    expect([...d.announced.keys()]).toEqual(['10.0.0.0/24']);
    const a = d.announced.get('10.0.0.0/24');
    expect(attr(a, 'AS_PATH')?.segments.flatMap((s) => s.asns)).toEqual([65000, 65000, 65000, 65300]);
    expect(attr(a, 'COMMUNITIES')?.communities).toEqual([65000 * 65536 + 100]);
    expect(drain(r, 3).announced.size).toBe(0);
  });
});
