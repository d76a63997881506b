// Hammers running daemons with the robustness suite's generators for N seconds:
// `node dist/fuzz/daemons.js --seconds 60 [--seed S] [--no-agent]`.
// Starts tern-bgpd and tern-dnsd on loopback (free ports, temp sockets), a real etcd, and
// tern-agentd inside a network namespace of its own (needs root; --no-agent skips it). Rounds of
// bad input go to every interface; after each round every daemon must be alive and answer a
// good request. Prints counts; exits 1 if a daemon died, stopped answering, or answered a
// malformed BGP message with the wrong NOTIFICATION.
import type * as grpc from '@grpc/grpc-js';
import type { Etcd3 } from 'etcd3';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { Store } from '../src/datastore/store.js';
import { RRType, Rcode, encodeQuery } from '../src/dns/wire/index.js';
import { EtcdServer } from '../src/lab/etcd.js';
import { freePort } from '../src/lab/ports.js';
import {
  bgpChurnPhase, bgpOpenSentPhase, bgpUpdatePhase, dnsTcpPhase, dnsUdpPhase, establishedPeer, grpcOutcomeName, grpcPhase, httpPhase,
  tcpQuery, udpQuery, type BgpTarget, type Counts,
} from '../test/robustness/attacks.js';
import { Rng } from '../test/robustness/generators.js';
import { numberArg, seedArg } from './args.js';
import {
  Daemon, createNetns, deleteNetns, getStatus, httpGet, methods, probeInNetns, removeDir, tempDir, typedClient, waitServing,
} from '../test/robustness/harness.js';


const seconds = numberArg('seconds', 60);
const seed = seedArg();
const withAgent = !process.argv.includes('--no-agent');
const rng = new Rng(seed);

const totals: Record<string, Counts> = {};
const add = (phase: string, c: Counts): void => {
  const t = (totals[phase] ??= {});
  for (const [k, v] of Object.entries(c)) t[k] = (t[k] ?? 0) + v;
};
const problems: string[] = [];

const dir = tempDir('fuzz');
let etcd: EtcdServer | undefined;
let etcdClient: Etcd3 | undefined;
let netns = '';
const daemons: Daemon[] = [];
const clients: grpc.Client[] = [];

async function cleanup(): Promise<void> {
  for (const c of clients) c.close();
  await Promise.all(daemons.map((d) => d.stop()));
  etcdClient?.close();
  await etcd?.destroy();
  if (netns) deleteNetns(netns);
  removeDir(dir);
}

process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

async function main(): Promise<number> {
  console.log(`fuzz:daemons seed ${seed}, ${seconds} s${withAgent ? '' : ', without tern-agentd'}`);
  etcd = new EtcdServer({ unixSocketDir: dir });
  await etcd.start();
  etcdClient = connectEtcd({ endpoints: [etcd.endpoint], dialTimeoutMs: 5000 });
  const store = new Store(etcdClient, new Keys('/tern/'));
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'fuzz', namespace: 'default' }, spec: { clusterIP: '10.96.77.8', ports: [{ port: 80 }] } });

  // tern-bgpd: passive peers on 127.0.0.x so messages get past the unknown-address check.
  const bgpPort = await freePort();
  const peers = Array.from({ length: 8 }, (_, i) => `127.0.0.${3 + i}`);
  const target: BgpTarget = { port: bgpPort, peers, peerAs: 65002, strangers: ['127.0.1.1', '127.0.1.2'] };
  const bgpd = Daemon.start({
    name: 'tern-bgpd', dir, opsListen: `127.0.0.1:${await freePort()}`,
    config: { bgp: { asNumber: 65001, routerId: '10.255.0.1', listen: { address: '127.0.0.1', port: bgpPort }, timers: { idleHold: 0, idleHoldMax: 0 }, peers: ['127.0.0.2', ...peers].map((address) => ({ address, asNumber: 65002, passive: true })) } },
  });
  daemons.push(bgpd);
  const bgpClient = typedClient(bgpd);
  clients.push(bgpClient);

  const dnsAddr = `127.0.0.1:${await freePort()}`;
  const dnsd = Daemon.start({
    name: 'tern-dnsd', dir, opsListen: `127.0.0.1:${await freePort()}`,
    config: { etcd: { endpoints: [etcd.endpoint], prefix: '/tern/' }, dns: { zones: ['cluster.local'], listen: [dnsAddr], health: '', ready: '', upstreams: 'none', tcpIdleTimeoutMs: 2000, maxTcpConnections: 100 } },
  });
  daemons.push(dnsd);
  const dnsClient = typedClient(dnsd);
  clients.push(dnsClient);

  let agentd: Daemon | undefined;
  let agentClient: grpc.Client | undefined;
  const agentOps = '127.0.0.1:9091';
  if (withAgent) {
    netns = createNetns('fuzz');
    agentd = Daemon.start({
      name: 'tern-agentd', dir, netns, opsListen: agentOps, extraArgs: ['--node-name', 'fuzz1'],
      config: { etcd: { endpoints: [etcd.unixEndpoint!], prefix: '/tern/' }, bgpdSocket: '' },
    });
    daemons.push(agentd);
    agentClient = typedClient(agentd);
    clients.push(agentClient);
  }

  await waitServing(bgpd, bgpClient);
  await waitServing(dnsd, dnsClient);
  if (agentd && agentClient) await waitServing(agentd, agentClient, false);

  let qid = 1;
  const check = async (round: number): Promise<void> => {
    for (const d of daemons) if (!d.alive()) problems.push(`round ${round}: ${d.name} died: ${JSON.stringify(d.exit)}\n${d.tail(30)}`);
    if (problems.length) return;
    const fail = (what: string) => (e: unknown) => void problems.push(`round ${round}: ${what}: ${(e as Error).message ?? String(e)}`);
    await getStatus(bgpClient).catch(fail('tern-bgpd GetStatus'));
    if ((await httpGet(bgpd.ops, '/health').catch(() => 0)) !== 200) problems.push(`round ${round}: tern-bgpd /health`);
    const p = await establishedPeer(target, '127.0.0.2');
    if (!p) problems.push(`round ${round}: tern-bgpd: a good OPEN did not reach Established`);
    p?.close();
    await getStatus(dnsClient).catch(fail('tern-dnsd GetStatus'));
    if ((await httpGet(dnsd.ops, '/health').catch(() => 0)) !== 200) problems.push(`round ${round}: tern-dnsd /health`);
    const q = encodeQuery('fuzz.default.svc.cluster.local.', RRType.A, { id: qid++ & 0xffff });
    const u = await udpQuery(dnsAddr, q);
    const t = await tcpQuery(dnsAddr, q);
    if (u?.rcode !== Rcode.NOERROR || t?.rcode !== Rcode.NOERROR) problems.push(`round ${round}: tern-dnsd: a good query was not answered (udp ${u?.rcode}, tcp ${t?.rcode})`);
    if (agentd && agentClient) {
      await getStatus(agentClient).catch(fail('tern-agentd GetStatus'));
      const pr = await probeInNetns(netns, agentOps, 0, 1).catch(() => ({ health: 0 }));
      if (pr.health !== 200) problems.push(`round ${round}: tern-agentd /health`);
    }
    for (const d of daemons) for (const s of d.stackTraces().slice(0, 3)) problems.push(`round ${round}: ${d.name} logged a stack: ${s}`);
  };

  const grpcRound = async (name: string, client: grpc.Client, d: Daemon, samples: Record<string, object>, skip: Set<string>, n: number): Promise<void> => {
    const r = await grpcPhase(client, methods(d.name), samples, rng, n, 4, skip);
    add(`${name} grpc`, r.counts);
    for (const o of r.outcomes) {
      const s = grpcOutcomeName(o.outcome);
      if (s === 'INTERNAL' || s === 'UNKNOWN') problems.push(`${name} ${o.method} (${o.kind}): ${s} ${o.outcome.details.slice(0, 200)}`);
    }
  };

  const end = Date.now() + seconds * 1000;
  let round = 0;
  while (Date.now() < end && problems.length === 0) {
    round++;
    add('bgp churn', await bgpChurnPhase(target, rng, 300));
    const os = await bgpOpenSentPhase(target, rng, 60);
    add('bgp opensent', os.counts);
    problems.push(...os.mismatches.map((m) => `bgp opensent: ${m}`));
    const up = await bgpUpdatePhase(target, rng, 100);
    add('bgp update', up.counts);
    problems.push(...up.mismatches.map((m) => `bgp update: ${m}`));
    // Peers are never added from random bytes: a mutated AddPeer could dial a real address.
    await grpcRound('bgpd', bgpClient, bgpd, { AddPath: { path: { prefix: '10.9.0.0/24', nextHop: '127.0.0.1' } }, ListRoutes: { table: 1, peer: '127.0.0.3' } }, new Set(['AddPeer', 'UpdatePeer', 'DeletePeer']), 60);
    add('bgpd http', await httpPhase(bgpd.ops, rng, 20, 8));
    add('dns udp', await dnsUdpPhase(dnsAddr, rng, 1000));
    add('dns tcp', await dnsTcpPhase(dnsAddr, rng, 60, 16));
    await grpcRound('dnsd', dnsClient, dnsd, { Lookup: { name: 'fuzz.default.svc.cluster.local', type: 'A' } }, new Set(), 60);
    add('dnsd http', await httpPhase(dnsd.ops, rng, 20, 8));
    if (agentd && agentClient) {
      const cni = { containerId: 'c1', netns: '/nonexistent/fuzz/netns', ifname: 'eth0', networkConfig: Buffer.from(JSON.stringify({ cniVersion: '1.1.0', name: 'fuzz', type: 'tern-cni' })) };
      await grpcRound('agentd', agentClient, agentd, { CniAdd: cni, CniDel: cni, CniCheck: cni, CniGc: cni, CniStatus: cni }, new Set(), 60);
      const pr = await probeInNetns(netns, agentOps, 20, rng.int(1 << 30));
      add('agentd http', pr.counts);
    }
    await check(round);
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    console.log(`round ${round} done, ${left} s left, problems ${problems.length}`);
  }

  console.log(JSON.stringify({ seed, rounds: round, totals }, null, 2));
  if (problems.length) {
    console.error(`fuzz:daemons: ${problems.length} problem(s) (seed ${seed}):`);
    for (const p of problems.slice(0, 20)) console.error(`- ${p}`);
    return 1;
  }
  console.log(`fuzz:daemons: ${round} rounds, every daemon alive and answering`);
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`fuzz:daemons: ${(e as Error).stack ?? String(e)}`);
} finally {
  await cleanup();
}
process.exit(code);
