#!/usr/bin/env node
// tern-rrd: a BGP route reflector (RFC 4456) running the tern-bgpd engine, no FIB.
import { z } from 'zod';
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { statusHandler } from '../src/daemon/status.js';
import { startGrpcServer } from '../src/grpc/index.js';
import { bgpProto } from '../src/proto/load.js';

const schema = daemonConfig('tern-rrd', '0.0.0.0:9181', {
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
  name: 'tern-rrd',
  description: 'BGP route reflector for a Tern cluster',
  schema,
  async start(cfg, ctx) {
    const grpc = await startGrpcServer(cfg.grpc, (s) => {
      s.addService(bgpProto().tern.bgp.v1.Bgp.service, {
        GetStatus: statusHandler('tern-rrd', cfg.nodeName, ctx, () => ({
          ready: true,
          details: { asNumber: String(cfg.bgp.asNumber), routerId: cfg.bgp.routerId ?? '' },
        })),
      });
    });
    ctx.setReady(true);
    return { stop: () => grpc.close() };
  },
});
