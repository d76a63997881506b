// kube-sync against the Kubernetes API stand-in (test/kubesync/apiserver-standin.ts) and a real
// etcd: the controller in-process for the behaviour, the compiled daemon once for the wiring.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/datastore/keys.js';
import { Store } from '../../src/datastore/store.js';
import { EtcdServer } from '../../src/lab/etcd.js';
import { KubeSync, type InvalidObject } from '../../src/kubesync/controller.js';
import { kubeApi, loadKubeConfig, type KubeApi } from '../../src/kubesync/kubeapi.js';
import { SYNCED_FROM_ANNOTATION } from '../../src/kubesync/translate.js';
import { ApiServerStandIn, type StandInObject } from './apiserver-standin.js';

let etcd: EtcdServer;
let client: Etcd3;
let dir: string;
let api: ApiServerStandIn;
let store: Store;
let keys: Keys;
let sync: KubeSync | undefined;
let kapi: KubeApi | undefined;
let invalid: InvalidObject[];
let testNo = 0;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ns = (name: string, labels: Record<string, string> = {}): StandInObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });

const svc = (name: string, port = 80, extra: Record<string, unknown> = {}): StandInObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'shop', labels: { app: name }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', team: 'a' } },
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.96.0.20',
    clusterIPs: ['10.96.0.20'],
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
    sessionAffinity: 'None',
    selector: { app: name },
    ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080 }],
    // A field of a newer Kubernetes than Tern's schema knows: must be dropped, not fail.
    trafficDistribution: 'PreferClose',
    ...extra,
  },
  status: { loadBalancer: {}, conditions: [] },
});

const slice = (name: string, ips: string[]): StandInObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'x' }] },
  addressType: 'IPv4',
  endpoints: ips.map((ip, i) => ({
    addresses: [ip],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: 'node1',
    targetRef: { kind: 'Pod', name: `web-${i}`, namespace: 'shop', uid: `u${i}`, resourceVersion: '5' },
    hints: { forZones: [{ name: 'a' }] },
  })),
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
});

const netpol = (name: string): StandInObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'shop' },
  spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: 8080 }] }], policyTypes: ['Ingress'] },
});

const pod = (name: string, labels: Record<string, string>, ip = '10.244.1.5'): StandInObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels },
  spec: { nodeName: 'node1', hostname: name, serviceAccountName: 'web', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

async function startSync(opts: { pageSize?: number } = {}): Promise<KubeSync> {
  kapi = kubeApi(loadKubeConfig({ kubeconfig: api.writeKubeconfig(dir) }));
  sync = new KubeSync({ api: kapi, store, retryDelayMs: 50, maxRetryDelayMs: 500, watchTimeoutSeconds: 60, onInvalid: (o) => invalid.push(o), ...opts });
  await sync.start();
  return sync;
}

beforeAll(async () => {
  etcd = new EtcdServer();
  await etcd.start();
  client = new Etcd3({ hosts: etcd.endpoint });
  dir = mkdtempSync(join(tmpdir(), 'tern-kubesync-'));
});

afterAll(async () => {
  client?.close();
  await etcd?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // A prefix per test: each test sees only its own keys in the one etcd.
  keys = new Keys(`/kubesync-t${++testNo}/`);
  store = new Store(client, keys);
  invalid = [];
  api = new ApiServerStandIn();
  await api.start();
});

afterEach(async () => {
  await sync?.stop();
  sync = undefined;
  kapi?.close();
  kapi = undefined;
  await api.stop();
});

describe('kube-sync', () => {
  it('mirrors the initial list, stripped to Tern shapes and marked, and follows creates, updates and deletes', async () => {
    api.apply(ns('shop', { team: 'a' }));
    api.apply(svc('web'));
    api.apply(slice('web-abc', ['10.244.1.5']));
    api.apply(netpol('allow-web'));
    // Several list pages: the informer must follow continue tokens.
    for (let i = 0; i < 5; i++) api.apply(ns(`extra-${i}`));
    await startSync({ pageSize: 2 });
    expect(api.countRequests('LIST Namespace')).toBe(3);

    const n = await store.get('Namespace', 'shop');
    expect(n?.metadata.labels).toEqual({ team: 'a' });
    expect(n?.metadata.annotations?.[SYNCED_FROM_ANNOTATION]).toBe('kubernetes');
    expect((await store.list('Namespace')).items).toHaveLength(6);

    const s = await store.get('Service', 'web', 'shop');
    expect(s?.spec.clusterIP).toBe('10.96.0.20');
    expect(s?.spec.ports?.[0]).toMatchObject({ name: 'http', port: 80, targetPort: 8080 });
    expect(s?.metadata.annotations).toEqual({ team: 'a', [SYNCED_FROM_ANNOTATION]: 'kubernetes' });
    expect(s?.status).toBeUndefined();
    // What is stored in etcd: no managedFields, no status conditions, no unknown spec fields.
    const raw = JSON.parse((await client.get(keys.resource('Service', 'web', 'shop')).string())!) as Record<string, Record<string, unknown>>;
    expect(raw.metadata!.managedFields).toBeUndefined();
    expect(raw.metadata!.generation).toBeUndefined();
    expect(raw.spec!.trafficDistribution).toBeUndefined();
    expect(raw.status).toBeUndefined();

    const es = await store.get('EndpointSlice', 'web-abc', 'shop');
    expect(es?.endpoints[0]?.targetRef).toEqual({ kind: 'Pod', name: 'web-0', namespace: 'shop', uid: 'u0' });
    expect((await store.get('NetworkPolicy', 'allow-web', 'shop'))?.spec.podSelector).toEqual({ matchLabels: { app: 'web' } });

    // Update: a LoadBalancer's status.loadBalancer is kept, the port changes.
    api.apply(svc('web', 81, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    api.apply({ ...svc('web', 81, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }), status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } } });
    const lb = await waitFor('service update', async () => {
      const x = await store.get('Service', 'web', 'shop');
      return x?.status?.loadBalancer?.ingress?.[0]?.ip === '192.0.2.10' ? x : undefined;
    });
    expect(lb.spec.ports?.[0]?.port).toBe(81);
    expect(lb.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10' }]);

    // A create and a delete through the watch.
    api.apply(slice('web-def', ['10.244.2.7']));
    await waitFor('slice create', () => store.get('EndpointSlice', 'web-def', 'shop'));
    api.delete('NetworkPolicy', 'allow-web', 'shop');
    await waitFor('netpol delete', async () => (await store.get('NetworkPolicy', 'allow-web', 'shop')) === undefined);
    api.delete('Namespace', 'extra-0');
    await waitFor('namespace delete', async () => (await store.get('Namespace', 'extra-0')) === undefined);
  });

  it('skips writes of objects that did not change', async () => {
    api.apply(svc('web'));
    await startSync();
    const before = await store.get('Service', 'web', 'shop');
    const unchanged = sync!.stats().unchanged;
    // A MODIFIED event whose Tern shape is the same (only server metadata changed).
    api.apply(svc('web'));
    await waitFor('the event to be handled', () => sync!.stats().unchanged > unchanged);
    const after = await store.get('Service', 'web', 'shop');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('lists again on 410 Gone during a watch and sweeps what vanished meanwhile', async () => {
    api.apply(ns('shop'));
    api.apply(svc('web'));
    api.apply(svc('api'));
    await startSync();
    await waitFor('watches open', () => api.openWatches() === 5);
    const lists = api.countRequests('LIST Service');

    // Changes the open watch never delivers, then the watch cache forgets them: 410.
    api.holdEvents = true;
    api.delete('Service', 'api', 'shop');
    api.apply(svc('web', 90));
    api.apply(svc('new'));
    api.expireWatches();

    await waitFor('re-list', () => api.countRequests('LIST Service') > lists);
    await waitFor('sweep of the deleted service', async () => (await store.get('Service', 'api', 'shop')) === undefined);
    expect((await store.get('Service', 'web', 'shop'))?.spec.ports?.[0]?.port).toBe(90);
    expect(await store.get('Service', 'new', 'shop')).toBeDefined();
    expect(sync!.stats().swept).toBeGreaterThanOrEqual(1);
    expect(sync!.stats().informers.Service?.expired).toBeGreaterThanOrEqual(1);
    expect(sync!.stats().informers.Service?.relists).toBeGreaterThanOrEqual(1);
  });

  it('resumes a closed watch from the last resourceVersion, and a too-old one gets 410 and a re-list', async () => {
    api.apply(ns('shop'));
    await startSync();
    await waitFor('watches open', () => api.openWatches('Namespace') === 1);
    api.apply(ns('a'));
    await waitFor('ns a', () => store.get('Namespace', 'a'));
    api.bookmark();
    // Server-side timeout: the informer watches again from where it was, without a list.
    const lists = api.countRequests('LIST Namespace');
    api.closeWatches();
    api.apply(ns('b'));
    await waitFor('ns b', () => store.get('Namespace', 'b'));
    expect(api.countRequests('LIST Namespace')).toBe(lists);
    const rv = Number(sync!.stats().informers.Namespace?.resourceVersion);
    expect(api.requests).toContain(`WATCH Namespace ${rv - 1}`);

    // A change the open watch never delivers, compaction, then the watch ends: the watch
    // started again from the informer's resourceVersion is answered with 410 at once.
    api.holdEvents = true;
    api.delete('Namespace', 'a');
    api.compact();
    const expired = api.countRequests('410 Namespace');
    api.closeWatches();
    await waitFor('sweep of a', async () => (await store.get('Namespace', 'a')) === undefined);
    expect(api.countRequests('LIST Namespace')).toBe(lists + 1);
    expect(api.countRequests('410 Namespace')).toBe(expired + 1);
  });

  it('never deletes objects it did not write', async () => {
    // Written by `tern apply` (no mark), absent from the Kubernetes API.
    await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'shop' }, spec: { clusterIP: '10.96.0.99', ports: [{ port: 53, protocol: 'UDP' }] } });
    await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy' } });
    await store.apply({ apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'pods' }, spec: { cidr: '10.244.0.0/16' } });
    api.apply(ns('shop'));
    api.apply(svc('web'));
    await startSync();
    // A forced re-list with sweep.
    api.holdEvents = true;
    api.delete('Service', 'web', 'shop');
    api.expireWatches();
    await waitFor('sweep of web', async () => (await store.get('Service', 'web', 'shop')) === undefined);
    expect(await store.get('Service', 'manual', 'shop')).toBeDefined();
    expect(await store.get('Namespace', 'legacy')).toBeDefined();
    expect(await store.get('IPPool', 'pods')).toBeDefined();

    // A DELETED event for a name whose etcd copy is not marked leaves it alone.
    api.apply(ns('legacy2'));
    await waitFor('legacy2', () => store.get('Namespace', 'legacy2'));
    await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy2', labels: { owner: 'ops' } } });
    const deleted = sync!.stats().deleted;
    api.delete('Namespace', 'legacy2');
    api.apply(ns('marker'));
    await waitFor('marker', () => store.get('Namespace', 'marker'));
    expect(await store.get('Namespace', 'legacy2')).toBeDefined();
    expect(sync!.stats().deleted).toBe(deleted);
  });

  it('reports and skips invalid objects and keeps syncing', async () => {
    api.apply(ns('shop'));
    api.apply(svc('bad-port', 70000));
    api.apply({ ...netpol('bad'), spec: { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } } });
    api.apply(svc('good'));
    await startSync();
    expect(await store.get('Service', 'good', 'shop')).toBeDefined();
    expect(await store.get('Service', 'bad-port', 'shop')).toBeUndefined();
    expect(invalid.map((i) => `${i.kind} ${i.key}`).sort()).toEqual(['NetworkPolicy shop/bad', 'Service shop/bad-port']);
    expect(invalid.find((i) => i.kind === 'Service')?.error).toMatch(/spec\.ports\[0\]\.port/);

    // A valid object turning invalid keeps its last good copy; the watch goes on.
    api.apply(svc('good', 0));
    api.apply(svc('later'));
    await waitFor('later', () => store.get('Service', 'later', 'shop'));
    expect((await store.get('Service', 'good', 'shop'))?.spec.ports?.[0]?.port).toBe(80);
    expect(invalid.some((i) => i.key === 'shop/good')).toBe(true);
  });

  it('merges pod labels and named ports into the WorkloadEndpoint agentd wrote, and never creates one', async () => {
    // As agentd writes it after CNI ADD: node, veth, IPs; no labels.
    await store.apply({
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'web-0', namespace: 'shop' },
      spec: { node: 'node1', containerID: 'abc', interfaceName: 'tern1234', ipNetworks: ['10.244.1.5/32'] },
    });
    api.apply(pod('web-0', { app: 'web', tier: 'front' }));
    api.apply(pod('other-cni', { app: 'x' }, '10.1.0.9'));
    await startSync();

    const w = await store.get('WorkloadEndpoint', 'web-0', 'shop');
    expect(w?.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(w?.spec).toMatchObject({ node: 'node1', containerID: 'abc', interfaceName: 'tern1234', ipNetworks: ['10.244.1.5/32'], hostname: 'web-0', serviceAccountName: 'web' });
    expect(w?.spec.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(w?.metadata.annotations?.[SYNCED_FROM_ANNOTATION]).toBeUndefined();
    expect(await store.get('WorkloadEndpoint', 'other-cni', 'shop')).toBeUndefined();

    api.apply(pod('web-0', { app: 'web', tier: 'back' }));
    await waitFor('label update', async () => (await store.get('WorkloadEndpoint', 'web-0', 'shop'))?.metadata.labels?.tier === 'back');
    // A deleted pod's endpoint stays for agentd to remove on CNI DEL.
    api.delete('Pod', 'web-0', 'shop');
    api.apply(ns('marker'));
    await waitFor('marker', () => store.get('Namespace', 'marker'));
    expect(await store.get('WorkloadEndpoint', 'web-0', 'shop')).toBeDefined();
  });
});

describe('tern-kube-sync daemon', () => {
  const bin = join(process.cwd(), 'dist/daemons/tern-kube-sync.js');
  let proc: ChildProcess | undefined;
  afterEach(() => {
    if (proc?.pid && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
    proc = undefined;
  });

  it('validates its config, syncs from the kubeconfig into etcd, and stops on SIGTERM', async () => {
    expect(existsSync(bin), 'build first: npx tsc -p tsconfig.json').toBe(true);
    api.apply(ns('from-daemon', { x: 'y' }));
    const cfg = join(dir, 'kube-sync.yaml');
    writeFileSync(cfg, `logLevel: warn\netcd:\n  endpoints: [${etcd.endpoint}]\n  prefix: ${keys.prefix}\nops:\n  listen: 127.0.0.1:0\nkubernetes:\n  kubeconfig: ${api.writeKubeconfig(dir)}\n  retryDelayMs: 50\n`);
    const check = spawn(process.execPath, [bin, '--config', cfg, '--check-config'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    check.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => check.on('exit', r));
    expect(code).toBe(0);
    expect(JSON.parse(out).kubernetes.pageSize).toBe(500);

    proc = spawn(process.execPath, [bin, '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    const n = await waitFor('namespace from the daemon', () => store.get('Namespace', 'from-daemon'), 20_000);
    expect(n.metadata.labels).toEqual({ x: 'y' });
    const pid = proc.pid!;
    process.kill(pid, 'SIGTERM');
    const exit = await new Promise<number | null>((r) => proc!.on('exit', r));
    expect(exit).toBe(0);
  });
});
