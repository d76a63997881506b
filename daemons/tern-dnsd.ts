#!/usr/bin/env node
// tern-dnsd: cluster DNS answering from an index of etcd state. Entry point only.
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { dnsProto } from '../src/proto/load.js';

await runDaemon({
  name: 'tern-dnsd',
  description: 'Tern cluster DNS: Kubernetes DNS-based service discovery from etcd',
  schema: daemonConfig('tern-dnsd', '0.0.0.0:9153', {}),
  async start(cfg, ctx) {
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(dnsProto().tern.dns.v1.Dns.service, {
        GetStatus: statusHandler('tern-dnsd', cfg.nodeName, ctx, () => ({ ready: true })),
      });
    });
    ctx.setReady(true);
    return { stop: () => grpc.close() };
  },
});
