// What a person wants to see first about a running lab: nodes with their blocks, BGP sessions
// with their state (each speaker's gRPC socket, the ToR's birdc), the routes tern-agentd
// programmed on each node (protocol 44) and those the ToR learned, pods and services, and
// the live connectivity matrix. Read from the state file, etcd (unix socket) and the daemons'
// unix sockets: nothing in the root namespace but sockets.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { connectEtcd } from '../datastore/client.js';
import { Keys } from '../datastore/keys.js';
import { Store } from '../datastore/store.js';
import { grpcTarget, unary } from '../grpc/index.js';
import type { BgpClient } from '../proto/gen/tern/bgp/v1/Bgp.js';
import type { ListPeersResponse__Output } from '../proto/gen/tern/bgp/v1/ListPeersResponse.js';
import type { PeerState__Output } from '../proto/gen/tern/bgp/v1/PeerState.js';
import { bgpProto } from '../proto/load.js';
import { LabRun, routes } from './cluster.js';
import { run } from './exec.js';
import { connectivityMatrix, formatMatrix, type Matrix } from './matrix.js';
import { nodeBlocks } from './up.js';

export interface SessionRow {
  speaker: string;
  peer: string;
  peerAs: string;
  state: string;
  uptimeSeconds: number;
  prefixes: string;
  info: string;
}

export async function listPeers(socket: string, timeoutMs = 3000): Promise<PeerState__Output[]> {
  const Ctor = bgpProto().tern.bgp.v1.Bgp;
  const c = new Ctor(grpcTarget(socket), grpc.credentials.createInsecure()) as unknown as BgpClient;
  try {
    const r = await Promise.race([
      unary<object, ListPeersResponse__Output>(c.listPeers.bind(c) as never, {}),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer from ${socket} within ${timeoutMs} ms`)), timeoutMs)),
    ]);
    return r.peers;
  } finally {
    c.close();
  }
}

/** Every BGP session of the lab: reflectors and nodes over gRPC, BIRDs over birdc. */
export async function sessions(lab: LabRun): Promise<SessionRow[]> {
  const c = lab.cluster;
  const speakers = Object.values(c.daemons).filter((d) => d.kind === 'tern-rrd' || d.kind === 'tern-bgpd');
  const rows: SessionRow[] = [];
  await Promise.all(
    speakers.map(async (d) => {
      try {
        for (const p of await listPeers(d.socket!)) {
          rows.push({
            speaker: d.host,
            peer: p.config?.address ?? '',
            peerAs: String(p.config?.peerAs ?? ''),
            state: p.state,
            uptimeSeconds: p.uptimeSeconds,
            prefixes: `${p.prefixesAccepted}/${p.prefixesAdvertised}`,
            info: p.config?.description ?? '',
          });
        }
      } catch (e) {
        rows.push({ speaker: d.host, peer: '-', peerAs: '', state: 'DOWN', uptimeSeconds: 0, prefixes: '', info: `tern-${d.kind} not answering: ${(e as Error).message}` });
      }
    }),
  );
  for (const d of Object.values(c.daemons).filter((x) => x.kind === 'bird')) {
    const r = await run('birdc', ['-s', d.socket!, 'show', 'protocols'], { allowFail: true, timeoutMs: 3000 });
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s+BGP\s+---\s+(\S+)\s+(\S+\s+\S+|\S+)\s*(.*)$/.exec(line);
      if (m) rows.push({ speaker: d.host, peer: m[1]!, peerAs: '', state: m[4]!.trim() || m[2]!, uptimeSeconds: 0, prefixes: '', info: `BIRD ${m[2]}` });
    }
  }
  const order = (s: string) => (s.startsWith('rr') ? 0 : s.startsWith('node') ? 1 : 2);
  return rows.sort((a, b) => order(a.speaker) - order(b.speaker) || a.speaker.localeCompare(b.speaker) || a.peer.localeCompare(b.peer));
}

export interface LabReport {
  blocks: Map<string, string[]>;
  sessions: SessionRow[];
  routes: Map<string, string[]>;
  services: string[][];
  matrix?: Matrix;
}

function grid(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

const routeText = (r: Awaited<ReturnType<typeof routes>>[number]): string =>
  r.type === 'blackhole' ? `blackhole ${r.dst}` : r.gateway ? `${r.dst} via ${r.gateway}` : r.nexthops ? `${r.dst} via ${r.nexthops.map((h) => h.gateway).join(',')}` : `${r.dst} dev ${r.dev ?? '?'}`;

export async function gather(lab: LabRun, opts: { matrix?: boolean } = {}): Promise<LabReport> {
  const c = lab.cluster;
  const [blocks, sess] = await Promise.all([nodeBlocks(lab), sessions(lab)]);
  const rts = new Map<string, string[]>();
  await Promise.all(c.nodes.map(async (n) => rts.set(n.name, (await routes(n.netns, '44')).map(routeText))));
  rts.set('tor', (await routes(lab.hostNetns('tor'), 'bird')).map(routeText));
  const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
  const services: string[][] = [['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL', 'PORTS', 'ENDPOINTS']];
  try {
    const store = new Store(client, new Keys());
    const [svcs, slices] = await Promise.all([store.list('Service'), store.list('EndpointSlice')]);
    for (const s of svcs.items) {
      const ns = s.metadata.namespace ?? 'default';
      const eps = slices.items.filter((x) => x.metadata.namespace === ns && x.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name).flatMap((x) => x.endpoints.flatMap((e) => e.addresses));
      const ext = [...(s.spec.externalIPs ?? []), ...(s.spec.loadBalancerIP ? [s.spec.loadBalancerIP] : []), ...(s.spec.externalName ? [s.spec.externalName] : [])];
      const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
      services.push([ns, s.metadata.name, s.spec.type, s.spec.clusterIP ?? (s.spec.type === 'ExternalName' ? '-' : ''), ext.join(',') || '-', ports || '-', eps.join(',') || '-']);
    }
  } finally {
    client.close();
  }
  return { blocks, sessions: sess, routes: rts, services, ...(opts.matrix !== false ? { matrix: await connectivityMatrix(lab) } : {}) };
}

export function formatReport(lab: LabRun, r: LabReport): string[] {
  const c = lab.cluster;
  const lines: string[] = [];
  lines.push('NODES', ...grid([['NODE', 'FABRIC IP', 'BLOCKS', 'PODS'], ...c.nodes.map((n) => [n.name, n.fabricIp, (r.blocks.get(n.name) ?? []).join(',') || '-', String(c.pods.filter((p) => p.node === n.name).length)])]), '');
  const dur = (s: number) => (s > 0 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : '');
  lines.push('BGP SESSIONS', ...grid([['SPEAKER', 'PEER', 'AS', 'STATE', 'UP', 'ACC/ADV', 'INFO'], ...r.sessions.map((s) => [s.speaker, s.peer, s.peerAs, s.state, dur(s.uptimeSeconds), s.prefixes, s.info])]), '');
  lines.push('ROUTES (nodes: programmed by tern-agentd, proto 44; tor: learned by BIRD)');
  for (const [host, rs] of [...r.routes.entries()].sort((a, b) => (a[0] === 'tor' ? 1 : b[0] === 'tor' ? -1 : a[0].localeCompare(b[0])))) {
    lines.push(`  ${host}:`, ...rs.map((x) => `    ${x}`));
  }
  lines.push('');
  lines.push('PODS', ...grid([['NAMESPACE', 'NAME', 'NODE', 'IP', 'LABELS', 'VETH'], ...c.pods.map((p) => [p.namespace, p.name, p.node, p.ip, Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(','), p.hostIface])]), '');
  lines.push('SERVICES', ...grid(r.services), '');
  if (r.matrix) lines.push('CONNECTIVITY', ...formatMatrix(r.matrix, c.pods), '');
  const st = lab.state;
  const etcd = lab.etcd;
  lines.push(
    `etcd:   ${etcd.unixEndpoint} (root namespace) · ${etcd.endpoint} (lab namespaces)`,
    `tern:   export TERN_ETCD_ENDPOINTS=${etcd.unixEndpoint}   (or: set -a; . ${join(lab.dir, 'env')})`,
    `        tern get pods -A · tern node status --agent-socket ${c.nodes[0]?.agentSocket ?? ''}`,
    `        tern bgp peers --socket ${c.nodes[0]?.bgpdSocket ?? ''} · tern dns lookup --socket ${join(lab.dir, 'dnsd.sock')} api.backend.svc.cluster.local`,
    `tor:    birdc -s ${join(lab.dir, 'tor-bird.ctl')} show route`,
    `logs:   ${lab.dir}/*.log   enter: ip netns exec ${st.prefix}node1 bash`,
    `down:   npm start -- down${lab.id === 'lab' ? '' : ` --name ${lab.id}`}`,
  );
  return lines;
}
