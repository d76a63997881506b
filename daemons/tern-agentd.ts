#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1 --optimize-for-size --interrupt-budget=1000000
// tern-agentd: the only writer of a node's kernel network state. Entry point only; the engine
// is src/agent/daemon (calculation and wiring), the dataplanes src/agent/{routes,policy,cni},
// the BGP side src/agent/bgp.
import { cniService, CniHandler } from '../src/agent/cni/index.js';
import { Agent, AgentConfigShape, nodeStatusHandler, serviceProxyHook } from '../src/agent/daemon/index.js';
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { logger } from '../src/log/index.js';
import { agentProto } from '../src/proto/load.js';

await runDaemon({
  name: 'tern-agentd',
  description: 'Tern node agent: pod networking, kernel routes, NetworkPolicy, IPAM for local pods, BGP configuration for tern-bgpd',
  schema: daemonConfig('tern-agentd', '0.0.0.0:9091', AgentConfigShape),
  async start(cfg, ctx) {
    if (!cfg.nodeName) throw new Error('nodeName is required (--node-name or TERN_NODE_NAME)');
    const proxy = serviceProxyHook(cfg.serviceProxy, { nodeName: cfg.nodeName, netns: cfg.netns, config: cfg.proxy, registry: ctx.registry, log: logger('proxy') });
    // The etcd client connects on first use: the agent starts (CNI STATUS answers 50, /ready
    // says no) while etcd is down, and catches up when it comes.
    const etcd = connectEtcd(cfg.etcd);
    const keys = new Keys(cfg.etcd.prefix);
    const agent = new Agent({
      nodeName: cfg.nodeName,
      nodeIP: cfg.nodeIP,
      etcd: { client: etcd, keys },
      bgpdSocket: cfg.bgpdSocket,
      netns: cfg.netns,
      resyncMs: cfg.resyncSeconds * 1000,
      coalesceMs: cfg.coalesceMs,
      policy: cfg.policy,
      secretDir: cfg.secretDir,
      staleGraceMs: cfg.staleGraceSeconds * 1000,
      staleSettleMs: cfg.staleSettleSeconds * 1000,
      registry: ctx.registry,
      log: logger('agent'),
      proxy,
    });
    const cni = new CniHandler({ node: cfg.nodeName, client: etcd, keys, logger: logger('cni'), dataplane: agent.cniDataplane() });
    await agent.start();
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(agentProto().tern.agent.v1.Agent.service, {
        GetStatus: statusHandler('tern-agentd', cfg.nodeName, ctx, () => {
          const st = agent.status();
          return { ready: st.ready, details: { bgpdConnected: String(st.bgpdConnected), localEndpoints: String(st.localEndpoints), routes: String(st.routesOwned), mtu: String(cfg.mtu) } };
        }),
        GetNodeStatus: nodeStatusHandler(agent, cfg.bgpdSocket),
        ...cniService(cni),
      });
    });
    const readyPoll = setInterval(() => ctx.setReady(agent.ready), 200);
    readyPoll.unref();
    return {
      stop: async () => {
        clearInterval(readyPoll);
        ctx.setReady(false);
        await grpc.close();
        // Routes and rules stay: the next agent adopts them.
        await agent.stop();
        etcd.close();
      },
    };
  },
});
