// tern-dnsd end to end: a real etcd (in a lab namespace), the compiled daemon, dig, and Knot DNS
// as the forwarding upstream. Kubernetes e2e DNS conformance cases over UDP and TCP, the
// search path through a namespace's resolv.conf, etcd loss after sync, forwarding (UDP, TCP
// after TC, cache, serve-stale, ACL), autopath, metrics, gRPC through `tern dns`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../../src/cli/index.js';
import { connectEtcd } from '../../../src/datastore/client.js';
import { Keys } from '../../../src/datastore/keys.js';
import { Store } from '../../../src/datastore/store.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import type { LabEtcd } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import { DNSD, data, dig, httpGet, metric, sleep, startKnot, waitFor, type Knot } from './helpers.js';

const PORT = 5300; // dnsd's loopback port inside its namespace (the fabric address uses 53)
const ZONE = 'cluster.local';

let lab: Lab;
let etcd: LabEtcd;
let client: Etcd3;
let store: Store;
let dnsHost: Host;
let podHost: Host; // a pod of namespace "default", inside the recursion ACL
let outHost: Host; // outside the ACL, no pod
let knotHost: Host;
let knot: Knot;
let dnsd: ManagedProcess;
let dir: string;
const netnsFiles: string[] = [];

const svc = (name: string, spec: Record<string, unknown>, ns = 'default') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const slice = (name: string, service: string, eps: { ip: string; hostname?: string; ready?: boolean }[], ports: { name: string; port: number; protocol?: string }[], ns = 'default') => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: eps.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true }, ...(e.hostname ? { hostname: e.hostname } : {}) })),
  ports,
});

const q = (args: string[]) => dig(lab, 'dns', [`@127.0.0.1`, '-p', String(PORT), ...args]);
const metrics = async (): Promise<string> => (await httpGet(lab, 'dns', 'http://127.0.0.1:9153/metrics')).body;

beforeAll(async () => {
  lab = await Lab.create();
  dir = join(lab.dir, 'dnsd-test');
  mkdirSync(dir, { recursive: true });
  await lab.fabric('10.99.0.0/24');
  const hosts = await lab.addHosts([
    { name: 'etcd', fabricIp: '10.99.0.2' },
    { name: 'dns', fabricIp: '10.99.0.53' },
    { name: 'pod', fabricIp: '10.99.0.20' },
    { name: 'out', fabricIp: '10.99.0.30' },
    { name: 'knot', fabricIp: '10.99.0.40' },
  ]);
  [, dnsHost, podHost, outHost, knotHost] = hosts as [Host, Host, Host, Host, Host];
  etcd = await lab.startEtcd('etcd');
  client = connectEtcd({ endpoints: [etcd.unixEndpoint], dialTimeoutMs: 5000 });
  store = new Store(client, new Keys('/tern/'));
  knot = startKnot(lab, 'knot', knotHost.fabricIp, join(dir, 'knot'));

  // The cluster of the Kubernetes DNS conformance tests.
  for (const doc of [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    svc('kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] }),
    svc('dns-test-service', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
    slice('dns-test-service-a', 'dns-test-service', [{ ip: '10.244.1.10' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
    svc('test-service-2', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
    slice('test-service-2-a', 'test-service-2', [{ ip: '10.244.1.21', hostname: 'dns-querier-2' }, { ip: '10.244.1.22' }, { ip: '10.244.1.23', ready: false }], [{ name: 'http', port: 80 }]),
    {
      apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: 'dns-querier-2', namespace: 'default' },
      spec: { node: 'n1', ipNetworks: ['10.244.1.21/32'], hostname: 'dns-querier-2', subdomain: 'test-service-2' },
    },
    // The querying pod's own identity: autopath recognizes it by this address.
    { apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: 'querier', namespace: 'default' }, spec: { node: 'n1', ipNetworks: [`${podHost.fabricIp}/32`] } },
    svc('ext', { type: 'ExternalName', externalName: 'foo.example.com' }),
  ]) await store.apply(doc);

  writeFileSync(join(dir, 'dnsd.yaml'), [
    `etcd: { endpoints: ["${etcd.endpoint}"] }`,
    `grpc: { socket: "${join(dir, 'dnsd.sock')}" }`,
    'ops: { listen: "127.0.0.1:9153" }',
    'logLevel: info',
    'dns:',
    `  listen: ["127.0.0.1:${PORT}", "${dnsHost.fabricIp}:53"]`,
    `  upstreams: ["${knotHost.fabricIp}"]`,
    `  upstreamTimeoutMs: 400`,
    `  recursionAcl: ["127.0.0.0/8", "${podHost.fabricIp}/32"]`,
    '  autopath: true',
    '  health: "127.0.0.1:8080"',
    '  ready: "127.0.0.1:8181"',
    '',
  ].join('\n'));
  dnsd = lab.spawn('dns', process.execPath, [DNSD, '-c', join(dir, 'dnsd.yaml')]);
  await waitFor('dnsd to answer', async () => (await q(['kubernetes.default.svc.cluster.local'])).status === 'NOERROR', 20_000, 100);

  // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: a pod's view.
  for (const h of [podHost, outHost]) {
    const d = `/etc/netns/${h.netns}`;
    mkdirSync(d, { recursive: true });
    netnsFiles.push(d);
    writeFileSync(join(d, 'resolv.conf'), `search default.svc.${ZONE} svc.${ZONE} ${ZONE}\nnameserver ${dnsHost.fabricIp}\noptions ndots:5\n`);
  }
}, 90_000);

afterAll(async () => {
  try {
    client?.close();
    await lab?.destroy();
  } finally {
    for (const d of netnsFiles) rmSync(d, { recursive: true, force: true });
  }
}, 60_000);

describe.each(['udp', 'tcp'] as const)('Kubernetes DNS conformance over %s', (proto) => {
  const t = proto === 'tcp' ? ['+tcp'] : ['+notcp'];

  it('cluster name: kubernetes.default.svc.cluster.local', async () => {
    const r = await q([...t, 'kubernetes.default.svc.cluster.local', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(data(r, 'A')).toEqual(['10.96.0.1']);
  });

  it('services: ClusterIP A, headless A (ready endpoints only), SRV of a named port, PTR', async () => {
    expect(data(await q([...t, 'dns-test-service.default.svc.cluster.local', 'A']), 'A')).toEqual(['10.96.0.10']);
    expect(data(await q([...t, 'test-service-2.default.svc.cluster.local', 'A']), 'A')).toEqual(['10.244.1.21', '10.244.1.22']);
    expect(data(await q([...t, '_http._tcp.dns-test-service.default.svc.cluster.local', 'SRV']), 'SRV')).toEqual(['0 100 80 dns-test-service.default.svc.cluster.local.']);
    expect(data(await q([...t, '_http._tcp.test-service-2.default.svc.cluster.local', 'SRV']), 'SRV')).toEqual([
      '0 50 80 10-244-1-22.test-service-2.default.svc.cluster.local.',
      '0 50 80 dns-querier-2.test-service-2.default.svc.cluster.local.',
    ]);
    expect(data(await q([...t, '-x', '10.96.0.10']), 'PTR')).toEqual(['dns-test-service.default.svc.cluster.local.']);
    expect(data(await q([...t, '-x', '10.244.1.21']), 'PTR')).toEqual(['dns-querier-2.test-service-2.default.svc.cluster.local.']);
    const nx = await q([...t, 'nope.default.svc.cluster.local', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.authority[0]).toMatch(/SOA/);
  });

  it('partially qualified names through the search path of a pod (ndots:5)', async () => {
    const host = podHost.name;
    for (const name of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'dns-test-service', 'dns-test-service.default.svc']) {
      const r = await dig(lab, host, [...t, '+search', name, 'A']);
      expect(r.status, name).toBe('NOERROR');
      expect(data(r, 'A').length, name).toBe(1);
    }
    // From a client that is not a pod (no autopath): the stub walks the list itself.
    const r = await dig(lab, outHost.name, [...t, '+search', 'dns-test-service', 'A']);
    expect(data(r, 'A')).toEqual(['10.96.0.10']);
    expect(r.answers[0]).toMatch(/^dns-test-service\.default\.svc\.cluster\.local\./);
  });

  it('pod hostname and subdomain; pod A record', async () => {
    expect(data(await q([...t, 'dns-querier-2.test-service-2.default.svc.cluster.local', 'A']), 'A')).toEqual(['10.244.1.21']);
    expect(data(await q([...t, '10-244-1-21.default.pod.cluster.local', 'A']), 'A')).toEqual(['10.244.1.21']);
  });

  it('ExternalName, its update, and its change to ClusterIP', async () => {
    const name = `ext-${proto}`;
    const fq = `${name}.default.svc.cluster.local`;
    await store.apply(svc(name, { type: 'ExternalName', externalName: 'foo.example.com' }));
    await waitFor('CNAME foo', async () => data(await q([...t, fq, 'CNAME']), 'CNAME')[0] === 'foo.example.com.');
    await store.apply(svc(name, { type: 'ExternalName', externalName: 'bar.example.com' }));
    await waitFor('CNAME bar', async () => data(await q([...t, fq, 'CNAME']), 'CNAME')[0] === 'bar.example.com.');
    const cur = await store.get('Service', name, 'default');
    const { externalName: _x, type: _t, ...rest } = cur!.spec as Record<string, unknown>;
    await store.update({ ...cur, metadata: { name, namespace: 'default' }, spec: { ...rest, type: 'ClusterIP', clusterIP: proto === 'udp' ? '10.96.7.1' : '10.96.7.2', ports: [{ port: 80 }] } });
    await waitFor('A after the change', async () => data(await q([...t, fq, 'A']), 'A').length === 1);
    const r = await q([...t, fq, 'A']);
    expect(data(r, 'CNAME')).toEqual([]);
    expect(data(r, 'A')).toEqual([proto === 'udp' ? '10.96.7.1' : '10.96.7.2']);
  });
});

describe('daemon behaviour', () => {
  it('time from a Service written to etcd until dig answers it (reported, not asserted)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const name = `latency-${i}`;
      const t0 = performance.now();
      await store.apply(svc(name, { clusterIP: `10.96.9.${i + 1}`, ports: [{ port: 80 }] }));
      await waitFor('answer', async () => (await q([`${name}.default.svc.cluster.local`, 'A'])).status === 'NOERROR', 10_000, 2);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`service write -> dig answer: p50 ${times[10]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms (each includes one dig process start, ~10 ms)`);
    expect(times.length).toBe(20);
  });

  it('autopath answers the first search-path query of a pod with a CNAME to the name that exists', async () => {
    const r = await dig(lab, podHost.name, ['kubernetes.default.svc.cluster.local.default.svc.cluster.local', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(data(r, 'CNAME')).toEqual(['kubernetes.default.svc.cluster.local.']);
    expect(data(r, 'A')).toEqual(['10.96.0.1']);
    // Not a pod: a plain NXDOMAIN, the client walks its list.
    expect((await dig(lab, outHost.name, ['kubernetes.default.svc.cluster.local.default.svc.cluster.local', 'A'])).status).toBe('NXDOMAIN');
  });

  it('keeps answering from the index while etcd is down, stays ready, and converges after', async () => {
    await etcd.server.stop();
    try {
      await waitFor('datastore_connected 0', async () => metric(await metrics(), 'tern_dnsd_datastore_connected') === 0, 20_000, 200);
      expect(data(await q(['kubernetes.default.svc.cluster.local', 'A']), 'A')).toEqual(['10.96.0.1']);
      expect(data(await q(['+tcp', 'test-service-2.default.svc.cluster.local', 'A']), 'A')).toHaveLength(2);
      expect((await httpGet(lab, 'dns', 'http://127.0.0.1:8181/ready')).status).toBe(200);
      expect((await httpGet(lab, 'dns', 'http://127.0.0.1:8080/health')).status).toBe(200);
    } finally {
      await etcd.server.start();
    }
    await store.apply(svc('after-outage', { clusterIP: '10.96.8.8', ports: [{ port: 80 }] }));
    await waitFor('the change made after etcd returned', async () => data(await q(['after-outage.default.svc.cluster.local', 'A']), 'A')[0] === '10.96.8.8', 30_000, 100);
    await waitFor('datastore_connected 1', async () => metric(await metrics(), 'tern_dnsd_datastore_connected') === 1, 20_000, 200);
  }, 90_000);
});

describe('forwarding to Knot DNS', () => {
  it('forwards over UDP and caches: the second query is a cache hit', async () => {
    await knot.proc.waitForOutput(/loaded|started/i, 10_000).catch(() => undefined);
    const r1 = await waitFor('Knot through dnsd', async () => {
      const r = await q(['www.example.test', 'A']);
      return r.status === 'NOERROR' ? r : undefined;
    });
    expect(data(r1, 'A')).toEqual(['192.0.2.10']);
    expect(r1.flags).toContain('ra');
    // An earlier try inside waitFor may still have a request at Knot (dig gave up, dnsd did
    // not): take the baseline once the upstream counter has stopped moving.
    const upstream = { to: `${knotHost.fabricIp}:53` };
    let before = await metrics();
    await waitFor('upstream requests settled', async () => {
      await new Promise((r) => setTimeout(r, 300));
      const now = await metrics();
      const settled = metric(now, 'coredns_forward_requests_total', upstream) === metric(before, 'coredns_forward_requests_total', upstream);
      before = now;
      return settled ? true : undefined;
    });
    const r2 = await q(['www.example.test', 'A']);
    expect(data(r2, 'A')).toEqual(['192.0.2.10']);
    // A scrape within 200 ms of the previous one is served from the same snapshot.
    await new Promise((r) => setTimeout(r, 250));
    const after = await metrics();
    expect(metric(after, 'coredns_cache_hits_total', { type: 'success' })).toBeGreaterThan(metric(before, 'coredns_cache_hits_total', { type: 'success' }));
    expect(metric(after, 'coredns_forward_requests_total', { to: `${knotHost.fabricIp}:53` })).toBe(metric(before, 'coredns_forward_requests_total', { to: `${knotHost.fabricIp}:53` }));
    const nx = await q(['nothing.example.test', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
  });

  it('retries over TCP when the upstream truncates, and the client falls back to TCP on TC', async () => {
    const udpOnly = await q(['+ignore', '+bufsize=1232', 'big.example.test', 'TXT']);
    expect(udpOnly.flags).toContain('tc');
    for (const t of [[], ['+tcp']]) {
      const r = await q([...t, 'big.example.test', 'TXT']);
      expect(r.status).toBe('NOERROR');
      expect(r.answers).toHaveLength(1);
      expect((r.answers[0]!.match(/x{200}/g) ?? []).length).toBe(24);
    }
  });

  it('refuses recursion to a client outside the ACL but answers it for the cluster zone', async () => {
    const r = await dig(lab, outHost.name, [`@${dnsHost.fabricIp}`, 'www.example.test', 'A']);
    expect(r.status).toBe('REFUSED');
    const ok = await dig(lab, podHost.name, [`@${dnsHost.fabricIp}`, 'www.example.test', 'A']);
    expect(data(ok, 'A')).toEqual(['192.0.2.10']);
    expect(data(await dig(lab, outHost.name, [`@${dnsHost.fabricIp}`, 'kubernetes.default.svc.cluster.local', 'A']), 'A')).toEqual(['10.96.0.1']);
  });

  it('serves stale answers (RFC 8767) when the upstream is gone', async () => {
    expect(data(await q(['short.example.test', 'A']), 'A')).toEqual(['192.0.2.11']);
    await knot.proc.stop();
    await sleep(1500); // the record's TTL is 1 s
    const r = await q(['short.example.test', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(data(r, 'A')).toEqual(['192.0.2.11']);
    expect(r.answers[0]!.split(' ')[1]).toBe('30');
    expect(metric(await metrics(), 'coredns_cache_served_stale_total')).toBeGreaterThan(0);
    // Never seen before and no upstream: SERVFAIL.
    expect((await q(['new.example.test', 'A'])).status).toBe('SERVFAIL');
  });
});

describe('observability', () => {
  it('exposes the CoreDNS-named series with sensible values', async () => {
    const body = await metrics();
    expect(metric(body, 'coredns_dns_requests_total', { proto: 'udp', family: '1', type: 'A', zone: '.' })).toBeGreaterThan(10);
    expect(metric(body, 'coredns_dns_requests_total', { proto: 'tcp', type: 'SRV' })).toBeGreaterThan(0);
    expect(metric(body, 'coredns_dns_requests_total', { type: 'PTR' })).toBeGreaterThan(0);
    expect(metric(body, 'coredns_dns_responses_total', { rcode: 'NOERROR' })).toBeGreaterThan(10);
    expect(metric(body, 'coredns_dns_responses_total', { rcode: 'NXDOMAIN' })).toBeGreaterThan(0);
    expect(metric(body, 'coredns_dns_responses_total', { rcode: 'REFUSED' })).toBeGreaterThan(0);
    const count = metric(body, 'coredns_dns_request_duration_seconds_count');
    expect(count).toBe(metric(body, 'coredns_dns_requests_total'));
    expect(metric(body, 'coredns_dns_request_duration_seconds_bucket', { le: '+Inf' })).toBe(count);
    expect(metric(body, 'coredns_cache_misses_total')).toBeGreaterThan(0);
    expect(metric(body, 'coredns_forward_responses_total', { rcode: 'NOERROR' })).toBeGreaterThan(0);
    expect(metric(body, 'coredns_forward_responses_total', { rcode: 'timeout' }) + metric(body, 'coredns_forward_responses_total', { rcode: 'error' })).toBeGreaterThan(0);
    expect(metric(body, 'coredns_panics_total')).toBe(0);
    expect(metric(body, 'coredns_kubernetes_dns_programming_objects', { kind: 'service' })).toBeGreaterThan(5);
  });

  it('tern dns stats and tern dns lookup over gRPC', async () => {
    const run = async (argv: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      let err = '';
      const io: CliIO = { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) }, stdin: process.stdin, env: {} } as unknown as CliIO;
      const code = await runCli(argv, io);
      return { code, out: out + err };
    };
    const sock = join(dir, 'dnsd.sock');
    const stats = await run(['dns', 'stats', '--dnsd-socket', sock, '-o', 'json']);
    expect(stats.code, stats.out).toBe(0);
    const s = JSON.parse(stats.out) as { queries: number; services: number; synced: boolean };
    expect(s.synced).toBe(true);
    expect(s.queries).toBeGreaterThan(10);
    expect(s.services).toBeGreaterThan(5);
    const l = await run(['dns', 'lookup', 'test-service-2.default.svc.cluster.local', 'A', '--dnsd-socket', sock]);
    expect(l.code, l.out).toBe(0);
    expect(l.out).toMatch(/headless/);
    expect(l.out).toMatch(/10\.244\.1\.21/);
    const n = await run(['dns', 'lookup', 'missing.default.svc.cluster.local', '--dnsd-socket', sock]);
    expect(n.out).toMatch(/NXDOMAIN/);
    expect(n.out).toMatch(/negative/);
  });
});
