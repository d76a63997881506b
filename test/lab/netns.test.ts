// The namespace lab against the real kernel: hosts on a fabric bridge, pods behind hosts,
// routes between them, link faults, processes by PID, teardown. Every address and route
// lives inside namespaces these tests create; the root namespace is checked to be untouched.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type Host, type Pod } from '../../src/lab/netns.js';
import { run } from '../../src/lab/exec.js';
import { pidAlive } from '../../src/lab/process.js';
import { waitFor } from '../robustness/harness.js';

async function netnsList(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** The root namespace's interfaces and addresses (what the lab must never change). */
async function rootAddrs(): Promise<string[]> {
  const r = await run('ip', ['-j', 'addr', 'show']);
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
  return links.flatMap((l) => [l.ifname, ...l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)]).sort();
}

describe('Lab: hosts and pods on a fabric', () => {
  let lab: Lab;
  let n1: Host;
  let n2: Host;
  let a: Pod;
  let b: Pod;
  let rootBefore: string[];

  beforeAll(async () => {
    rootBefore = await rootAddrs();
    lab = await Lab.create();
    await lab.fabric('10.99.0.0/24');
    [n1, n2] = await lab.addHosts([
      { name: 'node1', ipv6: true },
      { name: 'node2', ipv6: true },
    ]) as [Host, Host];
    a = await lab.addPod(n1, 'a', { ip: '10.244.1.2', ipv6: 'fd00:244:1::2' });
    b = await lab.addPod(n2, 'b', { ip: '10.244.2.2', ipv6: 'fd00:244:2::2' });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('names namespaces after the run id and keeps veth names within 15 characters', async () => {
    expect(n1.netns).toBe(`tn${lab.id}-node1`);
    const names = await netnsList();
    for (const ns of lab.namespaces()) expect(names).toContain(ns);
    for (const l of await lab.links()) {
      expect(l.iface.length).toBeLessThanOrEqual(15);
      expect(l.peerIface.length).toBeLessThanOrEqual(15);
    }
    expect(n1.fabricIp).not.toBe(n2.fabricIp);
  });

  it('puts the bridge in the fabric namespace and nothing in the root namespace', async () => {
    const br = await run('ip', ['-n', lab.fabricInfo!.netns, '-j', 'link', 'show', 'type', 'bridge']);
    expect((JSON.parse(br.stdout) as Array<{ ifname: string }>).map((l) => l.ifname)).toEqual(['br0']);
    const root = (await rootAddrs()).join('\n');
    for (const l of await lab.links()) expect(root).not.toContain(l.peerIface);
    expect(root).not.toContain(n1.fabricIp);
    expect(await rootAddrs()).toEqual(rootBefore);
  });

  it('lets two hosts ping each other over the fabric, IPv4 and IPv6', async () => {
    expect(await lab.ping(n1, n2.fabricIp)).toBe(true);
    expect(await lab.ping('node2', n1.fabricIp)).toBe(true);
    expect(await lab.ping(n1, n2.ipv6!)).toBe(true);
    // An address nobody holds does not answer: ping can fail.
    expect(await lab.ping(n1, '10.99.0.200')).toBe(false);
  });

  it('connects a pod to its host through the link-local gateway', async () => {
    expect(await lab.ping(a, n1.fabricIp)).toBe(true);
    expect(await lab.ping(n1, a.ip)).toBe(true);
    expect(await lab.ping(a, n1.ipv6!)).toBe(true);
    const route = await lab.exec(a, 'ip', ['route', 'show', 'default']);
    expect(route.stdout).toContain('via 169.254.1.1 dev eth0');
  });

  it('routes pod to pod across hosts once the hosts have routes to each other\'s pods', async () => {
    expect(await lab.ping(a, b.ip)).toBe(false);
    await lab.exec(n1, 'ip', ['route', 'add', `${b.ip}/32`, 'via', n2.fabricIp]);
    await lab.exec(n2, 'ip', ['route', 'add', `${a.ip}/32`, 'via', n1.fabricIp]);
    await lab.exec(n1, 'ip', ['-6', 'route', 'add', `${b.ipv6}/128`, 'via', n2.ipv6!]);
    await lab.exec(n2, 'ip', ['-6', 'route', 'add', `${a.ipv6}/128`, 'via', n1.ipv6!]);
    expect(await lab.ping(a, b.ip)).toBe(true);
    expect(await lab.ping(b, a.ip)).toBe(true);
    expect(await lab.ping(a, b.ipv6!)).toBe(true);
  });

  it('checks TCP reachability against a listener spawned in a namespace', async () => {
    const srv = lab.spawn(n2, process.execPath, ['-e', `require('net').createServer((s) => s.end()).listen(7070, '0.0.0.0', () => console.log('listening'))`]);
    await srv.waitForOutput(/listening/);
    expect(await lab.tcpCheck(n1, n2.fabricIp, 7070)).toBe(true);
    expect(await lab.tcpCheck(a, n2.fabricIp, 7070)).toBe(true);
    expect(await lab.tcpCheck(n1, n2.fabricIp, 7071)).toBe(false);
    await srv.stop();
    expect(await lab.tcpCheck(n1, n2.fabricIp, 7070)).toBe(false);
  });

  it('cuts and restores a host link by setting the fabric end down', async () => {
    expect(await lab.ping(n1, n2.fabricIp)).toBe(true);
    await lab.cutLink(n2);
    expect((await lab.links()).find((l) => l.name === 'node2')).toMatchObject({ up: false, fault: 'down' });
    expect(await lab.ping(n1, n2.fabricIp)).toBe(false);
    expect(await lab.ping(a, b.ip)).toBe(false);
    await lab.restoreLink(n2);
    expect((await lab.links()).find((l) => l.name === 'node2')).toMatchObject({ up: true });
    expect(await lab.waitPing(n1, n2.fabricIp)).toBe(true);
    expect(await lab.waitPing(a, b.ip)).toBe(true);
  });

  it('cuts and restores a host link by dropping packets with nftables in the host', async () => {
    await lab.cutLink('node2', { mode: 'drop' });
    expect((await lab.links()).find((l) => l.name === 'node2')).toMatchObject({ up: false, fault: 'drop' });
    expect(await lab.ping(n1, n2.fabricIp)).toBe(false);
    const tables = await lab.exec(n2, 'nft', ['list', 'tables']);
    expect(tables.stdout).toContain('tern_lab_fault');
    await lab.restoreLink('node2');
    expect(await lab.waitPing(n1, n2.fabricIp)).toBe(true);
    expect((await lab.exec(n2, 'nft', ['list', 'tables'])).stdout).not.toContain('tern_lab_fault');
  });

  it('refuses to run commands outside its own namespaces', async () => {
    await expect(lab.exec('not-a-host', 'true', [])).rejects.toThrow(/not a namespace, host or pod/);
    await expect(lab.exec(n1, 'false', [])).rejects.toThrow(/false failed \(exit 1\)/);
  });

  it('has left the root namespace as it found it', async () => {
    expect(await rootAddrs()).toEqual(rootBefore);
  });
});

describe('Lab: processes', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.create();
    await lab.addHost('h1');
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('runs a process inside the namespace and stops it by PID', async () => {
    const p = lab.spawn('h1', 'sleep', ['300']);
    expect(pidAlive(p.pid)).toBe(true);
    // `ip netns exec` enters the namespace and then execs sleep with the same PID: until it has,
    // the PID is still in this namespace, so look until it shows up there.
    const inNetns = async () => (await run('ip', ['netns', 'pids', lab.host('h1').netns])).stdout.split('\n').includes(String(p.pid));
    const deadline = Date.now() + 5000;
    while (!(await inNetns()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await inNetns()).toBe(true);
    expect(lab.snapshot().processes.map((x) => x.pid)).toContain(p.pid);
    const exit = await p.stop();
    expect(exit.signal).toBe('SIGTERM');
    expect(p.exited).toBe(true);
    expect(pidAlive(p.pid, p.startTime)).toBe(false);
    // The state file forgets a process once it has exited.
    await new Promise((r) => setTimeout(r, 20));
    expect(lab.snapshot().processes.map((x) => x.pid)).not.toContain(p.pid);
  });

  it('escalates to SIGKILL when the process ignores SIGTERM', async () => {
    const p = lab.spawn('h1', 'perl', ['-e', '$SIG{TERM} = "IGNORE"; $| = 1; print "armed\\n"; sleep 300']);
    await p.waitForOutput(/armed/);
    const exit = await p.stop('SIGTERM', 300);
    expect(exit.signal).toBe('SIGKILL');
  });

  it('runs a detached process with its output in the log file only', async () => {
    const p = lab.spawn('h1', 'bash', ['-c', 'echo "detached up"; exec sleep 300'], { detached: true });
    expect(p.detached).toBe(true);
    await p.waitForOutput(/detached up/);
    expect(p.logFile).toMatch(new RegExp(`^${lab.dir}/`));
    await p.stop();
    expect(pidAlive(p.pid, p.startTime)).toBe(false);
  });

  it('logs output that a grandchild writes after the process has exited, without a write after end', async () => {
    // The subshell keeps the pipes open after bash exits; its line comes after 'exit'.
    const p = lab.spawn('h1', 'bash', ['-c', '(sleep 0.3; echo "late line") & echo "early line"; exit 0']);
    expect(await p.wait()).toEqual({ code: 0, signal: null });
    // The log closes once both pipes have closed: wait until the late line is on disk.
    const log = await waitFor('the late line in the log', async () => {
      const text = readFileSync(p.logFile!, 'utf8');
      if (!text.includes('late line')) throw new Error('not yet');
      return text;
    }, 5000, 20);
    expect(log).toMatch(/early line\nlate line/);
  });

  it('keeps the tail of the output for error messages', async () => {
    const p = lab.spawn('h1', 'bash', ['-c', 'echo "to stdout"; echo "to stderr" >&2; exit 3']);
    expect(await p.wait()).toEqual({ code: 3, signal: null });
    expect(p.tail()).toContain('to stdout');
    expect(p.tail()).toContain('to stderr');
    await expect(p.waitForOutput(/never printed/)).rejects.toThrow(/exited/);
  });
});

describe('Lab: teardown', () => {
  it('removes every namespace and process after a thrown error, and twice is harmless', async () => {
    const lab = await Lab.create();
    let pid = 0;
    let orphan = 0;
    try {
      await lab.addHosts([{ name: 'x1' }, { name: 'x2' }]);
      await lab.addPod('x1', 'p', { ip: '10.244.9.9' });
      pid = lab.spawn('x1', 'sleep', ['300']).pid;
      // A grandchild the lab never saw: destroy() finds it inside the namespace.
      const sh = lab.spawn('x2', 'bash', ['-c', 'sleep 300 & echo "child $!"; wait']);
      orphan = Number((await sh.waitForOutput(/child (\d+)/))[1]);
      expect(pidAlive(orphan)).toBe(true);
      throw new Error('test failure');
    } catch (e) {
      expect((e as Error).message).toBe('test failure');
    } finally {
      await lab.destroy();
    }
    const names = await netnsList();
    expect(names.filter((n) => n.startsWith(lab.prefix))).toEqual([]);
    expect(lab.namespaces().length).toBe(4);
    expect(pidAlive(pid)).toBe(false);
    expect(pidAlive(orphan)).toBe(false);
    expect(existsSync(lab.dir)).toBe(false);
    await expect(lab.destroy()).resolves.toEqual({ namespaces: [], killed: [] });
    await expect(lab.addHost('late')).rejects.toThrow(/destroyed/);
  });
});

describe('Lab: many hosts', () => {
  let lab: Lab;
  afterAll(async () => {
    await lab?.destroy();
  });

  it('brings up 20 hosts through batched ip calls, all reachable', async () => {
    lab = await Lab.create();
    const t0 = Date.now();
    const hosts = await lab.addHosts(Array.from({ length: 20 }, (_, i) => ({ name: `h${i + 1}` })));
    const ms = Date.now() - t0;
    console.log(`20 hosts up in ${ms} ms`);
    expect(new Set(hosts.map((h) => h.fabricIp)).size).toBe(20);
    const names = new Set(await netnsList());
    for (const h of hosts) expect(names.has(h.netns)).toBe(true);
    const links = await lab.links();
    expect(links.filter((l) => l.kind === 'host' && l.up).length).toBe(20);
    const first = hosts[0]!;
    const results = await Promise.all(hosts.slice(1).map((h) => lab.ping(first, h.fabricIp)));
    expect(results.every(Boolean)).toBe(true);
    const bridgePorts = await run('ip', ['-n', lab.fabricInfo!.netns, '-br', 'link', 'show', 'master', 'br0']);
    expect(bridgePorts.stdout.trim().split('\n').length).toBe(20);
  });

  it('rejects a taken fabric address and a duplicate name without creating anything', async () => {
    const before = lab.namespaces().length;
    await expect(lab.addHost('dup', { fabricIp: lab.host('h1').fabricIp })).rejects.toThrow(/taken/);
    await expect(lab.addHost('h1')).rejects.toThrow(/exists/);
    await expect(lab.addHost('Bad_Name')).rejects.toThrow(/invalid lab name/);
    expect(lab.namespaces().length).toBe(before);
    expect(readdirSync('/run/netns').filter((n) => n === lab.nsName('dup'))).toEqual([]);
  });
});
