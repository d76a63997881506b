// GetNodeStatus of tern.agent.v1.Agent: the agent's status as `tern node status` prints it.
import type * as grpc from '@grpc/grpc-js';
import type { NodeStatus } from '../../proto/gen/tern/agent/v1/NodeStatus.js';
import type { Agent } from './agent.js';

export function nodeStatusMessage(agent: Agent, bgpdSocket: string): NodeStatus {
  const s = agent.status();
  return {
    node: s.node,
    blocks: s.blocks.map((b) => b.cidr),
    localEndpoints: s.localEndpoints,
    routesOwned: s.routesOwned,
    policies: s.policies,
    nftRules: s.nftRules,
    policyDriftRepairs: s.policyDriftRepairs,
    lastSync: s.lastSync,
    ready: s.ready,
    bgpdConnected: s.bgpdConnected,
    remoteRoutes: s.remoteRoutes,
    staleRemoteRoutes: s.staleRemoteRoutes,
    peersDesired: s.peersDesired,
    pathsOriginated: s.pathsOriginated,
    routeFailures: s.routeFailures,
    problems: s.problems,
    nodeIps: s.nodeIps.all,
    blockStatus: s.blocks.map((b) => ({ cidr: b.cidr, allocated: b.allocated ?? 0 })),
    bgpdSocket,
    proxy: s.proxy ? { table: s.proxy.table, ready: s.proxy.ready, services: s.proxy.services, servicePorts: s.proxy.servicePorts, endpoints: s.proxy.endpoints, healthCheckPorts: s.proxy.healthCheckPorts, driftRepairs: s.proxy.driftRepairs, lastApply: s.proxy.lastApply } : null,
  };
}

export function nodeStatusHandler(agent: Agent, bgpdSocket: string): grpc.handleUnaryCall<unknown, NodeStatus> {
  return (_call, cb) => {
    try {
      cb(null, nodeStatusMessage(agent, bgpdSocket));
    } catch (e) {
      cb(e as Error);
    }
  };
}
