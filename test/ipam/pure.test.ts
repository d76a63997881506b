// Pure parts of IPAM: selector language, pool defaults, block codec, free-block search.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { matchSelector, parseSelector } from '../../src/resources/selector.js';
import { normalizePool } from '../../src/ipam/pool.js';
import { Block } from '../../src/ipam/block.js';
import { firstFreeBlock } from '../../src/ipam/index.js';
import { validateHandle } from '../../src/ipam/records.js';
import { formatCidr, parseCidr } from '../../src/net/ip.js';

describe('selector', () => {
  const labels = { zone: 'a', 'topology.kubernetes.io/rack': 'r1', gpu: '' };
  // Table of {selector, labels → expected}, Calico semantics (`!=` is true when the label is absent).
  const cases: [string, boolean][] = [
    ['all()', true],
    ['', true],
    ['!all()', false],
    ['zone == "a"', true],
    ["zone == 'b'", false],
    ['zone != "b"', true],
    ['missing != "x"', true],
    ['missing == ""', false],
    ['has(gpu)', true],
    ['!has(gpu)', false],
    ['!has(missing)', true],
    ['has(topology.kubernetes.io/rack)', true],
    ['zone == "a" && topology.kubernetes.io/rack == "r1"', true],
    ['zone == "a" && has(missing)', false],
    ['zone == "b" || has(gpu)', true],
    ['!(zone == "a" && has(gpu))', false],
    ['  zone=="a"&&has( gpu )  ', true],
  ];
  it.each(cases)('%s → %s', (src, want) => {
    const r = parseSelector(src);
    if (!r.ok) throw new Error(r.error);
    expect(matchSelector(r.value, labels)).toBe(want);
  });

  it.each(['zone = "a"', 'zone == a', 'has(', 'zone == "a" &&', '&& x', 'zone == "unterminated', 'all() extra', '(has(a)'])('rejects %s', (src) => {
    const r = parseSelector(src);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
  });
});

describe('normalizePool', () => {
  it('applies the defaults per family', () => {
    const v4 = normalizePool({ metadata: { name: 'p4' }, spec: { cidr: '10.244.0.0/16' } });
    const v6 = normalizePool({ metadata: { name: 'p6' }, spec: { cidr: 'fd00:10::/64' } });
    expect(v4.ok && v6.ok).toBe(true);
    if (!v4.ok || !v6.ok) return;
    expect(v4.pool).toMatchObject({ blockSize: 26, strictAffinity: false, disabled: false, nodeSelector: 'all()', family: 4 });
    expect(v6.pool).toMatchObject({ blockSize: 122, family: 6, cidrText: 'fd00:10::/64' });
  });

  it.each([
    [{ spec: { cidr: '10.0.0.0/16' } }, 'metadata.name'],
    [{ metadata: { name: 'x' }, spec: {} }, 'spec.cidr'],
    [{ metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16', blockSize: 33 } }, 'blockSize'],
    [{ metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16', blockSize: 19 } }, 'blockSize'],
    [{ metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/28', blockSize: 26 } }, 'larger than the pool'],
    [{ metadata: { name: 'x' }, spec: { cidr: 'fd00::/64', blockSize: 26 } }, 'blockSize'],
    [{ metadata: { name: 'x' }, spec: { cidr: '10.0.0.0/16', nodeSelector: 'zone = "a"' } }, 'nodeSelector'],
  ])('rejects %j', (raw, what) => {
    const r = normalizePool(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(what);
  });
});

describe('Block codec', () => {
  it('round-trips allocations through the bitmap and map', () => {
    const b = Block.empty(parseCidr('10.244.1.0/26'), 'n1');
    b.allocate(0, { handle: 'c1.eth0', node: 'n1' });
    b.allocate(9, { handle: 'c2.eth0', node: 'n2', attrs: { namespace: 'default', pod: 'web' } });
    b.allocate(63, { handle: 'c3.eth0', node: 'n1' });
    const text = b.encode();
    const j = JSON.parse(text) as { used: string };
    // Ordinal 0 is the top bit of byte 0, 9 is bit 6 of byte 1, 63 the low bit of byte 7.
    expect([...Buffer.from(j.used, 'base64')]).toEqual([0x80, 0x40, 0, 0, 0, 0, 0, 0x01]);
    const d = Block.decode(text);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.block.encode()).toBe(text);
    expect(d.block.used).toBe(3);
    expect(d.block.ipOf(63)).toBe('10.244.1.63');
    expect(d.block.ordinalOf('10.244.1.9')).toBe(9);
    expect(d.block.ordinalOf('10.244.2.9')).toBeUndefined();
    expect(d.block.allocations.get(9)?.attrs?.pod).toBe('web');
  });

  it('refuses records whose bitmap and map disagree', () => {
    const b = Block.empty(parseCidr('10.0.0.0/30'), null);
    b.allocate(1, { handle: 'h', node: 'n' });
    const j = JSON.parse(b.encode()) as Record<string, unknown>;
    expect(Block.decode(JSON.stringify({ ...j, used: Buffer.from([0xc0]).toString('base64') })).ok).toBe(false);
    expect(Block.decode(JSON.stringify({ ...j, allocations: {} })).ok).toBe(false);
    expect(Block.decode(JSON.stringify({ ...j, allocations: { '7': { handle: 'h', node: 'n' } } })).ok).toBe(false);
    expect(Block.decode(JSON.stringify({ ...j, used: 'AAAA' })).ok).toBe(false);
    expect(Block.decode('not json').ok).toBe(false);
  });

  it('hands out every ordinal once and continues after the last one given', () => {
    fc.assert(
      fc.property(fc.integer({ min: 26, max: 32 }), fc.array(fc.nat(), { maxLength: 40 }), (len, frees) => {
        const b = Block.empty(parseCidr(`10.9.0.0/${len}`), 'n');
        const got = new Set<number>();
        for (let o = b.findFree(); o !== undefined; o = b.findFree()) {
          expect(got.has(o)).toBe(false);
          got.add(o);
          b.allocate(o, { handle: `h${o}`, node: 'n' });
        }
        expect(got.size).toBe(b.size);
        // Free some, then the next allocations reuse exactly those.
        const freed = new Set(frees.map((f) => f % b.size));
        for (const f of freed) b.release(f);
        const again = new Set<number>();
        for (let o = b.findFree(); o !== undefined; o = b.findFree()) {
          again.add(o);
          b.allocate(o, { handle: `x${o}`, node: 'n' });
        }
        expect([...again].sort()).toEqual([...freed].sort());
        expect(Block.decode(b.encode()).ok).toBe(true);
      }),
    );
  });

  it('does not reuse a just-released ordinal while others are free', () => {
    const b = Block.empty(parseCidr('10.0.0.0/29'), 'n');
    b.allocate(b.findFree()!, { handle: 'a', node: 'n' });
    b.release(0);
    expect(b.findFree()).toBe(1);
  });
});

describe('firstFreeBlock', () => {
  const pool = (cidr: string, blockSize: number) => {
    const r = normalizePool({ metadata: { name: 'p' }, spec: { cidr, blockSize } });
    if (!r.ok) throw new Error(r.error);
    return r.pool;
  };
  const c = (s: string) => parseCidr(s);
  it('finds the lowest gap, skipping blocks of other sizes and foreign ones', () => {
    const p = pool('10.0.0.0/24', 26);
    expect(formatCidr(firstFreeBlock(p, [])!)).toBe('10.0.0.0/26');
    expect(formatCidr(firstFreeBlock(p, [c('10.0.0.0/26'), c('10.0.1.0/26')])!)).toBe('10.0.0.64/26');
    expect(formatCidr(firstFreeBlock(p, [c('10.0.0.64/26'), c('10.0.0.0/26')])!)).toBe('10.0.0.128/26');
    // An odd-sized /25 (pool redefined) covers two /26 candidates.
    expect(formatCidr(firstFreeBlock(p, [c('10.0.0.0/25'), c('10.0.0.160/27')])!)).toBe('10.0.0.192/26');
    expect(firstFreeBlock(p, [c('10.0.0.0/25'), c('10.0.0.128/26'), c('10.0.0.192/26')])).toBeUndefined();
  });

  it('walks existing blocks, not the 2^58 blocks of an IPv6 /64', () => {
    const p = pool('fd00:1::/64', 122);
    const taken = Array.from({ length: 1000 }, (_, i) => ({ family: 6 as const, base: p.cidr.base + BigInt(i) * 64n, prefixLen: 122 }));
    expect(formatCidr(firstFreeBlock(p, taken)!)).toBe('fd00:1::fa00/122') // 1000 × 64 = 0xfa00;
  });
});

describe('validateHandle', () => {
  it.each([['abc.eth0', true], ['', false], ['a/b', false], ['a b', false], ['x\n', false], ['a'.repeat(513), false]])('%j → %s', (h, ok) => {
    expect(validateHandle(h) === undefined).toBe(ok);
  });
});
