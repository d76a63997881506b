// Benchmark of the routing table: `node --expose-gc dist/bench/bgp-rib.js [--v4 N] [--v6 N] [--sets N] [--repeat N] [--shuffle]`.
// Ingests N IPv4 /24 and M IPv6 /48 from one eBGP peer (pre-built full 4096-octet UPDATEs under a
// few hundred attribute sets), then exports the whole table to one eBGP peer through drainOut.
import type { PeerDescriptor } from '../src/bgp/peer.js';
import { parsePolicies } from '../src/bgp/policy/index.js';
import { FULL_TABLE_RESERVE, Rib } from '../src/bgp/rib/index.js';
import { syntheticAttributes } from '../src/bgp/rib/warmup.js';
import {
  IPV4_UNICAST,
  IPV6_UNICAST,
  UpdateBuilder,
  makeContext,
  scanUpdate,
} from '../src/bgp/wire/index.js';
import { arg } from './args.js';

const N4 = arg('--v4', 500_000);
const N6 = arg('--v6', 100_000);
const SETS = arg('--sets', 300);
// --shuffle: prefixes in a fixed pseudo-random order, as BIRD sends them (its hash order), so
// nearly every index lookup misses the cache; without it they go in address order.
const SHUFFLE = process.argv.includes('--shuffle');
const ctx = makeContext({ as4: true });

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
const rate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

/** 0..n-1, shuffled (Fisher-Yates, fixed seed) with --shuffle. */
function order(n: number): Uint32Array {
  const o = new Uint32Array(n);
  for (let j = 0; j < n; j++) o[j] = j;
  if (!SHUFFLE) return o;
  let seed = 0x2545f491;
  for (let j = n - 1; j > 0; j--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const k = seed % (j + 1);
    const t = o[j]!;
    o[j] = o[k]!;
    o[k] = t;
  }
  return o;
}

function buildV4(): Buffer[] {
  const ord = order(N4);
  const out: Buffer[] = [];
  for (let k = 0; k < SETS; k++) {
    const b = new UpdateBuilder({ ctx, afi: 1, attributes: syntheticAttributes(k, false) });
    const from = Math.floor((k * N4) / SETS);
    const to = Math.floor(((k + 1) * N4) / SETS);
    for (let j = from; j < to; j++) b.addIpv4((0x0a000000 + ord[j]! * 256) >>> 0, 24);
    out.push(...b.take());
  }
  return out;
}

function buildV6(): Buffer[] {
  const out: Buffer[] = [];
  const sets = Math.max(1, Math.floor(SETS / 3));
  const addr = new Uint8Array(16);
  const ord = order(N6);
  for (let k = 0; k < sets; k++) {
    const b = new UpdateBuilder({ ctx, afi: 2, attributes: syntheticAttributes(k, true), nextHop: { nextHop: `2001:db8::${(k % 200) + 1}` } });
    const from = Math.floor((k * N6) / sets);
    const to = Math.floor(((k + 1) * N6) / sets);
    for (let j = from; j < to; j++) {
      // 2001:db8:XXXX::/48 and upward through 2001:dbX:...
      const v = 0x20010db8 * 65536 + ord[j]!;
      addr[0] = 0x20; addr[1] = 0x01;
      addr[2] = Math.floor(v / 2 ** 24) & 255; addr[3] = Math.floor(v / 2 ** 16) & 255;
      addr[4] = (v >>> 8) & 255; addr[5] = v & 255;
      b.add({ addr, len: 48 });
    }
    out.push(...b.take());
  }
  return out;
}

function peer(id: number, exportPolicies: string[]): PeerDescriptor {
  return {
    id, address: `198.51.100.${id}`, peerAs: 65000 + id, localAs: 65001, remoteRouterId: 0xc6336400 + id, localRouterId: 0x0a000001,
    localAddress: '198.51.100.254', ibgp: false, routeReflectorClient: false, receiveCtx: ctx, sendCtx: ctx,
    families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestart: null, importPolicies: [], exportPolicies, maxPrefixes: 0,
  };
}

const v4msgs = buildV4();
const v6msgs = buildV6();
const policies = parsePolicies([{ name: 'all', default: 'accept' }]);
const newRib = (): Rib => new Rib({ localAs: 65001, routerId: 0x0a000001, role: 'speaker', multipath: { enabled: false, maxPaths: 1 }, policies, reserve: FULL_TABLE_RESERVE });

// --repeat N: N extra ingests into fresh tables first, timed alone (min and median of wall time),
// for A/B comparisons on a busy machine; the run reported below comes after them.
const REPEAT = arg('--repeat', 0);
if (REPEAT > 0) {
  const t4s: number[] = [];
  const t6s: number[] = [];
  for (let k = 0; k < REPEAT; k++) {
    const r = newRib();
    r.peerUp(peer(1, []), () => {});
    gc();
    let t = performance.now();
    for (const m of v4msgs) {
      const s = scanUpdate(m, 0, ctx);
      if (s.ok) r.update(1, s.value);
    }
    t4s.push(performance.now() - t);
    t = performance.now();
    for (const m of v6msgs) {
      const s = scanUpdate(m, 0, ctx);
      if (s.ok) r.update(1, s.value);
    }
    t6s.push(performance.now() - t);
  }
  const show = (v: number[]): string => {
    const x = [...v].sort((p, q) => p - q);
    return `min ${x[0]!.toFixed(0)} ms, median ${x[x.length >> 1]!.toFixed(0)} ms`;
  };
  console.log(`repeated ${REPEAT}x: ingest IPv4 ${show(t4s)}; IPv6 ${show(t6s)}`);
}

// Baselines before the RIB is made: its reservation (a full table's typed arrays, not filled)
// counts as allocated at once and becomes resident only as slots are used, so the arrays line
// shows what was allocated and the RSS line what the table made resident.
gc();
const heap0 = process.memoryUsage().heapUsed;
const ab0 = process.memoryUsage().arrayBuffers;
const rss0 = process.memoryUsage().rss;
const rib = newRib();
rib.peerUp(peer(1, []), () => {});
const cpu0 = process.cpuUsage();
let t0 = performance.now();
for (const m of v4msgs) {
  const s = scanUpdate(m, 0, ctx);
  if (!s.ok) throw new Error(s.error.message);
  rib.update(1, s.value);
}
const t4 = performance.now() - t0;
const cpu4 = process.cpuUsage(cpu0);
t0 = performance.now();
for (const m of v6msgs) {
  const s = scanUpdate(m, 0, ctx);
  if (!s.ok) throw new Error(s.error.message);
  rib.update(1, s.value);
}
const t6 = performance.now() - t0;
gc();
const heap1 = process.memoryUsage().heapUsed;
const ab1 = process.memoryUsage().arrayBuffers;
const rss1 = process.memoryUsage().rss;
const st = rib.stats();
if (st.ipv4Prefixes !== N4 || st.ipv6Prefixes !== N6) throw new Error(`table holds ${st.ipv4Prefixes}/${st.ipv6Prefixes}, expected ${N4}/${N6}`);

console.log(`bgp-rib: ${N4.toLocaleString('en-US')} IPv4 /24 in ${v4msgs.length} UPDATEs + ${N6.toLocaleString('en-US')} IPv6 /48 in ${v6msgs.length} UPDATEs, ${st.attributeSets} attribute sets`);
console.log(`  ingest IPv4 (scan + update)   ${t4.toFixed(0).padStart(6)} ms wall, ${((cpu4.user + cpu4.system) / 1000).toFixed(0)} ms CPU  ${rate(N4, t4)} prefixes`);
console.log(`  ingest IPv6 (scan + update)   ${t6.toFixed(0).padStart(6)} ms wall  ${rate(N6, t6)} prefixes`);
const total = N4 + N6;
console.log(`  heap delta after gc           ${mb(heap1 - heap0).padStart(9)}  (${((heap1 - heap0) / total).toFixed(1)} bytes/prefix)`);
console.log(`  typed arrays allocated        ${mb(ab1 - ab0).padStart(9)}  (the RIB's reservation and growth: address space, resident as used)`);
console.log(`  RSS delta (resident)          ${mb(rss1 - rss0).padStart(9)}  (${((rss1 - rss0) / total).toFixed(1)} bytes/prefix; RSS now ${mb(rss1)})`);

let out = 0;
let msgs = 0;
let bytes = 0;
rib.peerUp(peer(2, ['all']), () => { out++; });
t0 = performance.now();
for (;;) {
  const ms = rib.drainOut(2, 1 << 20);
  if (ms.length === 0) break;
  msgs += ms.length;
  for (const m of ms) bytes += m.length;
}
const te = performance.now() - t0;
gc();
const heap2 = process.memoryUsage().heapUsed;
const ab2 = process.memoryUsage().arrayBuffers;
console.log(`  export to one eBGP peer       ${te.toFixed(0).padStart(6)} ms  ${msgs} messages (incl. 2 End-of-RIB), ${mb(bytes)}, ${rate(total, te)} prefixes`);
console.log(`  with Adj-RIB-Out: heap delta  ${mb(heap2 - heap0).padStart(9)}, arrays allocated ${mb(ab2 - ab0)}, RSS ${mb(process.memoryUsage().rss)}`);
