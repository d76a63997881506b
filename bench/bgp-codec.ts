// Micro-benchmark of the BGP wire codec: `node dist/bench/bgp-codec.js [--prefixes N]`.
// 500,000 IPv4 /24 under one attribute set, packed into full 4096-octet UPDATEs, then framed
// from 64 KiB chunks and decoded by the allocation-free path and by the full object decoder.
import {
  MessageReader,
  UpdateBuilder,
  decodeBody,
  makeContext,
  scanUpdateBody,
  visitNlri,
  type PathAttribute,
} from '../src/bgp/wire/index.js';

const i = process.argv.indexOf('--prefixes');
const N = i > 0 ? Number(process.argv[i + 1]) : 500_000;
const ctx = makeContext({ as4: true });
const attributes: PathAttribute[] = [
  { type: 'ORIGIN', origin: 0 },
  { type: 'AS_PATH', segments: [{ type: 2, asns: [65001, 65002, 65003] }] },
  { type: 'NEXT_HOP', nextHop: '192.0.2.1' },
  { type: 'MULTI_EXIT_DISC', med: 10 },
  { type: 'COMMUNITIES', communities: [65001 * 65536 + 1] },
];

const rate = (n: number, ns: bigint): string => `${Math.round(n / (Number(ns) / 1e9)).toLocaleString('en-US')}/s`;
const ms = (ns: bigint): string => `${(Number(ns) / 1e6).toFixed(0)} ms`;

function encode(): Buffer[] {
  const b = new UpdateBuilder({ ctx, afi: 1, attributes });
  // 10.0.0.0/24, 10.0.1.0/24, ... walking upward through 10.0.0.0/8 and beyond.
  for (let k = 0; k < N; k++) b.addIpv4((0x0a000000 + k * 256) >>> 0, 24);
  return b.take();
}

function decodeFast(stream: Buffer): { prefixes: number; keys: number } {
  const reader = new MessageReader(ctx);
  let prefixes = 0;
  let xor = 0;
  const keys = new Map<string, number>();
  const visitor = { ipv4: (a: number) => { prefixes++; xor ^= a; } };
  for (let o = 0; o < stream.length; o += 65536) {
    reader.push(stream.subarray(o, o + 65536));
    for (let r = reader.next(); r !== null; r = reader.next()) {
      if (!r.ok) throw new Error(r.error.message);
      const s = scanUpdateBody(r.message, 19, r.message.length, ctx);
      if (!s.ok) throw new Error(s.error.message);
      keys.set(s.value.attrKey, (keys.get(s.value.attrKey) ?? 0) + 1);
      visitNlri(s.value, visitor);
    }
  }
  if (xor === 0.5) console.log('unreachable');
  return { prefixes, keys: keys.size };
}

function decodeFull(stream: Buffer): number {
  const reader = new MessageReader(ctx);
  let prefixes = 0;
  for (let o = 0; o < stream.length; o += 65536) {
    reader.push(stream.subarray(o, o + 65536));
    for (let r = reader.next(); r !== null; r = reader.next()) {
      if (!r.ok) throw new Error(r.error.message);
      const d = decodeBody(r.type, r.message, 19, r.message.length, ctx);
      if (d.ok && d.value.type === 'UPDATE') prefixes += d.value.nlri.length;
    }
  }
  return prefixes;
}

// Warm up the JIT on a small run first.
encode();
let t = process.hrtime.bigint();
const msgs = encode();
const encNs = process.hrtime.bigint() - t;
const stream = Buffer.concat(msgs);
console.log(`bgp-codec: ${N.toLocaleString('en-US')} IPv4 /24 in ${msgs.length} UPDATEs, ${(stream.length / 1e6).toFixed(2)} MB`);
console.log(`  encode (UpdateBuilder.addIpv4)          ${ms(encNs).padStart(8)}  ${rate(N, encNs)} prefixes`);

decodeFast(stream);
t = process.hrtime.bigint();
const fast = decodeFast(stream);
const fastNs = process.hrtime.bigint() - t;
if (fast.prefixes !== N) throw new Error(`fast path saw ${fast.prefixes} prefixes, expected ${N}`);
console.log(`  decode fast (reader+scan+visitNlri)     ${ms(fastNs).padStart(8)}  ${rate(N, fastNs)} prefixes, ${fast.keys} attribute set(s)`);

t = process.hrtime.bigint();
const full = decodeFull(stream);
const fullNs = process.hrtime.bigint() - t;
if (full !== N) throw new Error(`full decode saw ${full} prefixes, expected ${N}`);
console.log(`  decode full (Prefix objects)            ${ms(fullNs).padStart(8)}  ${rate(N, fullNs)} prefixes`);
console.log(`  heap used after run                     ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
