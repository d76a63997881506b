// Two nodes end to end: real etcd, tern-bgpd and tern-agentd in each node namespace, pods made
// by the real tern-cni. Blocks are exchanged over BGP (node-to-node mesh computed by the agents
// from etcd and pushed to bgpd over gRPC); pods on different nodes reach each other; an agent
// restart under a 100-per-second ping loses nothing; hand-made damage is repaired; a
// NetworkPolicy written to etcd takes effect and its deletion restores traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { runIn } from '../../../src/lab/exec.js';
import { waitFor } from '../cni/helpers.js';
import { Cluster, floodPing, nftTable, ping, ternRoutes, waitPing } from './helpers.js';

const c = new Cluster();
let a: { ip: string; netns: string };
let b: { ip: string; netns: string };

async function blockOf(node: string): Promise<string> {
  const kvs = await c.client.getAll().prefix(c.keys.nodeAffinityPrefix(node)).keys();
  const k = kvs[0];
  if (!k) throw new Error(`no block for ${node}`);
  return k.slice(c.keys.nodeAffinityPrefix(node).length).replace(/-(\d+)$/, '/$1');
}

async function hasRoute(netns: string, dst: string): Promise<boolean> {
  const r = await runIn(netns, 'ip', ['-j', 'route', 'show', dst, 'proto', '44']);
  return (JSON.parse(r.stdout || '[]') as unknown[]).length > 0;
}

const cli = async (args: string[]): Promise<{ code: number; out: string }> => {
  let out = '';
  const w = { write: (s: string) => void (out += s) };
  const code = await runCli(args, { stdout: w, stderr: w, stdin: process.stdin, env: {} } as never);
  return { code, out };
};

beforeAll(async () => {
  await c.up(['node1', 'node2']);
  await Promise.all([c.startBgpd('node1'), c.startBgpd('node2')]);
  await Promise.all([c.startAgent('node1'), c.startAgent('node2')]);
  a = await c.addPod('node1', 'pa', { app: 'a' });
  b = await c.addPod('node2', 'pb', { app: 'b' });
}, 120_000);

afterAll(async () => {
  await c.down();
}, 60_000);

describe('two nodes, mesh over tern-bgpd', () => {
  it('exchanges blocks over BGP and routes pod to pod across nodes', async () => {
    const b1 = await blockOf('node1');
    const b2 = await blockOf('node2');
    // node1 holds a blackhole for its own block and a route via node2 for node2's.
    await waitFor(async () => {
      const r = await runIn(c.node('node1').host.netns, 'ip', ['-j', 'route', 'show', b2, 'proto', '44']);
      const routes = JSON.parse(r.stdout || '[]') as { gateway?: string }[];
      if (routes[0]?.gateway !== c.node('node2').host.fabricIp) throw new Error(`no route for ${b2} via node2: ${r.stdout}`);
    }, 30_000);
    const bh = await runIn(c.node('node1').host.netns, 'ip', ['-j', 'route', 'show', b1, 'proto', '44']);
    expect((JSON.parse(bh.stdout) as { type: string }[])[0]?.type).toBe('blackhole');
    expect(await waitPing(a.netns, b.ip, 15_000)).toBe(true);
    expect(await waitPing(b.netns, a.ip, 15_000)).toBe(true);
  }, 60_000);

  it('tern node status shows blocks, routes and the Established mesh session', async () => {
    const n = c.node('node1');
    await waitFor(async () => {
      const r = await cli(['node', 'status', '--agent-socket', n.agentSocket, '--bgpd-socket', n.bgpdSocket]);
      if (r.code !== 0 || !r.out.includes('node-to-node mesh') || !r.out.includes('Established')) throw new Error(r.out);
    });
    const r = await cli(['node', 'status', '--agent-socket', n.agentSocket, '--bgpd-socket', n.bgpdSocket, '-o', 'json']);
    const j = JSON.parse(r.out) as { agent: { ready: boolean; blocks: string[]; localEndpoints: number; bgpdConnected: boolean }; peers: { config: { address: string }; state: string }[] };
    expect(j.agent).toMatchObject({ ready: true, blocks: [await blockOf('node1')], localEndpoints: 1, bgpdConnected: true });
    expect(j.peers.map((p) => [p.config.address, p.state])).toEqual([[c.node('node2').host.fabricIp, 'Established']]);
  }, 30_000);

  it('restarting tern-agentd under a 100/s ping loses no packet', async () => {
    const n = c.node('node1');
    const before = await ternRoutes(n.host.netns);
    const ping = floodPing(a.netns, b.ip, 8);
    await new Promise((r) => setTimeout(r, 1000));
    await n.agent!.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await c.startAgent('node1');
    const res = await ping;
    expect(res.sent).toBeGreaterThan(300);
    expect(res.received, res.out).toBe(res.sent);
    expect(await ternRoutes(n.host.netns)).toEqual(before);
  }, 60_000);

  it('restarting tern-bgpd under a 100/s ping loses no packet (graceful restart, stale routes kept)', async () => {
    const n = c.node('node1');
    const before = await ternRoutes(n.host.netns);
    const ping = floodPing(a.netns, b.ip, 8);
    await new Promise((r) => setTimeout(r, 1000));
    await n.bgpd!.stop('SIGTERM');
    await c.startBgpd('node1');
    const res = await ping;
    expect(res.received, res.out).toBe(res.sent);
    await waitFor(async () => {
      expect(await ternRoutes(n.host.netns)).toEqual(before);
    }, 30_000);
    // The session is back and the block is learned again from the new bgpd.
    await waitFor(async () => {
      const r = await cli(['node', 'status', '--agent-socket', n.agentSocket, '-o', 'json']);
      const j = JSON.parse(r.out) as { agent: { staleRemoteRoutes: number; bgpdConnected: boolean }; peers: { state: string }[] };
      if (!j.agent.bgpdConnected || j.agent.staleRemoteRoutes !== 0 || j.peers[0]?.state !== 'Established') throw new Error(r.out);
    }, 30_000);
  }, 90_000);

  it('a hand-deleted route comes back', async () => {
    const n2 = c.node('node2').host.netns;
    const b1 = await blockOf('node1');
    await runIn(n2, 'ip', ['route', 'del', b1, 'proto', '44']);
    await runIn(n2, 'ip', ['route', 'del', `${b.ip}/32`, 'proto', '44']);
    // Both deletions succeeded (runIn throws otherwise); the monitor may repair them within
    // milliseconds, so their absence is not asserted in between.
    await waitFor(async () => {
      if (!(await hasRoute(n2, b1)) || !(await hasRoute(n2, `${b.ip}/32`))) throw new Error('not repaired yet');
    }, 10_000);
    expect(await waitPing(a.netns, b.ip, 10_000)).toBe(true);
  }, 30_000);

  it('a NetworkPolicy in etcd denies, a hand-flushed chain comes back, deleting the policy restores traffic', async () => {
    const n2 = c.node('node2').host.netns;
    const empty = await nftTable(n2);
    await c.store.apply({
      apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'b-from-nobody', namespace: 'ns1' },
      spec: { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'nothing' } } }] }] },
    });
    await waitFor(async () => {
      if (await ping(a.netns, b.ip)) throw new Error('still allowed');
    }, 15_000);
    const withPolicy = await nftTable(n2);
    expect(withPolicy).not.toBe(empty);

    // Flush every chain of the table by hand: the agent's resync (2 s here) must restore it.
    const chains = (JSON.parse((await runIn(n2, 'nft', ['-j', 'list', 'chains', 'inet'])).stdout) as { nftables: { chain?: { table: string; name: string } }[] }).nftables
      .map((x) => x.chain).filter((x): x is { table: string; name: string } => !!x && x.table === 'tern');
    const epChain = chains.find((x) => x.name !== 'forward' && x.name !== 'input' && x.name !== 'output') ?? chains[0]!;
    const repairs = async (): Promise<number> => {
      const r = await cli(['node', 'status', '--agent-socket', c.node('node2').agentSocket, '-o', 'json']);
      return (JSON.parse(r.out) as { agent: { policyDriftRepairs: number } }).agent.policyDriftRepairs;
    };
    const before = await repairs();
    await runIn(n2, 'nft', ['flush', 'chain', 'inet', 'tern', epChain.name]);
    // The resync may repair the chain before a second nft call could look at it, so the repair
    // is seen through the agent's own counter, then in the table.
    await waitFor(async () => {
      if ((await repairs()) <= before) throw new Error('no drift repair yet');
      if ((await nftTable(n2)) !== withPolicy) throw new Error('not repaired yet');
    }, 15_000);
    expect(await ping(a.netns, b.ip)).toBe(false);

    await c.store.delete('NetworkPolicy', 'b-from-nobody', 'ns1');
    expect(await waitPing(a.netns, b.ip, 15_000)).toBe(true);
  }, 60_000);
});
