// `tern trace` against a real two-node cluster (etcd, tern-bgpd and tern-agentd per node in
// lab namespaces, pods made by tern-cni): a NetworkPolicy lets pa reach pb on TCP 80 only.
// The trace's verdict for each port is checked against a real TCP connect from pa's
// namespace; its BGP hop must name node2 as the advertiser of pb's block with the next hop
// the kernel route on node1 uses; the deciding nft rule must be found in the kernel.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { runIn } from '../../src/lab/exec.js';
import type { TraceResult } from '../../src/trace/index.js';
import { waitFor } from '../agent/cni/helpers.js';
import { Cluster } from '../agent/daemon/helpers.js';

const SERVER = join(process.cwd(), 'test/agent/policy/server.mjs');
const PROBE = join(process.cwd(), 'test/agent/policy/probe.mjs');

const c = new Cluster();
let a: { ip: string; netns: string; iface: string };
let b: { ip: string; netns: string; iface: string };
let server: ChildProcess | undefined;

const cli = async (args: string[]): Promise<{ code: number; out: string; err: string }> => {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) }, stdin: process.stdin, env: {} } as never);
  return { code, out, err };
};

const traceArgs = (dest: string, extra: string[] = []): string[] => ['--etcd-endpoints', c.etcd.unixEndpoint, 'trace', 'pa', dest, '-n', 'ns1', '--lab', c.lab.id, ...extra];

async function traceJson(dest: string): Promise<TraceResult> {
  const r = await cli(traceArgs(dest, ['-o', 'json']));
  if (r.code !== 0) throw new Error(`tern trace exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as TraceResult;
}

/** A real TCP connect from pa's namespace: {"80": true, "81": false}. */
async function connect(ports: number[]): Promise<Record<string, boolean>> {
  const targets = ports.map((p) => ({ id: String(p), ip: b.ip, port: p, proto: 'TCP' }));
  const r = await runIn(a.netns, process.execPath, [PROBE, JSON.stringify(targets), '1000', '0'], { timeoutMs: 20_000 });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, boolean>;
}

beforeAll(async () => {
  await c.up(['node1', 'node2']);
  await Promise.all([c.startBgpd('node1'), c.startBgpd('node2')]);
  await Promise.all([c.startAgent('node1'), c.startAgent('node2')]);
  a = await c.addPod('node1', 'pa', { app: 'a' });
  b = await c.addPod('node2', 'pb', { app: 'b' });
  server = spawn('ip', ['netns', 'exec', b.netns, process.execPath, SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    server!.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  // Routes first (both ports open), then the policy.
  await waitFor(async () => {
    const r = await connect([80, 81]);
    if (!r['80'] || !r['81']) throw new Error(`not routed yet: ${JSON.stringify(r)}`);
  }, 30_000);
  await c.store.apply({
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b-web-only', namespace: 'ns1' },
    spec: { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ protocol: 'TCP', port: 80 }] }] },
  });
  await waitFor(async () => {
    await runIn(c.node('node2').host.netns, 'nft', ['list', 'chain', 'inet', 'tern', `to-${b.iface}`]);
  }, 15_000);
}, 120_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) server.kill('SIGKILL');
  await c.down();
}, 60_000);

describe('tern trace on a real cluster', () => {
  it('says allowed for port 80 and denied (naming the policy) for 81, as real packets find', async () => {
    const [t80, t81] = [await traceJson('ns1/pb:80'), await traceJson('ns1/pb:81')];
    const v80 = t80.paths[0]!.verdict;
    const v81 = t81.paths[0]!.verdict;
    expect(v80).toMatchObject({ allowed: true, policy: ['ns1/b-web-only'], rule: 'ns1/b-web-only ingress[0]' });
    expect(v81).toMatchObject({ allowed: false, policy: ['ns1/b-web-only'], rule: `to-${b.iface} drop` });
    // Each deciding rule was read back from node2's kernel by its comment.
    expect(v80.kernel).toMatchObject({ node: 'node2', chain: `to-${b.iface}`, present: true });
    expect(v81.kernel).toMatchObject({ node: 'node2', chain: `to-${b.iface}`, present: true });

    const real = await connect([80, 81]);
    expect(real['80']).toBe(v80.allowed);
    expect(real['81']).toBe(v81.allowed);
  }, 60_000);

  it('names the node that advertised the block, and the BGP next hop is the kernel route on node1', async () => {
    const t = await traceJson('ns1/pb:80');
    const hops = t.paths[0]!.hops;
    expect(hops.map((h) => h.hop)).toEqual(['pod veth', 'node route', 'bgp', 'dest node route', 'policy egress', 'policy ingress']);
    expect(hops.filter((h) => h.hop !== 'policy ingress').every((h) => h.ok), JSON.stringify(hops, null, 2)).toBe(true);
    const bgp = hops.find((h) => h.hop === 'bgp')!.data as { advertisedBy: string; nextHop: string; prefix: string; nextHopMatchesKernel: boolean };
    expect(bgp.advertisedBy).toBe('node2');
    const kernel = await runIn(c.node('node1').host.netns, 'ip', ['-j', 'route', 'show', bgp.prefix]);
    const route = (JSON.parse(kernel.stdout) as Array<{ gateway?: string; protocol?: string }>)[0];
    expect(route?.gateway).toBe(bgp.nextHop);
    expect(bgp.nextHop).toBe(c.node('node2').host.fabricIp);
    expect(bgp.nextHopMatchesKernel).toBe(true);
    expect(hops.find((h) => h.hop === 'dest node route')!.detail).toContain(b.iface);
  }, 30_000);

  it('prints a readable hop table', async () => {
    const r = await cli(traceArgs('ns1/pb:81'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\s+\d\s+bgp\s+node1\s+ok\s+10\.244\.\d+\.\d+\/26 advertised by node2/m);
    expect(r.out).toContain('DENIED by policy ns1/b-web-only');
    expect(r.out).toMatch(/kernel: node2 inet tern chain to-\S+ rule "tern [0-9a-f]{8} ingress of ns1\/pb isolated": present/);
  }, 30_000);
});
