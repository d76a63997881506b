// A two-node cluster of lab namespaces for the agent's end-to-end tests: etcd in its own
// namespace (clients reach it through its unix socket, which every namespace shares), and in
// each node namespace the compiled tern-bgpd and tern-agentd; pods are made by exec'ing the
// compiled tern-cni inside the node namespace, as a runtime does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Keys } from '../../../src/datastore/keys.js';
import { Store } from '../../../src/datastore/store.js';
import { runIn } from '../../../src/lab/exec.js';
import { Lab, type Host, type LabEtcd } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import { AGENTD_BIN, execPlugin, PodNamespaces, waitFor } from '../cni/helpers.js';

export const BGPD_BIN = join(process.cwd(), 'dist/daemons/tern-bgpd.js');
export const NETWORK = 'ternnet';

export interface ClusterNode {
  host: Host;
  agentSocket: string;
  bgpdSocket: string;
  agent?: ManagedProcess;
  bgpd?: ManagedProcess;
}

export class Cluster {
  lab!: Lab;
  etcd!: LabEtcd;
  client!: Etcd3;
  store!: Store;
  pods!: PodNamespaces;
  readonly keys = new Keys('/tern/');
  readonly nodes = new Map<string, ClusterNode>();

  async up(names: string[]): Promise<void> {
    this.lab = await Lab.create();
    const etcdHost = await this.lab.addHost('etcd');
    const hosts = await this.lab.addHosts(names.map((name) => ({ name })));
    this.etcd = await this.lab.startEtcd(etcdHost);
    this.client = new Etcd3({ hosts: this.etcd.unixEndpoint });
    this.store = new Store(this.client, this.keys);
    this.pods = new PodNamespaces(this.lab.prefix);
    await this.store.apply({ apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'pool4' }, spec: { cidr: '10.244.0.0/16', blockSize: 26 } });
    await this.store.apply({ apiVersion: 'tern.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64512 } });
    await this.store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns1' } });
    for (const h of hosts) {
      await this.store.apply({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name: h.name, labels: { 'kubernetes.io/hostname': h.name } }, spec: { bgp: { ipv4Address: `${h.fabricIp}/24` } } });
      this.nodes.set(h.name, { host: h, agentSocket: join(this.lab.dir, `${h.name}-agent.sock`), bgpdSocket: join(this.lab.dir, `${h.name}-bgpd.sock`) });
    }
  }

  node(name: string): ClusterNode {
    return this.nodes.get(name)!;
  }

  async startBgpd(name: string): Promise<ManagedProcess> {
    const n = this.node(name);
    const conf = join(this.lab.dir, `${name}-bgpd.yaml`);
    writeFileSync(conf, `bgp:\n  asNumber: 64512\n  routerId: ${n.host.fabricIp}\n  listen:\n    address: ${n.host.fabricIp}\n    port: 179\n`);
    const p = this.lab.spawn(n.host, process.execPath, [BGPD_BIN, '-c', conf, '--node-name', name, '--node-ip', n.host.fabricIp, '--grpc-socket', n.bgpdSocket, '--ops-listen', '127.0.0.1:0', '--log-level', 'warn']);
    n.bgpd = p;
    await waitFor(async () => {
      const r = await runIn(n.host.netns, 'ss', ['-xl']);
      if (!r.stdout.includes(n.bgpdSocket)) throw new Error(`bgpd socket not there\n${p.tail()}`);
    });
    return p;
  }

  async startAgent(name: string, extra: Record<string, unknown> = {}): Promise<ManagedProcess> {
    const n = this.node(name);
    const conf = join(this.lab.dir, `${name}-agent.yaml`);
    const cfg = { bgpdSocket: n.bgpdSocket, resyncSeconds: 2, staleSettleSeconds: 1, ...extra };
    writeFileSync(conf, JSON.stringify(cfg));
    const p = this.lab.spawn(n.host, process.execPath, [
      AGENTD_BIN, '-c', conf, '--node-name', name, '--node-ip', n.host.fabricIp, '--grpc-socket', n.agentSocket,
      '--etcd-endpoints', this.etcd.unixEndpoint, '--ops-listen', '127.0.0.1:0', '--log-level', 'info',
    ]);
    n.agent = p;
    await p.waitForOutput(/first full sync applied; ready/, 30_000);
    return p;
  }

  conf(name: string): string {
    return JSON.stringify({ cniVersion: '1.1.0', name: NETWORK, type: 'tern-cni', agentSocket: this.node(name).agentSocket });
  }

  /** A pod through the real tern-cni; returns its IPv4 address and namespace name. */
  async addPod(nodeName: string, pod: string, labels: Record<string, string>): Promise<{ ip: string; netns: string; iface: string }> {
    const [netnsPath] = await this.pods.create(pod);
    const r = await execPlugin(this.node(nodeName).host.netns, 'tern-cni', {
      command: 'ADD', containerId: `c-${pod}`, netns: netnsPath!, ifname: 'eth0',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=${pod};K8S_POD_LABELS=${JSON.stringify(labels)}`,
    }, this.conf(nodeName));
    if (r.code !== 0) throw new Error(`CNI ADD ${pod} failed: ${r.stdout}${r.stderr}`);
    const ips = r.json!.ips as { address: string }[];
    const ifs = r.json!.interfaces as { name: string }[];
    return { ip: ips[0]!.address.split('/')[0]!, netns: this.pods.name(pod), iface: ifs[0]!.name };
  }

  async down(): Promise<void> {
    this.client?.close();
    await this.pods?.destroy();
    await this.lab?.destroy();
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** `ip -j route show proto 44` in a namespace, normalised for comparison. */
export async function ternRoutes(netns: string): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ['-4', '-6']) {
    const r = await runIn(netns, 'ip', ['-j', fam, 'route', 'show', 'proto', '44']);
    const routes = JSON.parse(r.stdout || '[]') as Record<string, unknown>[];
    for (const x of routes) out.push(JSON.stringify(sortKeys(x)));
  }
  return out.sort();
}

/** `nft -j list table inet T` without the kernel's handles, normalised for comparison. */
export async function nftTable(netns: string, table = 'tern'): Promise<string> {
  const r = await runIn(netns, 'nft', ['-j', 'list', 'table', 'inet', table], { allowFail: true });
  if (r.code !== 0) return '';
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) if (k !== 'handle' && k !== 'metainfo') o[k] = strip((v as Record<string, unknown>)[k]);
      return o;
    }
    return v;
  };
  const items = ((JSON.parse(r.stdout) as { nftables: unknown[] }).nftables ?? []).map((x) => JSON.stringify(strip(x))).sort();
  return items.join('\n');
}

/** Sends pings every 10 ms for `seconds` from a pod namespace; resolves with sent and received. */
export async function floodPing(netns: string, ip: string, seconds: number): Promise<{ sent: number; received: number; out: string }> {
  const r = await runIn(netns, 'ping', ['-i', '0.01', '-W', '1', '-w', String(seconds), '-q', ip], { allowFail: true, timeoutMs: (seconds + 10) * 1000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), out: r.stdout };
}

/** One echo from a pod namespace (pods here are made by tern-cni, not by the lab). */
export async function ping(netns: string, ip: string, timeoutMs = 1000): Promise<boolean> {
  const r = await runIn(netns, 'ping', ['-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000))), ip], { allowFail: true, timeoutMs: timeoutMs + 5000 });
  return r.code === 0;
}

export async function waitPing(netns: string, ip: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) if (await ping(netns, ip)) return true;
  return false;
}
