// `tern trace POD DEST[:PORT]`: the path of a pod's packet hop by hop, from etcd, each node's
// agent and bgpd, and each node's kernel (src/trace). DEST is a pod (`ns/name`, `name`), a
// service (`svc/name`, `name.ns.svc`, or its ClusterIP) or an IP address.
//   tern trace pa ns1/pb:80 [-n ns] [-p TCP] [--lab NAME | --nodes FILE]
//              [--agent-socket NODE=PATH] [--bgpd-socket NODE=PATH] [--netns NODE=NS] [--local-node NODE] [-o table|json]
import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import type { CliStreams } from './ipam.js';
import { Ipam } from '../ipam/index.js';
import type { Protocol } from '../agent/policy/model.js';
import { accessFromFile, accessFromLab, applyFlags, combine, formatTrace, parseDest, parsePodRef, trace, type AccessMap } from '../trace/index.js';

interface TraceCliOptions {
  namespace?: string;
  protocol: Protocol;
  output: 'table' | 'json';
  lab?: string;
  nodes?: string;
  agentSocket?: string[];
  bgpdSocket?: string[];
  netns?: string[];
  localNode?: string;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function traceCommand(getContext: () => Promise<CliContext>, streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  return new Command('trace')
    .description('explain the path from a pod to a pod, service or IP: veth, routes, BGP, service translation, policy verdict')
    .argument('<pod>', 'source pod: ns/name, or name in -n namespace')
    .argument('<dest>', 'pod (ns/name, name), service (svc/name, name.ns.svc, ClusterIP) or IP, with :PORT (number or name)')
    .addOption(new Option('-n, --namespace <ns>', 'namespace of POD and of unqualified DEST').default('default'))
    .addOption(new Option('-p, --protocol <proto>', 'transport protocol').choices(['TCP', 'UDP', 'SCTP']).default('TCP'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--lab <name>', 'a lab run: nodes, namespaces and daemon sockets from its state file')
    .option('--nodes <file>', 'YAML/JSON: nodes: {NODE: {agentSocket, bgpdSocket, netns}}, speakers: {ADDRESS: NAME}')
    .option('--agent-socket <node=path>', "a node's tern-agentd socket (repeatable)", collect)
    .option('--bgpd-socket <node=path>', "a node's tern-bgpd socket (repeatable; default: what its agent reports)", collect)
    .option('--netns <node=ns>', "a node's network namespace for ip/nft (repeatable)", collect)
    .option('--local-node <node>', 'this machine is that node: read its kernel here')
    .action(async (pod: string, dest: string, o: TraceCliOptions) => {
      const ns = o.namespace ?? 'default';
      const maps: AccessMap[] = [];
      if (o.lab) maps.push(accessFromLab(o.lab));
      if (o.nodes) maps.push(accessFromFile(o.nodes));
      const access = combine(...maps);
      applyFlags(access, 'agentSocket', o.agentSocket);
      applyFlags(access, 'bgpdSocket', o.bgpdSocket);
      applyFlags(access, 'netns', o.netns);
      if (o.localNode) access.nodes.set(o.localNode, { ...(access.nodes.get(o.localNode) ?? {}), local: true });
      const ctx = await getContext();
      const result = await trace(
        { source: parsePodRef(pod, ns), dest: parseDest(dest, ns), protocol: o.protocol },
        { store: ctx.store, ipam: new Ipam(ctx.client, ctx.keys), access },
      );
      out.write(o.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatTrace(result));
    });
}
