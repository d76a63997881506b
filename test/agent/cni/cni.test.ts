// tern-agentd's CNI side end to end: the compiled agent runs inside a lab node's namespace
// against a real etcd, the compiled tern-cni is exec'd there with CNI_* variables and stdin as a
// runtime does, pods are bare `ip netns add` namespaces. Every veth is made inside the node's
// namespace; the root namespace is never touched.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniCode, TernCniCode } from '../../../src/agent/cni/codes.js';
import { ANNOTATION_NETWORK } from '../../../src/agent/cni/handler.js';
import { GATEWAY_V4, HOST_VETH_MAC, hostVethName } from '../../../src/agent/cni/names.js';
import { TERN_ROUTE_PROTOCOL } from '../../../src/agent/routes/model.js';
import { Keys } from '../../../src/datastore/keys.js';
import { Store } from '../../../src/datastore/store.js';
import { Ipam } from '../../../src/ipam/index.js';
import { runIn } from '../../../src/lab/exec.js';
import { Lab, type Host, type LabEtcd } from '../../../src/lab/netns.js';
import { cidrContainsIp, parseCidr, parseIp } from '../../../src/net/ip.js';
import { execPlugin, ipJson, PodNamespaces, startAgent, type CniEnv, type PluginRun } from './helpers.js';

const NETWORK = 'ternnet';
const NS = 'ns1';

let lab: Lab;
let node: Host;
let etcd: LabEtcd;
let client: Etcd3;
let store: Store;
let ipam: Ipam;
let pods: PodNamespaces;
let socket: string;
const keys = new Keys('/tern/');

const cid = (pod: string) => `c${randomBytes(6).toString('hex')}-${pod}`;
const args = (pod: string, extra = '') => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${NS};K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=x${extra}`;
const conf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: '1.1.0',
    name: NETWORK,
    type: 'tern-cni',
    agentSocket: socket,
    ipv6: true,
    dns: { nameservers: ['10.96.0.10'], search: [`${NS}.svc.cluster.local`] },
    ...extra,
  });

function cni(env: CniEnv, stdin: string, sock?: string): Promise<PluginRun> {
  return execPlugin(node.netns, 'tern-cni', env, sock ? stdin.replace(JSON.stringify(socket), JSON.stringify(sock)) : stdin);
}

interface Attachment {
  pod: string;
  containerId: string;
  netns: string;
  result: Record<string, unknown>;
  ipv4: string;
  ipv6?: string;
}

async function add(pod: string, opts: { conf?: Record<string, unknown>; extraArgs?: string } = {}): Promise<Attachment> {
  const [netns] = await pods.create(pod);
  const containerId = cid(pod);
  const r = await cni({ command: 'ADD', containerId, netns: netns!, ifname: 'eth0', args: args(pod, opts.extraArgs) }, conf(opts.conf));
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  const ips = r.json!.ips as { address: string }[];
  const v4 = ips.find((i) => !i.address.includes(':'))!.address;
  const v6 = ips.find((i) => i.address.includes(':'))?.address;
  return { pod, containerId, netns: netns!, result: r.json!, ipv4: v4.split('/')[0]!, ...(v6 ? { ipv6: v6.split('/')[0]! } : {}) };
}

const delEnv = (a: Pick<Attachment, 'pod' | 'containerId' | 'netns'>): CniEnv => ({ command: 'DEL', containerId: a.containerId, netns: a.netns, ifname: 'eth0', args: args(a.pod) });

async function nodeVeths(): Promise<string[]> {
  return (await ipJson<{ ifname: string }>(node.netns, ['link', 'show', 'type', 'veth'])).map((l) => l.ifname).filter((n) => n.startsWith('tern'));
}

async function handleExists(containerId: string): Promise<boolean> {
  return (await client.get(keys.handle(`${containerId}.eth0`)).string()) !== null;
}

async function pool(doc: { name: string; cidr: string; blockSize: number; nodeSelector?: string }): Promise<void> {
  await store.apply({
    apiVersion: 'tern.dev/v1',
    kind: 'IPPool',
    metadata: { name: doc.name },
    spec: { cidr: doc.cidr, blockSize: doc.blockSize, ...(doc.nodeSelector ? { nodeSelector: doc.nodeSelector } : {}) },
  });
}

beforeAll(async () => {
  lab = await Lab.create();
  pods = new PodNamespaces(lab.prefix);
  const [etcdHost, n1] = await lab.addHosts([{ name: 'etcd' }, { name: 'n1' }]);
  node = n1!;
  etcd = await lab.startEtcd(etcdHost!);
  client = new Etcd3({ hosts: etcd.unixEndpoint });
  store = new Store(client, keys);
  ipam = new Ipam(client, keys);
  await store.apply({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
  await pool({ name: 'main', cidr: '10.244.0.0/24', blockSize: 26 });
  await pool({ name: 'main6', cidr: 'fd00:244::/120', blockSize: 122 });
  await pool({ name: 'bulk', cidr: '10.245.0.0/24', blockSize: 26, nodeSelector: '!all()' });
  await pool({ name: 'tiny', cidr: '10.246.0.0/30', blockSize: 30, nodeSelector: '!all()' });
  socket = join(lab.dir, 'agentd.sock');
  await startAgent(lab, node, { socket, etcd: etcd.endpoint });
}, 120_000);

afterAll(async () => {
  client?.close();
  await pods?.destroy();
  await lab?.destroy();
});

describe('ADD', () => {
  let a: Attachment;
  let b: Attachment;

  beforeAll(async () => {
    [a, b] = await Promise.all([add('a', { extraArgs: ';K8S_POD_LABELS={"app":"web","tier":"front"}' }), add('b')]);
  });

  it('returns a CNI 1.1 result: host veth and pod eth0, /32 and /128 with the link-local gateways, default routes, dns', () => {
    const r = a.result;
    expect(r.cniVersion).toBe('1.1.0');
    const veth = hostVethName(NS, 'a');
    expect(veth).toMatch(/^tern[0-9a-f]{11}$/);
    expect(r.interfaces).toEqual([
      { name: veth, mac: HOST_VETH_MAC, mtu: 1500 },
      { name: 'eth0', mac: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/), mtu: 1500, sandbox: a.netns },
    ]);
    expect(r.ips).toEqual([
      { address: `${a.ipv4}/32`, gateway: GATEWAY_V4, interface: 1 },
      { address: `${a.ipv6}/128`, gateway: 'fe80::1', interface: 1 },
    ]);
    expect(cidrContainsIp(parseCidr('10.244.0.0/24'), parseIp(a.ipv4))).toBe(true);
    expect(cidrContainsIp(parseCidr('fd00:244::/120'), parseIp(a.ipv6!))).toBe(true);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    expect(r.dns).toEqual({ nameservers: ['10.96.0.10'], search: [`${NS}.svc.cluster.local`] });
    expect(b.ipv4).not.toBe(a.ipv4);
  });

  it('configures the pod: eth0 with the addresses and MTU, default route via 169.254.1.1, permanent gateway neighbour', async () => {
    const [link] = await ipJson<{ ifname: string; mtu: number; address: string; addr_info: { local: string; prefixlen: number }[] }>(a.netns.split('/').pop()!, ['addr', 'show', 'dev', 'eth0']);
    expect(link!.mtu).toBe(1500);
    expect(link!.address).toBe((a.result.interfaces as { mac: string }[])[1]!.mac);
    expect(link!.addr_info.map((x) => `${x.local}/${x.prefixlen}`)).toEqual(expect.arrayContaining([`${a.ipv4}/32`, `${a.ipv6}/128`]));
    const routes = await ipJson<{ dst: string; gateway?: string; dev: string }>(pods.name('a'), ['route', 'show']);
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: GATEWAY_V4, dev: 'eth0' }));
    const neigh = await ipJson<{ dst: string; lladdr: string; state: string[] }>(pods.name('a'), ['neigh', 'show', 'dev', 'eth0']);
    expect(neigh).toContainEqual(expect.objectContaining({ dst: GATEWAY_V4, lladdr: HOST_VETH_MAC, state: ['PERMANENT'] }));
  });

  it('configures the host side: fixed MAC, proxy ARP, the /32 route tagged with the route manager protocol', async () => {
    const veth = hostVethName(NS, 'a');
    const [link] = await ipJson<{ address: string; mtu: number; ifalias: string; flags: string[] }>(node.netns, ['link', 'show', 'dev', veth]);
    expect(link).toMatchObject({ address: HOST_VETH_MAC, mtu: 1500, ifalias: `tern/${NETWORK}/${a.containerId}.eth0` });
    expect(link!.flags).toContain('UP');
    const routes = await ipJson<{ dst: string; dev: string; protocol: string; scope: string }>(node.netns, ['-N', 'route', 'show', `${a.ipv4}/32`]);
    expect(routes).toEqual([expect.objectContaining({ dst: a.ipv4, dev: veth, protocol: String(TERN_ROUTE_PROTOCOL) })]);
    const proxyArp = await runIn(node.netns, 'cat', [`/proc/sys/net/ipv4/conf/${veth}/proxy_arp`]);
    expect(proxyArp.stdout.trim()).toBe('1');
  });

  it('pods reach the node and each other, over IPv4 and IPv6', async () => {
    expect(await lab.ping(node, node.fabricIp)).toBe(true);
    const ping = async (from: string, ip: string) =>
      (await runIn(pods.name(from), 'ping', [ip.includes(':') ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', '2', ip], { allowFail: true })).code === 0;
    expect(await ping('a', node.fabricIp)).toBe(true);
    expect(await ping('a', b.ipv4)).toBe(true);
    expect(await ping('b', a.ipv4)).toBe(true);
    expect(await ping('a', b.ipv6!)).toBe(true);
  });

  it('writes the WorkloadEndpoint with node, container, interface, MAC, networks and the labels from K8S_POD_LABELS', async () => {
    const w = await store.get('WorkloadEndpoint', 'a', NS);
    expect(w).toBeDefined();
    expect(w!.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(w!.metadata.annotations?.[ANNOTATION_NETWORK]).toBe(NETWORK);
    expect(w!.spec).toMatchObject({
      node: 'n1',
      pod: 'a',
      containerID: a.containerId,
      interfaceName: hostVethName(NS, 'a'),
      mac: (a.result.interfaces as { mac: string }[])[1]!.mac,
      ipNetworks: [`${a.ipv4}/32`, `${a.ipv6}/128`],
    });
    expect(await ipam.handleOf(a.ipv4)).toBe(`${a.containerId}.eth0`);
  });

  it('takes over an endpoint another writer made first, keeping its ports, service account and labels', async () => {
    await store.apply({
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'k', namespace: NS, labels: { app: 'kept' } },
      spec: { node: 'n1', containerID: 'from-kube-sync', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], serviceAccountName: 'sa1', hostname: 'k0' },
    });
    const k = await add('k');
    const w = await store.get('WorkloadEndpoint', 'k', NS);
    expect(w!.metadata.labels).toEqual({ app: 'kept' });
    expect(w!.spec).toMatchObject({
      node: 'n1',
      containerID: k.containerId,
      interfaceName: hostVethName(NS, 'k'),
      ipNetworks: [`${k.ipv4}/32`, `${k.ipv6}/128`],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      serviceAccountName: 'sa1',
      hostname: 'k0',
    });
    expect((await cni(delEnv(k), conf())).code).toBe(0);
    expect(await store.get('WorkloadEndpoint', 'k', NS)).toBeUndefined();
  });

  it('CHECK passes on an intact pod and fails with 104 naming what is wrong, 3 for an unknown container', async () => {
    const env: CniEnv = { command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: 'eth0', args: args('a') };
    const good = await cni(env, conf({ prevResult: a.result }));
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toBe('');

    await runIn(pods.name('a'), 'ip', ['route', 'del', 'default', 'via', GATEWAY_V4]);
    const bad = await cni(env, conf({ prevResult: a.result }));
    expect(bad.code).toBe(1);
    expect(bad.json).toMatchObject({ code: TernCniCode.CHECK_MISMATCH });
    expect(String(bad.json!.msg)).toMatch(/default route via 169\.254\.1\.1/);
    await runIn(pods.name('a'), 'ip', ['route', 'add', 'default', 'via', GATEWAY_V4, 'dev', 'eth0']);

    await runIn(pods.name('a'), 'ip', ['addr', 'del', `${a.ipv4}/32`, 'dev', 'eth0']);
    const noAddr = await cni(env, conf({ prevResult: a.result }));
    expect(noAddr.json).toMatchObject({ code: TernCniCode.CHECK_MISMATCH });
    expect(String(noAddr.json!.details)).toContain(`lacks address ${a.ipv4}/32`);
    await runIn(pods.name('a'), 'ip', ['addr', 'add', `${a.ipv4}/32`, 'dev', 'eth0']);

    const unknown = await cni({ ...env, containerId: 'cnobody' }, conf());
    expect(unknown.json).toMatchObject({ code: CniCode.UNKNOWN_CONTAINER });
  });

  it('DEL twice succeeds both times and leaves no veth, address, route or endpoint', async () => {
    const veth = hostVethName(NS, 'b');
    for (let i = 0; i < 2; i++) {
      const r = await cni(delEnv(b), conf());
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toBe('');
    }
    expect(await nodeVeths()).not.toContain(veth);
    expect(await ipam.handleOf(b.ipv4)).toBeUndefined();
    expect(await handleExists(b.containerId)).toBe(false);
    expect(await store.get('WorkloadEndpoint', 'b', NS)).toBeUndefined();
    expect(await ipJson(node.netns, ['route', 'show', `${b.ipv4}/32`])).toEqual([]);
    expect(await ipJson(pods.name('b'), ['link', 'show', 'dev', 'eth0'])).toEqual([]);
    // The netns gone too (the runtime deleted it first), and a handle that never existed.
    await pods.remove('b');
    expect((await cni(delEnv(b), conf())).code).toBe(0);
    expect((await cni({ ...delEnv(b), containerId: 'cnever' }, conf())).code).toBe(0);
  });

  it("an old sandbox's DEL leaves the veth and endpoint of the pod's new sandbox alone", async () => {
    const old = { pod: 'a', containerId: a.containerId, netns: a.netns };
    // A new sandbox for the same pod: its ADD replaces the old veth (same name) and endpoint.
    const newId = cid('a');
    const r = await cni({ command: 'ADD', containerId: newId, netns: a.netns, ifname: 'eth0', args: args('a') }, conf());
    expect(r.code, r.stdout).toBe(0);
    const del = await cni(delEnv(old), conf());
    expect(del.code).toBe(0);
    expect(await nodeVeths()).toContain(hostVethName(NS, 'a'));
    expect((await store.get('WorkloadEndpoint', 'a', NS))?.spec.containerID).toBe(newId);
    expect(await handleExists(a.containerId)).toBe(false);
    expect(await handleExists(newId)).toBe(true);
    expect((await cni({ ...delEnv(old), containerId: newId }, conf())).code).toBe(0);
    expect(await nodeVeths()).not.toContain(hostVethName(NS, 'a'));
    expect(await store.get('WorkloadEndpoint', 'a', NS)).toBeUndefined();
  });
});

describe('errors and rollback', () => {
  let errSeq = 0;
  async function assertNothingLeft(pod: string, containerId: string): Promise<void> {
    expect(await nodeVeths()).not.toContain(hostVethName(NS, pod));
    expect(await handleExists(containerId)).toBe(false);
    expect(await store.get('WorkloadEndpoint', pod, NS)).toBeUndefined();
  }

  it.each([
    ['a netns path that does not exist', CniCode.INVALID_ENV, { netns: '/var/run/netns/does-not-exist' }, {}],
    ['a relative netns path', CniCode.INVALID_ENV, { netns: 'relative/ns' }, {}],
    ['a bad container ID', CniCode.INVALID_ENV, { containerId: 'bad id!' }, {}],
    ['an interface name over 15 characters', CniCode.INVALID_ENV, { ifname: 'eth0123456789012' }, {}],
    ['an invalid pod name', CniCode.INVALID_ENV, { args: `K8S_POD_NAMESPACE=${NS};K8S_POD_NAME=Bad_Name` }, {}],
    ['labels that are not JSON', CniCode.INVALID_ENV, { args: `${args('e1')};K8S_POD_LABELS={nope` }, {}],
    ['an MTU out of range', CniCode.INVALID_NETWORK_CONFIG, {}, { mtu: 20 }],
    ['an ipam flag that is not a boolean', CniCode.INVALID_NETWORK_CONFIG, {}, { ipam: { assign_ipv4: 'yes' } }],
    ['a broken prevResult', CniCode.INVALID_NETWORK_CONFIG, {}, { prevResult: { ips: 'x' } }],
    ['an unknown pool', TernCniCode.IPAM_REFUSED, {}, { ipam: { pools: ['nope'] } }],
  ])('ADD with %s fails with code %i and leaves nothing', async (_what, code, env, extra) => {
    const [netns] = await pods.create(`e${++errSeq}`);
    const containerId = cid('e1');
    const r = await cni({ command: 'ADD', containerId, netns: netns!, ifname: 'eth0', args: args('e1'), ...env }, conf(extra));
    expect(r.code).toBe(1);
    expect(r.json, r.stdout).toMatchObject({ cniVersion: '1.1.0', code });
    expect(typeof r.json!.msg).toBe('string');
    await assertNothingLeft('e1', containerId);
  });

  it('rolls back the address when the netns path is not a network namespace (101)', async () => {
    const notNs = join(lab.dir, 'not-a-netns');
    writeFileSync(notNs, '');
    const containerId = cid('r1');
    const r = await cni({ command: 'ADD', containerId, netns: notNs, ifname: 'eth0', args: args('r1') }, conf());
    expect(r.json, r.stdout).toMatchObject({ code: TernCniCode.VETH_SETUP_FAILED });
    await assertNothingLeft('r1', containerId);
  });

  it('rolls back veth and address when the pod side fails half-way (its eth0 name is taken)', async () => {
    const [netns] = await pods.create('r2');
    await runIn(pods.name('r2'), 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other']);
    const containerId = cid('r2');
    const r = await cni({ command: 'ADD', containerId, netns: netns!, ifname: 'eth0', args: args('r2') }, conf());
    expect(r.json, r.stdout).toMatchObject({ code: TernCniCode.VETH_SETUP_FAILED });
    expect(String(r.json!.msg)).toMatch(/name eth0/);
    await assertNothingLeft('r2', containerId);
    // The half-made peer (still under its temporary name) went with the host end.
    const links = (await ipJson<{ ifname: string }>(pods.name('r2'), ['link', 'show'])).map((l) => l.ifname).sort();
    expect(links).toEqual(['eth0', 'lo', 'other']);
  });

  it('answers 100 when the requested pool is full, and releases nothing it did not take', async () => {
    const filler = ['f1', 'f2', 'f3', 'f4'].map((h) => `filler-${h}.eth0`);
    for (const h of filler) await ipam.assign({ handle: h, node: 'n1', pools: ['tiny'] });
    const [netns] = await pods.create('x1');
    const containerId = cid('x1');
    const r = await cni({ command: 'ADD', containerId, netns: netns!, ifname: 'eth0', args: args('x1') }, conf({ ipv6: false, ipam: { pools: ['tiny'] } }));
    expect(r.json, r.stdout).toMatchObject({ code: TernCniCode.IPAM_EXHAUSTED });
    await assertNothingLeft('x1', containerId);
    const status = await cni({ command: 'STATUS' }, conf({ ipv6: false, ipam: { pools: ['tiny'] } }));
    expect(status.json).toMatchObject({ code: CniCode.PLUGIN_NOT_AVAILABLE });
    expect(String(status.json!.msg)).toMatch(/tiny/);
    for (const h of filler) await ipam.release(h);
    expect((await cni({ command: 'STATUS' }, conf({ ipv6: false, ipam: { pools: ['tiny'] } }))).code).toBe(0);
  });

  it('STATUS is ok while etcd answers; an agent without etcd answers 50 to STATUS and 11 to ADD', async () => {
    const ok = await cni({ command: 'STATUS' }, conf());
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toBe('');
    const sock2 = join(lab.dir, 'agentd-noetcd.sock');
    // Port 9 of the node's own loopback: nothing listens, connections are refused at once.
    const p = await startAgent(lab, node, { socket: sock2, etcd: 'http://127.0.0.1:9' });
    try {
      const st = await cni({ command: 'STATUS' }, conf(), sock2);
      expect(st.json, st.stdout).toMatchObject({ code: CniCode.PLUGIN_NOT_AVAILABLE });
      const [netns] = await pods.create('u1');
      const containerId = cid('u1');
      const r = await cni({ command: 'ADD', containerId, netns: netns!, ifname: 'eth0', args: args('u1') }, conf(), sock2);
      expect(r.json, r.stdout).toMatchObject({ code: CniCode.TRY_AGAIN_LATER });
      expect(await nodeVeths()).not.toContain(hostVethName(NS, 'u1'));
    } finally {
      await p.stop();
    }
  });
});

describe('GC', () => {
  it('releases addresses, veths and endpoints of attachments missing from cni.dev/valid-attachments', async () => {
    const [g1, g2] = await Promise.all([add('g1'), add('g2')]);
    const bad = await cni({ command: 'GC' }, conf());
    expect(bad.json).toMatchObject({ code: CniCode.INVALID_NETWORK_CONFIG });
    // Another node's handle of the same network is not this agent's to collect.
    await ipam.assign({ handle: 'elsewhere.eth0', node: 'n2', attrs: { network: NETWORK } });
    const r = await cni({ command: 'GC' }, conf({ 'cni.dev/valid-attachments': [{ containerID: g1!.containerId, ifname: 'eth0' }] }));
    expect(r.code, r.stdout).toBe(0);
    expect(await handleExists(g1!.containerId)).toBe(true);
    expect(await handleExists(g2!.containerId)).toBe(false);
    expect((await client.get(keys.handle('elsewhere.eth0')).string()) !== null).toBe(true);
    const veths = await nodeVeths();
    expect(veths).toContain(hostVethName(NS, 'g1'));
    expect(veths).not.toContain(hostVethName(NS, 'g2'));
    expect(await store.get('WorkloadEndpoint', 'g1', NS)).toBeDefined();
    expect(await store.get('WorkloadEndpoint', 'g2', NS)).toBeUndefined();
    await ipam.release('elsewhere.eth0');
    expect((await cni(delEnv(g1!), conf())).code).toBe(0);
  });
});

describe('100 pods at once', () => {
  it('100 parallel ADDs get 100 distinct addresses and veths; 100 DELs empty the pool', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `bulk${i}`);
    const paths = await pods.create(...names);
    const bulkConf = conf({ ipv6: false, ipam: { pools: ['bulk'] } });
    const atts = names.map((pod, i) => ({ pod, containerId: cid(pod), netns: paths[i]! }));
    const adds = await Promise.all(atts.map((a) => cni({ command: 'ADD', containerId: a.containerId, netns: a.netns, ifname: 'eth0', args: args(a.pod) }, bulkConf)));
    const failed = adds.filter((r) => r.code !== 0);
    expect(failed.map((r) => `${r.code} ${r.stdout} ${r.stderr}`)).toEqual([]);
    const ips = adds.map((r) => (r.json!.ips as { address: string }[])[0]!.address);
    expect(new Set(ips).size).toBe(100);
    for (const ip of ips) expect(cidrContainsIp(parseCidr('10.245.0.0/24'), parseIp(ip.split('/')[0]!))).toBe(true);
    const veths = new Set(await nodeVeths());
    for (const n of names) expect(veths.has(hostVethName(NS, n))).toBe(true);
    const routes = await ipJson<{ dst: string }>(node.netns, ['route', 'show', 'proto', String(TERN_ROUTE_PROTOCOL)]);
    for (const ip of ips) expect(routes.map((r) => r.dst)).toContain(ip.split('/')[0]);

    const dels = await Promise.all(atts.map((a) => cni(delEnv(a), bulkConf)));
    expect(dels.filter((r) => r.code !== 0).map((r) => `${r.code} ${r.stdout} ${r.stderr}`)).toEqual([]);
    const report = await ipam.show();
    expect(report.pools.find((p) => p.name === 'bulk')!.totals.used).toBe(0);
    const left = new Set(await nodeVeths());
    for (const n of names) expect(left.has(hostVethName(NS, n))).toBe(false);
    const eps = (await store.list('WorkloadEndpoint', NS)).items.filter((w) => w.metadata.name.startsWith('bulk'));
    expect(eps).toEqual([]);
    await pods.remove(...names);
  }, 120_000);
});
