// Stale-run sweep (what a SIGKILLed runner leaves behind) and etcd inside a lab namespace,
// reached from the root namespace over a unix socket and from another namespace over the fabric.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { Lab } from '../../src/lab/netns.js';
import { ipBatch, run } from '../../src/lab/exec.js';
import { pidAlive, spawnIn, type ManagedProcess } from '../../src/lab/process.js';
import { cleanupStale, labBaseDir, netnsExists, newState, nsPrefix, stateFile, writeState } from '../../src/lab/state.js';

const rid = () => `s${Math.random().toString(36).slice(2, 8)}`;

describe('cleanupStale', () => {
  const made: string[] = [];
  const dirs: string[] = [];
  const procs: ManagedProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await ipBatch(made.filter(netnsExists).map((n) => `netns del ${n}`), { force: true });
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A run recorded on disk as a crashed (or persistent, or live) owner would leave it. */
  async function fakeRun(owner: 'dead' | 'live', persistent: boolean): Promise<{ id: string; ns: string; proc: ManagedProcess }> {
    const id = rid();
    const ns = `${nsPrefix(id)}a`;
    made.push(ns);
    await ipBatch([`netns add ${ns}`]);
    const proc = spawnIn(ns, 'sleep', ['300']);
    procs.push(proc);
    const st = newState(id, persistent);
    if (owner === 'dead') {
      const gone = spawnSync('true');
      st.owner = { pid: gone.pid!, startTime: 1 };
    }
    st.namespaces.push(ns);
    st.processes.push({ pid: proc.pid, ...(proc.startTime !== undefined ? { startTime: proc.startTime } : {}), netns: ns, command: 'sleep 300' });
    const dir = join(labBaseDir(), id);
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    writeState(stateFile(id), st);
    return { id, ns, proc };
  }

  it('removes runs whose owner died, and nothing it did not record', async () => {
    const stale = await fakeRun('dead', false);
    const persistent = await fakeRun('dead', true);
    const live = await fakeRun('live', false);
    // Carries the prefix, but no state file lists it: not ours to delete.
    const unrecorded = `${nsPrefix(rid())}u`;
    made.push(unrecorded);
    await ipBatch([`netns add ${unrecorded}`]);

    const swept = await cleanupStale();
    expect(netnsExists(stale.ns)).toBe(false);
    await stale.proc.wait();
    expect(pidAlive(stale.proc.pid)).toBe(false);
    expect(netnsExists(persistent.ns)).toBe(true);
    expect(netnsExists(live.ns)).toBe(true);
    expect(pidAlive(persistent.proc.pid)).toBe(true);
    expect(pidAlive(live.proc.pid)).toBe(true);
    expect(netnsExists(unrecorded)).toBe(true);
    expect(swept.unknown).toContain(unrecorded);
    expect(swept.namespaces).not.toContain(persistent.ns);
  });
});

describe('etcd in a lab namespace', () => {
  let lab: Lab;
  let client: Etcd3 | undefined;
  afterAll(async () => {
    client?.close();
    await lab?.destroy();
  });

  it('serves the root namespace over a unix socket and other namespaces over the fabric', async () => {
    lab = await Lab.create();
    const [etcdHost] = await lab.addHosts([{ name: 'etcd' }, { name: 'node1' }]);
    const etcd = await lab.startEtcd('etcd');
    expect(etcd.endpoint).toBe(`http://${etcdHost!.fabricIp}:2379`);
    expect(etcd.unixEndpoint).toBe(`unix://${lab.dir}/etcd.sock:2379`);
    expect(lab.snapshot().processes.map((p) => p.pid)).toContain(etcd.server.pid);

    // The etcd3 client (grpc-js) dials the unix socket: the root namespace needs no route.
    client = new Etcd3({ hosts: etcd.unixEndpoint });
    await client.put('/lab/hello').value('from-root');
    const watcher = await client.watch().key('/lab/ping').create();
    const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));
    const got = await lab.exec('node1', 'etcdctl', ['--endpoints', etcd.endpoint, 'get', '--print-value-only', '/lab/hello'], { env: { ...process.env, ETCDCTL_API: '3' } });
    expect(got.stdout.trim()).toBe('from-root');
    await lab.exec('node1', 'etcdctl', ['--endpoints', etcd.endpoint, 'put', '/lab/ping', 'from-node1'], { env: { ...process.env, ETCDCTL_API: '3' } });
    expect(await seen).toBe('from-node1');
    await watcher.cancel();

    const pid = etcd.server.pid!;
    client.close();
    client = undefined;
    await lab.destroy();
    expect(pidAlive(pid)).toBe(false);
    const left = (await run('ip', ['netns', 'list'])).stdout;
    expect(left).not.toContain(lab.prefix);
  });
});
