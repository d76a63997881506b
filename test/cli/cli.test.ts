import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { runCli } from '../../src/cli/index.js';
import { Keys } from '../../src/datastore/keys.js';
import { Ipam } from '../../src/ipam/index.js';
import { EtcdServer } from '../../src/lab/etcd.js';
import { lookupKind, refOf, refString, validateResource, type Resource } from '../../src/resources/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const CLUSTER = join(FIXTURES, 'cluster');

interface Run {
  code: number;
  out: string;
  err: string;
}

function capture(): { write(s: string): boolean; text: () => string } {
  let buf = '';
  return { write: (s: string) => ((buf += s), true), text: () => buf };
}

/** Every document of the cluster fixtures, in file order. */
function fixtureDocs(): { file: string; doc: any }[] {
  return readdirSync(CLUSTER)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(CLUSTER, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() })));
}

/** What the store adds on its own: identity, timestamps, revision. */
function strip(o: any): any {
  const { uid: _u, creationTimestamp: _c, resourceVersion: _r, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** True when every field of `sub` appears with the same value in `sup`. */
function isSubset(sub: unknown, sup: unknown): boolean {
  if (Array.isArray(sub)) return Array.isArray(sup) && sub.length === sup.length && sub.every((x, i) => isSubset(x, sup[i]));
  if (sub && typeof sub === 'object') {
    return !!sup && typeof sup === 'object' && Object.entries(sub).every(([k, v]) => isSubset(v, (sup as Record<string, unknown>)[k]));
  }
  return sub === sup;
}

describe('tern CLI (real etcd)', () => {
  const server = new EtcdServer();
  let client: Etcd3;
  let prefixN = 0;
  let tmp: string;

  beforeAll(async () => {
    await server.start();
    client = new Etcd3({ hosts: server.endpoint });
    tmp = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  });
  afterAll(async () => {
    client?.close();
    await server.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A CLI bound to its own key prefix. */
  function cluster() {
    const prefix = `/cli${++prefixN}/`;
    const env = { TERN_ETCD_ENDPOINTS: server.endpoint, TERN_ETCD_PREFIX: prefix };
    const tern = async (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> => {
      const out = capture();
      const err = capture();
      const code = await runCli(args, { stdout: out, stderr: err, stdin: Readable.from([opts.stdin ?? '']), env: { ...env, ...opts.env }, cwd: FIXTURES });
      return { code, out: out.text(), err: err.text() };
    };
    return { prefix, env, keys: new Keys(prefix), tern };
  }

  it('applies the fixture cluster, reports each object, then reports it unchanged', async () => {
    const { tern } = cluster();
    const docs = fixtureDocs();
    const first = await tern(['apply', '-f', 'cluster']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const lines = first.out.trim().split('\n');
    expect(lines).toHaveLength(docs.length);
    const expected = docs.map(({ doc }) => {
      const r = validateResource(doc);
      if (!r.ok) throw r.error;
      return refString(refOf(r.value));
    });
    expect(lines).toEqual(expected.map((r) => `${r} created`));
    expect(lines).toContain('service/frontend/web created');
    expect(lines).toContain('workloadendpoint/frontend/web-1 created');
    expect(lines).toContain('ippool/pods-v6 created');

    const second = await tern(['apply', '-f', 'cluster']);
    expect(second.code).toBe(0);
    expect(second.out.trim().split('\n')).toEqual(expected.map((r) => `${r} unchanged`));
  });

  it('get -o json and -o yaml return the input after defaulting', async () => {
    const { tern } = cluster();
    expect((await tern(['apply', '-f', 'cluster'])).code).toBe(0);
    const docs = fixtureDocs();
    const byKind = new Map<string, Resource[]>();
    for (const kind of new Set(docs.map(({ doc }) => lookupKind(doc.kind)!))) {
      const r = await tern(['get', kind, '-A', '-o', 'json']);
      expect(r.code, r.err).toBe(0);
      const list = JSON.parse(r.out);
      expect(list.kind).toBe('List');
      expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
      byKind.set(kind, list.items);
    }
    for (const { file, doc } of docs) {
      const v = validateResource(doc);
      if (!v.ok) throw v.error;
      const ref = refOf(v.value);
      const found = byKind.get(ref.kind)!.find((o) => refString(refOf(o)) === refString(ref));
      expect(found, `${file}: ${refString(ref)}`).toBeDefined();
      expect(found!.metadata.uid).toBeTruthy();
      expect(Number(found!.metadata.resourceVersion)).toBeGreaterThan(0);
      expect(strip(found), `${file}: ${refString(ref)}`).toEqual(strip(v.value));
      // Defaulting only adds: every field the user wrote comes back unchanged (Pods are converted).
      if (doc.kind !== 'Pod') expect(isSubset(doc, found), `${file}: ${refString(ref)}`).toBe(true);

      const args = ['get', ref.kind, ref.name, ...(ref.namespace ? ['-n', ref.namespace] : []), '-o', 'yaml'];
      const y = await tern(args);
      expect(y.code, y.err).toBe(0);
      expect(strip(parseYaml(y.out))).toEqual(strip(v.value));
    }
    // Spot checks of defaults against the fixture text itself.
    const pools = byKind.get('IPPool') as any[];
    expect(pools.map((p) => [p.metadata.name, p.spec.blockSize])).toEqual([['pods-v4', 26], ['pods-v6', 122], ['rack-b-v4', 24]]);
    const np = (byKind.get('NetworkPolicy') as any[]).find((p) => p.metadata.name === 'api-from-frontend');
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 'http-api' }, { protocol: 'UDP', port: 53 }]);
    const bgp = (byKind.get('BGPConfiguration') as any[]).find((c) => c.metadata.name === 'node.node-c');
    expect(bgp.spec).toEqual({ asNumber: 64512, nodeToNodeMeshEnabled: true, listenPort: 1179 });
    const wep = (byKind.get('WorkloadEndpoint') as any[]).find((w) => w.metadata.name === 'web-1');
    expect(wep.spec.ipNetworks).toEqual(['10.244.0.5/32', 'fd00:10:244::5/128']);
    expect(wep.spec.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'https', port: 8443, protocol: 'TCP' }]);
    expect(wep.metadata.uid).toBe('4f1c2b9e-0000-4000-8000-000000000001');
  });

  it('prints kubectl-like tables', async () => {
    const { tern } = cluster();
    await tern(['apply', '-f', 'cluster']);
    const t = await tern(['get', 'svc', '-n', 'frontend']);
    expect(t.code).toBe(0);
    const [header, ...rows] = t.out.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 5))).toEqual([
      ['ingress', 'LoadBalancer', '10.96.0.30', '198.51.100.7', '80:30081/TCP,53/UDP'],
      ['search', 'ExternalName', '<none>', 'search.example.com', '<none>'],
      ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP,443/TCP'],
    ]);
    const all = await tern(['get', 'services', '-A', '-o', 'wide']);
    expect(all.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TYPE.*SELECTOR\s+AGE$/);
    expect(all.out).toMatch(/backend\s+dual\s+ClusterIP\s+fd00:10:96::a,10\.96\.0\.40/);
    const pools = await tern(['get', 'pool']);
    expect(pools.out).toMatch(/pods-v6\s+fd00:10:244::\/56\s+122\s+false/);
    const empty = await tern(['get', 'netpol', '-n', 'nothing-here']);
    expect([empty.code, empty.out, empty.err]).toEqual([0, '', 'No resources found in nothing-here namespace.\n']);
  });

  it('exit codes: 0 ok, 1 failed, 2 bad usage; one error line each, no stack traces', async () => {
    const { tern } = cluster();
    const cases: [string[], number, RegExp][] = [
      [['get', 'deployments'], 2, /^error: unknown resource type "deployments"/],
      [['apply'], 2, /^error: apply needs -f FILE/],
      [['get', 'svc', '--bogus'], 2, /^error: unknown option '--bogus'/],
      [['get', 'svc', '-n', 'a', '-A'], 2, /^error: -n and -A cannot be used together/],
      [['get', 'svc', '-o', 'xml'], 2, /^error: unknown output format "xml"/],
      [['delete', 'svc'], 2, /^error: delete needs the name/],
      [['frobnicate'], 2, /^error: unknown command 'frobnicate'/],
      [['get', 'svc', 'nope'], 1, /^error: Service default\/nope not found\n$/],
      [['delete', 'pool', 'nope'], 1, /^error: IPPool nope not found\n$/],
      [['apply', '-f', 'no-such-file.yaml'], 1, /^error: cannot read no-such-file.yaml: no such file or directory\n$/],
    ];
    for (const [args, code, err] of cases) {
      const r = await tern(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), code]);
      expect(r.err).toMatch(err);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect((await tern(['--help'])).code).toBe(0);
  });

  it('validation errors name file, document and field, and nothing is written', async () => {
    const { tern } = cluster();
    const r = await tern(['apply', '-f', 'bad/svc.yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: bad/svc.yaml: document 2 (Service default/web): spec.ports[0].port: must be 1–65535\n');
    expect(r.out).toBe('');
    // Document 1 was valid but the apply is all or nothing.
    expect((await tern(['get', 'ns', 'ok-namespace'])).code).toBe(1);

    const m = await tern(['apply', '-f', 'bad/multi.yaml']);
    expect(m.code).toBe(1);
    expect(m.err.trim().split('\n')).toEqual([
      'error: bad/multi.yaml: document 1 (IPPool bad-pool): spec.cidr: invalid CIDR: host bits set (did you mean 10.250.0.0/16?)',
      'error: bad/multi.yaml: document 2 (NetworkPolicy backend/bad-policy): spec.ingress[0].ports[0].endPort: may not be set when port is a named port',
    ]);

    const y = await tern(['apply', '-f', '-'], { stdin: 'kind: Service\nmetadata: {name: x}\n---\n: : bad\n  - [\n' });
    expect(y.code).toBe(1);
    expect(y.err).toMatch(/^error: <stdin>: document 1 \(Service default\/x\): apiVersion: must be "v1" for kind Service\n/);
    expect(y.err).toMatch(/error: <stdin>: document 2: invalid YAML/);
  });

  it('applies from stdin, reports configured on change, honours -f more than once', async () => {
    const { tern } = cluster();
    const svc = (port: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports:\n  - port: ${port}\n`;
    expect(await tern(['apply', '-f', '-'], { stdin: svc(80) })).toEqual({ code: 0, out: 'service/shop/web created\n', err: '' });
    expect((await tern(['apply', '-f', '-'], { stdin: svc(80) })).out).toBe('service/shop/web unchanged\n');
    expect((await tern(['apply', '-f', '-'], { stdin: svc(8080) })).out).toBe('service/shop/web configured\n');
    const j = JSON.parse((await tern(['get', 'svc', 'web', '-n', 'shop', '-o', 'json'])).out);
    expect(j.spec.ports).toEqual([{ protocol: 'TCP', port: 8080, targetPort: 8080 }]);
    const two = await tern(['apply', '-f', 'cluster/00-namespaces.yaml', '-f', 'cluster/10-ippools.yaml']);
    expect(two.out.trim().split('\n')).toHaveLength(6);
    // A JSON document through stdin works too (JSON is YAML).
    const js = await tern(['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'from-json' } }) });
    expect(js.out).toBe('namespace/from-json created\n');
  });

  it('a pool overlapping a stored pool fails the whole apply before any write', async () => {
    const { tern } = cluster();
    await tern(['apply', '-f', 'cluster/10-ippools.yaml']);
    const file = join(tmp, 'overlap.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: before}\n---\napiVersion: tern.dev/v1\nkind: IPPool\nmetadata: {name: inner}\nspec: {cidr: 10.244.64.0/18}\n');
    const r = await tern(['apply', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: ${file}: document 2 (IPPool inner): spec.cidr: IPPool inner (10.244.64.0/18) overlaps IPPool pods-v4 (10.244.0.0/16)\n`);
    expect((await tern(['get', 'ns', 'before'])).code).toBe(1);
  });

  it('delete by name and by file', async () => {
    const { tern } = cluster();
    await tern(['apply', '-f', 'cluster']);
    expect(await tern(['delete', 'svc', 'web', 'search', '-n', 'frontend'])).toEqual({ code: 0, out: 'service/frontend/web deleted\nservice/frontend/search deleted\n', err: '' });
    const again = await tern(['delete', 'svc', 'web', '-n', 'frontend']);
    expect([again.code, again.err]).toEqual([1, 'error: Service frontend/web not found\n']);
    const f = await tern(['delete', '-f', 'cluster/60-networkpolicies.yaml']);
    expect(f.code).toBe(0);
    expect(f.out.trim().split('\n')).toEqual([
      'networkpolicy/backend/default-deny deleted', 'networkpolicy/backend/api-from-frontend deleted',
      'networkpolicy/backend/db-egress deleted', 'networkpolicy/frontend/allow-monitoring deleted',
    ]);
    expect((await tern(['get', 'netpol', '-A', '-o', 'json'])).out).toContain('"items": []');
    // Pods in a file are deleted as the WorkloadEndpoints they became.
    const p = await tern(['delete', '-f', 'cluster/70-pods.yaml']);
    expect(p.out).toContain('workloadendpoint/frontend/web-1 deleted');
  });

  it('deleting a Node releases its IPAM blocks', async () => {
    const { tern, keys } = cluster();
    await tern(['apply', '-f', 'cluster/10-ippools.yaml', '-f', 'cluster/30-nodes.yaml']);
    const ipam = new Ipam(client, keys);
    const a = await ipam.assign({ handle: 'c0ffee.eth0', node: 'node-b' });
    expect(a.ipv4).toBeTruthy();
    expect((await client.getAll().prefix(keys.nodeAffinityPrefix('node-b')).keys()).length).toBeGreaterThan(0);
    const r = await tern(['delete', 'node', 'node-b']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^node\/node-b deleted \(released [1-9]\d* IPAM blocks?, 1 address\)\n$/);
    expect(await client.getAll().prefix(keys.nodeAffinityPrefix('node-b')).keys()).toEqual([]);

    // The releaser is called with the node's name (and only for Nodes).
    const calls: string[] = [];
    const out = capture();
    const code = await runCli(['delete', 'node', 'node-c'], {
      stdout: out, stderr: capture(), stdin: Readable.from(['']), env: { TERN_ETCD_ENDPOINTS: server.endpoint, TERN_ETCD_PREFIX: keys.prefix },
    }, { releaseNode: async (_c, _k, n) => (calls.push(n), { blocks: 0, addresses: 0 }) });
    expect([code, calls]).toEqual([0, ['node-c']]);
  });

  it('takes etcd settings from flags and a --config file', async () => {
    const { tern } = cluster();
    const cfg = join(tmp, 'tern.yaml');
    writeFileSync(cfg, `etcd:\n  endpoints: ["${server.endpoint}"]\n  prefix: /from-config/\n`);
    const viaFile = await tern(['--config', cfg, 'apply', '-f', 'cluster/00-namespaces.yaml'], { env: { TERN_ETCD_ENDPOINTS: '', TERN_ETCD_PREFIX: '' } });
    expect(viaFile.code, viaFile.err).toBe(0);
    expect(await client.getAll().prefix('/from-config/namespaces/').keys()).toHaveLength(3);
    const viaFlags = await tern(['--etcd-endpoints', server.endpoint, '--etcd-prefix', '/from-config/', 'get', 'ns', '-o', 'json'], { env: { TERN_ETCD_ENDPOINTS: 'http://127.0.0.1:1', TERN_ETCD_PREFIX: '/elsewhere/' } });
    expect(JSON.parse(viaFlags.out).items).toHaveLength(3);
    const bad = await tern(['--etcd-prefix', 'no-slashes', 'get', 'ns']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: .*etcd\.prefix: must start and end with "\/"/);
  });

  it('fails with exit 1 and one line when etcd is unreachable', async () => {
    const { tern } = cluster();
    const cfg = join(tmp, 'down.yaml');
    // Port 1 on loopback: nothing listens there.
    writeFileSync(cfg, 'etcd:\n  endpoints: ["http://127.0.0.1:1"]\n  dialTimeoutMs: 500\n');
    const r = await tern(['--config', cfg, 'get', 'ns'], { env: { TERN_ETCD_ENDPOINTS: '' } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: etcd /);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('the compiled binary runs (node dist/daemons/tern.js)', async () => {
    const bin = join(ROOT, 'dist', 'daemons', 'tern.js');
    expect(existsSync(bin), 'build first: npx tsc -p tsconfig.json').toBe(true);
    const { env, tern } = cluster();
    await tern(['apply', '-f', 'cluster/10-ippools.yaml']);
    const run = promisify(execFile);
    const ok = await run(process.execPath, [bin, 'get', 'pools', '-o', 'json'], { env: { ...process.env, ...env } });
    expect(JSON.parse(ok.stdout).items.map((p: any) => p.metadata.name)).toEqual(['pods-v4', 'pods-v6', 'rack-b-v4']);
    const bad = await run(process.execPath, [bin, 'get', 'widgets'], { env: { ...process.env, ...env } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown resource type "widgets"/);
    const fail = await run(process.execPath, [bin, 'apply', '-f', join(FIXTURES, 'bad', 'svc.yaml')], { env: { ...process.env, ...env } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain('document 2 (Service default/web): spec.ports[0].port: must be 1–65535');
  });
});
