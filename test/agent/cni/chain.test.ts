// A conflist as a runtime runs it: tern-cni, then Debian's reference portmap and bandwidth
// plugins, each exec'd in turn inside the node's namespace with the previous result as
// prevResult (ADD and CHECK in order, DEL in reverse with the cached result), runtimeConfig
// filled from each plugin's capabilities (libcni's rules).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostVethName } from '../../../src/agent/cni/names.js';
import { Keys } from '../../../src/datastore/keys.js';
import { Store } from '../../../src/datastore/store.js';
import { runIn } from '../../../src/lab/exec.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import { execPlugin, ipJson, PodNamespaces, startAgent, type PluginRun } from './helpers.js';

let lab: Lab;
let node: Host;
let client: Etcd3;
let pods: PodNamespaces;
let socket: string;
const keys = new Keys('/tern/');

interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

interface Conflist {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

interface Invocation {
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  /** Capability name -> value, as a runtime passes them (portMappings, bandwidth). */
  capabilityArgs: Record<string, unknown>;
}

/** The network configuration one plugin of the list gets (CNI SPEC §"Deriving execution configuration"). */
function pluginConfig(list: Conflist, p: PluginConf, inv: Invocation, prevResult: unknown): string {
  const { capabilities, ...rest } = p;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(capabilities ?? {})) if (on && cap in inv.capabilityArgs) runtimeConfig[cap] = inv.capabilityArgs[cap];
  return JSON.stringify({
    ...rest,
    cniVersion: list.cniVersion,
    name: list.name,
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
    ...(prevResult !== undefined ? { prevResult } : {}),
  });
}

async function runChain(list: Conflist, command: 'ADD' | 'CHECK' | 'DEL', inv: Invocation, cached?: unknown, skip: string[] = []): Promise<{ result: unknown; runs: PluginRun[] }> {
  const plugins = (command === 'DEL' ? [...list.plugins].reverse() : list.plugins).filter((p) => !skip.includes(p.type));
  let prev = cached;
  const runs: PluginRun[] = [];
  for (const p of plugins) {
    const r = await execPlugin(node.netns, p.type, { command, containerId: inv.containerId, netns: inv.netns, ifname: inv.ifname, args: inv.args }, pluginConfig(list, p, inv, prev));
    runs.push(r);
    if (r.code !== 0) throw new Error(`${p.type} ${command} failed (${r.code}): ${r.stdout}${r.stderr}`);
    if (command === 'ADD') prev = r.json;
  }
  return { result: prev, runs };
}

beforeAll(async () => {
  lab = await Lab.create();
  pods = new PodNamespaces(lab.prefix);
  const [etcdHost, n1] = await lab.addHosts([{ name: 'etcd' }, { name: 'n1' }]);
  node = n1!;
  const etcd = await lab.startEtcd(etcdHost!);
  client = new Etcd3({ hosts: etcd.unixEndpoint });
  const store = new Store(client, keys);
  await store.apply({ apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'main' }, spec: { cidr: '10.244.0.0/24', blockSize: 26 } });
  socket = join(lab.dir, 'agentd.sock');
  await startAgent(lab, node, { socket, etcd: etcd.endpoint });
}, 120_000);

afterAll(async () => {
  client?.close();
  await pods?.destroy();
  await lab?.destroy();
});

describe('chained conflist: tern-cni, portmap, bandwidth', () => {
  it('ADD, CHECK and DEL pass through the whole chain; portmap and bandwidth act on the veth tern-cni made', async () => {
    const list: Conflist = {
      cniVersion: '1.0.0',
      name: 'ternnet',
      plugins: [
        { type: 'tern-cni', agentSocket: socket },
        { type: 'portmap', capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    };
    const [netns] = await pods.create('web');
    const inv: Invocation = {
      containerId: `c${randomBytes(6).toString('hex')}`,
      netns: netns!,
      ifname: 'eth0',
      args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web',
      capabilityArgs: {
        portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
        bandwidth: { ingressRate: 8_000_000, ingressBurst: 800_000, egressRate: 8_000_000, egressBurst: 800_000 },
      },
    };
    const veth = hostVethName('default', 'web');

    const { result } = await runChain(list, 'ADD', inv);
    const r = result as { cniVersion: string; interfaces: { name: string; sandbox?: string }[]; ips: { address: string; interface: number }[] };
    // The result went through two more plugins and still carries tern-cni's attachment.
    expect(r.cniVersion).toBe('1.0.0');
    // bandwidth appends the ifb device it made for egress shaping.
    expect(r.interfaces.map((i) => i.name)).toEqual([veth, 'eth0', expect.stringMatching(/^bwp/)]);
    const ip = r.ips[0]!.address.split('/')[0]!;
    expect(r.ips[0]!.interface).toBe(1);

    const nat = await runIn(node.netns, 'iptables', ['-t', 'nat', '-S']);
    expect(nat.stdout).toContain('CNI-HOSTPORT-DNAT');
    expect(nat.stdout).toMatch(new RegExp(`--dport 18080 .*--to-destination ${ip.replaceAll('.', '\\.')}:80`));
    // bandwidth: a token bucket on the host veth (ingress) and an ifb device for egress.
    const qdisc = await runIn(node.netns, 'tc', ['qdisc', 'show', 'dev', veth]);
    expect(qdisc.stdout).toMatch(/tbf/);
    const ifbs = (await ipJson<{ ifname: string }>(node.netns, ['link', 'show', 'type', 'ifb'])).map((l) => l.ifname);
    expect(ifbs.length).toBe(1);

    // portmap 1.1.1's CHECK looks for IPv6 rules it never made for an IPv4-only pod
    // (containernetworking/plugins#819, fixed after Debian's 1.1.1), so it sits CHECK out.
    const check = await runChain(list, 'CHECK', inv, result, ['portmap']);
    expect(check.runs.map((x) => x.code)).toEqual([0, 0]);

    const del = await runChain(list, 'DEL', inv, result);
    expect(del.runs.map((x) => x.code)).toEqual([0, 0, 0]);
    expect((await runIn(node.netns, 'iptables', ['-t', 'nat', '-S'])).stdout).not.toMatch(/--dport 18080/);
    expect(await ipJson(node.netns, ['link', 'show', 'type', 'ifb'])).toEqual([]);
    expect(await ipJson(node.netns, ['link', 'show', 'dev', veth])).toEqual([]);
    expect(await client.get(keys.handle(`${inv.containerId}.eth0`)).string()).toBeNull();

    // DEL again through the chain: every plugin tolerates what is already gone.
    const again = await runChain(list, 'DEL', inv, result);
    expect(again.runs.map((x) => x.code)).toEqual([0, 0, 0]);
  });
});
