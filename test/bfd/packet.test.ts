import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BfdState, decode, diagName, encode, encodingLength, stateName, type BfdAuth, type ControlPacket } from '../../src/bfd/packet.js';

const hex = (bytes: number[]) => Buffer.from(bytes);

// A session's first packet, as BIRD sends it: Down, nobody heard yet, slow TX while not Up.
const DOWN_INITIAL = [
  0x20, // version 1 (001), diag 0 (00000)
  0x40, // state Down (01), P F C A D M all clear
  0x03, // detect mult 3
  0x18, // length 24
  0x00, 0x00, 0x30, 0x39, // my discriminator 12345
  0x00, 0x00, 0x00, 0x00, // your discriminator 0 (peer unknown)
  0x00, 0x0f, 0x42, 0x40, // desired min TX 1,000,000 µs (RFC 5880 §6.8.3 slow rate)
  0x00, 0x01, 0x86, 0xa0, // required min RX 100,000 µs
  0x00, 0x00, 0x00, 0x00, // required min echo RX 0: no echo
];

// Up with Poll, announcing the fast rate after coming Up.
const UP_POLL = [
  0x20, // version 1, diag 0
  0xe0, // state Up (11), P (0x20)
  0x03, // detect mult 3
  0x18, // length 24
  0xde, 0xad, 0xbe, 0xef, // my discriminator
  0x00, 0x00, 0x30, 0x39, // your discriminator 12345
  0x00, 0x01, 0x86, 0xa0, // desired min TX 100 ms
  0x00, 0x01, 0x86, 0xa0, // required min RX 100 ms
  0x00, 0x00, 0x00, 0x00, // echo 0
];

// Down after a timeout, answering a poll: diag 1, F bit, C bit.
const DOWN_FINAL_DIAG1 = [
  0x21, // version 1, diag 1 control detection time expired
  0x58, // state Down (01), F (0x10), C (0x08)
  0x01, // detect mult 1
  0x18, // length 24
  0x00, 0x00, 0x00, 0x07, // my discriminator 7
  0x00, 0x00, 0x00, 0x09, // your discriminator 9
  0x00, 0x0f, 0x42, 0x40, // desired min TX 1 s
  0x00, 0x00, 0x00, 0x00, // required min RX 0: send me nothing
  0x00, 0x00, 0xc3, 0x50, // required min echo RX 50 ms
];

// Simple Password (RFC 5880 §4.2).
const SIMPLE_PASSWORD = [
  0x20, 0x44, 0x03, 0x1f, // v1 diag 0, Down + A (0x04), mult 3, length 31 = 24 + 7
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // my 1, your 0
  0x00, 0x0f, 0x42, 0x40, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x00, // 1 s, 1 s, 0
  0x01, // auth type 1 simple password
  0x07, // auth len 7 = 3 + 4
  0x05, // key id 5
  0x74, 0x65, 0x72, 0x6e, // "tern"
];

// Keyed MD5 (RFC 5880 §4.3): Auth Len 24, digest carried, not verified.
const KEYED_MD5 = [
  0x20, 0xc4, 0x03, 0x30, // v1, Up + A, mult 3, length 48
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // my 1, your 2
  0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0, 0x00, 0x00, 0x00, 0x00,
  0x02, // auth type 2 keyed MD5
  0x18, // auth len 24
  0x01, // key id 1
  0x00, // reserved
  0x00, 0x00, 0x01, 0x00, // sequence 256
  ...Array.from({ length: 16 }, (_, i) => i), // digest 00..0f
];

// Meticulous Keyed SHA1 (RFC 5880 §4.4): Auth Len 28.
const METICULOUS_SHA1 = [
  0x20, 0xc4, 0x03, 0x34, // v1, Up + A, mult 3, length 52
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
  0x00, 0x01, 0x86, 0xa0, 0x00, 0x01, 0x86, 0xa0, 0x00, 0x00, 0x00, 0x00,
  0x05, // auth type 5 meticulous keyed SHA1
  0x1c, // auth len 28
  0x02, 0x00, // key id 2, reserved
  0xff, 0xff, 0xff, 0xff, // sequence 2^32-1
  ...Array.from({ length: 20 }, (_, i) => 0xa0 + i), // hash
];

function mustDecode(b: number[]): ControlPacket {
  const r = decode(hex(b), 0);
  if (!r.ok) throw new Error(`decode failed: ${r.error.reason}: ${r.error.message}`);
  expect(r.bytes).toBe(b.length);
  return r.value;
}

function reencode(p: ControlPacket): Buffer {
  const buf = Buffer.alloc(encodingLength(p));
  expect(encode(p, buf, 0)).toBe(buf.length);
  return buf;
}

describe('BFD control packet fixtures', () => {
  it('decodes an initial Down packet', () => {
    const p = mustDecode(DOWN_INITIAL);
    expect(p).toEqual({
      diag: 0,
      state: BfdState.Down,
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      multipoint: false,
      detectMult: 3,
      myDiscriminator: 12345,
      yourDiscriminator: 0,
      desiredMinTxUs: 1_000_000,
      requiredMinRxUs: 100_000,
      requiredMinEchoRxUs: 0,
    });
    expect(reencode(p)).toEqual(hex(DOWN_INITIAL));
  });

  it('decodes Up with Poll and Down with Final, diag and C bit', () => {
    const up = mustDecode(UP_POLL);
    expect([stateName(up.state), up.poll, up.final, up.myDiscriminator, up.yourDiscriminator]).toEqual(['Up', true, false, 0xdeadbeef, 12345]);
    expect(reencode(up)).toEqual(hex(UP_POLL));
    const down = mustDecode(DOWN_FINAL_DIAG1);
    expect([stateName(down.state), diagName(down.diag), down.final, down.poll, down.controlPlaneIndependent]).toEqual([
      'Down', 'control-detection-time-expired', true, false, true,
    ]);
    expect([down.detectMult, down.requiredMinRxUs, down.requiredMinEchoRxUs]).toEqual([1, 0, 50_000]);
    expect(reencode(down)).toEqual(hex(DOWN_FINAL_DIAG1));
  });

  it('decodes the authentication sections and encodes them back byte for byte', () => {
    const sp = mustDecode(SIMPLE_PASSWORD);
    expect(sp.auth).toEqual({ type: 'simple-password', keyId: 5, password: Buffer.from('tern') });
    expect(reencode(sp)).toEqual(hex(SIMPLE_PASSWORD));
    const md5 = mustDecode(KEYED_MD5);
    expect(md5.auth).toMatchObject({ type: 'keyed-md5', keyId: 1, sequence: 256 });
    if (md5.auth?.type !== 'keyed-md5') throw new Error('expected keyed MD5');
    expect(md5.auth.digest).toEqual(Buffer.from(KEYED_MD5.slice(32)));
    expect(reencode(md5)).toEqual(hex(KEYED_MD5));
    const sha = mustDecode(METICULOUS_SHA1);
    expect(sha.auth).toMatchObject({ type: 'meticulous-keyed-sha1', keyId: 2, sequence: 0xffffffff });
    expect(reencode(sha)).toEqual(hex(METICULOUS_SHA1));
  });

  it('decodes at an offset and ignores octets after Length', () => {
    const buf = hex([0xaa, 0xbb, 0xcc, ...UP_POLL, 0x00, 0x00]);
    const r = decode(buf, 3);
    expect(r.ok && r.value.myDiscriminator).toBe(0xdeadbeef);
    expect(r.ok && r.bytes).toBe(24);
  });

  it('rejects every truncation of a valid packet', () => {
    for (const fixture of [DOWN_INITIAL, SIMPLE_PASSWORD, KEYED_MD5, METICULOUS_SHA1]) {
      for (let cut = 0; cut < fixture.length; cut++) {
        const r = decode(hex(fixture.slice(0, cut)), 0);
        expect(r.ok, `cut at ${cut}`).toBe(false);
        if (!r.ok) expect(['truncated', 'bad-length']).toContain(r.error.reason);
      }
    }
  });
});

// RFC 5880 §6.8.6 reception checks, one row per rule.
const set = (b: number[], i: number, v: number) => b.map((x, j) => (j === i ? v : x));
const BAD: { name: string; bytes: number[]; reason: string }[] = [
  { name: 'empty', bytes: [], reason: 'truncated' },
  { name: 'version 0', bytes: set(DOWN_INITIAL, 0, 0x00), reason: 'bad-version' },
  { name: 'version 2', bytes: set(DOWN_INITIAL, 0, 0x40), reason: 'bad-version' },
  { name: 'length 23', bytes: set(DOWN_INITIAL, 3, 23), reason: 'bad-length' },
  { name: 'length 25 without A bit', bytes: [...set(DOWN_INITIAL, 3, 25), 0], reason: 'bad-length' },
  { name: 'length beyond datagram', bytes: set(DOWN_INITIAL, 3, 40), reason: 'truncated' },
  { name: 'detect mult 0', bytes: set(DOWN_INITIAL, 2, 0), reason: 'zero-detect-mult' },
  { name: 'multipoint bit', bytes: set(DOWN_INITIAL, 1, 0x41), reason: 'multipoint' },
  { name: 'my discriminator 0', bytes: DOWN_INITIAL.map((x, j) => (j >= 4 && j < 8 ? 0 : x)), reason: 'zero-my-discriminator' },
  { name: 'your discriminator 0 in Up', bytes: set(UP_POLL, 11, 0).map((x, j) => (j >= 8 && j < 12 ? 0 : x)), reason: 'zero-your-discriminator' },
  { name: 'your discriminator 0 in Init', bytes: set(DOWN_INITIAL, 1, 0x80), reason: 'zero-your-discriminator' },
  { name: 'A bit with length 24', bytes: set(DOWN_INITIAL, 1, 0x44), reason: 'bad-length' },
  { name: 'auth len disagrees with length', bytes: set(SIMPLE_PASSWORD, 25, 6), reason: 'bad-auth' },
  { name: 'empty password', bytes: [...set(SIMPLE_PASSWORD.slice(0, 27), 3, 27).map((x, j) => (j === 25 ? 3 : x))], reason: 'bad-auth' },
  { name: 'MD5 with SHA1 length', bytes: set(METICULOUS_SHA1, 24, 2), reason: 'bad-auth' },
  { name: 'unknown auth type', bytes: set(SIMPLE_PASSWORD, 24, 9), reason: 'bad-auth' },
];

describe('BFD reception checks (RFC 5880 §6.8.6)', () => {
  it.each(BAD)('$name → $reason', ({ bytes, reason }) => {
    const r = decode(hex(bytes), 0);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe(reason);
  });

  it('accepts your discriminator 0 in Down and AdminDown', () => {
    expect(decode(hex(DOWN_INITIAL)).ok).toBe(true);
    expect(decode(hex(set(DOWN_INITIAL, 1, 0x00))).ok).toBe(true);
  });
});

const arbAuth: fc.Arbitrary<BfdAuth> = fc.oneof(
  fc.record({ type: fc.constant('simple-password' as const), keyId: fc.nat(255), password: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) => Buffer.from(a)) }),
  fc.record({
    type: fc.constantFrom('keyed-md5' as const, 'meticulous-keyed-md5' as const),
    keyId: fc.nat(255),
    sequence: fc.nat({ max: 0xffffffff }),
    digest: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    type: fc.constantFrom('keyed-sha1' as const, 'meticulous-keyed-sha1' as const),
    keyId: fc.nat(255),
    sequence: fc.nat({ max: 0xffffffff }),
    digest: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((a) => Buffer.from(a)),
  }),
);

const u32 = fc.nat({ max: 0xffffffff });
const arbPacket: fc.Arbitrary<ControlPacket> = fc
  .record(
    {
      diag: fc.nat(31),
      state: fc.constantFrom(BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up),
      poll: fc.boolean(),
      final: fc.boolean(),
      controlPlaneIndependent: fc.boolean(),
      demand: fc.boolean(),
      multipoint: fc.constant(false),
      detectMult: fc.integer({ min: 1, max: 255 }),
      myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
      yourDiscriminator: u32,
      desiredMinTxUs: u32,
      requiredMinRxUs: u32,
      requiredMinEchoRxUs: u32,
      auth: arbAuth,
    },
    { requiredKeys: ['diag', 'state', 'poll', 'final', 'controlPlaneIndependent', 'demand', 'multipoint', 'detectMult', 'myDiscriminator', 'yourDiscriminator', 'desiredMinTxUs', 'requiredMinRxUs', 'requiredMinEchoRxUs'] },
  )
  .map((p) => (p.yourDiscriminator === 0 && p.state >= BfdState.Init ? { ...p, yourDiscriminator: 1 } : p));

describe('BFD codec properties', () => {
  it('never throws on random bytes, and says why it rejects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (bytes, off) => {
        const r = decode(Buffer.from(bytes), off);
        if (!r.ok) expect(typeof r.error.reason).toBe('string');
        else expect(r.bytes).toBeGreaterThanOrEqual(24);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on mutations of valid packets', () => {
    fc.assert(
      fc.property(fc.constantFrom(DOWN_INITIAL, UP_POLL, SIMPLE_PASSWORD, KEYED_MD5), fc.array(fc.tuple(fc.nat(60), fc.nat(255)), { maxLength: 4 }), (base, muts) => {
        const b = Buffer.from(base);
        for (const [i, v] of muts) if (i < b.length) b[i] = v;
        decode(b, 0);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips every valid packet and does not mutate it', () => {
    fc.assert(
      fc.property(arbPacket, fc.nat(16), (p, off) => {
        const before = JSON.stringify(p);
        const buf = Buffer.alloc(off + encodingLength(p));
        const n = encode(p, buf, off);
        expect(JSON.stringify(p)).toBe(before);
        const r = decode(buf, off);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.bytes).toBe(n);
          expect(r.value).toEqual(p);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
