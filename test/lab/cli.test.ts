// `npm start` up/status/down under a lab name of the test's own, so it never meets a lab a
// developer is running. up leaves the lab running and records it; down works from the state
// file alone, as from another process.
import { afterAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { labDown, labStatus, labUp, formatSummary, LAB_TOPOLOGY, type LabEtcdMeta } from '../../src/lab/cli.js';
import { run } from '../../src/lab/exec.js';
import { pidAlive } from '../../src/lab/process.js';
import { readState, stateFile } from '../../src/lab/state.js';

const name = `c${Math.random().toString(36).slice(2, 7)}`;

describe('lab command', () => {
  afterAll(async () => {
    await labDown({ name });
  });

  it('brings the lab up, reuses a healthy one, rebuilds a broken one and tears it down', async () => {
    const lines: string[] = [];
    const up = await labUp({ name, out: (l) => lines.push(l) });
    expect(up.reused).toBe(false);
    const st = readState(stateFile(name))!;
    expect(st.persistent).toBe(true);
    expect(st.hosts.map((h) => h.name).sort()).toEqual(LAB_TOPOLOGY.map((t) => t.name).sort());
    expect(st.hosts.find((h) => h.name === 'etcd')!.fabricIp).toBe('10.99.0.2');
    const netns = (await run('ip', ['netns', 'list'])).stdout;
    for (const ns of st.namespaces) expect(netns).toContain(ns);

    // etcd answers from the root namespace over the recorded unix socket, with the seeded state.
    const etcd = st.meta.etcd as LabEtcdMeta;
    const client = new Etcd3({ hosts: etcd.unixEndpoint });
    try {
      const nodes = await client.getAll().prefix('/tern/nodes/').keys();
      expect(nodes.sort()).toEqual(['/tern/nodes/node1', '/tern/nodes/node2', '/tern/nodes/node3']);
    } finally {
      client.close();
    }
    // The cluster runs: pods made through tern-cni got addresses from the pool.
    const pods = (st.meta.cluster as { pods: { ip: string }[] }).pods;
    expect(pods.length).toBe(7);
    for (const p of pods) expect(p.ip).toMatch(/^10\.244\./);
    expect(lines.join('\n')).toContain('IPPool/default-ipv4');

    // The ToR's BIRD runs in the tor namespace.
    const tor = st.hosts.find((h) => h.name === 'tor')!;
    const bird = st.processes.find((p) => p.netns === tor.netns)!;
    expect(bird.command).toMatch(/^tor-bird: bird /);
    expect(pidAlive(bird.pid, bird.startTime)).toBe(true);

    const summary = formatSummary(st).join('\n');
    expect(summary).toContain(etcd.unixEndpoint);
    expect(summary).toContain('10.99.0.21');

    expect((await labStatus({ name })).healthy).toBe(true);
    const again = await labUp({ name });
    expect(again.reused).toBe(true);
    expect((again.state.meta.etcd as LabEtcdMeta).pid).toBe(etcd.pid);

    // A dead etcd makes the lab unhealthy; up rebuilds it.
    process.kill(etcd.pid, 'SIGKILL');
    while (pidAlive(etcd.pid)) await new Promise((r) => setTimeout(r, 20));
    const broken = await labStatus({ name });
    expect(broken.healthy).toBe(false);
    expect(broken.problems.join('\n')).toMatch(/etcd/);
    const rebuilt = await labUp({ name, noSeed: true });
    expect(rebuilt.reused).toBe(false);
    expect((rebuilt.state.meta.etcd as LabEtcdMeta).pid).not.toBe(etcd.pid);

    const down = await labDown({ name });
    // --no-seed: hosts and the fabric only.
    expect(down!.namespaces.length).toBe(LAB_TOPOLOGY.length + 1);
    const after = (await run('ip', ['netns', 'list'])).stdout;
    expect(after).not.toContain(`tn${name}-`);
    for (const p of rebuilt.state.processes) expect(pidAlive(p.pid, p.startTime)).toBe(false);
    expect(readState(stateFile(name))).toBeUndefined();
    expect((await labStatus({ name })).state).toBeUndefined();
  });
});
