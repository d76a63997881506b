// The whole lab end to end, faults: daemon restarts under continuous traffic lose no packet,
// a stopped reflector loses no route, a 30 s etcd outage stops neither DNS nor traffic and
// later changes converge, a cut link withdraws a node's routes within the hold time and
// brings them back, and deleting a node releases its blocks and addresses. The lab runs with
// a 3 s BGP hold time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/datastore/keys.js';
import { connectEtcd } from '../../src/datastore/client.js';
import { Store } from '../../src/datastore/store.js';
import { Ipam } from '../../src/ipam/index.js';
import { type LabRun } from '../../src/lab/cluster.js';
import { ipBatch, ipLine, runIn } from '../../src/lab/exec.js';
import { createPod, deletePod } from '../../src/lab/pods.js';
import { waitAgentReady, waitConverged } from '../../src/lab/up.js';
import { digFrom, floodPing, hasRouteVia, labName, nodeBlocks, startLab, stopLab, tern, ternRoutes, waitFor } from './helpers.js';

const HOLD = 3;
const name = labName('ef');
let lab: LabRun;

beforeAll(async () => {
  lab = await startLab(name, { holdTime: HOLD });
}, 180_000);

afterAll(async () => {
  await stopLab(name);
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('lab faults', () => {
  it('restarting tern-bgpd on node1 under 100/s pings (node2 -> node3 and node2 -> node1) loses no packet', async () => {
    const n1 = lab.node('node1');
    const before = await ternRoutes(n1.netns);
    const others = floodPing(lab.pod('web-2').netns, lab.pod('web-3').ip, 8);
    const through = floodPing(lab.pod('web-2').netns, lab.pod('web-1').ip, 8);
    await sleep(1500);
    await lab.stop('node1-bgpd', 'SIGTERM');
    lab.start('node1-bgpd');
    const [a, b] = await Promise.all([others, through]);
    expect(a.sent).toBeGreaterThan(300);
    expect(a.received, a.out).toBe(a.sent);
    expect(b.received, b.out).toBe(b.sent);
    await waitConverged(lab, 30_000);
    expect(await ternRoutes(n1.netns)).toEqual(before);
  }, 90_000);

  it('restarting tern-agentd on node2 under 100/s pings (node1 -> node3 and node3 -> node2) loses no packet', async () => {
    const n2 = lab.node('node2');
    const before = await ternRoutes(n2.netns);
    const others = floodPing(lab.pod('web-1').netns, lab.pod('web-3').ip, 8);
    const through = floodPing(lab.pod('web-3').netns, lab.pod('web-2').ip, 8);
    await sleep(1500);
    await lab.stop('node2-agentd', 'SIGTERM');
    lab.start('node2-agentd');
    const [a, b] = await Promise.all([others, through]);
    expect(a.received, a.out).toBe(a.sent);
    expect(b.sent).toBeGreaterThan(300);
    expect(b.received, b.out).toBe(b.sent);
    await waitAgentReady(lab, 'node2');
    expect(await ternRoutes(n2.netns)).toEqual(before);
  }, 90_000);

  it('stopping one reflector loses no route and no packet', async () => {
    const nodes = lab.cluster.nodes;
    const before = await Promise.all(nodes.map((n) => ternRoutes(n.netns)));
    const ping = floodPing(lab.pod('web-1').netns, lab.pod('api-3').ip, (HOLD + 4));
    await sleep(500);
    await lab.stop('rr1', 'SIGKILL');
    const r = await ping;
    expect(r.received, r.out).toBe(r.sent);
    // Past the hold time the nodes have dropped rr1's session; rr2 still carries every route.
    expect(await Promise.all(nodes.map((n) => ternRoutes(n.netns)))).toEqual(before);
    lab.start('rr1');
    await waitConverged(lab, 30_000);
  }, 60_000);

  it('with etcd stopped for 30 s DNS keeps answering and traffic flows; changes made after it returns converge', async () => {
    const web1 = lab.pod('web-1');
    await lab.stopEtcd();
    const ping = floodPing(web1.netns, lab.pod('web-3').ip, 30);
    const answers: string[][] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 28_000) {
      answers.push(await digFrom(web1.netns, 'api.backend'));
      await sleep(2000);
    }
    const r = await ping;
    expect(r.sent).toBeGreaterThan(1500);
    expect(r.received, r.out).toBe(r.sent);
    expect(answers.length).toBeGreaterThan(5);
    for (const a of answers) expect(a).toEqual(['10.96.1.10']);
    await lab.startEtcd();

    // A Service and a pod created after etcd is back: DNS answers the one, routes carry the other.
    const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
    try {
      await new Store(client, new Keys()).apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'backend' }, spec: { clusterIP: '10.96.1.99', ports: [{ port: 80 }] } });
    } finally {
      client.close();
    }
    expect(await waitFor(async () => (await digFrom(web1.netns, 'late.backend')).includes('10.96.1.99'), 30_000, 250)).toBe(true);
    const pod = await createPod(lab, { name: 'late-1', namespace: 'frontend', node: 'node2', labels: { app: 'late' } });
    expect(await waitFor(async () => (await runIn(web1.netns, 'ping', ['-c', '1', '-W', '1', pod.ip], { allowFail: true })).code === 0, 30_000)).toBe(true);
    await deletePod(lab, 'late-1');
  }, 120_000);

  it('cutting node3\'s link withdraws its routes within the hold time; they come back with the link', async () => {
    const n3 = lab.node('node3');
    const n1 = lab.node('node1');
    const block = (await nodeBlocks(lab)).get('node3')![0]!;
    expect(await hasRouteVia(n1.netns, block, n3.fabricIp)).toBe(true);
    const host = lab.state.hosts.find((h) => h.name === 'node3')!;
    const fabricNs = lab.state.fabric!.netns;
    await ipBatch([ipLine('link', 'set', host.fabricPeer, 'down')], { netns: fabricNs });
    const t0 = Date.now();
    try {
      // Hold time plus the keepalive jitter and the programming path: margin of 3 s.
      const gone = await waitFor(async () => !(await hasRouteVia(n1.netns, block, n3.fabricIp)), (HOLD + 3) * 1000);
      expect(gone, `route to ${block} still on node1 after ${Date.now() - t0} ms`).toBe(true);
      // Withdrawn from the ToR too.
      const tor = lab.hostNetns('tor');
      expect(await waitFor(async () => !(await runIn(tor, 'ip', ['-4', 'route', 'show', block])).stdout.includes(n3.fabricIp), 5000)).toBe(true);
    } finally {
      await ipBatch([ipLine('link', 'set', host.fabricPeer, 'up')], { netns: fabricNs });
    }
    expect(await waitFor(() => hasRouteVia(n1.netns, block, n3.fabricIp), 30_000)).toBe(true);
    await waitConverged(lab, 30_000);
    const r = await runIn(lab.pod('web-1').netns, 'ping', ['-c', '1', '-W', '2', lab.pod('web-3').ip], { allowFail: true });
    expect(r.code).toBe(0);
  }, 90_000);

  it('deleting node3 releases its blocks and addresses', async () => {
    const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
    try {
      const ipam = new Ipam(client, new Keys());
      const blocks = (await nodeBlocks(lab)).get('node3') ?? [];
      expect(blocks.length).toBeGreaterThan(0);
      const ips = lab.cluster.pods.filter((p) => p.node === 'node3').map((p) => p.ip);
      for (const ip of ips) expect(await ipam.lookup(ip)).toBeDefined();
      // The node's daemons go first, as when a machine is removed.
      await lab.stop('node3-agentd', 'SIGKILL');
      await lab.stop('node3-bgpd', 'SIGKILL');
      const r = await tern(lab, ['delete', 'node', 'node3']);
      expect(r.code, r.out).toBe(0);
      expect((await nodeBlocks(lab)).get('node3')).toBeUndefined();
      for (const ip of ips) expect(await ipam.lookup(ip), ip).toBeUndefined();
      expect(await client.getAll().prefix(new Keys().nodeAffinityPrefix('node3')).keys()).toEqual([]);
    } finally {
      client.close();
    }
  }, 60_000);
});
