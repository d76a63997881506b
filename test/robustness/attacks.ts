// The phases of bad input, one per external interface, each returning counts of what the
// daemon answered. The tests assert on the counts; fuzz/daemons.ts loops them for N seconds.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  MsgType,
  checkHeader,
  decodeOpenBody,
  decodeRouteRefreshBody,
  makeContext,
  scanUpdate,
  MessageReader,
  DEFAULT_CONTEXT,
  type WireContext,
} from '../../src/bgp/wire/index.js';
import { RRType, decodeMessage, encodeQuery, type DecodedMessage } from '../../src/dns/wire/index.js';
import { ScriptedPeer, peerOpen, KEEPALIVE_BYTES } from './bgp-peer.js';
import { Rng, dnsTcpGarbage, httpGarbage, mutate, protobufGarbage } from './generators.js';
import { rawCall, sleep, type MethodInfo, type RawOutcome } from './harness.js';
import * as F from '../bgp/wire/fixtures.js';

export type Counts = Record<string, number>;
const bump = (c: Counts, k: string, n = 1): void => void (c[k] = (c[k] ?? 0) + n);

/** Runs `n` tasks with at most `width` in flight. */
export async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker));
}

function hostPort(a: string): { host: string; port: number } {
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(a.slice(i + 1)) };
}

/** Writes bytes on a new connection and reports how it ended: the first response bytes, a close, or silence. */
function exchange(host: string, port: number, bytes: Buffer, waitMs: number): Promise<{ first: Buffer | null; closedByPeer: boolean; error?: string }> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let first: Buffer | null = null;
    let done = false;
    const finish = (closedByPeer: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve({ first, closedByPeer, ...(error ? { error } : {}) });
    };
    const t = setTimeout(() => finish(false), waitMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d: Buffer) => {
      first ??= d;
      if (first.length < 64) first = Buffer.concat([first, d]);
    });
    s.on('error', (e: NodeJS.ErrnoException) => finish(true, e.code ?? e.message));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
  });
}

// ---------------------------------------------------------------------------------------
// HTTP ops

/** Garbage requests, each on its own connection: counted by the status line answered (or none). */
export async function httpPhase(ops: string, rng: Rng, n: number, width = 8): Promise<Counts> {
  const { host, port } = hostPort(ops);
  const c: Counts = {};
  await pool(n, width, async () => {
    const r = await exchange(host, port, httpGarbage(rng), 1500);
    const line = r.first?.toString('latin1').split('\r\n')[0] ?? '';
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
    if (m) bump(c, `status-${m[1]}`);
    else if (r.first) bump(c, 'non-http-answer');
    else if (r.closedByPeer) bump(c, 'closed');
    else bump(c, 'no-answer');
  });
  return c;
}

// ---------------------------------------------------------------------------------------
// DNS

export function validQuery(rng: Rng, zone = 'cluster.local'): Buffer {
  const name = rng.pick([`kubernetes.default.svc.${zone}.`, `x.y.svc.${zone}.`, `${zone}.`, `1.0.96.10.in-addr.arpa.`, `_http._tcp.a.b.svc.${zone}.`]);
  const type = rng.pick([RRType.A, RRType.AAAA, RRType.SRV, RRType.PTR, RRType.SOA, RRType.TXT, RRType.ANY]);
  return encodeQuery(name, type, { id: rng.int(65536), ...(rng.chance(0.5) ? { edns: { udpSize: rng.int(65536), version: rng.int(2), do: rng.chance(0.5) } } : {}) });
}

/** One query over UDP; the decoded answer or null on timeout. */
export function udpQuery(addr: string, q: Buffer, timeoutMs = 2000): Promise<DecodedMessage | null> {
  const { host, port } = hostPort(addr);
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      const d = decodeMessage(m);
      if (!d.ok || d.msg.id !== q.readUInt16BE(0)) return;
      clearTimeout(t);
      s.close();
      resolve(d.msg);
    });
    s.send(q, port, host);
  });
}

/** One query over TCP (RFC 7766 framing); null when the server closed or said nothing. */
export async function tcpQuery(addr: string, q: Buffer, timeoutMs = 3000): Promise<DecodedMessage | null> {
  const { host, port } = hostPort(addr);
  const framed = Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]);
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (m: DecodedMessage | null): void => {
      clearTimeout(t);
      s.destroy();
      resolve(m);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    s.on('connect', () => s.write(framed));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const r = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        done(r.ok ? r.msg : null);
      }
    });
    s.on('error', () => done(null));
    s.on('close', () => done(null));
  });
}

/** Random and mutated datagrams; counts answers that decode and those that do not. */
export async function dnsUdpPhase(addr: string, rng: Rng, n: number): Promise<Counts> {
  const { host, port } = hostPort(addr);
  const c: Counts = {};
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.on('message', (m) => bump(c, decodeMessage(m).ok ? 'answer-decodes' : 'answer-does-not-decode'));
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  for (let i = 0; i < n; i++) {
    const kind = rng.int(4);
    const d = kind === 0 ? rng.bytes(rng.int(600)) : kind === 1 ? rng.bytes(rng.int(12)) : mutate(rng, validQuery(rng));
    s.send(d, port, host);
    bump(c, 'sent');
    if (i % 50 === 49) await sleep(5); // keep within the socket buffers: the point is the parser, not loss
  }
  await sleep(300);
  s.close();
  return c;
}

/** Connections with lying length prefixes and garbage: counted by how the server ended them. */
export async function dnsTcpPhase(addr: string, rng: Rng, n: number, width = 8): Promise<Counts> {
  const { host, port } = hostPort(addr);
  const c: Counts = {};
  await pool(n, width, async () => {
    const r = await exchange(host, port, dnsTcpGarbage(rng, validQuery(rng)), 400);
    bump(c, r.first ? 'answered' : r.closedByPeer ? 'closed-by-server' : 'left-open');
  });
  return c;
}

/** Opens `n` connections that send nothing, or one octet per `trickleMs`; the caller closes them. */
export async function slowloris(addr: string, n: number, trickleMs: number, trickle: boolean): Promise<{ sockets: Socket[]; closedByServer: () => number; stop: () => void }> {
  const { host, port } = hostPort(addr);
  const sockets: Socket[] = [];
  let closed = 0;
  const timers: NodeJS.Timeout[] = [];
  await pool(n, 16, async () => {
    await new Promise<void>((resolve) => {
      const s = connect({ host, port });
      s.on('error', () => undefined);
      s.on('close', () => void closed++);
      s.once('connect', () => {
        sockets.push(s);
        if (trickle) {
          // A length prefix promising 512 octets, then one octet per interval: never a full query.
          const bytes = Buffer.concat([Buffer.from([0x02, 0x00]), Buffer.alloc(510, 0x41)]);
          let i = 0;
          const tm = setInterval(() => {
            if (s.destroyed || i >= bytes.length) return clearInterval(tm);
            s.write(bytes.subarray(i, i + 1));
            i++;
          }, trickleMs);
          timers.push(tm);
        }
        resolve();
      });
      s.once('close', () => resolve());
    });
  });
  return {
    sockets,
    closedByServer: () => closed,
    stop: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------
// gRPC

export type PayloadKind = 'protobuf-garbage' | 'mutated-valid' | 'random' | 'empty' | 'huge';

export function grpcPayload(rng: Rng, m: MethodInfo, samples: Record<string, object>): { kind: PayloadKind; bytes: Buffer } {
  const sample = samples[m.name] ?? {};
  const r = rng.int(10);
  if (r < 4) return { kind: 'protobuf-garbage', bytes: protobufGarbage(rng) };
  if (r < 7) return { kind: 'mutated-valid', bytes: mutate(rng, m.encode(sample)) };
  if (r < 9) return { kind: 'random', bytes: rng.bytes(rng.int(300)) };
  if (rng.chance(0.5)) return { kind: 'empty', bytes: Buffer.alloc(0) };
  // A valid message whose first string field is 1–4 MB long.
  const big = 'z'.repeat(1_000_000 + rng.int(3_000_000));
  const key = Buffer.from([0x0a]);
  const len: number[] = [];
  for (let v = big.length; ; v >>>= 7) {
    if (v < 128) { len.push(v); break; }
    len.push((v & 127) | 128);
  }
  return { kind: 'huge', bytes: Buffer.concat([key, Buffer.from(len), Buffer.from(big)]) };
}

/**
 * The status name, with the library's own parse failure told apart: gRPC answers a request
 * that does not decode with INTERNAL "Error deserializing request" (doc/statuscodes.md: "Error
 * parsing request proto" → INTERNAL), before any handler runs. Any other INTERNAL or UNKNOWN
 * comes from a handler that failed in a way it did not mean to.
 */
export function grpcOutcomeName(o: RawOutcome): string {
  const name = grpc.status[o.code] ?? String(o.code);
  return o.code === grpc.status.INTERNAL && o.details.startsWith('Error deserializing request') ? 'INTERNAL(request does not decode)' : name;
}

/** Random methods with bad request bytes; counted by gRPC status name. */
export async function grpcPhase(client: grpc.Client, ms: MethodInfo[], samples: Record<string, object>, rng: Rng, n: number, width = 4, skip: ReadonlySet<string> = new Set()): Promise<{ counts: Counts; outcomes: { method: string; kind: PayloadKind; outcome: RawOutcome }[] }> {
  const counts: Counts = {};
  const outcomes: { method: string; kind: PayloadKind; outcome: RawOutcome }[] = [];
  const usable = ms.filter((m) => !skip.has(m.name));
  await pool(n, width, async () => {
    const m = rng.pick(usable);
    const p = grpcPayload(rng, m, samples);
    const payloads = m.requestStream ? Array.from({ length: 1 + rng.int(3) }, () => (rng.chance(0.5) ? p.bytes : protobufGarbage(rng))) : [p.bytes];
    const outcome = await rawCall(client, m, payloads, 10_000);
    bump(counts, grpcOutcomeName(outcome));
    outcomes.push({ method: m.name, kind: p.kind, outcome });
  });
  return { counts, outcomes };
}

// ---------------------------------------------------------------------------------------
// BGP

export interface BgpTarget {
  port: number;
  /** Source addresses configured as passive peers. */
  peers: string[];
  /** Their AS. */
  peerAs: number;
  /** Source addresses not configured at all. */
  strangers: string[];
}

/** What the daemon must answer to one message arriving in OpenSent (RFC 4271 §6, §8.2.2). */
export function expectInOpenSent(msg: Buffer): { code: number; subcode?: number } | 'close' | 'open-ok' | 'incomplete' {
  if (msg.length < 19) return 'incomplete';
  const h = checkHeader(msg, 0, DEFAULT_CONTEXT);
  if (typeof h !== 'number') return { code: h.code, subcode: h.subcode };
  if (msg.length < h) return 'incomplete';
  switch (msg[18]) {
    case MsgType.OPEN: {
      const r = decodeOpenBody(msg, 19, h);
      return r.ok ? 'open-ok' : { code: r.error.code, subcode: r.error.subcode };
    }
    case MsgType.NOTIFICATION: return 'close';
    case MsgType.ROUTE_REFRESH: {
      // RFC 7313 §5: a ROUTE-REFRESH of the wrong length is its own error (7/1), found before
      // the state machine sees the message.
      const r = decodeRouteRefreshBody(msg, 19, h);
      return r.ok ? { code: 5, subcode: 1 } : { code: r.error.code, subcode: r.error.subcode };
    }
    default: return { code: 5, subcode: 1 }; // RFC 6608: unexpected message in OpenSent
  }
}

/** What the daemon must do with one more message on an Established session. */
export function expectEstablished(msg: Buffer, ctx: WireContext): { code: number; subcode: number } | 'none' | 'close' | 'incomplete' {
  const r = new MessageReader(ctx);
  r.push(msg);
  const m = r.next();
  if (m === null) return 'incomplete';
  if (!m.ok) return { code: m.error.code, subcode: m.error.subcode };
  if (m.type !== MsgType.UPDATE) return m.type === MsgType.KEEPALIVE ? 'none' : 'close';
  const s = scanUpdate(m.message, 0, ctx);
  if (!s.ok) return { code: s.error.code, subcode: s.error.subcode };
  if (s.value.action === 'afisafi-disable') {
    const e = s.value.errors.find((x) => x.action === 'afisafi-disable')!;
    return { code: e.code, subcode: e.subcode };
  }
  if (r.next() !== null) return 'close'; // more than one message: not predicted here
  return 'none';
}

/** A connection the daemon's session took (it sent its OPEN), retrying while the session idles. */
export async function acceptedPeer(t: BgpTarget, src: string, tries = 40): Promise<ScriptedPeer | null> {
  for (let i = 0; i < tries; i++) {
    let p: ScriptedPeer;
    try {
      p = await ScriptedPeer.connect(t.port, src);
    } catch {
      await sleep(25);
      continue;
    }
    if (await p.awaitOpen(2000)) return p;
    p.close();
    await sleep(25);
  }
  return null;
}

export async function establishedPeer(t: BgpTarget, src: string, opts: { as4?: boolean; extendedMessage?: boolean } = {}): Promise<ScriptedPeer | null> {
  for (let i = 0; i < 5; i++) {
    const p = await acceptedPeer(t, src);
    if (!p) return null;
    if (await p.handshake(peerOpen({ as: t.peerAs, bgpId: src, ...opts }))) return p;
    p.close();
    await sleep(50);
  }
  return null;
}

/** A broken header that the reader rejects at once: Connection Not Synchronized (RFC 4271 §6.1). */
export const BAD_MARKER = Buffer.concat([Buffer.alloc(16, 0xfe), Buffer.from([0, 19, 4])]);

function garbageForOpenSent(rng: Rng, t: BgpTarget, src: string): { kind: string; bytes: Buffer } {
  const hdr = (len: number, type: number): Buffer => Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([len >> 8, len & 255, type])]);
  switch (rng.int(7)) {
    case 0: return { kind: 'random-bytes', bytes: rng.bytes(19 + rng.int(200)) };
    case 1: {
      const marker = Buffer.alloc(16, 0xff);
      marker[rng.int(16)] = rng.int(255); // never 0xff: the marker is damaged
      return { kind: 'bad-marker', bytes: Buffer.concat([marker, Buffer.from([0, 19, 4])]) };
    }
    case 2: {
      const body = rng.bytes(rng.int(120));
      return { kind: 'header-garbage-body', bytes: Buffer.concat([hdr(19 + body.length, 1 + rng.int(5)), body]) };
    }
    case 3: return { kind: 'bad-length', bytes: Buffer.concat([hdr(rng.pick([0, 1, 18, 4097, 65535]), 1 + rng.int(5)), rng.bytes(rng.int(30))]) };
    case 4: return { kind: 'bad-type', bytes: Buffer.concat([hdr(19, rng.pick([0, 6, 7, 128, 255])), Buffer.alloc(0)]) };
    case 5: {
      // OPEN with damaged optional parameters / capabilities; the lengths are kept consistent
      // so the capability parser, not the framing, meets the damage.
      const open = peerOpen({ as: t.peerAs, bgpId: src });
      const m = mutate(rng, open, 29);
      if (m.length >= 19) m.writeUInt16BE(Math.min(m.length, 65535), 16);
      if (m.length >= 29 && rng.chance(0.7)) m[28] = Math.min(255, m.length - 29);
      return { kind: 'open-bad-capabilities', bytes: m };
    }
    default: {
      const seed = rng.pick([F.UPDATE_IPV4_ALL, F.KEEPALIVE_MSG, F.ROUTE_REFRESH_V4, F.UPDATE_IPV6_REACH]);
      const m = mutate(rng, seed, 19);
      if (m.length >= 19) m.writeUInt16BE(Math.min(m.length, 65535), 16);
      return { kind: 'before-established', bytes: m };
    }
  }
}

/**
 * Connections from configured peer addresses that send one bad message in OpenSent: where the
 * header is readable the NOTIFICATION must carry the predicted code; anything else ends the
 * connection. `mismatches` lists what did not match the prediction.
 */
export async function bgpOpenSentPhase(t: BgpTarget, rng: Rng, n: number): Promise<{ counts: Counts; mismatches: string[] }> {
  const counts: Counts = {};
  const mismatches: string[] = [];
  const free = [...t.peers];
  await pool(n, t.peers.length, async () => {
    const src = free.shift()!;
    try {
      const p = await acceptedPeer(t, src);
      if (!p) return void bump(counts, 'session-never-accepted');
      const g = garbageForOpenSent(rng, t, src);
      const want = expectInOpenSent(g.bytes);
      p.send(g.bytes);
      if (want === 'incomplete') {
        // Truncated: nothing to answer yet; we hang up and the daemon must cope.
        p.close();
        bump(counts, `${g.kind}:truncated-closed`);
        return;
      }
      const got = await p.notification(want === 'open-ok' ? 300 : 3000);
      p.close();
      const gotS = got.kind === 'notification' ? `${got.code}/${got.subcode}` : got.kind;
      bump(counts, `${g.kind}:${gotS}`);
      if (want === 'close' && got.kind === 'notification') mismatches.push(`${g.kind} ${g.bytes.toString('hex')}: expected close, got ${gotS}`);
      if (want === 'open-ok' && got.kind === 'notification' && got.code !== 2) mismatches.push(`${g.kind} ${g.bytes.toString('hex')}: OPEN decodes, got ${gotS}`);
      if (typeof want === 'object') {
        const ok = got.kind === 'notification' && got.code === want.code && (want.subcode === undefined || got.subcode === want.subcode);
        if (!ok) mismatches.push(`${g.kind} ${g.bytes.toString('hex')}: expected ${want.code}/${want.subcode ?? '*'}, got ${gotS}`);
      }
    } finally {
      free.push(src);
    }
  });
  return { counts, mismatches };
}

/**
 * UPDATEs mutated from valid ones on Established sessions, after one valid UPDATE per batch.
 * Messages the codec accepts are pipelined; the first one it rejects must bring exactly its NOTIFICATION (so every accepted
 * one before it was processed without a reset). A batch without a rejected message ends with
 * a bad marker, which must bring 1/1.
 */
export async function bgpUpdatePhase(t: BgpTarget, rng: Rng, n: number): Promise<{ counts: Counts; mismatches: string[] }> {
  const counts: Counts = {};
  const mismatches: string[] = [];
  const ctx = makeContext({ as4: true });
  const seeds = [F.UPDATE_IPV4_ALL, F.UPDATE_IPV6_REACH, F.UPDATE_IPV6_UNREACH, F.UPDATE_IPV4_V6NH, F.EOR_IPV4, F.EOR_IPV6];
  let sent = 0;
  const free = [...t.peers];
  await pool(Math.ceil(n / 10), t.peers.length, async () => {
    const src = free.shift()!;
    try {
      const p = await establishedPeer(t, src);
      if (!p) return void bump(counts, 'session-never-established');
      // Each batch opens with a valid UPDATE, so every batch pipelines accepted work ahead of
      // the mutated ones: about 9 in 10 mutated batches have their first message rejected, and a
      // small run (tern-rrd's 30 batches) could otherwise accept none at all.
      const batch: Buffer[] = [Buffer.from(F.UPDATE_IPV4_ALL)];
      sent++;
      let want: { code: number; subcode: number } = { code: 1, subcode: 1 };
      for (let i = 0; i < 10; i++) {
        const m = mutate(rng, rng.pick(seeds), 19);
        if (m.length < 19) continue;
        // The length always tells the truth (a lying one would merge into the next message),
        // except for a few that are impossible by themselves (RFC 4271 §6.1: Bad Message Length).
        m.writeUInt16BE(rng.chance(0.95) ? Math.min(m.length, 65535) : rng.int(19), 16);
        m[18] = MsgType.UPDATE;
        const e = expectEstablished(m, ctx);
        if (e === 'incomplete' || e === 'close') continue;
        batch.push(m);
        sent++;
        if (e !== 'none') {
          want = e;
          break;
        }
      }
      if (want.code === 1 && want.subcode === 1 && batch.every((b) => expectEstablished(b, ctx) === 'none')) batch.push(BAD_MARKER);
      p.send(Buffer.concat(batch));
      const got = await p.notification(3000);
      p.close();
      const gotS = got.kind === 'notification' ? `${got.code}/${got.subcode}` : got.kind;
      bump(counts, `notification-${gotS}`);
      bump(counts, 'updates-accepted', batch.filter((b) => b !== BAD_MARKER && expectEstablished(b, ctx) === 'none').length);
      if (!(got.kind === 'notification' && got.code === want.code && got.subcode === want.subcode)) {
        mismatches.push(`batch ${batch.map((b) => b.toString('hex')).join(' ')}: expected ${want.code}/${want.subcode}, got ${gotS}`);
      }
    } finally {
      free.push(src);
    }
  });
  counts.sent = sent;
  return { counts, mismatches };
}

/** Connect/close cycles from strangers and peers, some sending a few bytes first. */
export async function bgpChurnPhase(t: BgpTarget, rng: Rng, n: number, width = 32): Promise<Counts> {
  const counts: Counts = {};
  const sources = [...t.strangers, ...t.peers];
  await pool(n, width, async () => {
    const src = rng.pick(sources);
    const bytes = rng.chance(0.3) ? rng.bytes(rng.int(40)) : rng.chance(0.3) ? KEEPALIVE_BYTES : Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: t.port, localAddress: src });
      let finished = false;
      const done = (k: string): void => {
        if (finished) return;
        finished = true;
        bump(counts, k);
        s.destroy();
        resolve();
      };
      s.on('error', () => done('error'));
      s.once('connect', () => {
        if (bytes.length) s.write(bytes);
        if (rng.chance(0.5)) setImmediate(() => done('closed-by-us'));
        else s.once('close', () => done('closed-by-daemon'));
        setTimeout(() => done('closed-by-us'), 500);
      });
    });
  });
  return counts;
}
