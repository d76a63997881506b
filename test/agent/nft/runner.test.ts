// The persistent nft runner against the real kernel, inside namespaces this file creates:
// atomic transactions, errors per transaction (also inside a merged batch), a killed nft
// process, fallback to `nft -f`, and the same kernel state as `nft -f` for the policy and
// proxy tables.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftRunner } from '../../../src/agent/nft/runner.js';
import { calculate } from '../../../src/agent/policy/calc.js';
import { runNft } from '../../../src/agent/policy/nft.js';
import { renderDiff, renderFull } from '../../../src/agent/policy/render.js';
import { ProxyInputs } from '../../../src/agent/proxy/inputs.js';
import { ProxyTable } from '../../../src/agent/proxy/render.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { netpol, NODE, ns, pod } from '../policy/fixtures.js';
import { service, slice } from '../proxy/fixtures.js';

let lab: Lab;
let h1: Host;
let h2: Host;
const runners: NftRunner[] = [];
let tmp: string;

const runner = (netns: string, opts: ConstructorParameters<typeof NftRunner>[0] = {}): NftRunner => {
  const r = new NftRunner({ netns, ...opts });
  runners.push(r);
  return r;
};
const list = async (netns: string, what: string): Promise<string> => {
  const r = await runNft(['list', ...what.split(' ')], undefined, { netns });
  if (!r.ok) throw new Error(`nft list ${what}: ${r.stderr}`);
  return r.stdout;
};
const elements = async (netns: string, table: string, set: string): Promise<string[]> => {
  const r = await runNft(['-j', 'list', 'set', 'inet', table, set], undefined, { netns });
  const j = JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
  return (j.nftables.find((o) => o.set)?.set?.elem ?? []).map((e) => JSON.stringify(e)).sort();
};
const ruleCount = async (netns: string, table: string, chain: string): Promise<number> => (await list(netns, `chain inet ${table} ${chain}`)).split('\n').filter((l) => /^\t\t\S/.test(l)).length;
const base = (t: string) => `add table inet ${t}\nadd set inet ${t} s { type ipv4_addr; }\nadd chain inet ${t} c\n`;

beforeAll(async () => {
  lab = await Lab.create();
  const hosts = await lab.addHosts([{ name: 'nft1' }, { name: 'nft2' }]);
  h1 = hosts[0]!;
  h2 = hosts[1]!;
  tmp = mkdtempSync(join(tmpdir(), 'tern-nft-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  await lab?.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('persistent runner', () => {
  it('applies a transaction all or nothing', async () => {
    const r = runner(h1.netns);
    expect((await r.apply(base('t1'))).ok).toBe(true);
    expect(r.mode).toBe('persistent');
    expect(r.pid).toBeTypeOf('number');
    // A kernel refusal in the middle (the element exists): the lines before and after it are not applied.
    await r.apply('add element inet t1 s { 10.0.0.1 }');
    const bad = await r.apply('add element inet t1 s { 10.0.0.2 }\ncreate element inet t1 s { 10.0.0.1 }\nadd element inet t1 s { 10.0.0.3 }\nadd rule inet t1 c counter\n');
    expect(bad.ok).toBe(false);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^-:2:\d+: Error: .*File exists/m);
    expect(await elements(h1.netns, 't1', 's')).toEqual([JSON.stringify('10.0.0.1')]);
    expect(await ruleCount(h1.netns, 't1', 'c')).toBe(0);
    // A refusal found before the kernel (unknown set) changes nothing either.
    const bad2 = await r.apply('add element inet t1 s { 10.0.0.4 }\nadd element inet t1 nosuch { 10.0.0.5 }\n');
    expect(bad2.ok).toBe(false);
    expect(bad2.stderr).toMatch(/^-:2:\d+: Error: No such file or directory/m);
    expect(await elements(h1.netns, 't1', 's')).toEqual([JSON.stringify('10.0.0.1')]);
    // And the process carries on with the next one.
    expect((await r.apply('add element inet t1 s { 10.0.0.6 }')).ok).toBe(true);
    expect(await elements(h1.netns, 't1', 's')).toEqual([JSON.stringify('10.0.0.1'), JSON.stringify('10.0.0.6')]);
  });

  it('merges queued transactions and still gives each its own verdict', async () => {
    const r = runner(h1.netns);
    await r.apply(base('t2'));
    const scripts = [1, 2, 3, 4, 5].map((i) => (i === 3 ? 'delete element inet t2 s { 10.9.9.9 }' : `add element inet t2 s { 10.0.1.${i} }\nadd rule inet t2 c counter`));
    const res = await Promise.all(scripts.map((s) => r.apply(s)));
    expect(res.map((x) => x.ok)).toEqual([true, true, false, true, true]);
    expect(res[2]!.stderr).toMatch(/Error: .*No such file or directory/);
    for (const i of [0, 1, 3, 4]) expect(res[i]!.stderr).toBe('');
    expect(r.stats.splitRetries).toBeGreaterThanOrEqual(1);
    expect(await elements(h1.netns, 't2', 's')).toEqual([1, 2, 4, 5].map((i) => JSON.stringify(`10.0.1.${i}`)));
    expect(await ruleCount(h1.netns, 't2', 'c')).toBe(4);
    // Without a failure, the queued ones share one batch.
    const ok = await Promise.all([6, 7, 8].map((i) => r.apply(`add element inet t2 s { 10.0.1.${i} }`)));
    expect(ok.every((x) => x.ok)).toBe(true);
    expect(Math.max(...ok.map((x) => x.batched))).toBeGreaterThan(1);
  });

  it('restarts after nft is killed and applies nothing twice', async () => {
    const r = runner(h1.netns);
    expect((await r.apply(`${base('t3')}add rule inet t3 c counter`)).ok).toBe(true);
    const pid = r.pid!;
    process.kill(pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 100));
    const next = await r.apply('add element inet t3 s { 10.0.2.1 }');
    expect(next.ok).toBe(true);
    expect(r.pid).not.toBe(pid);
    expect(r.stats.processDeaths).toBe(1);
    // The first transaction's rule is there once: nothing was sent again to the new process.
    expect(await ruleCount(h1.netns, 't3', 'c')).toBe(1);
    expect(await elements(h1.netns, 't3', 's')).toEqual([JSON.stringify('10.0.2.1')]);
  });

  it('reports a transaction cut by the death of nft as unknown, and the kernel holds all of it or none', async () => {
    const r = runner(h1.netns);
    await r.apply(base('t4'));
    const n = 20_000;
    const big = `add element inet t4 s { ${Array.from({ length: n }, (_, i) => `10.4.${i >> 8}.${i & 255}`).join(', ')} }`;
    const pending = r.apply(big);
    // Kill as soon as the line is on its way (the process already runs: no probe before it).
    await new Promise((res) => setImmediate(res));
    process.kill(r.pid!, 'SIGKILL');
    const res = await pending;
    const count = (await elements(h1.netns, 't4', 's')).length;
    if (res.ok) expect(count).toBe(n); // nft finished before the signal
    else {
      expect(res.code).toBeNull();
      expect(res.stderr).toMatch(/outcome unknown/);
      expect([0, n]).toContain(count);
    }
    expect((await r.apply('add element inet t4 s { 10.5.0.1 }')).ok).toBe(true);
  });

  it('falls back to nft -f when nft -i cannot run', async () => {
    const fake = join(tmp, 'nft-no-cli');
    writeFileSync(fake, '#!/bin/sh\n[ "$1" = "-i" ] && { echo "Error: interactive CLI not supported in this build" >&2; exit 1; }\nexec nft "$@"\n');
    chmodSync(fake, 0o755);
    const r = runner(h1.netns, { bin: fake });
    const res = await r.apply(`${base('t5')}add element inet t5 s { 10.0.5.1 }`);
    expect(res.ok).toBe(true);
    expect(res.via).toBe('spawn');
    expect(r.mode).toBe('spawn');
    expect(await elements(h1.netns, 't5', 's')).toEqual([JSON.stringify('10.0.5.1')]);
    const bad = await r.apply('create element inet t5 s { 10.0.5.1 }');
    expect(bad.ok).toBe(false);
    expect(bad.stderr).toMatch(/File exists/);
  });

  it('refuses a namespace that no longer exists', async () => {
    const r = runner(`${h1.netns}-gone`);
    const res = await r.apply('add table inet x');
    expect(res.ok).toBe(false);
    expect(res.stderr).toMatch(/cannot open network namespace/);
  });
});

describe('same kernel state as nft -f', () => {
  // Each script is loaded with `nft -f -` in one namespace and through the persistent runner
  // in the other; the tables listed back must be identical.
  async function compare(table: string, scripts: string[]): Promise<void> {
    const spawned = runner(h1.netns, { mode: 'spawn' });
    const persistent = runner(h2.netns);
    for (const s of scripts) {
      const a = await spawned.apply(s);
      const b = await persistent.apply(s);
      expect(a.ok, a.stderr).toBe(true);
      expect(b.ok, b.stderr).toBe(true);
      expect(b.via).toBe('persistent');
      expect(await list(h2.netns, `table inet ${table}`)).toBe(await list(h1.netns, `table inet ${table}`));
    }
  }

  it('policy table: full load (block syntax, multi-line element lists), incremental steps', async () => {
    const table = 'tern-eq-policy';
    const namespaces = [ns('x', { team: 'a' }), ns('y', { team: 'b' })];
    const pods = [
      pod({ ns: 'x', name: 'a', ip: '10.244.1.10', ip6: 'fd00:244:1::10', labels: { app: 'web' }, ports: [{ name: 'http', port: 8080 }] }),
      pod({ ns: 'x', name: 'b', ip: '10.244.1.11', labels: { app: 'db' } }),
      pod({ ns: 'y', name: 'c', ip: '10.244.2.10', node: 'node2', labels: { app: 'web' }, ports: [{ name: 'http', port: 8081 }] }),
    ];
    const policies = [
      netpol('x', 'web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http' }, { port: 443 }] }] }),
      netpol('x', 'db', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }], egress: [{ to: [{ podSelector: {} }], ports: [{ port: 53, protocol: 'UDP' }, { port: 8000, endPort: 8100 }] }] }),
    ];
    const input = { nodeName: NODE, nodeIps: ['10.99.0.1'], namespaces, endpoints: pods, policies };
    const s1 = calculate(input);
    const s2 = calculate({ ...input, endpoints: [...pods, pod({ ns: 'y', name: 'd', ip: '10.244.2.11', node: 'node2', labels: { app: 'web' } }), pod({ ns: 'x', name: 'e', ip: '10.244.1.12', labels: { app: 'db' } })] });
    const s3 = calculate({ ...input, policies: [policies[0]!] });
    const full = renderFull(s1, { table }).script;
    expect(full).toMatch(/elements = \{\n/); // the multi-line form the joiner must keep inside braces
    const d12 = renderDiff(s1, s2, { table }).script;
    const d23 = renderDiff(s2, s3, { table }).script;
    expect(d12).not.toBe('');
    expect(d23).not.toBe('');
    await compare(table, [full, d12, d23, full]);
  });

  it('proxy table: full load, incremental steps with affinity and node ports', async () => {
    const table = 'tern-eq-proxy';
    const inputs = new ProxyInputs(NODE, ['10.244.0.0/16']);
    const plan = new ProxyTable({ table });
    inputs.apply({ kind: 'service-upsert', service: service('default', 'web', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] }) });
    inputs.apply({ kind: 'slice-upsert', slice: slice('default', 'web', 'web-x', 4, [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.2', node: 'node2' }], [{ name: 'http', port: 8080 }]) });
    inputs.apply({ kind: 'service-upsert', service: service('default', 'dns', { clusterIP: '10.96.0.53', sessionAffinity: 'ClientIP', ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] }) });
    inputs.apply({ kind: 'slice-upsert', slice: slice('default', 'dns', 'dns-x', 4, [{ ip: '10.244.1.3', node: NODE }], [{ name: 'dns', port: 53, protocol: 'UDP' }]) });
    const full = plan.full(inputs.snapshot()).script;
    inputs.apply({ kind: 'slice-upsert', slice: slice('default', 'web', 'web-x', 4, [{ ip: '10.244.1.2', node: NODE }, { ip: '10.244.2.3', node: 'node2' }, { ip: '10.244.2.4', node: 'node2' }], [{ name: 'http', port: 8080 }]) });
    const step1 = plan.next(inputs.snapshot()).script;
    inputs.apply({ kind: 'service-delete', namespace: 'default', name: 'dns' });
    const step2 = plan.next(inputs.snapshot()).script;
    expect(step1).toMatch(/add rule/);
    expect(step2).toMatch(/delete/);
    await compare(table, [full, step1, step2]);
  });
});
