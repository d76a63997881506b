import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  MessageReader,
  decode,
  makeContext,
  materialize,
  scanUpdate,
  toBuffer,
  visitNlri,
  type PathAttribute,
  type Prefix,
  type UpdateMessage,
  type WireContext,
} from '../../../src/bgp/wire/index.js';
import * as F from './fixtures.js';
import { CORPUS } from './corpus/cases.js';

const CONTEXTS: WireContext[] = [
  makeContext(),
  makeContext({ as4: true }),
  makeContext({ as4: true, extendedMessage: true, addPath: new Set([IPV4_UNICAST, IPV6_UNICAST]), extendedNextHop: new Set([IPV4_UNICAST]) }),
];

/** Runs every decoder on `b`; returns normally unless something escaped. */
function exercise(b: Uint8Array, ctx: WireContext): void {
  const r = decode(b, 0, ctx);
  if (!r.ok) expect(r.error.message).not.toMatch(/^decoder fault/);
  const s = scanUpdate(b, 0, ctx);
  if (s.ok) {
    materialize(s.value, ctx);
    visitNlri(s.value, { ipv4: () => undefined, ipv6: () => undefined });
  }
  const reader = new MessageReader(ctx);
  reader.push(b);
  for (const m of reader.drain()) if (m.ok) decode(m.message, 0, ctx);
}

const VALID = [
  F.BIRD_OPEN, F.GOBGP_OPEN, F.KEEPALIVE_MSG, F.NOTIFICATION_SHUTDOWN, F.ROUTE_REFRESH_V4,
  F.UPDATE_IPV4_ALL, F.UPDATE_IPV6_REACH, F.UPDATE_IPV6_UNREACH, F.UPDATE_AS2, F.UPDATE_IPV4_V6NH, F.UPDATE_ADD_PATH,
  ...CORPUS.map((c) => c.bytes),
];

describe('no input throws out of a decoder', () => {
  it('random bytes, with and without a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 5 }), fc.nat(2), (body, type, ci) => {
        exercise(body, CONTEXTS[ci]!);
        exercise(F.message(type, [...body]), CONTEXTS[ci]!);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid messages (octet changes, truncation, insertion) with a consistent header', () => {
    const mutation = fc.record({
      base: fc.nat(VALID.length - 1),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 6 }),
      ctx: fc.nat(2),
    });
    fc.assert(
      fc.property(mutation, ({ base, edits, ctx }) => {
        let b = [...VALID[base]!.subarray(19)];
        for (const [pos, val, op] of edits) {
          const i = b.length ? pos % b.length : 0;
          if (op === 0) b[i] = val;
          else if (op === 1) b = b.slice(0, i);
          else b.splice(i, 0, val);
        }
        const m = F.message(VALID[base]![18]!, b);
        exercise(m, CONTEXTS[ctx]!);
        exercise(m.subarray(0, Math.max(0, m.length - 1)), CONTEXTS[ctx]!);
      }),
      { numRuns: 5000 },
    );
  });
});

// ---- random valid UPDATEs ----

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((a) => a.join('.'));
const segments = (wide: boolean) =>
  fc.array(fc.record({ type: fc.integer({ min: 1, max: 4 }), asns: fc.array(wide ? u32 : fc.nat(65535), { minLength: 1, maxLength: 6 }) }), { maxLength: 3 });

function v4prefix(addPath: boolean): fc.Arbitrary<Prefix> {
  return fc.tuple(u32, fc.integer({ min: 0, max: 32 }), u32).map(([a, len, id]) => {
    const masked = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    const p: Prefix = { addr: new Uint8Array([masked >>> 24, (masked >>> 16) & 255, (masked >>> 8) & 255, masked & 255]), len };
    if (addPath) p.pathId = id;
    return p;
  });
}
function v6prefix(addPath: boolean): fc.Arbitrary<Prefix> {
  return fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), u32).map(([a, len, id]) => {
    const addr = new Uint8Array(16);
    const n = (len + 7) >> 3;
    addr.set(a.subarray(0, n));
    if (len % 8) addr[n - 1]! &= (0xff << (8 - (len % 8))) & 0xff;
    const p: Prefix = { addr, len };
    if (addPath) p.pathId = id;
    return p;
  });
}

function updateArb(ctx: WireContext): fc.Arbitrary<UpdateMessage> {
  const ap = ctx.addPath.has(IPV4_UNICAST);
  const ap6 = ctx.addPath.has(IPV6_UNICAST);
  const optional: fc.Arbitrary<PathAttribute>[] = [
    u32.map((med) => ({ type: 'MULTI_EXIT_DISC', flags: 0x80, med })),
    u32.map((localPref) => ({ type: 'LOCAL_PREF', flags: 0x40, localPref })),
    fc.constant({ type: 'ATOMIC_AGGREGATE', flags: 0x40 }),
    fc.tuple(ctx.as4 ? u32 : fc.nat(65535), ipv4).map(([as, address]) => ({ type: 'AGGREGATOR', flags: 0xc0, as, address })),
    fc.array(u32, { minLength: 1, maxLength: 8 }).map((communities) => ({ type: 'COMMUNITIES', flags: 0xc0, communities })),
    ipv4.map((originatorId) => ({ type: 'ORIGINATOR_ID', flags: 0x80, originatorId })),
    fc.array(ipv4, { minLength: 1, maxLength: 4 }).map((clusterIds) => ({ type: 'CLUSTER_LIST', flags: 0x80, clusterIds })),
    fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 1, maxLength: 4 }).map((communities) => ({ type: 'EXTENDED_COMMUNITIES', flags: 0xc0, communities })),
    fc.array(fc.record({ global: u32, local1: u32, local2: u32 }), { minLength: 1, maxLength: 4 }).map((communities) => ({ type: 'LARGE_COMMUNITY', flags: 0xc0, communities })),
    segments(true).filter((s) => s.length > 0).map((s) => ({ type: 'AS4_PATH', flags: 0xc0, segments: s })),
    fc.tuple(u32, ipv4).map(([as, address]) => ({ type: 'AS4_AGGREGATOR', flags: 0xc0, as, address })),
    fc.tuple(fc.integer({ min: 100, max: 250 }), fc.uint8Array({ maxLength: 10 })).map(([code, value]) => ({ type: 'UNKNOWN', flags: 0xc0, code, value })),
    fc.array(v6prefix(ap6), { maxLength: 5 }).map((withdrawn) => ({ type: 'MP_UNREACH_NLRI', flags: 0x80, afi: 2, safi: 1, withdrawn })),
  ] as fc.Arbitrary<PathAttribute>[];
  return fc
    .record({
      withdrawn: fc.array(v4prefix(ap), { maxLength: 20 }),
      nlri: fc.array(v4prefix(ap), { maxLength: 20 }),
      origin: fc.integer({ min: 0, max: 2 }),
      path: segments(ctx.as4),
      nextHop: ipv4,
      extra: fc.uniqueArray(fc.nat(optional.length - 1), { maxLength: 6 }).chain((idx) => fc.tuple(...idx.map((i) => optional[i]!))),
      reach: fc.option(fc.tuple(fc.array(v6prefix(ap6), { maxLength: 10 }), fc.boolean()), { nil: null }),
    })
    .map(({ withdrawn, nlri, origin, path, nextHop, extra, reach }) => {
      const attributes: PathAttribute[] = [];
      if (reach) {
        const [ps, ll] = reach;
        const mp: PathAttribute = { type: 'MP_REACH_NLRI', flags: 0x80, afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: ps };
        if (ll) mp.linkLocal = 'fe80::1';
        attributes.push(mp);
      }
      attributes.push({ type: 'ORIGIN', flags: 0x40, origin }, { type: 'AS_PATH', flags: 0x40, segments: path });
      if (nlri.length) attributes.push({ type: 'NEXT_HOP', flags: 0x40, nextHop });
      attributes.push(...extra);
      // The decoder reports the received flags: Extended Length where the value is long.
      const m: UpdateMessage = { type: 'UPDATE', withdrawn, attributes, nlri };
      const probe = toBuffer(m, ctx);
      const r = decode(probe, 0, ctx);
      if (r.ok) (m.attributes as PathAttribute[]).forEach((a, i) => { a.flags = (r.value as UpdateMessage).attributes[i]?.flags ?? a.flags; });
      return m;
    });
}

describe('random valid UPDATEs round-trip', () => {
  CONTEXTS.forEach((ctx, i) => {
    it(`context ${i}`, () => {
      fc.assert(
        fc.property(updateArb(ctx), (m) => {
          const b = toBuffer(m, ctx);
          const r = decode(b, 0, ctx);
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.value).toEqual(m);
          expect(toBuffer(r.value, ctx).equals(b)).toBe(true);
        }),
        { numRuns: 400 },
      );
    });
  });
});
