// tern-dnsd under bad input on every external interface: DNS over UDP and TCP (garbage, lying
// length prefixes, slowloris up to the connection limit), gRPC, and the three HTTP listeners
// (ops, health, ready). Fed from a real etcd; after every phase the process is alive, a valid
// query is answered from the index, GetStatus answers and /health is 200.
import * as grpc from '@grpc/grpc-js';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd } from '../../src/datastore/client.js';
import { Keys } from '../../src/datastore/keys.js';
import { Store } from '../../src/datastore/store.js';
import { RRType, Rcode, encodeQuery } from '../../src/dns/wire/index.js';
import { EtcdServer } from '../../src/lab/etcd.js';
import { freePort } from '../../src/lab/ports.js';
import { dnsTcpPhase, dnsUdpPhase, grpcOutcomeName, grpcPhase, httpPhase, slowloris, tcpQuery, udpQuery } from './attacks.js';
import { Rng } from './generators.js';
import { Daemon, call, getStatus, httpGet, methods, removeDir, sleep, tempDir, typedClient, waitFor, waitServing } from './harness.js';

const seed = Number(process.env.TERN_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const rng = new Rng(seed);
const MAX_TCP = 40;
const IDLE_MS = 2000;

let dir = '';
let etcd: EtcdServer;
let etcdClient: Etcd3;
let d: Daemon;
let client: grpc.Client;
let dnsAddr = '';
let healthAddr = '';
let readyAddr = '';
let qid = 1;

const goodQuery = (): Buffer => encodeQuery('robust.default.svc.cluster.local.', RRType.A, { id: qid++ & 0xffff });

async function answersGood(transport: 'udp' | 'tcp', phase: string): Promise<void> {
  const m = transport === 'udp' ? await udpQuery(dnsAddr, goodQuery()) : await tcpQuery(dnsAddr, goodQuery());
  expect(m, `${phase}: ${transport} answer`).not.toBeNull();
  expect(m!.rcode, phase).toBe(Rcode.NOERROR);
  expect(m!.answers.map((a) => a.address), phase).toEqual(['10.96.77.7']);
}

async function stillServing(phase: string): Promise<void> {
  d.assertAlive(phase);
  await answersGood('udp', phase);
  await answersGood('tcp', phase);
  expect((await getStatus(client)).ready, phase).toBe(true);
  expect(await httpGet(d.ops, '/health'), phase).toBe(200);
  expect(await httpGet(healthAddr, '/health'), phase).toBe(200);
  expect(await httpGet(readyAddr, '/ready'), phase).toBe(200);
  d.assertAlive(phase);
  expect(d.stackTraces(), phase).toEqual([]);
}

beforeAll(async () => {
  console.log(`robustness dnsd seed ${seed} (TERN_FUZZ_SEED to replay)`);
  dir = tempDir('dnsd');
  etcd = new EtcdServer();
  await etcd.start();
  etcdClient = connectEtcd({ endpoints: [etcd.endpoint], dialTimeoutMs: 5000 });
  const store = new Store(etcdClient, new Keys('/tern/'));
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'robust', namespace: 'default' }, spec: { clusterIP: '10.96.77.7', ports: [{ name: 'http', port: 80 }] } });
  dnsAddr = `127.0.0.1:${await freePort()}`;
  healthAddr = `127.0.0.1:${await freePort()}`;
  readyAddr = `127.0.0.1:${await freePort()}`;
  d = Daemon.start({
    name: 'tern-dnsd',
    dir,
    opsListen: `127.0.0.1:${await freePort()}`,
    config: {
      etcd: { endpoints: [etcd.endpoint], prefix: '/tern/' },
      dns: {
        zones: ['cluster.local'],
        listen: [dnsAddr],
        health: healthAddr,
        ready: readyAddr,
        // Never forward: no real resolver is contacted, whatever the fuzzer asks.
        upstreams: 'none',
        tcpIdleTimeoutMs: IDLE_MS,
        maxTcpConnections: MAX_TCP,
      },
    },
  });
  client = typedClient(d);
  await waitServing(d, client);
  await waitFor('the service in the index', async () => answersGood('udp', 'start'));
});

afterAll(async () => {
  client?.close();
  await d?.stop();
  etcdClient?.close();
  await etcd?.destroy();
  if (dir) removeDir(dir);
});

describe('tern-dnsd robustness', () => {
  it('random and mutated UDP datagrams: every answer decodes, nothing crashes', async () => {
    const c = await dnsUdpPhase(dnsAddr, rng, 5000);
    expect(c['answer-does-not-decode'] ?? 0, JSON.stringify(c)).toBe(0);
    // Mutated queries mostly still parse: FORMERR/NXDOMAIN/NOERROR answers came back.
    expect(c['answer-decodes'] ?? 0, JSON.stringify(c)).toBeGreaterThan(0);
    await stillServing('udp garbage');
  });

  it('TCP streams with lying length prefixes and garbage are answered or closed', async () => {
    const c = await dnsTcpPhase(dnsAddr, rng, 300, 16);
    expect(c['closed-by-server'] ?? 0, JSON.stringify(c)).toBeGreaterThan(0);
    await stillServing('tcp garbage');
  });

  it('slowloris up to the connection limit: UDP keeps answering, the idle timer frees TCP', async () => {
    // Half send nothing, half trickle one octet of a never-complete query every 200 ms.
    const silent = await slowloris(dnsAddr, MAX_TCP / 2, 200, false);
    const trickle = await slowloris(dnsAddr, MAX_TCP / 2, 200, true);
    try {
      await sleep(300);
      // While every TCP slot is held, UDP is untouched.
      await answersGood('udp', 'slowloris (held)');
      d.assertAlive('slowloris (held)');
      // Once the idle timeout has passed, the server has closed every one of them, including
      // those that kept trickling: an incomplete query does not count as activity.
      await waitFor('the server to close the slow connections', async () => {
        const closed = silent.closedByServer() + trickle.closedByServer();
        if (closed < MAX_TCP) throw new Error(`${closed} of ${MAX_TCP} closed`);
      }, IDLE_MS * 4);
      await answersGood('tcp', 'slowloris (after idle timeout)');
    } finally {
      silent.stop();
      trickle.stop();
    }
    await stillServing('slowloris');
  });

  it('gRPC: wrong shapes, huge names and bad types get gRPC errors', async () => {
    const ms = methods('tern-dnsd');
    const samples = { Lookup: { name: 'robust.default.svc.cluster.local', type: 'A' } };
    const r = await grpcPhase(client, ms, samples, rng, 300);
    const unexpected = r.outcomes.filter((o) => ['INTERNAL', 'UNKNOWN', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(grpcOutcomeName(o.outcome)));
    expect(unexpected.map((o) => `${o.method} (${o.kind}): ${grpcOutcomeName(o.outcome)} ${o.outcome.details}`).slice(0, 8), JSON.stringify(r.counts)).toEqual([]);
    for (const req of [
      { name: 'x'.repeat(1_000_000), type: 'A' },
      { name: 'robust.default.svc.cluster.local', type: 'NOPE' },
      { name: '..', type: 'A' },
      { name: `${'a'.repeat(64)}.cluster.local`, type: 'A' },
      { name: '\u0000\ud800', type: '\u0000' },
    ]) {
      const e = await call(client, 'Lookup', req).then(() => null, (err: grpc.ServiceError) => err);
      if (e) {
        expect(e.code, e.details).toBe(grpc.status.INVALID_ARGUMENT);
        expect(e.details.length).toBeGreaterThan(0);
        expect(e.details.length).toBeLessThan(2000);
      }
    }
    await stillServing('grpc garbage');
  });

  it('HTTP: ops, health and ready listeners answer garbage with an HTTP error or a close', async () => {
    for (const addr of [d.ops, healthAddr, readyAddr]) {
      const c = await httpPhase(addr, rng, 80, 16);
      expect(Object.keys(c).filter((k) => k.startsWith('status-5')), JSON.stringify(c)).toEqual([]);
      expect(c['non-http-answer'] ?? 0, JSON.stringify(c)).toBe(0);
    }
    await stillServing('http garbage');
  });
});
