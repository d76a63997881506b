// Where each node's daemons and kernel are: node name → agent socket, bgpd socket, network
// namespace. `tern trace` reads one node's facts through these; a node without an entry is
// traced from etcd alone (its hops say what could not be read).
//
// Sources, later ones overriding earlier ones per field:
//  1. a lab run's state file (`--lab NAME`, /run/tern-lab/NAME/state.json): every host's
//     `netns` and fabric address; sockets from `meta.daemons[NODE]` or
//     `meta.cluster.nodes[]` when the run recorded them, else `<run dir>/<NODE>-agent.sock`
//     (or `-agentd.sock`) and `<NODE>-bgpd.sock` (where the lab's cluster harness starts
//     tern-agentd and tern-bgpd), whichever exists. Hosts also name BGP speakers by
//     address (rr1, tor), so a reflector is shown by name.
//  2. a nodes file (`--nodes FILE`, YAML or JSON):
//       nodes:
//         node1: { agentSocket: /run/n1/agent.sock, bgpdSocket: /run/n1/bgpd.sock, netns: n1 }
//       speakers: { 10.99.0.11: rr1 }
//  3. flags `--agent-socket NODE=PATH`, `--bgpd-socket NODE=PATH`, `--netns NODE=NS`.
// A node's bgpd socket, when none is given, is the one its agent reports (GetNodeStatus).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TernError } from '../errors/index.js';
import { readState, runDir, stateFile } from '../lab/state.js';

export interface NodeAccess {
  agentSocket?: string;
  bgpdSocket?: string;
  /** Network namespace holding the node's kernel state (`ip -n NS`, `ip netns exec NS nft`). */
  netns?: string;
  /** The node is this machine: read the kernel in the current namespace. */
  local?: boolean;
}

export interface AccessMap {
  nodes: Map<string, NodeAccess>;
  /** BGP speakers that are not nodes, by address. */
  speakers: Record<string, string>;
}

const AccessSchema = z.strictObject({ agentSocket: z.string().optional(), bgpdSocket: z.string().optional(), netns: z.string().optional(), local: z.boolean().optional() });
const NodesFileSchema = z.strictObject({
  nodes: z.record(z.string(), AccessSchema).default({}),
  speakers: z.record(z.string(), z.string()).default({}),
});

function merge(m: AccessMap, node: string, a: NodeAccess): void {
  const prev = m.nodes.get(node) ?? {};
  const next: NodeAccess = { ...prev };
  for (const [k, v] of Object.entries(a) as Array<[keyof NodeAccess, string | boolean | undefined]>) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
  m.nodes.set(node, next);
}

/** The lab run's hosts as nodes (their sockets by the harness's convention unless recorded). */
export function accessFromLab(name: string, base?: string): AccessMap {
  const st = readState(stateFile(name, base));
  if (!st) throw new TernError('TERN_ERR_NOT_FOUND', `no lab run "${name}" (${stateFile(name, base)})`);
  const dir = runDir(name, base);
  const recorded = (st.meta.daemons ?? {}) as Record<string, NodeAccess>;
  // `npm start` records its cluster's nodes as meta.cluster.nodes[{name, netns, agentSocket, bgpdSocket}].
  const clusterNodes = ((st.meta.cluster as { nodes?: unknown } | undefined)?.nodes ?? []) as Array<Partial<NodeAccess> & { name?: unknown }>;
  for (const n of Array.isArray(clusterNodes) ? clusterNodes : []) {
    if (typeof n.name !== 'string') continue;
    const a: NodeAccess = {};
    if (typeof n.netns === 'string') a.netns = n.netns;
    if (typeof n.agentSocket === 'string') a.agentSocket = n.agentSocket;
    if (typeof n.bgpdSocket === 'string') a.bgpdSocket = n.bgpdSocket;
    recorded[n.name] = { ...a, ...(recorded[n.name] ?? {}) };
  }
  const m: AccessMap = { nodes: new Map(), speakers: {} };
  const first = (...paths: string[]): string | undefined => paths.find((p) => existsSync(p));
  for (const h of st.hosts) {
    const agent = first(join(dir, `${h.name}-agent.sock`), join(dir, `${h.name}-agentd.sock`));
    const bgpd = first(join(dir, `${h.name}-bgpd.sock`));
    const a: NodeAccess = { netns: h.netns };
    if (agent) a.agentSocket = agent;
    if (bgpd) a.bgpdSocket = bgpd;
    merge(m, h.name, { ...a, ...(recorded[h.name] ?? {}) });
    m.speakers[h.fabricIp] = h.name;
    if (h.ipv6) m.speakers[h.ipv6] = h.name;
  }
  return m;
}

export function accessFromFile(path: string): AccessMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TernError('TERN_ERR_CONFIG', `cannot read nodes file ${path}: ${(e as Error).message}`);
  }
  const r = NodesFileSchema.safeParse(parseYaml(text));
  if (!r.success) throw new TernError('TERN_ERR_CONFIG', `${path}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const m: AccessMap = { nodes: new Map(), speakers: { ...r.data.speakers } };
  for (const [n, a] of Object.entries(r.data.nodes)) merge(m, n, a as NodeAccess);
  return m;
}

/** `NODE=VALUE` flags into the map. */
export function applyFlags(m: AccessMap, field: 'agentSocket' | 'bgpdSocket' | 'netns', values: readonly string[] | undefined): void {
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1) throw new TernError('TERN_ERR_USAGE', `expected NODE=VALUE, got "${v}"`);
    merge(m, v.slice(0, i), { [field]: v.slice(i + 1) });
  }
}

export function combine(...maps: AccessMap[]): AccessMap {
  const out: AccessMap = { nodes: new Map(), speakers: {} };
  for (const m of maps) {
    Object.assign(out.speakers, m.speakers);
    for (const [n, a] of m.nodes) merge(out, n, a);
  }
  return out;
}
