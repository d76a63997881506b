// A node of the lab running the real tern-agentd, pod namespaces made as a runtime makes them
// (`ip netns add`), and the real tern-cni binary (plus Debian's reference plugins) exec'd
// inside the node's namespace with CNI_* variables and stdin, as a runtime does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ipBatch, ipLine, runIn } from '../../../src/lab/exec.js';
import type { Host, Lab } from '../../../src/lab/netns.js';
import { onExitCleanup, type ManagedProcess } from '../../../src/lab/process.js';
import { execPlugin as execInNode, type CniRun } from '../../../src/lab/pods.js';
import { ipBatchSync } from '../../../src/lab/exec.js';

export const ROOT = process.cwd();
export const CNI_BIN = join(ROOT, 'dist/daemons/tern-cni.js');
export const AGENTD_BIN = join(ROOT, 'dist/daemons/tern-agentd.js');
export const REF_PLUGINS = '/usr/lib/cni';

export type PluginRun = CniRun;

export interface CniEnv {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
}

/** Execs a plugin inside the node's namespace: `tern-cni` is the compiled JS, anything else a binary of /usr/lib/cni. */
export function execPlugin(nodeNs: string, type: string, env: CniEnv, stdin: string): Promise<PluginRun> {
  const [cmd, args] = type === 'tern-cni' ? [process.execPath, [CNI_BIN]] : [join(REF_PLUGINS, type), []];
  const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, CNI_COMMAND: env.command, CNI_PATH: REF_PLUGINS };
  if (env.containerId !== undefined) e.CNI_CONTAINERID = env.containerId;
  if (env.netns !== undefined) e.CNI_NETNS = env.netns;
  if (env.ifname !== undefined) e.CNI_IFNAME = env.ifname;
  if (env.args !== undefined) e.CNI_ARGS = env.args;
  return execInNode(nodeNs, cmd, args, e, stdin);
}

/**
 * Pod namespaces of one test file, named after the lab run (`tn<id>-p-<name>`), deleted in
 * afterAll and by an exit handler should the runner die first.
 */
export class PodNamespaces {
  private readonly made = new Set<string>();
  private readonly unregister: () => void;

  constructor(private readonly prefix: string) {
    this.unregister = onExitCleanup(() => this.destroySync());
  }

  name(pod: string): string {
    return `${this.prefix}p-${pod}`;
  }

  path(pod: string): string {
    return `/var/run/netns/${this.name(pod)}`;
  }

  async create(...pods: string[]): Promise<string[]> {
    const names = pods.map((p) => this.name(p));
    for (const n of names) this.made.add(n);
    await ipBatch(names.map((n) => ipLine('netns', 'add', n)));
    return pods.map((p) => this.path(p));
  }

  async remove(...pods: string[]): Promise<void> {
    const names = pods.map((p) => this.name(p)).filter((n) => this.made.has(n));
    await ipBatch(names.map((n) => ipLine('netns', 'del', n)), { force: true });
    for (const n of names) this.made.delete(n);
  }

  async destroy(): Promise<void> {
    const names = [...this.made].filter((n) => existsSync(`/var/run/netns/${n}`));
    await ipBatch(names.map((n) => ipLine('netns', 'del', n)), { force: true });
    this.made.clear();
    this.unregister();
  }

  private destroySync(): void {
    const names = [...this.made].filter((n) => existsSync(`/var/run/netns/${n}`));
    ipBatchSync(names.map((n) => ipLine('netns', 'del', n)), { force: true });
    this.made.clear();
  }
}

export async function waitFor<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts tern-agentd inside the node's namespace; resolves once its socket answers STATUS-less GetStatus. */
export async function startAgent(lab: Lab, node: Host, opts: { socket: string; etcd: string; nodeName?: string }): Promise<ManagedProcess> {
  const p = lab.spawn(node, process.execPath, [
    AGENTD_BIN,
    '--node-name',
    opts.nodeName ?? node.name,
    '--grpc-socket',
    opts.socket,
    '--etcd-endpoints',
    opts.etcd,
    '--ops-listen',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ]);
  await waitFor(async () => {
    if (!existsSync(opts.socket)) throw new Error(`agent socket ${opts.socket} not there yet\n${p.tail()}`);
  });
  return p;
}

/** `ip -j ...` inside a namespace, parsed. */
export async function ipJson<T = Record<string, unknown>>(netns: string, args: string[]): Promise<T[]> {
  const r = await runIn(netns, 'ip', ['-j', ...args], { allowFail: true });
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return JSON.parse(r.stdout) as T[];
}
