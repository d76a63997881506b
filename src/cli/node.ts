// `tern node status`: this node's agent (GetNodeStatus) and BGP sessions (bgpd's ListPeers),
// the way `calicoctl node status` shows calico-node and BIRD.
//   tern node status [--agent-socket PATH] [--bgpd-socket PATH] [-o table|json]
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { defaultSocket, grpcTarget, unary } from '../grpc/index.js';
import type { AgentClient } from '../proto/gen/tern/agent/v1/Agent.js';
import type { NodeStatus__Output } from '../proto/gen/tern/agent/v1/NodeStatus.js';
import type { BgpClient } from '../proto/gen/tern/bgp/v1/Bgp.js';
import type { ListPeersResponse__Output } from '../proto/gen/tern/bgp/v1/ListPeersResponse.js';
import type { PeerState__Output } from '../proto/gen/tern/bgp/v1/PeerState.js';
import { agentProto, bgpProto } from '../proto/load.js';
import type { CliStreams } from './ipam.js';

function columns(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

function since(sec: number): string {
  const s = Math.floor(sec);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return d > 0 ? `${d}d ${hms}` : hms;
}

/** Peer type as calicoctl names it, from the description the agent gives each session. */
function peerType(p: PeerState__Output): string {
  const d = p.config?.description ?? '';
  if (p.source !== 'api') return `${p.source} file`;
  if (d.startsWith('node ')) return 'node-to-node mesh';
  if (d.includes(' node ')) return 'node specific (selector)';
  if (d.startsWith('bgppeer ')) return 'global/node peer';
  return p.source;
}

export function formatNodeStatus(agent: NodeStatus__Output | undefined, agentError: string | undefined, peers: PeerState__Output[] | undefined, bgpdError: string | undefined): string {
  const out: string[] = [];
  if (agent) {
    out.push(`Tern agent on node ${agent.node} is ${agent.ready ? 'running and synced' : 'running, NOT ready (first sync pending)'}.`);
    out.push(`Node addresses: ${agent.nodeIps.join(', ') || '(none)'}   last sync: ${agent.lastSync || 'never'}`);
    out.push('');
    out.push(columns(['BLOCK', 'ALLOCATED'], agent.blockStatus.map((b) => [b.cidr, String(b.allocated)])).trimEnd());
    out.push('');
    out.push(`Local endpoints:   ${agent.localEndpoints}`);
    out.push(`Routes owned:      ${agent.routesOwned} (remote ${agent.remoteRoutes}, stale ${agent.staleRemoteRoutes}, failed ${agent.routeFailures})`);
    out.push(`Policies:          ${agent.policies} (${agent.nftRules} nftables rules, ${agent.policyDriftRepairs} drift repairs)`);
    if (agent.proxy) out.push(`Service proxy:     ${agent.proxy.services} services, ${agent.proxy.servicePorts} ports, ${agent.proxy.endpoints} endpoints (table inet ${agent.proxy.table}${agent.proxy.ready ? '' : ', first apply pending'}, ${agent.proxy.driftRepairs} drift repairs)`);
    out.push(`BGP:               ${agent.peersDesired} sessions desired, ${agent.pathsOriginated} prefixes originated, bgpd ${agent.bgpdConnected ? 'connected' : 'NOT connected'}`);
    if (agent.problems.length) out.push('', 'Problems:', ...agent.problems.map((p) => `  ${p}`));
  } else {
    out.push(`Tern agent is not answering: ${agentError ?? 'unknown error'}`);
  }
  out.push('');
  if (peers) {
    for (const fam of [4, 6] as const) {
      const ps = peers.filter((p) => (p.config?.address ?? '').includes(':') === (fam === 6));
      if (fam === 6 && ps.length === 0) continue;
      out.push(`IPv${fam} BGP status`);
      out.push(
        columns(
          ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'],
          ps.map((p) => [p.config?.address ?? '', peerType(p), p.state === 'Established' ? 'up' : 'start', since(p.uptimeSeconds), p.state === 'Established' ? `Established ${p.prefixesAccepted}/${p.prefixesAdvertised} rcvd/adv` : `${p.state}${p.lastError ? ` ${p.lastError}` : ''}`]),
        ).trimEnd(),
      );
      out.push('');
    }
  } else {
    out.push(`tern-bgpd is not answering: ${bgpdError ?? 'unknown error'}`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function nodeCommand(streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  const err = streams.err ?? process.stderr;
  const cmd = new Command('node')
    .description("this node's agent and BGP sessions")
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });
  cmd
    .command('status')
    .description('blocks, routes, policy counts and BGP sessions with their state (like calicoctl node status)')
    .addOption(new Option('--agent-socket <path>', 'tern-agentd gRPC socket (or host:port)').default(defaultSocket('tern-agentd')))
    .addOption(new Option('--bgpd-socket <path>', 'tern-bgpd gRPC socket (default: the one the agent uses)'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { agentSocket: string; bgpdSocket?: string; output: 'table' | 'json' }) => {
      let agent: NodeStatus__Output | undefined;
      let agentError: string | undefined;
      const A = agentProto().tern.agent.v1.Agent;
      const ac = new A(grpcTarget(o.agentSocket), grpc.credentials.createInsecure()) as unknown as AgentClient;
      try {
        agent = await unary<object, NodeStatus__Output>(ac.getNodeStatus.bind(ac) as never, {});
      } catch (e) {
        agentError = (e as grpc.ServiceError).details || (e as Error).message;
      } finally {
        ac.close();
      }
      const bgpdSocket = o.bgpdSocket ?? (agent?.bgpdSocket || defaultSocket('tern-bgpd'));
      let peers: PeerState__Output[] | undefined;
      let bgpdError: string | undefined;
      const B = bgpProto().tern.bgp.v1.Bgp;
      const bc = new B(grpcTarget(bgpdSocket), grpc.credentials.createInsecure()) as unknown as BgpClient;
      try {
        peers = (await unary<object, ListPeersResponse__Output>(bc.listPeers.bind(bc) as never, {})).peers;
      } catch (e) {
        bgpdError = (e as grpc.ServiceError).details || (e as Error).message;
      } finally {
        bc.close();
      }
      if (o.output === 'json') out.write(`${JSON.stringify({ agent: agent ?? { error: agentError }, peers: peers ?? { error: bgpdError } }, null, 2)}\n`);
      else out.write(formatNodeStatus(agent, agentError, peers, bgpdError));
      if (!agent) throw new Error(`tern-agentd at ${o.agentSocket}: ${agentError}`);
    });
  return cmd;
}
