// tern-agentd and tern-cni under bad input. The agent runs inside a network namespace this
// file creates (its routes and nftables table land there, never in the root namespace), with
// a real etcd reached through a unix socket; its gRPC socket is a file, so the test reaches it
// from outside; its ops endpoint is on the namespace's loopback, probed from inside.
// After every phase: alive, GetStatus answers, /health is 200, CNI STATUS answers.
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../../src/lab/etcd.js';
import type { CniResponse__Output } from '../../src/proto/gen/tern/agent/v1/CniResponse.js';
import { grpcOutcomeName, grpcPhase } from './attacks.js';
import { Rng, mutate } from './generators.js';
import {
  Daemon, bin, call, createNetns, deleteNetns, getStatus, methods, probeInNetns, removeDir, tempDir, typedClient, waitServing,
} from './harness.js';

const seed = Number(process.env.TERN_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const rng = new Rng(seed);
const OPS = '127.0.0.1:9091';
const NETNS_PATH = '/nonexistent/tern-robustness/netns';

let dir = '';
let netns = '';
let etcd: EtcdServer;
let d: Daemon;
let client: grpc.Client;

const conf = (o: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ cniVersion: '1.1.0', name: 'robust', type: 'tern-cni', agentSocket: d.socket, ...o }));

async function stillServing(phase: string): Promise<void> {
  d.assertAlive(phase);
  await getStatus(client);
  const st = await call<CniResponse__Output>(client, 'CniStatus', { networkConfig: conf() });
  // STATUS answers: ready (no error) or a CNI error object with a code, never a gRPC failure.
  expect(st.error === null || st.error.code > 0, phase).toBe(true);
  const probe = await probeInNetns(netns, OPS, 0, 1);
  expect(probe.health, phase).toBe(200);
  d.assertAlive(phase);
  expect(d.stackTraces(), phase).toEqual([]);
}

beforeAll(async () => {
  console.log(`robustness agentd seed ${seed} (TERN_FUZZ_SEED to replay)`);
  dir = tempDir('agentd');
  netns = createNetns('agentd');
  etcd = new EtcdServer({ unixSocketDir: dir });
  await etcd.start();
  d = Daemon.start({
    name: 'tern-agentd',
    dir,
    netns,
    opsListen: OPS,
    extraArgs: ['--node-name', 'robust1', '--node-ip', '10.255.0.1'],
    config: { etcd: { endpoints: [etcd.unixEndpoint!], prefix: '/tern/' }, bgpdSocket: '' },
  });
  client = typedClient(d);
  await waitServing(d, client, false);
});

afterAll(async () => {
  client?.close();
  await d?.stop();
  await etcd?.destroy();
  if (netns) deleteNetns(netns);
  if (dir) removeDir(dir);
});

describe('tern-agentd robustness', () => {
  it('CNI methods with garbage network_config bytes answer CNI error objects', async () => {
    const garbage: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('{'),
      Buffer.from('[]'),
      Buffer.from('null'),
      Buffer.from('{"cniVersion": 7}'),
      Buffer.from('{"cniVersion":"9.9.9","name":"x","type":"y"}'),
      Buffer.from('\xff\xfe\x00garbage', 'latin1'),
      Buffer.from(JSON.stringify({ cniVersion: '1.1.0', name: 'x'.repeat(500_000), type: 't', mtu: -1 })),
      conf({ mtu: 'big', ipam: { pools: 5 } }),
      conf({ prevResult: { interfaces: 'x', ips: [{ address: 'nope' }] } }),
      conf({ runtimeConfig: { labels: [1, 2] } }),
    ];
    for (let i = 0; i < 40; i++) garbage.push(rng.chance(0.5) ? rng.bytes(rng.int(300)) : mutate(rng, conf({ mtu: 1400, ipam: { pools: ['p'] } })));
    let n = 0;
    for (const method of ['CniAdd', 'CniDel', 'CniCheck', 'CniGc', 'CniStatus']) {
      for (const g of garbage) {
        const r = await call<CniResponse__Output>(client, method, {
          containerId: rng.chance(0.8) ? `c${rng.int(1000)}` : '',
          netns: NETNS_PATH,
          ifname: rng.pick(['eth0', '', 'x'.repeat(40), 'a/b']),
          args: rng.pick(['', 'K8S_POD_NAMESPACE=a;K8S_POD_NAME=b', ';;=;', 'K8S_POD_LABELS={bad']),
          networkConfig: g,
        }, 10_000);
        // Garbage must not succeed, except the operations that are no-ops by the spec
        // (DEL of something that never existed, STATUS) when the bytes happen to decode.
        if (r.error === null) expect(['CniDel', 'CniStatus', 'CniGc'], `${method} ${g.toString('hex').slice(0, 80)}`).toContain(method);
        else {
          expect(r.error.code, `${method}: ${r.error.msg}`).toBeGreaterThan(0);
          expect(r.error.msg.length).toBeGreaterThan(0);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(garbage.length * 3);
    await stillServing('cni garbage');
  });

  it('gRPC: raw bytes of the wrong shape get gRPC errors or CNI error objects', async () => {
    const ms = methods('tern-agentd');
    const base = { containerId: 'c1', netns: NETNS_PATH, ifname: 'eth0', args: '', networkConfig: conf() };
    const samples = { CniAdd: base, CniDel: base, CniCheck: base, CniGc: base, CniStatus: base };
    const r = await grpcPhase(client, ms, samples, rng, 300);
    const unexpected = r.outcomes.filter((o) => ['INTERNAL', 'UNKNOWN', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(grpcOutcomeName(o.outcome)));
    expect(unexpected.map((o) => `${o.method} (${o.kind}): ${grpcOutcomeName(o.outcome)} ${o.outcome.details}`).slice(0, 8), JSON.stringify(r.counts)).toEqual([]);
    await stillServing('grpc garbage');
  });

  it('ops endpoint (probed inside the namespace): garbage gets an HTTP error or a close', async () => {
    const p = await probeInNetns(netns, OPS, 200, seed);
    expect(p.healthBefore).toBe(200);
    expect(Object.keys(p.counts).filter((k) => k.startsWith('status-5')), JSON.stringify(p.counts)).toEqual([]);
    expect(p.counts['non-http-answer'] ?? 0, JSON.stringify(p.counts)).toBe(0);
    await stillServing('http garbage');
  });

  it('tern-cni: random environments and stdin give a CNI error JSON with a code, never a stack', async () => {
    const run = (env: Record<string, string>, stdin: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const p = spawn(process.execPath, [bin('tern-cni')], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
        p.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
        p.stdin.on('error', () => undefined);
        p.stdin.end(stdin);
        p.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const envArb = fc.record(
      {
        CNI_COMMAND: fc.oneof(fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', 'add', '', 'ADD\u0000'), fc.string({ maxLength: 10 })),
        CNI_CONTAINERID: fc.oneof(fc.constant('ctr1'), fc.string({ maxLength: 80 })),
        CNI_NETNS: fc.constant(NETNS_PATH),
        CNI_IFNAME: fc.oneof(fc.constant('eth0'), fc.string({ maxLength: 20 })),
        CNI_ARGS: fc.oneof(fc.constant('K8S_POD_NAMESPACE=a;K8S_POD_NAME=b'), fc.string({ maxLength: 60 })),
        CNI_PATH: fc.oneof(fc.constant('/usr/lib/cni'), fc.string({ maxLength: 20 })),
      },
      { requiredKeys: [] },
    );
    // stdin: random text, random JSON values, or a network configuration with damaged fields;
    // every configuration names our agent's socket (or one that does not exist), never the default.
    const socketArb = fc.constantFrom(() => d.socket, () => `${dir}/missing.sock`);
    const stdinArb = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.record({ cniVersion: fc.oneof(fc.constantFrom('1.1.0', '0.4.0', '0.3.1', '2.0.0'), fc.jsonValue()), name: fc.oneof(fc.constant('robust'), fc.jsonValue()), type: fc.jsonValue(), mtu: fc.jsonValue(), ipam: fc.jsonValue(), prevResult: fc.jsonValue() }, { requiredKeys: [] }), socketArb)
        .map(([o, s]) => Buffer.from(JSON.stringify({ ...o, agentSocket: s() }))),
    );
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(envArb, stdinArb, async (env, stdin) => {
        const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => !v.includes('\u0000'))) as Record<string, string>;
        const r = await run(clean, stdin);
        const what = `env ${JSON.stringify(clean)} stdin ${stdin.toString('hex').slice(0, 120)}: exit ${r.code} stdout ${r.stdout.slice(0, 300)} stderr ${r.stderr.slice(0, 300)}`;
        expect(`${r.stdout}\n${r.stderr}`, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
        expect([0, 1], what).toContain(r.code);
        if (r.code === 0) {
          // Success is legitimate only for what the spec lets succeed on such input.
          expect(['VERSION', 'DEL', 'GC', 'STATUS'], what).toContain(clean.CNI_COMMAND);
          if (r.stdout.trim()) expect((JSON.parse(r.stdout) as { code?: number }).code, what).toBeUndefined();
        } else {
          const out = JSON.parse(r.stdout) as { code: number; msg: string; cniVersion: string };
          expect(Number.isInteger(out.code) && out.code > 0, what).toBe(true);
          expect(typeof out.msg === 'string' && out.msg.length > 0, what).toBe(true);
          errors++;
        }
      }),
      { numRuns: 60, seed, endOnFailure: true },
    );
    expect(errors).toBeGreaterThan(0);
    await stillServing('tern-cni exec');
  });
});
