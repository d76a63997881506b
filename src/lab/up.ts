// Bringing the cluster up on a lab whose hosts and etcd exist: reflectors, ToR, the DNS host,
// then each node's tern-bgpd and tern-agentd, then the pods through tern-cni, then the
// EndpointSlices, and finally waiting until routes have converged everywhere. Every daemon
// is started detached through LabRun (PID recorded); a daemon that fails to come up fails
// `up` with its log tail.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { connectEtcd } from '../datastore/client.js';
import { Keys } from '../datastore/keys.js';
import { formatReport, Ipam } from '../ipam/index.js';
import {
  AS_NUMBER,
  daemonArgs,
  birdUp,
  CLUSTER_DNS_IP,
  EXTERNAL_IP,
  LabRun,
  repoRoot,
  routes,
  waitDaemon,
  waitUntil,
  type NodeRecord,
} from './cluster.js';
import { ipBatch, ipLine, run } from './exec.js';
import { createPod, syncEndpointSlices } from './pods.js';
import { clusterResources, labPods, seedCluster, type SeedNode, type SeedResult } from './seed.js';

export interface ClusterUpOptions {
  /** BGPConfiguration hold time (s); keepalive = hold / 3. Default 9. */
  holdTime?: number;
  /** Skip the example pods (tests that make their own). */
  noPods?: boolean;
  out?: (line: string) => void;
}

// Daemon configuration: the same files docker-compose.yml mounts (deploy/config); the lab's
// routers (ToR, the DNS host's BIRD) have theirs in deploy/lab.
const cfgFile = (name: string): string => join(repoRoot(), name.endsWith('.yaml') ? 'deploy/config' : 'deploy/lab', name);

/** Starts every daemon of the cluster and the example workload; returns the seed's report. */
export async function clusterUp(lab: LabRun, opts: ClusterUpOptions = {}): Promise<SeedResult> {
  const out = opts.out ?? (() => undefined);
  const t0 = Date.now();
  const st = lab.state;
  const etcd = lab.etcd;
  const host = (n: string) => {
    const h = st.hosts.find((x) => x.name === n);
    if (!h) throw new Error(`lab has no host ${n}`);
    return h;
  };
  const nodeHosts = st.hosts.filter((h) => /^node\d+$/.test(h.name));
  const reflectors = st.hosts.filter((h) => /^rr\d+$/.test(h.name));
  const dns = host('dnsd');
  const tor = host('tor');
  const holdTime = opts.holdTime ?? 9;
  const keepaliveTime = Math.max(1, Math.floor(holdTime / 3));
  const nodes: NodeRecord[] = nodeHosts.map((h) => ({
    name: h.name,
    fabricIp: h.fabricIp,
    netns: h.netns,
    bgpdSocket: join(lab.dir, `${h.name}-bgpd.sock`),
    agentSocket: join(lab.dir, `${h.name}-agentd.sock`),
  }));
  lab.updateCluster((c) => {
    c.nodes = nodes;
    c.holdTime = holdTime;
    c.keepaliveTime = keepaliveTime;
  });

  // etcd first: the agents list it at start.
  out('seeding cluster state:');
  const seedNodes: SeedNode[] = nodeHosts.map((h) => ({ name: h.name, fabricIp: h.fabricIp, fabricCidr: h.fabricCidr }));
  const seed = await seedCluster({
    etcdEndpoint: etcd.unixEndpoint,
    nodes: seedNodes,
    podsPerNode: 0,
    ipv4Only: true,
    holdTime,
    keepaliveTime,
    extra: clusterResources({ reflectors: reflectors.map((r) => ({ name: r.name, ip: r.fabricIp })), asNumber: AS_NUMBER, dnsHostIp: dns.fabricIp, clusterDnsIp: CLUSTER_DNS_IP, torIp: tor.fabricIp }),
    out: (l) => out(l),
  });

  // Addresses the routers answer on: the DNS service IP on the DNS host, the ToR's external one.
  await ipBatch([ipLine('addr', 'add', `${CLUSTER_DNS_IP}/32`, 'dev', 'lo')], { netns: dns.netns });
  await ipBatch([ipLine('addr', 'add', `${EXTERNAL_IP}/32`, 'dev', 'lo')], { netns: tor.netns });

  const node = process.execPath;
  for (const r of reflectors) {
    lab.spawn({
      id: r.name,
      kind: 'tern-rrd',
      host: r.name,
      netns: r.netns,
      cmd: node,
      args: [...daemonArgs('tern-rrd'), '-c', cfgFile('tern-rrd.yaml'), '--node-name', r.name, '--node-ip', r.fabricIp, '--grpc-socket', join(lab.dir, `${r.name}-rrd.sock`), '--ops-listen', '127.0.0.1:9181'],
      socket: join(lab.dir, `${r.name}-rrd.sock`),
    });
  }
  lab.spawn({ id: 'tor-bird', kind: 'bird', host: 'tor', netns: tor.netns, cmd: 'bird', args: ['-f', '-c', cfgFile('tor-bird.conf'), '-s', join(lab.dir, 'tor-bird.ctl')], socket: join(lab.dir, 'tor-bird.ctl') });
  lab.spawn({ id: 'dnsd-bird', kind: 'bird', host: 'dnsd', netns: dns.netns, cmd: 'bird', args: ['-f', '-c', cfgFile('dnsd-bird.conf'), '-s', join(lab.dir, 'dnsd-bird.ctl')], socket: join(lab.dir, 'dnsd-bird.ctl') });
  lab.spawn({
    id: 'dnsd',
    kind: 'tern-dnsd',
    host: 'dnsd',
    netns: dns.netns,
    cmd: node,
    args: [...daemonArgs('tern-dnsd'), '-c', cfgFile('tern-dnsd.yaml'), '--node-name', 'dnsd', '--grpc-socket', join(lab.dir, 'dnsd.sock'), '--etcd-endpoints', etcd.endpoint, '--ops-listen', '127.0.0.1:9153'],
    socket: join(lab.dir, 'dnsd.sock'),
  });
  for (const n of nodes) {
    lab.spawn({
      id: `${n.name}-bgpd`,
      kind: 'tern-bgpd',
      host: n.name,
      netns: n.netns,
      cmd: node,
      args: [...daemonArgs('tern-bgpd'), '-c', cfgFile('tern-bgpd.yaml'), '--node-name', n.name, '--node-ip', n.fabricIp, '--grpc-socket', n.bgpdSocket, '--ops-listen', '127.0.0.1:9180'],
      socket: n.bgpdSocket,
    });
  }
  const exists = (p: string) => async () => (await run('test', ['-S', p], { allowFail: true })).code === 0;
  await Promise.all([
    ...reflectors.map((r) => waitDaemon(lab, r.name, exists(join(lab.dir, `${r.name}-rrd.sock`)))),
    ...nodes.map((n) => waitDaemon(lab, `${n.name}-bgpd`, exists(n.bgpdSocket))),
    waitDaemon(lab, 'tor-bird', () => birdUp(join(lab.dir, 'tor-bird.ctl'))),
    waitDaemon(lab, 'dnsd-bird', () => birdUp(join(lab.dir, 'dnsd-bird.ctl'))),
  ]);
  out(`  reflectors, ToR, DNS host and tern-bgpd up (${Date.now() - t0} ms)`);

  for (const n of nodes) {
    const conf = join(lab.dir, `${n.name}-agentd.json`);
    // deploy/config/tern-agentd.yaml with what differs per lab node: every node's sockets share
    // one filesystem here, so each gets its own bgpd socket path.
    const base = parseYaml(readFileSync(cfgFile('tern-agentd.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(conf, `${JSON.stringify({ ...base, bgpdSocket: n.bgpdSocket, staleSettleSeconds: 1 })}\n`);
    lab.spawn({
      id: `${n.name}-agentd`,
      kind: 'tern-agentd',
      host: n.name,
      netns: n.netns,
      cmd: node,
      args: [...daemonArgs('tern-agentd'), '-c', conf, '--node-name', n.name, '--node-ip', n.fabricIp, '--grpc-socket', n.agentSocket, '--etcd-endpoints', etcd.endpoint, '--ops-listen', '127.0.0.1:9091', '--log-level', 'info'],
      socket: n.agentSocket,
    });
  }
  await Promise.all(nodes.map((n) => waitAgentReady(lab, n.name)));
  await waitDaemon(lab, 'dnsd', exists(join(lab.dir, 'dnsd.sock')));
  out(`  tern-agentd ready on ${nodes.length} nodes, tern-dnsd up (${Date.now() - t0} ms)`);

  if (!opts.noPods) {
    const plan = labPods(nodes.map((n) => n.name));
    // One pod per node at a time: each ADD is an IPAM transaction on that node's agent.
    const byNode = new Map<string, typeof plan>();
    for (const p of plan) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
    await Promise.all([...byNode.values()].map(async (list) => {
      for (const p of list) await createPod(lab, p);
    }));
    const client = connectEtcd({ endpoints: [etcd.unixEndpoint], dialTimeoutMs: 5000 });
    try {
      await syncEndpointSlices(client, lab.cluster.pods, new Keys());
    } finally {
      client.close();
    }
    out(`  ${plan.length} pods created through tern-cni (${Date.now() - t0} ms)`);
  }
  await waitConverged(lab, 60_000);
  out(`  routes converged on every node and the ToR (${Date.now() - t0} ms)`);
  const client = connectEtcd({ endpoints: [etcd.unixEndpoint], dialTimeoutMs: 5000 });
  try {
    seed.report = formatReport(await new Ipam(client, new Keys()).show());
  } finally {
    client.close();
  }
  return seed;
}

export async function waitAgentReady(lab: LabRun, nodeName: string, timeoutMs = 60_000): Promise<void> {
  const d = lab.daemon(`${nodeName}-agentd`);
  await waitDaemon(lab, d.id, () => {
    try {
      return /first full sync applied; ready/.test(readFileSync(d.logFile, 'utf8'));
    } catch {
      return false;
    }
  }, timeoutMs);
}

/** Blocks of each node from IPAM (etcd). */
export async function nodeBlocks(lab: LabRun): Promise<Map<string, string[]>> {
  const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
  try {
    const r = await new Ipam(client, new Keys()).show();
    const out = new Map<string, string[]>();
    for (const p of r.pools) for (const b of p.blocks) if (b.node) out.set(b.node, [...(out.get(b.node) ?? []), b.cidr]);
    return out;
  } finally {
    client.close();
  }
}

/**
 * True when every node routes every other node's blocks via that node, and the ToR routes
 * every block (and the DNS service IP) into the cluster.
 */
export async function converged(lab: LabRun): Promise<{ ok: boolean; missing: string[] }> {
  const blocks = await nodeBlocks(lab);
  const c = lab.cluster;
  const missing: string[] = [];
  const has = (rs: Awaited<ReturnType<typeof routes>>, dst: string, via: string): boolean =>
    rs.some((r) => r.dst === dst && (r.gateway === via || (r.nexthops ?? []).some((h) => h.gateway === via)));
  await Promise.all(
    c.nodes.map(async (n) => {
      const rs = await routes(n.netns, '44');
      for (const o of c.nodes) {
        if (o.name === n.name) continue;
        for (const b of blocks.get(o.name) ?? []) if (!has(rs, b, o.fabricIp)) missing.push(`${n.name}: ${b} via ${o.fabricIp}`);
      }
      const dnsHost = lab.state.hosts.find((h) => h.name === 'dnsd');
      if (dnsHost && !has(rs, `${CLUSTER_DNS_IP}`, dnsHost.fabricIp) && !has(rs, `${CLUSTER_DNS_IP}/32`, dnsHost.fabricIp)) missing.push(`${n.name}: ${CLUSTER_DNS_IP} via ${dnsHost.fabricIp}`);
    }),
  );
  const tor = lab.state.hosts.find((h) => h.name === 'tor');
  if (tor) {
    const rs = await routes(tor.netns);
    for (const n of c.nodes) for (const b of blocks.get(n.name) ?? []) if (!has(rs, b, n.fabricIp)) missing.push(`tor: ${b} via ${n.fabricIp}`);
  }
  return { ok: missing.length === 0, missing };
}

export async function waitConverged(lab: LabRun, timeoutMs: number): Promise<void> {
  let last: string[] = [];
  await waitUntil(
    async () => {
      const r = await converged(lab);
      last = r.missing;
      return r.ok;
    },
    timeoutMs,
    () => `routes did not converge within ${timeoutMs} ms; missing: ${last.join('; ')}\n${['rr1', 'node1-bgpd', 'node1-agentd'].map((id) => `--- ${id}:\n${lab.tail(id, 15)}`).join('\n')}`,
    250,
  );
}
