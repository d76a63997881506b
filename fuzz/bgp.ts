// Mutation fuzzer for the BGP wire codec: `npm run fuzz:bgp -- --iterations N --seed S`.
// Feeds mutated valid and malformed messages through every decoder, unguarded (decodeBody, not
// the try/catch wrapper of decode), and exits non-zero on the first exception that escapes.
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  MessageReader,
  checkHeader,
  decodeBody,
  makeContext,
  materialize,
  scanUpdate,
  visitNlri,
  type WireContext,
} from '../src/bgp/wire/index.js';
import * as F from '../test/bgp/wire/fixtures.js';
import { CORPUS } from '../test/bgp/wire/corpus/cases.js';
import { Rng } from '../test/robustness/generators.js';
import { numberArg, seedArg } from './args.js';


const iterations = numberArg('iterations', 1_000_000);
const seed = seedArg();
const rng = new Rng(seed);

const rand = (): number => rng.next();
const pick = (n: number): number => Math.floor(rand() * n);

const CONTEXTS: WireContext[] = [
  makeContext(),
  makeContext({ as4: true }),
  makeContext({ as4: true, extendedMessage: true, addPath: new Set([IPV4_UNICAST, IPV6_UNICAST]), extendedNextHop: new Set([IPV4_UNICAST]) }),
];
const SEEDS: Buffer[] = [
  F.BIRD_OPEN, F.GOBGP_OPEN, F.KEEPALIVE_MSG, F.NOTIFICATION_SHUTDOWN, F.NOTIFICATION_AS_PATH, F.ROUTE_REFRESH_BORR_V6,
  F.UPDATE_IPV4_ALL, F.UPDATE_IPV6_REACH, F.UPDATE_IPV6_UNREACH, F.UPDATE_AS2, F.UPDATE_IPV4_V6NH, F.UPDATE_ADD_PATH,
  F.EOR_IPV4, F.EOR_IPV6, ...CORPUS.map((c) => c.bytes),
];
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 64, 127, 128, 129, 254, 255];
const scratch = Buffer.alloc(70000);

function mutate(): Buffer {
  const src = SEEDS[pick(SEEDS.length)]!;
  let len = src.length;
  src.copy(scratch, 0, 0, len);
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    const at = 19 + pick(Math.max(1, len - 19));
    switch (pick(6)) {
      case 0: scratch[at] = pick(256); break;
      case 1: scratch[at] = INTERESTING[pick(INTERESTING.length)]!; break;
      case 2: scratch[at] = scratch[at]! ^ (1 << pick(8)); break;
      case 3: len = Math.max(19, at); break; // truncate
      case 4: { // insert octets
        const n = 1 + pick(8);
        scratch.copy(scratch, at + n, at, len);
        for (let i = 0; i < n; i++) scratch[at + i] = pick(256);
        len += n;
        break;
      }
      default: { // delete octets
        const n = Math.min(1 + pick(8), len - at);
        scratch.copy(scratch, at, at + n, len);
        len -= n;
      }
    }
  }
  // Usually keep the header consistent so the body parsers, not the framing, see the damage.
  if (rand() < 0.85) scratch.writeUInt16BE(Math.min(len, 65535), 16);
  if (rand() < 0.02) scratch[pick(19)] = pick(256);
  return scratch.subarray(0, len);
}

function run(b: Buffer, ctx: WireContext): void {
  const len = b.length >= 19 ? checkHeader(b, 0, ctx) : -1;
  if (typeof len === 'number' && len >= 19 && len <= b.length) {
    decodeBody(b[18]!, b, 19, len, ctx);
    const s = scanUpdate(b, 0, ctx);
    if (s.ok) {
      materialize(s.value, ctx);
      visitNlri(s.value, { ipv4: () => undefined, ipv6: () => undefined });
    }
  }
  const r = new MessageReader(ctx);
  const cut = pick(b.length + 1);
  r.push(b.subarray(0, cut));
  for (const m of r.drain()) if (m.ok) decodeBody(m.type, m.message, 19, m.message.length, ctx);
  r.push(b.subarray(cut));
  for (const m of r.drain()) if (m.ok) decodeBody(m.type, m.message, 19, m.message.length, ctx);
}

const t0 = process.hrtime.bigint();
let outcomes = 0;
for (let i = 0; i < iterations; i++) {
  const b = mutate();
  const ctx = CONTEXTS[pick(CONTEXTS.length)]!;
  try {
    run(b, ctx);
    outcomes++;
  } catch (e) {
    console.error(`fuzz:bgp: exception escaped the decoder at iteration ${i} (seed ${seed})`);
    console.error(`input: ${b.toString('hex')}`);
    console.error(e);
    process.exit(1);
  }
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`fuzz:bgp: ${iterations} iterations, seed ${seed}, ${secs.toFixed(1)} s, ${Math.round(iterations / secs)} iterations/s, no exception escaped`);
