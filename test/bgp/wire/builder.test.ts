import { describe, expect, it } from 'vitest';
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  UpdateBuilder,
  WithdrawBuilder,
  buildUpdates,
  buildWithdraws,
  decode,
  endOfRib,
  endOfRibMessage,
  formatPrefix,
  makeContext,
  prefix,
  scanUpdate,
  visitNlri,
  type PathAttribute,
  type Prefix,
  type UpdateMessage,
  type WireContext,
} from '../../../src/bgp/wire/index.js';

const ATTRS: PathAttribute[] = [
  { type: 'ORIGIN', origin: 0 },
  { type: 'AS_PATH', segments: [{ type: 2, asns: [65001, 65002] }] },
  { type: 'NEXT_HOP', nextHop: '192.0.2.1' },
  { type: 'COMMUNITIES', communities: [1, 2, 3] },
];
const V6_ATTRS: PathAttribute[] = ATTRS.filter((a) => a.type !== 'NEXT_HOP');

const v4prefixes = (n: number, pathId?: number): Prefix[] =>
  Array.from({ length: n }, (_, i) => prefix(`${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, pathId));
const v6prefixes = (n: number): Prefix[] => Array.from({ length: n }, (_, i) => prefix(`2001:db8:${i.toString(16)}::/48`));

function decodeAll(msgs: Buffer[], ctx: WireContext): UpdateMessage[] {
  return msgs.map((b) => {
    const r = decode(b, 0, ctx);
    if (!r.ok) throw new Error(r.error.message);
    const m = r.value as UpdateMessage;
    expect(m.errors).toBeUndefined();
    return m;
  });
}

const announced = (ms: UpdateMessage[]): string[] =>
  ms.flatMap((m) => [...m.nlri, ...m.attributes.flatMap((a) => (a.type === 'MP_REACH_NLRI' ? a.nlri : []))]).map(formatPrefix);
const withdrawn = (ms: UpdateMessage[]): string[] =>
  ms.flatMap((m) => [...m.withdrawn, ...m.attributes.flatMap((a) => (a.type === 'MP_UNREACH_NLRI' ? a.withdrawn : []))]).map(formatPrefix);

describe('UpdateBuilder', () => {
  const cases: Array<[string, WireContext, number]> = [
    ['4096-octet messages', makeContext({ as4: true }), 4096],
    ['extended messages', makeContext({ as4: true, extendedMessage: true }), 65535],
    ['ADD-PATH', makeContext({ as4: true, addPath: new Set([IPV4_UNICAST]) }), 4096],
  ];
  for (const [name, ctx, max] of cases) {
    it(`packs IPv4 NLRI into as few full messages as possible (${name})`, () => {
      const addPath = ctx.addPath.size > 0;
      const ps = v4prefixes(3000, addPath ? 9 : undefined);
      const msgs = buildUpdates({ ctx, afi: 1, attributes: ATTRS }, ps);
      const per = addPath ? 8 : 4;
      const attrLen = msgs[0]!.readUInt16BE(21);
      const fit = Math.floor((max - 23 - attrLen) / per);
      expect(msgs.length).toBe(Math.ceil(3000 / fit));
      for (const m of msgs.slice(0, -1)) expect(m.length).toBeGreaterThan(max - per);
      for (const m of msgs) expect(m.length).toBeLessThanOrEqual(max);
      const ms = decodeAll(msgs, ctx);
      expect(announced(ms)).toEqual(ps.map(formatPrefix));
      expect(ms[0]!.attributes.map((a) => a.type)).toEqual(['ORIGIN', 'AS_PATH', 'NEXT_HOP', 'COMMUNITIES']);
    });
  }

  it('packs IPv6 NLRI in MP_REACH_NLRI, first among the attributes (RFC 7606 §5.1)', () => {
    const ctx = makeContext({ as4: true });
    const ps = v6prefixes(1500);
    const msgs = buildUpdates({ ctx, afi: 2, attributes: V6_ATTRS, nextHop: { nextHop: '2001:db8::1', linkLocal: 'fe80::1' } }, ps);
    for (const m of msgs.slice(0, -1)) expect(m.length).toBeGreaterThan(4096 - 7);
    const ms = decodeAll(msgs, ctx);
    expect(announced(ms)).toEqual(ps.map(formatPrefix));
    expect(ms[0]!.attributes[0]).toMatchObject({ type: 'MP_REACH_NLRI', nextHop: '2001:db8::1', linkLocal: 'fe80::1' });
    // Same attribute set in every message: one interning key.
    const keys = new Set(msgs.map((b) => { const r = scanUpdate(b, 0, ctx); return r.ok ? r.value.attrKey : 'x'; }));
    expect(keys.size).toBe(1);
  });

  it('packs IPv4 NLRI with an IPv6 next hop (RFC 8950)', () => {
    const ctx = makeContext({ as4: true, extendedNextHop: new Set([IPV4_UNICAST]) });
    const ps = v4prefixes(10);
    const ms = decodeAll(buildUpdates({ ctx, afi: 1, attributes: V6_ATTRS, nextHop: { nextHop: '2001:db8::1' } }, ps), ctx);
    expect(ms).toHaveLength(1);
    expect(ms[0]!.attributes[0]).toMatchObject({ type: 'MP_REACH_NLRI', afi: 1, nextHop: '2001:db8::1' });
    expect(announced(ms)).toEqual(ps.map(formatPrefix));
  });

  it('the numeric IPv4 path encodes what Prefix objects encode', () => {
    const ctx = makeContext({ as4: true });
    const a = new UpdateBuilder({ ctx, afi: 1, attributes: ATTRS });
    const b = new UpdateBuilder({ ctx, afi: 1, attributes: ATTRS });
    for (const [addr, len] of [[0x0a000000, 8], [0xc0000200, 24], [0xc0000263, 32], [0, 0], [0x0a010000, 17]] as const) {
      a.addIpv4(addr >>> 0, len);
      b.add(prefix(`${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`));
    }
    expect(Buffer.concat(a.take()).toString('hex')).toBe(Buffer.concat(b.take()).toString('hex'));
  });

  it('visitNlri walks prefixes without objects and matches the decoded ones', () => {
    const ctx = makeContext({ as4: true, addPath: new Set([IPV4_UNICAST]) });
    const ps = v4prefixes(700, 5);
    const seen: string[] = [];
    for (const b of buildUpdates({ ctx, afi: 1, attributes: ATTRS }, ps)) {
      const r = scanUpdate(b, 0, ctx);
      if (!r.ok) throw new Error(r.error.message);
      visitNlri(r.value, { ipv4: (a, len, id, w) => seen.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len} path ${id}${w ? ' W' : ''}`) });
    }
    expect(seen).toEqual(ps.map(formatPrefix));
  });
});

describe('WithdrawBuilder and End-of-RIB', () => {
  it('packs IPv4 withdrawals in the Withdrawn Routes field', () => {
    const ctx = makeContext({ as4: true });
    const ps = v4prefixes(2500);
    const msgs = buildWithdraws({ ctx, afi: 1 }, ps);
    expect(msgs.length).toBe(Math.ceil(2500 / Math.floor((4096 - 23) / 4)));
    expect(withdrawn(decodeAll(msgs, ctx))).toEqual(ps.map(formatPrefix));
  });

  it('packs IPv6 withdrawals in MP_UNREACH_NLRI', () => {
    const ctx = makeContext({ as4: true });
    const ps = v6prefixes(1200);
    const msgs = buildWithdraws({ ctx, afi: 2 }, ps);
    expect(msgs.length).toBe(Math.ceil(1200 / Math.floor((4096 - 30) / 7)));
    expect(withdrawn(decodeAll(msgs, ctx))).toEqual(ps.map(formatPrefix));
    const w = new WithdrawBuilder({ ctx, afi: 2 });
    expect(w.take()).toEqual([]);
  });

  it('builds and detects End-of-RIB for both families', () => {
    const ctx = makeContext({ as4: true });
    for (const [afi, safi] of [[1, 1], [2, 1]] as const) {
      const r = scanUpdate(endOfRibMessage(afi, safi), 0, ctx);
      expect(r.ok && endOfRib(r.value)).toEqual({ afi, safi });
    }
    const ms = buildWithdraws({ ctx, afi: 2 }, v6prefixes(1));
    const r = scanUpdate(ms[0]!, 0, ctx);
    expect(r.ok && endOfRib(r.value)).toBeNull();
  });

  it('an ADD-PATH IPv6 family carries path ids in MP attributes', () => {
    const ctx = makeContext({ as4: true, addPath: new Set([IPV6_UNICAST]) });
    const ps = [prefix('2001:db8::/32', 1), prefix('2001:db8::/32', 2)];
    const ms = decodeAll(buildWithdraws({ ctx, afi: 2 }, ps), ctx);
    expect(withdrawn(ms)).toEqual(ps.map(formatPrefix));
  });
});
