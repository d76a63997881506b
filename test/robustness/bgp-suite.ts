// The BGP daemons (tern-bgpd, tern-rrd: one engine, two roles) under bad input on every
// external interface: the BGP port (from unknown addresses and from configured passive peers
// on 127.0.0.x), the gRPC socket and the ops endpoint. After every phase the process is alive
// and still answers GetStatus, /health and a good OPEN. bgpd.test.ts and rrd.test.ts run it.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/lab/ports.js';
import type { PeerState__Output } from '../../src/proto/gen/tern/bgp/v1/PeerState.js';
import { CORPUS } from '../bgp/wire/corpus/cases.js';
import { KEEPALIVE_BYTES } from './bgp-peer.js';
import {
  BAD_MARKER,
  bgpChurnPhase,
  bgpOpenSentPhase,
  bgpUpdatePhase,
  establishedPeer,
  grpcOutcomeName,
  grpcPhase,
  httpPhase,
  type BgpTarget,
} from './attacks.js';
import { Rng } from './generators.js';
import { Daemon, waitServing, call, getStatus, httpGet, methods, rawCall, removeDir, tempDir, typedClient } from './harness.js';

const PEER_AS = 65002;
/** 127.0.0.2 is kept for the good-OPEN check; the phases use the others. */
const CHECK_PEER = '127.0.0.2';
const PEERS = Array.from({ length: 8 }, (_, i) => `127.0.0.${3 + i}`);
const STRANGERS = Array.from({ length: 4 }, (_, i) => `127.0.1.${1 + i}`);

/** How much of each phase: connect/close cycles, HTTP requests, OpenSent messages, UPDATEs, gRPC calls. */
export interface Scale {
  churn: number;
  http: number;
  openSent: number;
  updates: number;
  grpc: number;
}

export function bgpRobustnessSuite(name: 'tern-bgpd' | 'tern-rrd', scale: Scale): void {
  const seed = Number(process.env.TERN_FUZZ_SEED ?? Date.now() % 0x7fffffff);
  const rng = new Rng(seed);
  let dir = '';
  let d: Daemon;
  let client: grpc.Client;
  let target: BgpTarget;

  /** Alive, GetStatus ready, /health 200, and a fresh session from the check peer reaches Established. */
  async function stillServing(phase: string): Promise<void> {
    d.assertAlive(phase);
    const st = await getStatus(client);
    expect(st.ready, phase).toBe(true);
    expect(await httpGet(d.ops, '/health'), phase).toBe(200);
    const p = await establishedPeer(target, CHECK_PEER);
    expect(p, `${phase}: a good OPEN from ${CHECK_PEER} reaches Established`).not.toBeNull();
    p!.close();
    d.assertAlive(phase);
    expect(d.stackTraces(), phase).toEqual([]);
  }

  beforeAll(async () => {
    console.log(`robustness ${name} seed ${seed} (TERN_FUZZ_SEED to replay)`);
    dir = tempDir(name.slice(5));
    const port = await freePort();
    target = { port, peers: PEERS, peerAs: PEER_AS, strangers: STRANGERS };
    d = Daemon.start({
      name,
      dir,
      opsListen: `127.0.0.1:${await freePort()}`,
      logLevel: 'info',
      config: {
        bgp: {
          asNumber: 65001,
          routerId: '10.255.0.1',
          listen: { address: '127.0.0.1', port },
          // A peer that sent garbage goes Idle; with no hold-down it takes the next connection at once.
          timers: { idleHold: 0, idleHoldMax: 0, connectRetry: 1 },
          peers: [CHECK_PEER, ...PEERS].map((address) => ({ address, asNumber: PEER_AS, passive: true })),
        },
      },
    });
    client = typedClient(d);
    await waitServing(d, client);
  });

  afterAll(async () => {
    client?.close();
    await d?.stop();
    if (dir) removeDir(dir);
  });

  describe(`${name} robustness`, () => {
    it('ops endpoint: bad methods, huge paths and garbage get an HTTP error or a close', async () => {
      const c = await httpPhase(d.ops, rng, scale.http, 16);
      const statuses = Object.keys(c).filter((k) => k.startsWith('status-'));
      // Never a 5xx, never an answer that is not HTTP.
      expect(statuses.filter((k) => k.startsWith('status-5')), JSON.stringify(c)).toEqual([]);
      expect(c['non-http-answer'] ?? 0, JSON.stringify(c)).toBe(0);
      expect(statuses.some((k) => k === 'status-400' || k === 'status-404' || k === 'status-431'), JSON.stringify(c)).toBe(true);
      await stillServing('http garbage');
    });

    it('survives thousands of connect/close cycles from strangers and peers', async () => {
      const c = await bgpChurnPhase(target, rng, scale.churn);
      expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(scale.churn);
      // Strangers are closed by the daemon (RFC 4271 §8.1.1 Event 15) and it says so.
      expect(d.logged('connection from an unknown address closed').length).toBeGreaterThan(0);
      await stillServing('connect/close churn');
    });

    it('answers bad messages in OpenSent with the NOTIFICATION the header or body calls for', async () => {
      const r = await bgpOpenSentPhase(target, rng, scale.openSent);
      expect(r.mismatches.slice(0, 5), JSON.stringify(r.counts)).toEqual([]);
      expect(r.counts['session-never-accepted'] ?? 0).toBe(0);
      // Each kind of damage was seen and the readable-header kinds got NOTIFICATIONs.
      const kinds = new Set(Object.keys(r.counts).map((k) => k.split(':')[0]));
      for (const k of ['random-bytes', 'bad-marker', 'header-garbage-body', 'bad-length', 'bad-type', 'open-bad-capabilities', 'before-established']) expect(kinds).toContain(k);
      expect(Object.keys(r.counts).filter((k) => k.startsWith('bad-marker:')).every((k) => k === 'bad-marker:1/1')).toBe(true);
      expect(d.logged('sending NOTIFICATION').length).toBeGreaterThan(0);
      await stillServing('OpenSent garbage');
    });

    it('replays the malformed-message corpus on Established sessions with the RFC 4271/7606 outcome', async () => {
      const results: string[] = [];
      for (const c of CORPUS) {
        const src = PEERS[results.length % PEERS.length]!;
        const p = await establishedPeer(target, src, { as4: c.ctx !== 'as2', extendedMessage: c.ctx === 'as4-ext' });
        expect(p, c.name).not.toBeNull();
        p!.send(c.bytes);
        if (c.expect.outcome === 'fail' || c.expect.outcome === 'session-reset' || c.expect.outcome === 'afisafi-disable') {
          const n = await p!.notification(3000);
          results.push(`${c.name}: ${n.kind === 'notification' ? `${n.code}/${n.subcode}` : n.kind}`);
          expect(n, c.name).toEqual({ kind: 'notification', code: c.expect.code, subcode: c.expect.subcode });
        } else {
          // treat-as-withdraw / attribute-discard: the session stays; a bad marker after it proves
          // the UPDATE was processed without a reset.
          p!.send(KEEPALIVE_BYTES);
          p!.send(BAD_MARKER);
          const n = await p!.notification(3000);
          results.push(`${c.name}: kept, then ${n.kind === 'notification' ? `${n.code}/${n.subcode}` : n.kind}`);
          expect(n, c.name).toEqual({ kind: 'notification', code: 1, subcode: 1 });
        }
        p!.close();
      }
      expect(results.length).toBe(CORPUS.length);
      await stillServing('corpus replay');
    });

    it('answers UPDATEs mutated from valid ones per RFC 7606, pipelined on Established sessions', async () => {
      const r = await bgpUpdatePhase(target, rng, scale.updates);
      expect(r.mismatches.slice(0, 5), JSON.stringify(r.counts)).toEqual([]);
      expect(r.counts['session-never-established'] ?? 0).toBe(0);
      expect(r.counts['updates-accepted'] ?? 0).toBeGreaterThan(0);
      await stillServing('mutated UPDATEs');
    });

    it('gRPC: raw bytes of the wrong shape, huge strings and invalid values get gRPC errors', async () => {
      const ms = methods(name);
      const samples: Record<string, object> = {
        ListPeers: { address: '127.0.0.3' },
        AddPath: { path: { prefix: '10.9.0.0/24', nextHop: '127.0.0.1', origin: 'igp', communities: ['65000:1'] } },
        AddPaths: { path: { prefix: '10.9.1.0/24', nextHop: '127.0.0.1' } },
        DeletePath: { prefix: '10.9.0.0/24' },
        ListRoutes: { table: 1, peer: '127.0.0.3', prefix: '10.9.0.0/24', limit: 5 },
        WatchBestPaths: { family: 1 },
      };
      // Peers are never created from random bytes: a mutated AddPeer could name a real address
      // outside loopback and the daemon would dial it. Those methods get hand-made bad input below.
      const skip = new Set(['AddPeer', 'UpdatePeer', 'DeletePeer']);
      const r = await grpcPhase(client, ms, samples, rng, scale.grpc, 4, skip);
      const unexpected = r.outcomes.filter((o) => ['INTERNAL', 'UNKNOWN', 'UNAVAILABLE'].includes(grpcOutcomeName(o.outcome)));
      expect(unexpected.map((o) => `${o.method} (${o.kind}): ${grpcOutcomeName(o.outcome)} ${o.outcome.details}`).slice(0, 8), JSON.stringify(r.counts)).toEqual([]);
      expect(r.counts.INVALID_ARGUMENT ?? 0, JSON.stringify(r.counts)).toBeGreaterThan(0);
      d.assertAlive('grpc garbage');

      const bad = async (method: string, req: object, ...codes: grpc.status[]): Promise<void> => {
        const e = await call(client, method, req).then(() => null, (err: grpc.ServiceError) => err);
        expect(codes, `${method} ${JSON.stringify(req).slice(0, 200)}: ${e?.details ?? 'accepted'}`).toContain(e?.code);
        // A clear message, bounded even when it quotes a huge field.
        expect(e!.details.length).toBeGreaterThan(0);
        expect(e!.details.length).toBeLessThan(2000);
      };
      await bad('AddPeer', { peer: { address: 'x', peerAs: 65009 } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPeer', { peer: { address: '', peerAs: 65009 } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPeer', { peer: { address: '300.1.1.1', peerAs: 65009 } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPeer', { peer: { address: 'z'.repeat(2_000_000), peerAs: 65009 } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPeer', {}, grpc.status.INVALID_ARGUMENT);
      await bad('UpdatePeer', { peer: { address: 'not-an-ip' } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPath', { path: { prefix: '10.0.0.0/33', nextHop: '127.0.0.1' } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPath', { path: { prefix: 'x'.repeat(1_000_000) } }, grpc.status.INVALID_ARGUMENT);
      await bad('AddPath', { path: { prefix: '10.0.0.0/8', nextHop: 'nope' } }, grpc.status.INVALID_ARGUMENT);
      await bad('DeletePath', { prefix: '::/129' }, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND);
      await bad('DeletePath', { prefix: 'z'.repeat(500_000) }, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND);
      // A filter naming no peer is a valid question with an empty answer.
      expect((await call<{ peers: PeerState__Output[] }>(client, 'ListPeers', { address: 'q'.repeat(500_000) })).peers).toEqual([]);
      await bad('DeletePeer', { address: '127.0.0.99' }, grpc.status.NOT_FOUND);
      await bad('DeletePeer', { address: 'x' }, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND);
      const lr = await rawCall(client, ms.find((m) => m.name === 'ListRoutes')!, [methods(name).find((m) => m.name === 'ListRoutes')!.encode({ prefix: '10.0.0.0/33' })]);
      expect(lr.code, lr.details).toBe(grpc.status.INVALID_ARGUMENT);

      // Wrong wire types where AddPeer/UpdatePeer/DeletePeer expect a message or a string.
      const wrongTypes = [
        Buffer.from([0x08, 0x05]), // field 1 as a varint
        Buffer.from([0x0d, 1, 2, 3, 4]), // field 1 as fixed32
        Buffer.from([0x0a, 0x7f, 0x01]), // length overrun
        Buffer.from([0x0a, 0x02, 0x08, 0x01]), // PeerConfig.address as a varint
        Buffer.from([0x0b, 0x0c]), // an empty group
        Buffer.from([0x0f]), // wire type 7
      ];
      for (const m of ms.filter((x) => skip.has(x.name))) {
        for (const w of wrongTypes) {
          const o = await rawCall(client, m, [w]);
          expect(o.code, `${m.name} ${w.toString('hex')}: ${o.details}`).not.toBe(grpc.status.OK);
          expect(['INTERNAL', 'UNKNOWN', 'UNAVAILABLE'], `${m.name} ${w.toString('hex')}: ${o.details}`).not.toContain(grpcOutcomeName(o));
        }
      }
      // Nothing but the configured loopback peers exists.
      const peers = (await call<{ peers: PeerState__Output[] }>(client, 'ListPeers', {})).peers;
      expect(peers.map((p) => p.config?.address).sort()).toEqual([CHECK_PEER, ...PEERS].sort());
      await stillServing('grpc garbage');
    });

    it('a good OPEN still works from every configured peer at the end', async () => {
      for (const src of PEERS) {
        const p = await establishedPeer(target, src, {});
        expect(p, src).not.toBeNull();
        p!.close();
      }
      await stillServing('end');
    });
  });
}
