import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cidrContains, cidrOverlaps, formatCidr, formatIp, parseCidr, parseIp, subnet } from '../src/net/ip.js';

describe('net/ip', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ])('parses and formats %s', (s, out) => expect(formatIp(parseIp(s))).toBe(out));

  it('round-trips any IPv4 and IPv6 value', () => {
    fc.assert(fc.property(fc.ipV4(), (s) => formatIp(parseIp(s)) === s));
    fc.assert(fc.property(fc.ipV6(), (s) => formatIp(parseIp(formatIp(parseIp(s)))) === formatIp(parseIp(s))));
  });

  it('rejects host bits and bad lengths', () => {
    expect(() => parseCidr('10.0.0.1/24')).toThrow(/host bits/);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => parseCidr('10.0.0.0')).toThrow(/missing/);
    expect(formatCidr(parseCidr('10.0.0.1/24', { strict: false }))).toBe('10.0.0.0/24');
  });

  it('computes containment, overlap and subnets', () => {
    const pool = parseCidr('10.244.0.0/16');
    expect(cidrContains(pool, parseCidr('10.244.3.0/26'))).toBe(true);
    expect(cidrOverlaps(pool, parseCidr('10.0.0.0/8'))).toBe(true);
    expect(cidrOverlaps(pool, parseCidr('10.245.0.0/16'))).toBe(false);
    expect(cidrOverlaps(pool, parseCidr('fd00::/8'))).toBe(false);
    expect(formatCidr(subnet(pool, 26, 5n))).toBe('10.244.1.64/26');
    expect(formatCidr(subnet(parseCidr('fd00:10::/64'), 122, 1n))).toBe('fd00:10::40/122');
  });
});
