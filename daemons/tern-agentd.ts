#!/usr/bin/env node
// tern-agentd: the only writer of a node's kernel network state. Entry point only.
import { cniService, CniHandler } from '../src/agent/cni/index.js';
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { logger } from '../src/log/index.js';
import { agentProto } from '../src/proto/load.js';

await runDaemon({
  name: 'tern-agentd',
  description: 'Tern node agent: pod networking, kernel routes, NetworkPolicy, IPAM for local pods',
  schema: daemonConfig('tern-agentd', '0.0.0.0:9091', {}),
  async start(cfg, ctx) {
    if (!cfg.nodeName) throw new Error('nodeName is required (--node-name or TERN_NODE_NAME)');
    // The etcd client connects on first use: the agent starts (and CNI STATUS answers 50)
    // while etcd is down.
    const etcd = connectEtcd(cfg.etcd);
    const cni = new CniHandler({ node: cfg.nodeName, client: etcd, keys: new Keys(cfg.etcd.prefix), logger: logger('cni') });
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(agentProto().tern.agent.v1.Agent.service, {
        GetStatus: statusHandler('tern-agentd', cfg.nodeName, ctx, () => ({ ready: true })),
        ...cniService(cni),
      });
    });
    ctx.setReady(true);
    return {
      stop: async () => {
        await grpc.close();
        etcd.close();
      },
    };
  },
});
