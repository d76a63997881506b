// The service proxy inside tern-agentd, end to end: two nodes with `serviceProxy: on` (real
// etcd, tern-bgpd and tern-agentd per node namespace, pods made by the real tern-cni). The test
// writes a Service and its EndpointSlice to etcd; backends in pods on both nodes answer every
// TCP connection and UDP datagram with "<pod> <port> <peer address>", so each check sees
// which endpoint answered and which source address it saw.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { runIn } from '../../../src/lab/exec.js';
import { spawnIn, type ManagedProcess } from '../../../src/lab/process.js';
import { waitFor } from '../cni/helpers.js';
import { DEFAULT_SHARDS } from '../../../src/agent/proxy/render.js';
import { Cluster, nftTable } from './helpers.js';

// The proxy library's own test backend and client (test/agent/proxy).
const SERVER = join(process.cwd(), 'test/agent/proxy/server.mjs');
const CLIENT = join(process.cwd(), 'test/agent/proxy/client.mjs');
const TABLE = 'tern-proxy';
/** The proxy's main table and its shard tables (`tern-proxy-<i>`), as one comparable text. */
const proxyTables = async (netns: string): Promise<string> => {
  const all = await Promise.all([TABLE, ...Array.from({ length: DEFAULT_SHARDS }, (_, i) => `${TABLE}-${i}`)].map((t) => nftTable(netns, t)));
  return all.every((x) => x === '') ? '' : all.join('\n');
};
const CLUSTER_IP = '10.96.0.10';
const LB_CLUSTER_IP = '10.96.0.11';
const TCP_PORT = 80;
const UDP_PORT = 5353;
const NODE_PORT = 30080;
const HEALTH_PORT = 30100;
const BACKEND_PORT = 8080;

/** One datagram from a fixed source port (so it hits the conntrack entry of earlier ones). */
const UDP_FROM_PORT = `
const dgram = require('node:dgram');
const [host, port, src] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { console.log(JSON.stringify({ error: 'ETIMEDOUT' })); process.exit(0); }, 1500);
s.on('message', (m) => { clearTimeout(t); console.log(JSON.stringify({ reply: m.toString().trim() })); process.exit(0); });
s.bind(Number(src), () => s.send('x', Number(port), host));
`;

/**
 * For MS milliseconds, in parallel: new TCP connections, new UDP sockets (one datagram each),
 * and one long-lived UDP flow (one socket, request/response); each must be answered.
 */
const LOOP = `
const net = require('node:net');
const dgram = require('node:dgram');
const [host, tport, uport, ms] = process.argv.slice(1);
const T = 2000;
const end = Date.now() + Number(ms);
const res = { tcp: { ok: 0, fail: [] }, udp: { ok: 0, fail: [] }, flow: { ok: 0, fail: [] } };
const sleep = (n) => new Promise((r) => setTimeout(r, n));
function tcp() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(tport) });
    let b = '';
    const t = setTimeout(() => done('ETIMEDOUT'), T);
    function done(e) { clearTimeout(t); s.destroy(); resolve(e ? { error: e } : { reply: b.trim() }); }
    s.on('data', (d) => (b += d));
    s.once('end', () => done(b ? undefined : 'EMPTY'));
    s.once('error', (e) => done(e.code || e.message));
  });
}
function ask(s) {
  return new Promise((resolve) => {
    const t = setTimeout(() => { s.removeAllListeners('message'); resolve({ error: 'ETIMEDOUT' }); }, T);
    s.once('message', (m) => { clearTimeout(t); resolve({ reply: m.toString().trim() }); });
    s.send('x', Number(uport), host);
  });
}
async function udpNew() {
  const s = dgram.createSocket('udp4');
  s.on('error', () => undefined);
  const r = await ask(s);
  s.close();
  return r;
}
const note = (k, r) => { if (r.reply) res[k].ok++; else res[k].fail.push(r.error + '@' + (Date.now() - (end - Number(ms)))); };
(async () => {
  const flow = dgram.createSocket('udp4');
  flow.on('error', () => undefined);
  await new Promise((r) => flow.bind(0, r));
  await Promise.all([
    (async () => { while (Date.now() < end) { note('tcp', await tcp()); await sleep(20); } })(),
    (async () => { while (Date.now() < end) { note('udp', await udpNew()); await sleep(20); } })(),
    (async () => { while (Date.now() < end) { note('flow', await ask(flow)); await sleep(20); } })(),
  ]);
  flow.close();
  console.log(JSON.stringify(res));
})();
`;

interface Reply {
  reply?: string;
  error?: string;
}
interface LoopResult {
  tcp: { ok: number; fail: string[] };
  udp: { ok: number; fail: string[] };
  flow: { ok: number; fail: string[] };
}

const c = new Cluster();
let client: { ip: string; netns: string };
const backends: Array<{ name: string; node: string; ip: string; netns: string }> = [];
const servers: ManagedProcess[] = [];

const nameOf = (r: Reply): string => r.reply?.split(' ')[0] ?? `error:${r.error}`;
const peerOf = (r: Reply): string | undefined => r.reply?.split(' ')[2];

async function clientRun(netns: string, mode: 'tcp' | 'udp', host: string, port: number, count: number): Promise<Reply[]> {
  const r = await runIn(netns, process.execPath, [CLIENT, mode, host, String(port), String(count)], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as Reply[];
}

function service(name: string, clusterIP: string, spec: Record<string, unknown>) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns1' }, spec: { clusterIP, ...spec } };
}

function slice(svc: string, eps: typeof backends) {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc}-1`, namespace: 'ns1', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({ addresses: [e.ip], nodeName: e.node, conditions: { ready: true } })),
    ports: [{ name: 'tcp', port: BACKEND_PORT, protocol: 'TCP' }, { name: 'udp', port: BACKEND_PORT, protocol: 'UDP' }],
  };
}

const cli = async (args: string[]): Promise<{ code: number; out: string }> => {
  let out = '';
  const w = { write: (s: string) => void (out += s) };
  const code = await runCli(args, { stdout: w, stderr: w, stdin: process.stdin, env: {} } as never);
  return { code, out };
};

async function proxyStatus(node: string): Promise<{ ready: boolean; services: number; endpoints: number; driftRepairs: number; healthCheckPorts: number[] }> {
  const r = await cli(['node', 'status', '--agent-socket', c.node(node).agentSocket, '--bgpd-socket', c.node(node).bgpdSocket, '-o', 'json']);
  return (JSON.parse(r.out) as { agent: { proxy: { ready: boolean; services: number; endpoints: number; driftRepairs: number; healthCheckPorts: number[] } } }).agent.proxy;
}

/** The agent's /metrics, through its ops listener found by PID (it listens on 127.0.0.1:0). */
async function metrics(node: string): Promise<string> {
  const n = c.node(node);
  const ss = await runIn(n.host.netns, 'ss', ['-Hltnp']);
  const line = ss.stdout.split('\n').find((l) => l.includes(`pid=${n.agent!.pid},`) && / 127\.0\.0\.1:\d+ /.test(l));
  const port = / 127\.0\.0\.1:(\d+) /.exec(line ?? '')?.[1];
  if (!port) throw new Error(`no ops listener for pid ${n.agent!.pid}:\n${ss.stdout}`);
  return (await runIn(n.host.netns, 'curl', ['-sf', `http://127.0.0.1:${port}/metrics`])).stdout;
}

/** A sample's value: `name{labels} value`, where labels include every `k="v"` of `want` (the registry adds daemon="..."). */
function metric(text: string, name: string, want: string[] = []): number {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name && want.every((w) => (m[2] ?? '').includes(w))) return Number(m[3]);
  }
  return NaN;
}

beforeAll(async () => {
  await c.up(['node1', 'node2']);
  await Promise.all([c.startBgpd('node1'), c.startBgpd('node2')]);
  await Promise.all([c.startAgent('node1', { serviceProxy: 'on' }), c.startAgent('node2', { serviceProxy: 'on' })]);
  client = await c.addPod('node1', 'pc', { app: 'client' });
  for (const [name, node] of [['s1', 'node1'], ['s2', 'node2'], ['s3', 'node2']] as const) {
    const p = await c.addPod(node, name, { app: 'web' });
    backends.push({ name, node, ip: p.ip, netns: p.netns });
    // Pod namespaces are tern-cni's, not the lab's: started here, stopped by PID in afterAll.
    servers.push(spawnIn(p.netns, process.execPath, [SERVER, name, String(BACKEND_PORT)]));
  }
  await Promise.all(servers.map((s) => s.waitForOutput(/ready/, 15_000)));
  await c.store.apply(service('web', CLUSTER_IP, {
    type: 'NodePort',
    ports: [
      { name: 'tcp', port: TCP_PORT, targetPort: BACKEND_PORT, protocol: 'TCP', nodePort: NODE_PORT },
      { name: 'udp', port: UDP_PORT, targetPort: BACKEND_PORT, protocol: 'UDP', nodePort: NODE_PORT },
    ],
  }));
  await c.store.apply(slice('web', backends));
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.stop('SIGKILL');
  await c.down();
}, 60_000);

describe('tern-agentd with serviceProxy: on', () => {
  it('a ClusterIP reaches endpoints on both nodes over TCP and UDP, keeping the pod address', async () => {
    await waitFor(async () => {
      const r = await clientRun(client.netns, 'tcp', CLUSTER_IP, TCP_PORT, 1);
      if (!r[0]?.reply) throw new Error(JSON.stringify(r));
    }, 20_000);
    for (const mode of ['tcp', 'udp'] as const) {
      const rs = await clientRun(client.netns, mode, CLUSTER_IP, mode === 'tcp' ? TCP_PORT : UDP_PORT, 45);
      expect(new Set(rs.map(nameOf)), `${mode}: ${JSON.stringify(rs.slice(0, 3))}`).toEqual(new Set(['s1', 's2', 's3']));
      // No SNAT pod → service: every backend sees the client pod's own address.
      expect(new Set(rs.map(peerOf))).toEqual(new Set([client.ip]));
    }
    // The node status and the metrics count what was programmed (2 ports × 3 endpoints).
    const st = await proxyStatus('node1');
    expect(st).toMatchObject({ ready: true, services: 1, endpoints: 6 });
    const m = await metrics('node1');
    expect(metric(m, 'tern_agent_proxy_services')).toBe(1);
    expect(metric(m, 'tern_agent_proxy_endpoints')).toBe(6);
    expect(metric(m, 'tern_agent_proxy_programming_seconds_count', ['mode="full"'])).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a NodePort answers on another node\'s address; remote endpoints see that node, the local one the client', async () => {
    const n1 = c.node('node1').host;
    const n2 = c.node('node2').host;
    for (const mode of ['tcp', 'udp'] as const) {
      const rs = await clientRun(n2.netns, mode, n1.fabricIp, NODE_PORT, 45);
      expect(new Set(rs.map(nameOf)), `${mode}: ${JSON.stringify(rs.slice(0, 3))}`).toEqual(new Set(['s1', 's2', 's3']));
      for (const r of rs) {
        // externalTrafficPolicy Cluster: masqueraded only when the endpoint is on another node.
        expect(peerOf(r), r.reply).toBe(nameOf(r) === 's1' ? n2.fabricIp : n1.fabricIp);
      }
    }
  }, 60_000);

  it('a LoadBalancer with externalTrafficPolicy Local gets a health-check node port per node', async () => {
    await c.store.apply(service('lb', LB_CLUSTER_IP, {
      type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: HEALTH_PORT,
      ports: [{ name: 'tcp', port: TCP_PORT, targetPort: BACKEND_PORT, protocol: 'TCP', nodePort: 30081 }],
    }));
    await c.store.apply(slice('lb', backends));
    const from = c.node('node2').host.netns;
    for (const [node, local] of [['node1', 1], ['node2', 2]] as const) {
      const body = await waitFor(async () => (await runIn(from, 'curl', ['-sf', `http://${c.node(node).host.fabricIp}:${HEALTH_PORT}/`])).stdout, 15_000);
      expect(JSON.parse(body)).toMatchObject({ service: { namespace: 'ns1', name: 'lb' }, localEndpoints: local });
    }
    expect((await proxyStatus('node1')).healthCheckPorts).toEqual([HEALTH_PORT]);
    await c.store.delete('EndpointSlice', 'lb-1', 'ns1');
    await c.store.delete('Service', 'lb', 'ns1');
    await waitFor(async () => {
      if ((await proxyStatus('node1')).healthCheckPorts.length !== 0) throw new Error('health check still open');
    }, 15_000);
  }, 60_000);

  it('a named target port resolves through the pods\' WorkloadEndpoints', async () => {
    const NAMED_IP = '10.96.0.12';
    const eps = backends.filter((b) => b.name !== 's3');
    await c.store.apply(service('named', NAMED_IP, { ports: [{ name: 'tcp', port: TCP_PORT, targetPort: 'web', protocol: 'TCP' }] }));
    // A slice port without a number: each endpoint's pod says which port "web" is.
    await c.store.apply({ ...slice('named', eps), ports: [{ name: 'tcp', protocol: 'TCP' }] });
    await waitFor(async () => {
      if ((await proxyStatus('node1')).services !== 2) throw new Error('not applied yet');
    }, 15_000);
    // No endpoint has the port yet: refused (the lab's nodes have no default route, so the
    // kernel answers net unreachable before the proxy's reset in the forward hook would).
    expect((await clientRun(client.netns, 'tcp', NAMED_IP, TCP_PORT, 1))[0]?.error).toMatch(/^(ECONNREFUSED|ENETUNREACH)$/);
    const weps = (await c.store.list('WorkloadEndpoint', 'ns1')).items;
    // Written back without resourceVersion: the agent's own writes may have moved it on.
    const owned = weps.filter((w) => eps.some((e) => w.spec.ipNetworks.includes(`${e.ip}/32`))).map((w) => {
      const { resourceVersion: _rv, ...metadata } = w.metadata as typeof w.metadata & { resourceVersion?: string };
      return { ...w, metadata };
    });
    expect(owned.length).toBe(2);
    try {
      for (const w of owned) await c.store.apply({ ...w, spec: { ...w.spec, ports: [{ name: 'web', port: BACKEND_PORT, protocol: 'TCP' }] } });
      await waitFor(async () => {
        if ((await proxyStatus('node1')).endpoints !== 8) throw new Error('not applied yet');
      }, 15_000);
      const rs = await clientRun(client.netns, 'tcp', NAMED_IP, TCP_PORT, 30);
      expect(new Set(rs.map(nameOf))).toEqual(new Set(['s1', 's2']));
    } finally {
      for (const w of owned) await c.store.apply(w);
      await c.store.delete('EndpointSlice', 'named-1', 'ns1');
      await c.store.delete('Service', 'named', 'ns1');
    }
    await waitFor(async () => {
      if ((await proxyStatus('node1')).services !== 1) throw new Error('not applied yet');
    }, 15_000);
  }, 60_000);

  it('an endpoint removed: traffic goes only to the rest, and its UDP conntrack entries are deleted', async () => {
    // A UDP flow (fixed source port) that conntrack has pinned to s3.
    let src = 0;
    for (let p = 40000; p < 40100 && !src; p++) {
      const r = JSON.parse((await runIn(client.netns, process.execPath, ['-e', UDP_FROM_PORT, CLUSTER_IP, String(UDP_PORT), String(p)])).stdout) as Reply;
      if (nameOf(r) === 's3') src = p;
    }
    expect(src).toBeGreaterThan(0);
    const again = async (): Promise<Reply> => JSON.parse((await runIn(client.netns, process.execPath, ['-e', UDP_FROM_PORT, CLUSTER_IP, String(UDP_PORT), String(src)])).stdout) as Reply;
    expect(nameOf(await again())).toBe('s3');

    await c.store.apply(slice('web', backends.filter((b) => b.name !== 's3')));
    await waitFor(async () => {
      if ((await proxyStatus('node1')).endpoints !== 4) throw new Error('not applied yet');
    }, 15_000);
    // s3 still runs and answers: only a deleted conntrack entry moves the flow off it.
    expect(nameOf(await again())).not.toBe('s3');
    for (const mode of ['tcp', 'udp'] as const) {
      const rs = await clientRun(client.netns, mode, CLUSTER_IP, mode === 'tcp' ? TCP_PORT : UDP_PORT, 40);
      expect(new Set(rs.map(nameOf)), mode).toEqual(new Set(['s1', 's2']));
    }
    await c.store.apply(slice('web', backends));
    await waitFor(async () => {
      if ((await proxyStatus('node1')).endpoints !== 6) throw new Error('not applied yet');
    }, 15_000);
  }, 60_000);

  it('restarting tern-agentd under a TCP/UDP loop to the ClusterIP loses nothing; /ready waits for the proxy', async () => {
    const n = c.node('node1');
    const before = await proxyTables(n.host.netns);
    expect(before).not.toBe('');
    const loop = runIn(client.netns, process.execPath, ['-e', LOOP, CLUSTER_IP, String(TCP_PORT), String(UDP_PORT), '9000'], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1500));
    await n.agent!.stop('SIGTERM');
    // Between the two agents the table stays as the first one left it.
    expect(await proxyTables(n.host.netns)).toBe(before);
    await new Promise((r) => setTimeout(r, 500));
    const agent = await c.startAgent('node1', { serviceProxy: 'on' });
    const res = JSON.parse((await loop).stdout) as LoopResult;
    for (const k of ['tcp', 'udp', 'flow'] as const) {
      expect(res[k].fail, k).toEqual([]);
      expect(res[k].ok, k).toBeGreaterThan(50);
    }
    expect(await proxyTables(n.host.netns)).toBe(before);
    const log = agent.tail();
    const applied = log.indexOf('service proxy: first full apply');
    expect(applied).toBeGreaterThan(-1);
    expect(applied).toBeLessThan(log.indexOf('first full sync applied; ready'));
  }, 60_000);

  it('a hand-flushed proxy chain comes back within the resync period', async () => {
    const netns = c.node('node1').host.netns;
    const want = await proxyTables(netns);
    const chains = (JSON.parse((await runIn(netns, 'nft', ['-j', 'list', 'chains', 'inet'])).stdout) as { nftables: { chain?: { table: string; name: string } }[] }).nftables
      .map((x) => x.chain).filter((x): x is { table: string; name: string } => !!x && (x.table === TABLE || x.table.startsWith(`${TABLE}-`)));
    const svc = chains.filter((x) => x.name.startsWith('svc-'));
    expect(svc.length).toBe(2);
    const repairsBefore = (await proxyStatus('node1')).driftRepairs;
    for (const ch of svc) await runIn(netns, 'nft', ['flush', 'chain', 'inet', ch.table, ch.name]);
    expect(await proxyTables(netns)).not.toBe(want);
    await waitFor(async () => {
      if ((await proxyTables(netns)) !== want) throw new Error('not repaired yet');
    }, 10_000);
    expect((await proxyStatus('node1')).driftRepairs).toBeGreaterThan(repairsBefore);
    expect(metric(await metrics('node1'), 'tern_agent_proxy_drift_repairs_total')).toBeGreaterThanOrEqual(1);
    const rs = await clientRun(client.netns, 'tcp', CLUSTER_IP, TCP_PORT, 30);
    expect(new Set(rs.map(nameOf))).toEqual(new Set(['s1', 's2', 's3']));
  }, 30_000);
});
