// The prefix index of FamilyTable (open addressing, backward-shift deletion, rehash on growth)
// checked against a Map model: random inserts, lookups and frees, host bits in the wire octets,
// every prefix length, and the bulk resolveField path over encoded NLRI fields.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FamilyTable } from '../../../src/bgp/rib/table.js';
import { encodePrefix, prefix as parsePrefix, type Prefix } from '../../../src/bgp/wire/index.js';

/** Model key: the network octets (host bits cleared) and the length. */
function keyOf(addr: Uint8Array, len: number): string {
  const out: number[] = [];
  for (let j = 0; j < addr.length; j++) {
    const bits = Math.max(0, Math.min(8, len - j * 8));
    out.push(addr[j]! & ((0xff00 >> bits) & 0xff));
  }
  return `${out.join('.')}/${len}`;
}

const v4 = (a: Uint8Array): number => ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
const mask4 = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

type Op = { kind: 'get' | 'find' | 'free'; addr: Uint8Array; len: number };

/** Addresses from a small pool so that repeats, shared networks and host-bit variants are common. */
function ops(width: 4 | 16): fc.Arbitrary<Op[]> {
  const byte = fc.constantFrom(0, 1, 2, 10, 128, 255);
  const op = fc.record({
    kind: fc.constantFrom<Op['kind']>('get', 'get', 'get', 'find', 'free'),
    addr: fc.array(byte, { minLength: width, maxLength: width }).map((b) => Uint8Array.from(b)),
    len: fc.integer({ min: 0, max: width * 8 }),
  });
  return fc.array(op, { maxLength: 600 });
}

/**
 * A handful of random keys per run: the index stays at 8 or 16 positions, so probe runs often
 * wrap around its end, and each run's keys hash to new positions.
 */
function fewOps(width: 4 | 16): fc.Arbitrary<Op[]> {
  const key = fc.record({
    addr: fc.uint8Array({ minLength: width, maxLength: width }),
    len: fc.integer({ min: 0, max: width * 8 }),
  });
  return fc.array(key, { minLength: 3, maxLength: 6 }).chain((keys) =>
    fc.array(
      fc.record({ kind: fc.constantFrom<Op['kind']>('get', 'get', 'find', 'free'), k: fc.nat(keys.length - 1) }),
      { maxLength: 60 },
    ).map((list) => list.map((o) => ({ kind: o.kind, addr: keys[o.k]!.addr, len: keys[o.k]!.len }))),
  );
}

function check(family: 4 | 6, list: Op[]): void {
  // Capacity 4: the index is rehashed and the slot arrays grown many times on the way.
  const ft = new FamilyTable(family, 4);
  const model = new Map<string, number>();
  const find = (a: Uint8Array, len: number): number => (family === 4 ? ft.find4((v4(a) & mask4(len)) >>> 0, len) : ft.find6(a, 0, len));
  const get = (a: Uint8Array, len: number): number => (family === 4 ? ft.get4((v4(a) & mask4(len)) >>> 0, len) : ft.get6(a, 0, len));
  for (const o of list) {
    const k = keyOf(o.addr, o.len);
    if (o.kind === 'get') {
      const slot = get(o.addr, o.len);
      const known = model.get(k);
      if (known !== undefined) expect(slot).toBe(known);
      else {
        expect([...model.values()]).not.toContain(slot);
        model.set(k, slot);
      }
      expect(ft.format(slot)).toBe(formatKey(family, o.addr, o.len));
    } else if (o.kind === 'find') {
      expect(find(o.addr, o.len)).toBe(model.get(k) ?? -1);
    } else {
      const slot = model.get(k);
      if (slot === undefined) continue;
      // A slot with no path, no reference and no touch mark is freed at once.
      ft.maybeFree(slot);
      model.delete(k);
      expect(find(o.addr, o.len)).toBe(-1);
    }
    expect(ft.count).toBe(model.size);
  }
  // Everything still held is found after all the moves, under its own slot.
  for (const [k, slot] of model) {
    const [a, l] = k.split('/') as [string, string];
    expect(find(Uint8Array.from(a.split('.').map(Number)), Number(l))).toBe(slot);
  }
}

function formatKey(family: 4 | 6, addr: Uint8Array, len: number): string {
  const p = new Uint8Array(family === 4 ? 4 : 16);
  for (let j = 0; j < p.length; j++) p[j] = addr[j]! & ((0xff00 >> Math.max(0, Math.min(8, len - j * 8))) & 0xff);
  const ft = new FamilyTable(family);
  const slot = family === 4 ? ft.get4(v4(p), len) : ft.get6(p, 0, len);
  return ft.format(slot);
}

describe('FamilyTable prefix index', () => {
  it('matches a Map model for IPv4 (inserts, lookups, frees, rehashes)', () => {
    fc.assert(fc.property(ops(4), (list) => check(4, list)), { numRuns: 200 });
  });

  it('matches a Map model for IPv6, host bits in the octets ignored', () => {
    fc.assert(fc.property(ops(16), (list) => check(6, list)), { numRuns: 200 });
  });

  it('matches the model with few keys, where probe runs wrap around the end of the index', () => {
    fc.assert(fc.property(fewOps(4), (list) => check(4, list)), { numRuns: 2000 });
    fc.assert(fc.property(fewOps(16), (list) => check(6, list)), { numRuns: 2000 });
  });

  it.each([
    ['a default table', undefined],
    ['a reserved one (index sized for half of it at once), grown past the reservation', 65_536],
  ])('keeps 200,000 sequential prefixes apart through growth and frees every other one: %s', (_, reserve) => {
    const ft = new FamilyTable(4, reserve);
    const n = 200_000;
    const slots = new Int32Array(n);
    for (let i = 0; i < n; i++) slots[i] = ft.get4((0x0a000000 + i * 256) >>> 0, 24);
    expect(new Set(slots).size).toBe(n);
    for (let i = 0; i < n; i += 2) ft.maybeFree(slots[i]!);
    expect(ft.count).toBe(n / 2);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (ft.find4((0x0a000000 + i * 256) >>> 0, 24) !== (i % 2 === 0 ? -1 : slots[i])) wrong++;
    expect(wrong).toBe(0);
    // Freed slots are reused by new prefixes, which must not collide with the survivors.
    const reused = new Set<number>();
    for (let i = 0; i < n; i += 2) reused.add(ft.get4((0x0b000000 + i * 256) >>> 0, 24));
    expect(reused.size).toBe(n / 2);
    expect(ft.count).toBe(n);
    for (let i = 1; i < n; i += 2) if (ft.find4((0x0a000000 + i * 256) >>> 0, 24) !== slots[i] || reused.has(slots[i]!)) wrong++;
    for (let i = 0; i < n; i += 2) if (ft.find4((0x0b000000 + i * 256) >>> 0, 24) < 0) wrong++;
    expect(wrong).toBe(0);
  });

  it('resolveField walks an NLRI field (ADD-PATH too) into slots and path ids', () => {
    for (const addPath of [false, true]) {
      for (const family of [4, 6] as const) {
        const texts = family === 4
          ? ['10.0.0.0/8', '10.1.2.0/24', '0.0.0.0/0', '192.0.2.1/32', '10.1.2.0/24']
          : ['2001:db8::/32', '2001:db8:1::/48', '::/0', '2001:db8::1/128', '2001:db8:1::/48'];
        const ps: Prefix[] = texts.map((t, k) => parsePrefix(t, addPath ? 100 + k : undefined));
        const buf = new Uint8Array(200);
        let o = 3;
        for (const p of ps) o += encodePrefix(p, buf, o, addPath);
        const ft = new FamilyTable(family);
        expect(ft.resolveField(buf, 3, o, addPath, false)).toBe(5);
        expect([...ft.fieldSlots.subarray(0, 5)]).toEqual([-1, -1, -1, -1, -1]);
        const n = ft.resolveField(buf, 3, o, addPath, true);
        expect(n).toBe(5);
        const slots = [...ft.fieldSlots.subarray(0, n)];
        expect(slots.map((s) => ft.format(s))).toEqual(texts);
        // The repeated prefix resolves to the slot made for its first occurrence.
        expect(slots[4]).toBe(slots[1]);
        expect(ft.count).toBe(4);
        expect([...ft.fieldIds.subarray(0, n)]).toEqual(addPath ? [100, 101, 102, 103, 104] : [0, 0, 0, 0, 0]);
      }
    }
  });

  it('resolveField reads IPv6 keys as get6 does: every length, host bits set, octets after the field or none', () => {
    // resolveField reads whole words past a prefix's own octets while 16 remain in the buffer and
    // octet by octet near its end; both must give the key that get6 gives for the same octets.
    const pfx = fc.record({ octets: fc.uint8Array({ minLength: 16, maxLength: 16 }), len: fc.integer({ min: 0, max: 128 }) });
    fc.assert(
      fc.property(fc.array(pfx, { minLength: 1, maxLength: 12 }), fc.uint8Array({ maxLength: 20 }), (list, tail) => {
        const buf = new Uint8Array(list.length * 17 + tail.length);
        let o = 0;
        for (const p of list) {
          const n = (p.len + 7) >> 3;
          buf[o++] = p.len;
          buf.set(p.octets.subarray(0, n), o);
          o += n;
        }
        const end = o;
        buf.set(tail, end);
        const bulk = new FamilyTable(6);
        const n = bulk.resolveField(buf.subarray(0, end + tail.length), 0, end, false, true);
        const one = new FamilyTable(6);
        const expected = list.map((p) => one.format(one.get6(p.octets, 0, p.len)));
        expect([...bulk.fieldSlots.subarray(0, n)].map((x) => bulk.format(x))).toEqual(expected);
        expect(bulk.count).toBe(new Set(expected).size);
        for (const p of list) expect(bulk.find6(p.octets, 0, p.len)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('resolveField keeps every prefix of a field longer than its buffers, the index rehashed midway', () => {
    // 3,000 prefixes in one field (buffers start at 1,024; the index of a fresh table grows past
    // 1,024 slots), in a scrambled order, every 7th one repeated from earlier in the field.
    for (const family of [4, 6] as const) {
      const texts: string[] = [];
      for (let k = 0; k < 3000; k++) {
        const j = k % 7 === 6 ? (k * 31) % k : (k * 2654435761) % 4096;
        texts.push(family === 4 ? `10.${j >> 8}.${j & 255}.0/24` : `2001:db8:${(j + 1).toString(16)}::/48`);
      }
      const buf = new Uint8Array(3000 * 8);
      let o = 0;
      for (const t of texts) o += encodePrefix(parsePrefix(t), buf, o, false);
      const ft = new FamilyTable(family);
      const n = ft.resolveField(buf, 0, o, false, true);
      expect(n).toBe(texts.length);
      const slots = [...ft.fieldSlots.subarray(0, n)];
      expect(slots.map((s) => ft.format(s))).toEqual(texts);
      expect(ft.count).toBe(new Set(texts).size);
      // A second pass over the same field (lookups only) finds the same slots.
      expect(ft.resolveField(buf, 0, o, false, false)).toBe(n);
      expect([...ft.fieldSlots.subarray(0, n)]).toEqual(slots);
    }
  });
});
