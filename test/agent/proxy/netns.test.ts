// Real traffic through the proxy's nftables table, inside namespaces this file creates.
// node1 holds the table (it is "the agent's node"); pods a, b (backends) and c (client) hang
// off it, pods d, e off node2, reached by static routes between the nodes; "ext" is a host
// outside the cluster on the same fabric, routing external and LB IPs to node1. Every
// backend answers "<pod> <port> <peer address>", so tests see which endpoint answered on
// which port and which source address it saw.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyDataplane } from '../../../src/agent/proxy/dataplane.js';
import { HealthCheckServer, healthChecks } from '../../../src/agent/proxy/health.js';
import { ProxyInputs, type ProxyUpdate } from '../../../src/agent/proxy/inputs.js';
import { runNft } from '../../../src/agent/policy/nft.js';
import { Lab, type Host, type Pod } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import { pod, service, slice, type Ep } from './fixtures.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODE = 'node1';
const NS = 'default';
const TABLE = 'tern-proxy';

let lab: Lab;
let n1: Host;
let n2: Host;
let ext: Host;
const pods = new Map<string, Pod>();
const servers: ManagedProcess[] = [];
let dp: ProxyDataplane;
const inputs = new ProxyInputs(NODE, ['10.244.0.0/16', 'fd00:244::/32']);

interface Reply {
  reply?: string;
  error?: string;
}
interface Seen {
  name: string;
  port: number;
  peer: string;
}
const parse = (r: Reply): Seen | undefined => {
  if (!r.reply) return undefined;
  const [name, port, peer] = r.reply.split(' ');
  return { name: name!, port: Number(port), peer: peer! };
};

async function client(from: Pod | Host, mode: 'tcp' | 'udp', host: string, port: number, count: number): Promise<Reply[]> {
  const r = await lab.exec(from, process.execPath, [join(HERE, 'client.mjs'), mode, host, String(port), String(count)], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as Reply[];
}
const names = (rs: Reply[]): Set<string> => new Set(rs.map((r) => parse(r)?.name ?? `error:${r.error}`));

async function update(...us: ProxyUpdate[]) {
  for (const u of us) inputs.apply(u);
  return await dp.apply(inputs.snapshot());
}

// Endpoints as the EndpointSlice controller would publish them.
const A: Ep = { ip: '10.244.1.2', node: 'node1' };
const B: Ep = { ip: '10.244.1.3', node: 'node1' };
const D: Ep = { ip: '10.244.2.2', node: 'node2' };
const E: Ep = { ip: '10.244.2.3', node: 'node2' };
const A6: Ep = { ip: 'fd00:244:1::2', node: 'node1' };
const B6: Ep = { ip: 'fd00:244:1::3', node: 'node1' };
const D6: Ep = { ip: 'fd00:244:2::2', node: 'node2' };
const P8080 = [{ name: 'http', port: 8080 }, { name: 'dns', port: 8080, protocol: 'UDP' }];

beforeAll(async () => {
  lab = await Lab.create();
  const hosts = await lab.addHosts([
    { name: 'node1', ipv6: true },
    { name: 'node2', ipv6: true },
    { name: 'ext', ipv6: true },
  ]);
  [n1, n2, ext] = hosts as [Host, Host, Host];
  const specs: Array<[Host, string, string, string]> = [
    [n1, 'a', '10.244.1.2', 'fd00:244:1::2'],
    [n1, 'b', '10.244.1.3', 'fd00:244:1::3'],
    [n1, 'c', '10.244.1.10', 'fd00:244:1::a'],
    [n2, 'd', '10.244.2.2', 'fd00:244:2::2'],
    [n2, 'e', '10.244.2.3', 'fd00:244:2::3'],
  ];
  for (const [h, name, ip, ipv6] of specs) pods.set(name, await lab.addPod(h, name, { ip, ipv6 }));
  // Static routes stand in for BGP: pod blocks between the nodes; service and external
  // ranges from ext to node1; node1 sends cluster-IP traffic it did not NAT to ext (which
  // has no route for it), so only the proxy's own reject can make it fail fast with a reset.
  await lab.exec(n1, 'ip', ['route', 'add', '10.244.2.0/24', 'via', n2.fabricIp]);
  await lab.exec(n1, 'ip', ['-6', 'route', 'add', 'fd00:244:2::/64', 'via', n2.ipv6!]);
  await lab.exec(n1, 'ip', ['route', 'add', '10.96.0.0/16', 'via', ext.fabricIp]);
  await lab.exec(n1, 'ip', ['-6', 'route', 'add', 'fd00:96::/112', 'via', ext.ipv6!]);
  await lab.exec(n2, 'ip', ['route', 'add', '10.244.1.0/24', 'via', n1.fabricIp]);
  await lab.exec(n2, 'ip', ['-6', 'route', 'add', 'fd00:244:1::/64', 'via', n1.ipv6!]);
  await lab.exec(ext, 'ip', ['route', 'add', '10.50.0.0/24', 'via', n1.fabricIp]);
  for (const name of ['a', 'b', 'd', 'e']) {
    const p = lab.spawn(pods.get(name)!, process.execPath, [join(HERE, 'server.mjs'), name, '8080,9090']);
    servers.push(p);
    await p.waitForOutput(/ready/);
  }
  dp = new ProxyDataplane({ table: TABLE, netns: n1.netns });
  await update(
    { kind: 'service-upsert', service: service(NS, 'web', { clusterIPs: ['10.96.0.10', 'fd00:96::10'], ipFamilyPolicy: 'RequireDualStack', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 8080 }] }) },
    { kind: 'slice-upsert', slice: slice(NS, 'web', 'web-4', 4, [A, B, D], P8080) },
    { kind: 'slice-upsert', slice: slice(NS, 'web', 'web-6', 6, [A6, B6, D6], P8080) },
  );
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  await lab?.destroy();
});

describe('service proxy in namespaces', () => {
  it('ClusterIP spreads TCP and UDP over the endpoints, IPv4 and IPv6', async () => {
    const c = pods.get('c')!;
    const [t4, t6, u4] = await Promise.all([client(c, 'tcp', '10.96.0.10', 80, 24), client(c, 'tcp', 'fd00:96::10', 80, 24), client(c, 'udp', '10.96.0.10', 53, 24)]);
    for (const rs of [t4, t6, u4]) {
      const seen = names(rs);
      expect([...seen].every((n) => ['a', 'b', 'd'].includes(n)), [...seen].join()).toBe(true);
      expect(seen.size).toBeGreaterThanOrEqual(2);
    }
    // Pod to service: no SNAT, the backend sees the client pod.
    expect(t4.map(parse).every((s) => s?.peer === '10.244.1.10' && s.port === 8080)).toBe(true);
    expect(t6.map(parse).every((s) => s?.peer === 'fd00:244:1::a'), JSON.stringify(t6)).toBe(true);
  });

  it('a client outside the pod CIDRs reaching a cluster IP is masqueraded (marked before any shard DNATs)', async () => {
    // ext is no pod: kube-proxy's clusterCIDR rule masquerades it so replies return through
    // node1. The mark is set in the main table at dstnat - 1, while the destination is still
    // the cluster IP; the service's shard DNATs at dstnat.
    await lab.exec(ext, 'ip', ['route', 'replace', '10.96.0.10/32', 'via', n1.fabricIp]);
    try {
      const rs = (await client(ext, 'tcp', '10.96.0.10', 80, 12)).map(parse);
      expect(rs.every((x) => x !== undefined), JSON.stringify(rs)).toBe(true);
      expect(new Set(rs.map((x) => x!.name)).size).toBeGreaterThanOrEqual(2);
      expect(rs.filter((x) => x!.peer === ext.fabricIp)).toEqual([]);
    } finally {
      await lab.exec(ext, 'ip', ['route', 'del', '10.96.0.10/32']);
    }
  });

  it('one endpoint change is an incremental transaction of that service only', async () => {
    const r = await update({ kind: 'slice-upsert', slice: slice(NS, 'web', 'web-4', 4, [A, B, D, E], P8080) });
    expect(r.mode).toBe('incremental');
    const lines = dp.lastScript.trim().split('\n');
    expect(lines.some((l) => /table/.test(l.split(' ').slice(0, 2).join(' ')))).toBe(false);
    // The service's chains are in its shard; E is remote, so the main table is not written.
    const shard = dp.tableOf('default/web');
    const tablesWritten = new Set(lines.map((l) => l.split(' ')[3]));
    expect([...tablesWritten]).toEqual([shard]);
    expect(r.tables).toEqual([shard]);
    expect(lines.every((l) => new RegExp(`^(flush chain|add rule) inet ${shard} svc-[0-9a-f]+( |$)`).test(l)), lines.join('\n')).toBe(true);
    // Two service ports (http, dns) of one family changed: two chains refilled.
    expect(r.stats.chainsRewritten).toBe(2);
    expect(await dp.check()).toEqual([]);
    const seen = names(await client(pods.get('c')!, 'tcp', '10.96.0.10', 80, 40));
    expect(seen.has('e')).toBe(true);
  });

  it('NodePort, external IP and LB IP with externalTrafficPolicy Cluster: SNAT only to remote endpoints', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'lb', { type: 'LoadBalancer', clusterIPs: ['10.96.0.20', 'fd00:96::20'], ipFamilyPolicy: 'RequireDualStack', externalIPs: ['10.50.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] }, { loadBalancer: { ingress: [{ ip: '10.50.0.20' }] } }) },
      { kind: 'slice-upsert', slice: slice(NS, 'lb', 'lb-4', 4, [A, D], [{ name: 'http', port: 8080 }]) },
      { kind: 'slice-upsert', slice: slice(NS, 'lb', 'lb-6', 6, [A6, D6], [{ name: 'http', port: 8080 }]) },
    );
    const [np, np6, xip, lbip] = await Promise.all([
      client(ext, 'tcp', n1.fabricIp, 30080, 24),
      client(ext, 'tcp', n1.ipv6!, 30080, 24),
      client(ext, 'tcp', '10.50.0.10', 80, 24),
      client(ext, 'tcp', '10.50.0.20', 80, 24),
    ]);
    for (const rs of [np, xip, lbip]) {
      const seen = rs.map(parse);
      expect(seen.every((s) => s !== undefined), JSON.stringify(rs)).toBe(true);
      expect(new Set(seen.map((s) => s!.name))).toEqual(new Set(['a', 'd']));
      for (const s of seen) expect(s!.peer, s!.name).toBe(s!.name === 'a' ? ext.fabricIp : n1.fabricIp);
    }
    const seen6 = np6.map(parse);
    expect(new Set(seen6.map((s) => s?.name))).toEqual(new Set(['a', 'd']));
    for (const s of seen6) expect(s!.peer).toBe(s!.name === 'a' ? ext.ipv6 : n1.ipv6);
  });

  it('externalTrafficPolicy Local: only local endpoints, client source kept; health check counts them', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'loc', { type: 'LoadBalancer', clusterIP: '10.96.0.30', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] }) },
      { kind: 'slice-upsert', slice: slice(NS, 'loc', 'loc-4', 4, [A, D], [{ port: 8080 }]) },
    );
    const rs = (await client(ext, 'tcp', n1.fabricIp, 30081, 24)).map(parse);
    expect(rs.every((s) => s?.name === 'a' && s.peer === ext.fabricIp), JSON.stringify(rs)).toBe(true);
    // Pods still reach the cluster IP over every endpoint (the policy is for external traffic).
    expect(names(await client(pods.get('c')!, 'tcp', '10.96.0.30', 80, 24))).toEqual(new Set(['a', 'd']));
    // The health-check node port, served on loopback here (the agent serves it on the node).
    const hc = new HealthCheckServer({ host: '127.0.0.1' });
    try {
      const port = await freePort();
      const check = healthChecks(inputs.snapshot()).find((c) => c.service === 'default/loc')!;
      expect(check).toMatchObject({ nodePort: 32000, localEndpoints: 1 });
      await hc.update([{ ...check, nodePort: port }]);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ service: { namespace: 'default', name: 'loc' }, localEndpoints: 1 });
      await hc.update([{ ...check, nodePort: port, localEndpoints: 0 }]);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
    } finally {
      await hc.close();
    }
  });

  it('internalTrafficPolicy Local: the cluster IP uses local endpoints only', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'itp', { clusterIP: '10.96.0.40', internalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 8080 }] }) },
      { kind: 'slice-upsert', slice: slice(NS, 'itp', 'itp-4', 4, [A, B, D, E], [{ port: 8080 }]) },
    );
    expect(names(await client(pods.get('c')!, 'tcp', '10.96.0.40', 80, 24))).toEqual(new Set(['a', 'b']));
  });

  it('sessionAffinity ClientIP keeps a client on one endpoint', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'sticky', { clusterIP: '10.96.0.50', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80, targetPort: 8080 }] }) },
      { kind: 'slice-upsert', slice: slice(NS, 'sticky', 'sticky-4', 4, [A, B, D, E], [{ port: 8080 }]) },
    );
    const rs = await client(pods.get('c')!, 'tcp', '10.96.0.50', 80, 20);
    expect(rs.every((r) => r.reply), JSON.stringify(rs)).toBe(true);
    expect(names(rs).size).toBe(1);
    // The same endpoints without affinity are spread (first test); here another client gets
    // its own pin, which is one endpoint too.
    const other = await client(pods.get('b')!, 'tcp', '10.96.0.50', 80, 20);
    expect(other.every((r) => r.reply), JSON.stringify(other)).toBe(true);
    expect(names(other).size).toBe(1);
  });

  it('hairpin: a pod reaching itself through its service is masqueraded', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'self', { clusterIPs: ['10.96.0.60', 'fd00:96::60'], ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80, targetPort: 8080 }] }) },
      { kind: 'slice-upsert', slice: slice(NS, 'self', 'self-4', 4, [A], [{ port: 8080 }]) },
      { kind: 'slice-upsert', slice: slice(NS, 'self', 'self-6', 6, [A6], [{ port: 8080 }]) },
    );
    const a = pods.get('a')!;
    const [r4, r6] = await Promise.all([client(a, 'tcp', '10.96.0.60', 80, 3), client(a, 'tcp', 'fd00:96::60', 80, 3)]);
    for (const [rs, own] of [[r4, A.ip], [r6, A6.ip]] as const) {
      const seen = rs.map(parse);
      expect(seen.every((s) => s?.name === 'a'), JSON.stringify(rs)).toBe(true);
      // The source is the node's, not the pod's own address (which the pod would answer
      // locally, bypassing the NAT).
      expect(seen.every((s) => s!.peer !== own)).toBe(true);
    }
  });

  it('a service without endpoints rejects at once (TCP reset, ICMP unreachable)', async () => {
    await update({ kind: 'service-upsert', service: service(NS, 'empty', { clusterIPs: ['10.96.0.70', 'fd00:96::70'], ipFamilyPolicy: 'RequireDualStack', ports: [{ name: 't', port: 80 }, { name: 'u', port: 53, protocol: 'UDP' }] }) });
    const c = pods.get('c')!;
    const [t4, t6, u4, u6, other] = await Promise.all([
      client(c, 'tcp', '10.96.0.70', 80, 2),
      client(c, 'tcp', 'fd00:96::70', 80, 2),
      client(c, 'udp', '10.96.0.70', 53, 2),
      client(c, 'udp', 'fd00:96::70', 53, 2),
      // A port no service has on a cluster IP is refused too.
      client(c, 'tcp', '10.96.0.10', 81, 1),
    ]);
    for (const rs of [t4, t6, u4, u6, other]) expect(rs.map((r) => r.error)).toEqual(rs.map(() => 'ECONNREFUSED'));
    // External traffic to a node port without endpoints.
    await update({ kind: 'service-upsert', service: service(NS, 'empty-np', { type: 'NodePort', clusterIP: '10.96.0.71', ports: [{ port: 80, nodePort: 30090 }] }) });
    expect((await client(ext, 'tcp', n1.fabricIp, 30090, 1))[0]!.error).toBe('ECONNREFUSED');
  });

  it('named target ports resolve per endpoint (from the slices, or from the pods)', async () => {
    await update(
      { kind: 'service-upsert', service: service(NS, 'named', { clusterIP: '10.96.0.80', ports: [{ name: 'web', port: 80, targetPort: 'web' }] }) },
      // The EndpointSlice controller's shape: one slice per resolved port number.
      { kind: 'slice-upsert', slice: slice(NS, 'named', 'named-a', 4, [A], [{ name: 'web', port: 8080 }]) },
      { kind: 'slice-upsert', slice: slice(NS, 'named', 'named-b', 4, [B], [{ name: 'web', port: 9090 }]) },
      { kind: 'service-upsert', service: service(NS, 'named2', { clusterIP: '10.96.0.81', ports: [{ name: 'web', port: 80, targetPort: 'web' }] }) },
      // A slice without numbers: the port is looked up on each endpoint's pod.
      { kind: 'slice-upsert', slice: slice(NS, 'named2', 'named2-x', 4, [D, E], [{ name: 'web' }]) },
      { kind: 'pod-upsert', pod: pod(NS, 'd', 'node2', [D.ip], [{ name: 'web', port: 9090 }]) },
      { kind: 'pod-upsert', pod: pod(NS, 'e', 'node2', [E.ip], [{ name: 'web', port: 8080 }]) },
    );
    const c = pods.get('c')!;
    const [r1, r2] = await Promise.all([client(c, 'tcp', '10.96.0.80', 80, 24), client(c, 'tcp', '10.96.0.81', 80, 24)]);
    const pairs = (rs: Reply[]) => new Set(rs.map((r) => { const s = parse(r); return s ? `${s.name}:${s.port}` : `error:${r.error}`; }));
    expect(pairs(r1)).toEqual(new Set(['a:8080', 'b:9090']));
    expect(pairs(r2)).toEqual(new Set(['d:9090', 'e:8080']));
  });

  it('removing a UDP endpoint during traffic moves the flow at once (conntrack flushed)', async () => {
    const c = pods.get('c')!;
    const run = async (svc: string, ip: string, flush: boolean): Promise<{ before: string; after: string[] }> => {
      await update(
        { kind: 'service-upsert', service: service(NS, svc, { clusterIP: ip, ports: [{ port: 53, protocol: 'UDP', targetPort: 8080 }] }) },
        { kind: 'slice-upsert', slice: slice(NS, svc, `${svc}-4`, 4, [A, B], [{ port: 8080, protocol: 'UDP' }]) },
      );
      const stream = lab.exec(c, process.execPath, [join(HERE, 'client.mjs'), 'udp-stream', ip, '53', '3000', '25'], { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 1000));
      // Which endpoint does the flow use now? Ask the kernel.
      const ct = await lab.exec(n1, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', ip], { allowFail: true });
      // The reply direction's source is the endpoint the flow was NATed to.
      const line = ct.stdout.split('\n').find((l) => l.includes(`dst=${ip}`)) ?? '';
      const usedIp = [...line.matchAll(/src=(\S+)/g)].map((x) => x[1])[1];
      expect([A.ip, B.ip], ct.stdout + ct.stderr).toContain(usedIp);
      const used = usedIp === A.ip ? 'a' : 'b';
      const keep = used === 'a' ? B : A;
      const dpx = flush ? dp : new ProxyDataplane({ table: TABLE, netns: n1.netns, conntrack: false });
      if (!flush) await dpx.apply(inputs.snapshot());
      inputs.apply({ kind: 'slice-upsert', slice: slice(NS, svc, `${svc}-4`, 4, [keep], [{ port: 8080, protocol: 'UDP' }]) });
      const rep = await dpx.apply(inputs.snapshot());
      if (flush) expect(rep.conntrack.deleted, JSON.stringify(rep)).toBeGreaterThanOrEqual(1);
      const out = JSON.parse((await stream).stdout) as Array<{ t: number; reply: string }>;
      if (!flush) await dp.apply(inputs.snapshot(), { full: true });
      return { before: used, after: out.slice(-10).map((o) => o.reply.split(' ')[0]!) };
    };
    const flushed = await run('dns', '10.96.0.90', true);
    expect(flushed.after.length).toBe(10);
    // The last replies all come from the endpoint that is left, none from the removed one.
    expect(flushed.after.every((n) => n !== flushed.before), JSON.stringify(flushed)).toBe(true);
    // Control: the same without the flush keeps talking to the removed endpoint.
    const stale = await run('dns2', '10.96.0.91', false);
    expect(stale.after.every((n) => n === stale.before), JSON.stringify(stale)).toBe(true);
  });

  it('services in different shards all carry traffic; an endpoint change rewrites one shard table only', async () => {
    // Eight services, one endpoint each; the hash puts them in several shard tables.
    const keys = Array.from({ length: 8 }, (_, i) => `shard${i}`);
    await update(
      ...keys.flatMap((n, i): ProxyUpdate[] => [
        { kind: 'service-upsert', service: service(NS, n, { clusterIP: `10.96.2.${i + 1}`, ports: [{ port: 80, targetPort: 8080 }] }) },
        { kind: 'slice-upsert', slice: slice(NS, n, `${n}-4`, 4, [i % 2 ? D : A], [{ port: 8080 }]) },
      ]),
    );
    const shards = new Set(keys.map((n) => dp.tableOf(`${NS}/${n}`)));
    expect(shards.size).toBeGreaterThanOrEqual(3);
    const c = pods.get('c')!;
    const replies = await Promise.all(keys.map((_, i) => client(c, 'tcp', `10.96.2.${i + 1}`, 80, 2)));
    replies.forEach((rs, i) => expect(names(rs), keys[i]).toEqual(new Set([i % 2 ? 'd' : 'a'])));
    // What the kernel holds, table by table, before and after one remote endpoint change.
    // Terse (no set contents: affinity sets' timeouts tick), plus the verdict maps in full.
    const nft = async (...args: string[]) => (await runNft(args, undefined, { netns: n1.netns })).stdout;
    const listAll = async () =>
      new Map(await Promise.all(dp.tables.map(async (t) => [t, [await nft('-t', 'list', 'table', 'inet', t), ...(t === TABLE ? [] : [await nft('list', 'map', 'inet', t, 'service-ips-4')])].join('')] as const)));
    const before = await listAll();
    const r = await update({ kind: 'slice-upsert', slice: slice(NS, 'shard0', 'shard0-4', 4, [A, E], [{ port: 8080 }]) });
    const target = dp.tableOf(`${NS}/shard0`);
    expect(r.mode).toBe('incremental');
    expect(r.tables).toEqual([target]);
    const after = await listAll();
    for (const t of dp.tables) {
      if (t === target) expect(after.get(t), t).not.toBe(before.get(t));
      else expect(after.get(t), t).toBe(before.get(t));
    }
    expect(names(await client(c, 'tcp', '10.96.2.1', 80, 24))).toEqual(new Set(['a', 'e']));
    expect(await dp.check()).toEqual([]);
  });

  it('a smaller shard count deletes the extra shard tables in its full load; remove() deletes them all', async () => {
    const tables = async () => {
      const r = await runNft(['-j', 'list', 'tables', 'inet'], undefined, { netns: n1.netns });
      return (JSON.parse(r.stdout) as { nftables: Array<{ table?: { name: string } }> }).nftables.flatMap((o) => (o.table && o.table.name.startsWith('tern-alt') ? [o.table.name] : [])).sort();
    };
    const empty = { context: { nodeName: NODE, clusterCidrs: [] }, services: new Map() };
    const wide = new ProxyDataplane({ table: 'tern-alt', netns: n1.netns, shards: 6 });
    const narrow = new ProxyDataplane({ table: 'tern-alt', netns: n1.netns, shards: 2 });
    try {
      await wide.apply(empty);
      expect(await tables()).toEqual(['tern-alt', 'tern-alt-0', 'tern-alt-1', 'tern-alt-2', 'tern-alt-3', 'tern-alt-4', 'tern-alt-5']);
      const r = await narrow.apply(empty);
      expect(r.tables).toContain('tern-alt-5');
      expect(await tables()).toEqual(['tern-alt', 'tern-alt-0', 'tern-alt-1']);
      expect(await narrow.check()).toEqual([]);
      await wide.apply(empty, { full: true });
      await narrow.remove();
      expect(await tables()).toEqual([]);
    } finally {
      await wide.remove();
    }
  });

  it('drift: a chain emptied by hand is reported, and a full apply repairs it', async () => {
    const state = inputs.snapshot();
    const web = state.services.get('default/web')!.ports.find((p) => p.family === 4 && p.proto === 'tcp')!;
    const { chainNames } = await import('../../../src/agent/proxy/render.js');
    const r = await runNft(['flush', 'chain', 'inet', dp.tableOf('default/web'), chainNames(web).svc], undefined, { netns: n1.netns });
    expect(r.ok, r.stderr).toBe(true);
    expect((await dp.check()).join()).toMatch(/svc-.*0 rules/);
    await dp.apply(state, { full: true });
    expect(await dp.check()).toEqual([]);
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
