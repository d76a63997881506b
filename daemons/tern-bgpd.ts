#!/usr/bin/env node
// tern-bgpd: the node's BGP speaker. Entry point only; the engine lives in src/bgp.
import { z } from 'zod';
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { bgpProto } from '../src/proto/load.js';

const schema = daemonConfig('tern-bgpd', '0.0.0.0:9180', {
  bgp: z
    .object({
      asNumber: z.number().int().min(1).max(4294967295).default(64512),
      routerId: z.ipv4().optional(),
      listenPort: z.number().int().min(0).max(65535).default(179),
    })
    .strict()
    .default({ asNumber: 64512, listenPort: 179 }),
});

await runDaemon({
  name: 'tern-bgpd',
  description: 'BGP speaker of a Tern node (standalone from YAML, or driven by tern-agentd over gRPC)',
  schema,
  async start(cfg, ctx) {
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(bgpProto().tern.bgp.v1.Bgp.service, {
        GetStatus: statusHandler('tern-bgpd', cfg.nodeName, ctx, () => ({
          ready: true,
          details: { asNumber: String(cfg.bgp.asNumber), routerId: cfg.bgp.routerId ?? '' },
        })),
      });
    });
    ctx.setReady(true);
    return { stop: () => grpc.close() };
  },
});
