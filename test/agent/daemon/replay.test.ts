// Order independence (Felix's calculation-graph test): one sequence of updates, replayed into
// three agents — as it happened, shuffled across keys with duplicates, and squashed to the last
// version of each key in reverse key order — must leave the same kernel state: the same
// `ip -j route show proto 44` and the same `nft -j list table inet tern` (handles aside). Each
// agent programs its own lab namespace; no etcd, no bgpd: the updates are injected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../src/agent/daemon/agent.js';
import { updateKey, type AgentUpdate } from '../../../src/agent/daemon/updates.js';
import { ipBatch, ipLine } from '../../../src/lab/exec.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { logger } from '../../../src/log/index.js';
import { validateResource } from '../../../src/resources/index.js';
import { nftTable, ternRoutes } from './helpers.js';

let lab: Lab;
let hosts: Host[];
const agents: Agent[] = [];

function res<T>(doc: unknown): T {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}

const IFACES = ['ternaaaa00001', 'ternaaaa00002', 'ternaaaa00003', 'ternaaaa00004'];

const wep = (name: string, node: string, ip: string, labels: Record<string, string>, iface?: string) =>
  res({ apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name, namespace: labels.ns ?? 'x', labels }, spec: { node, ipNetworks: [`${ip}/32`], ...(iface ? { interfaceName: iface } : {}), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } });
const ns = (name: string, labels: Record<string, string> = {}) => res({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const np = (name: string, namespace: string, spec: Record<string, unknown>) => res({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
const node = (name: string, ip: string) => res({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: `${ip}/24` } } });

/** The history: creations, edits and deletions, several versions of some keys. */
function history(): AgentUpdate[] {
  const u: AgentUpdate[] = [];
  u.push({ kind: 'node', name: 'n1', node: node('n1', '10.99.0.21') as never });
  u.push({ kind: 'node', name: 'n2', node: node('n2', '10.99.0.22') as never });
  u.push({ kind: 'namespace', name: 'x', namespace: ns('x', { team: 'x' }) as never });
  u.push({ kind: 'namespace', name: 'y', namespace: ns('y', { team: 'y' }) as never });
  u.push({ kind: 'affinity', cidr: '10.244.1.0/26', present: true });
  u.push({ kind: 'affinity', cidr: '10.244.1.64/26', present: true });
  u.push({ kind: 'endpoint', id: 'x/a', endpoint: wep('a', 'n1', '10.244.1.1', { app: 'a' }, IFACES[0]) as never });
  u.push({ kind: 'endpoint', id: 'x/b', endpoint: wep('b', 'n1', '10.244.1.2', { app: 'b' }, IFACES[1]) as never });
  u.push({ kind: 'endpoint', id: 'x/c', endpoint: wep('c', 'n1', '10.244.1.3', { app: 'c' }, IFACES[2]) as never });
  u.push({ kind: 'endpoint', id: 'y/r', endpoint: wep('r', 'n2', '10.244.2.1', { app: 'r', ns: 'y' }) as never });
  u.push({ kind: 'policy', id: 'x/allow-a-to-b', policy: np('allow-a-to-b', 'x', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 'http' }] }] }) as never });
  u.push({ kind: 'remote', prefix: '10.244.2.0/26', nextHops: ['10.99.0.22'] });
  u.push({ kind: 'remote', prefix: '10.244.3.0/26', nextHops: ['10.99.0.22'] });
  // Edits: a pod relabelled and moved to another veth, a policy widened, a block released,
  // a pod deleted, a remote prefix gaining a second next hop and another withdrawn.
  u.push({ kind: 'endpoint', id: 'x/c', endpoint: wep('c', 'n1', '10.244.1.3', { app: 'b' }, IFACES[3]) as never });
  u.push({ kind: 'policy', id: 'x/allow-a-to-b', policy: np('allow-a-to-b', 'x', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }, { namespaceSelector: { matchLabels: { team: 'y' } } }] }] }) as never });
  u.push({ kind: 'policy', id: 'x/deny-egress-a', policy: np('deny-egress-a', 'x', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.3.0/24'] } }] }] }) as never });
  u.push({ kind: 'affinity', cidr: '10.244.1.64/26', present: false });
  u.push({ kind: 'endpoint', id: 'x/b', endpoint: null });
  u.push({ kind: 'endpoint', id: 'x/b', endpoint: wep('b', 'n1', '10.244.1.4', { app: 'b' }, IFACES[1]) as never });
  u.push({ kind: 'remote', prefix: '10.244.2.0/26', nextHops: ['10.99.0.22', '10.99.0.23'] });
  u.push({ kind: 'remote', prefix: '10.244.3.0/26', nextHops: [] });
  u.push({ kind: 'namespace', name: 'y', namespace: ns('y', { team: 'y', env: 'prod' }) as never });
  return u;
}

/** A seeded shuffle that keeps the order of updates of one key (mulberry32). */
function shuffleAcrossKeys(u: AgentUpdate[], seed: number): AgentUpdate[] {
  let s = seed;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const queues = new Map<string, AgentUpdate[]>();
  for (const x of u) {
    const k = updateKey(x);
    queues.set(k, [...(queues.get(k) ?? []), x]);
  }
  const out: AgentUpdate[] = [];
  while (queues.size > 0) {
    const keys = [...queues.keys()];
    const k = keys[Math.floor(rnd() * keys.length)]!;
    const q = queues.get(k)!;
    const x = q.shift()!;
    out.push(x);
    if (rnd() < 0.3) out.push(x); // duplicated delivery
    if (q.length === 0) queues.delete(k);
  }
  return out;
}

function squash(u: AgentUpdate[]): AgentUpdate[] {
  const last = new Map<string, AgentUpdate>();
  for (const x of u) last.set(updateKey(x), x);
  return [...last.values()].reverse();
}

async function run(host: Host, updates: AgentUpdate[], settleEvery: number): Promise<{ routes: string[]; nft: string }> {
  const agent = new Agent({ nodeName: 'n1', netns: host.netns, log: logger('replay'), resyncMs: 60_000, coalesceMs: 2 });
  agents.push(agent);
  await agent.start();
  let i = 0;
  for (const x of updates) {
    agent.update(x);
    if (settleEvery > 0 && ++i % settleEvery === 0) await agent.settled();
  }
  await agent.settled();
  return { routes: await ternRoutes(host.netns), nft: await nftTable(host.netns) };
}

beforeAll(async () => {
  lab = await Lab.create();
  hosts = await lab.addHosts([{ name: 'r1' }, { name: 'r2' }, { name: 'r3' }]);
  for (const h of hosts) {
    await ipBatch(IFACES.flatMap((i, n) => [ipLine('link', 'add', i, 'type', 'veth', 'peer', 'name', `rp${n}`), ipLine('link', 'set', i, 'up'), ipLine('link', 'set', `rp${n}`, 'up')]), { netns: h.netns });
  }
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  await lab?.destroy();
}, 60_000);

describe('order independence', () => {
  it('in order, shuffled with duplicates, and squashed: the same routes and nftables table', async () => {
    const h = history();
    const [inOrder, shuffled, squashed] = await Promise.all([
      run(hosts[0]!, h, 1),
      run(hosts[1]!, shuffleAcrossKeys(h, 42), 3),
      run(hosts[2]!, squash(h), 0),
    ]);
    // The state is not trivial: pods, a blackhole, ECMP, a policy table.
    expect(inOrder.routes.some((r) => r.includes('"blackhole"'))).toBe(true);
    expect(inOrder.routes.some((r) => r.includes('10.99.0.23'))).toBe(true);
    expect(inOrder.routes.some((r) => r.includes('10.244.1.4'))).toBe(true);
    expect(inOrder.routes.some((r) => r.includes('10.244.3.0') || r.includes('10.244.1.2"') || r.includes('10.244.1.64'))).toBe(false);
    expect(inOrder.nft).toContain('"chain"');
    expect(shuffled.routes).toEqual(inOrder.routes);
    expect(squashed.routes).toEqual(inOrder.routes);
    expect(shuffled.nft).toBe(inOrder.nft);
    expect(squashed.nft).toBe(inOrder.nft);
  }, 60_000);
});
