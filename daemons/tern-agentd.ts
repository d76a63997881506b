#!/usr/bin/env node
// tern-agentd: the only writer of a node's kernel network state. Entry point only.
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { agentProto } from '../src/proto/load.js';

await runDaemon({
  name: 'tern-agentd',
  description: 'Tern node agent: pod networking, kernel routes, NetworkPolicy, IPAM for local pods',
  schema: daemonConfig('tern-agentd', '0.0.0.0:9091', {}),
  async start(cfg, ctx) {
    if (!cfg.nodeName) throw new Error('nodeName is required (--node-name or TERN_NODE_NAME)');
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(agentProto().tern.agent.v1.Agent.service, {
        GetStatus: statusHandler('tern-agentd', cfg.nodeName, ctx, () => ({ ready: true })),
      });
    });
    ctx.setReady(true);
    return { stop: () => grpc.close() };
  },
});
