// What tern-bgpd and tern-rrd run: the daemon configuration (the common part plus `bgp:`), a
// Speaker, its gRPC service, metrics, reload from the file on SIGHUP / Reload, and the stop on
// SIGTERM (graceful restart where negotiated). The daemons/ files only call runBgpDaemon.
import { z } from 'zod';
import { loadConfig } from '../../config/index.js';
import { daemonCommand, daemonConfig, runDaemon, type DaemonContext } from '../../daemon/run.js';
import { statusHandler } from '../../daemon/status.js';
import { startGrpcServer } from '../../grpc/index.js';
import { bgpProto } from '../../proto/load.js';
import { FULL_TABLE_RESERVE } from '../rib/index.js';
import { warmUpUpdatePath } from '../rib/warmup.js';
import { BgpSchema, type BgpConfig } from './config.js';
import { bgpHandlers } from './grpc.js';
import { registerSpeakerMetrics } from './metrics.js';
import { Speaker, type ReloadResult } from './speaker.js';

export interface BgpDaemonSpec {
  name: 'tern-bgpd' | 'tern-rrd';
  description: string;
  opsListen: string;
  /** tern-rrd: role reflector unless the file says otherwise. */
  role: 'speaker' | 'reflector';
  /**
   * Warm the UPDATE path up before the speaker starts (src/bgp/rib/warmup.ts): tern-bgpd, whose
   * first full table should run optimized code. tern-rrd, sized for memory and fed many small
   * tables, does not.
   */
  warmUp?: boolean;
  /**
   * Reserve a full Internet table in the RIB (FULL_TABLE_RESERVE), so a first full table lands
   * without growing its arrays: tern-bgpd. tern-rrd keeps the small default.
   */
  reserveFullTable?: boolean;
}

export function bgpDaemonSchema(spec: BgpDaemonSpec) {
  // An absent section is an empty one; tern-rrd's role defaults to reflector.
  const fill = (v: unknown): unknown => {
    const o = v ?? {};
    return spec.role === 'reflector' && typeof o === 'object' && !Array.isArray(o) && !('role' in o) ? { ...o, role: 'reflector' } : o;
  };
  return daemonConfig(spec.name, spec.opsListen, { bgp: z.preprocess(fill, BgpSchema) });
}

/** The config file given with -c/--config, for reloads (flags do not touch the bgp section). */
function configFile(name: string, argv: string[]): string | undefined {
  const cmd = daemonCommand(name, '').exitOverride().allowUnknownOption(true);
  cmd.parse(argv);
  return cmd.opts<{ config?: string }>().config;
}

export async function runBgpDaemon(spec: BgpDaemonSpec, argv = process.argv): Promise<void> {
  const schema = bgpDaemonSchema(spec);
  await runDaemon({
    name: spec.name,
    description: spec.description,
    schema,
    async start(cfg, ctx) {
      return startSpeakerDaemon(spec, cfg as z.infer<typeof schema>, ctx, () => {
        const file = configFile(spec.name, argv);
        return (loadConfig(schema, { ...(file ? { file } : {}), env: process.env }) as { bgp: BgpConfig }).bgp;
      });
    },
  }, argv);
}

export async function startSpeakerDaemon(
  spec: BgpDaemonSpec,
  cfg: { bgp: BgpConfig; nodeName?: string | undefined; nodeIP?: string | undefined; grpc: Parameters<typeof startGrpcServer>[0] },
  ctx: DaemonContext,
  reread: () => BgpConfig,
): Promise<{ stop(reason: string): Promise<void>; reload(): Promise<void>; speaker: Speaker }> {
  const log = ctx.log.child({ component: 'bgp' });
  if (spec.warmUp) {
    const w = warmUpUpdatePath();
    log.info({ prefixes: w.prefixes, ms: Math.round(w.ms) }, 'UPDATE path warmed up');
  }
  const speaker = new Speaker({
    config: cfg.bgp,
    ...(cfg.nodeIP ? { nodeIp: cfg.nodeIP } : {}),
    ...(spec.reserveFullTable ? { ribReserve: FULL_TABLE_RESERVE } : {}),
    log,
  });
  registerSpeakerMetrics(ctx.registry, speaker);
  await speaker.start();
  const listening = speaker.listening();
  log.info({ routerId: speaker.routerId, as: cfg.bgp.asNumber, role: cfg.bgp.role, listen: listening, peers: cfg.bgp.peers.length, ribCapacity: speaker.rib.stats().capacity }, 'BGP speaker started');

  let reloading: Promise<ReloadResult> | null = null;
  const reload = async (): Promise<ReloadResult> => {
    // One reload at a time: a second SIGHUP during a reload waits for it, then reads the file again.
    while (reloading) await reloading.catch(() => undefined);
    const run = Promise.resolve().then(() => speaker.reload(reread()));
    reloading = run;
    try {
      return await run;
    } finally {
      reloading = null;
    }
  };
  const status = (): { ready: boolean; details: Record<string, string> } => {
    const s = speaker.stats();
    return {
      ready: true,
      details: {
        asNumber: String(speaker.config.asNumber),
        routerId: speaker.routerId,
        role: speaker.config.role,
        listen: speaker.listening().map((l) => `[${l.address}]:${l.port}`).join(','),
        peers: String(s.peers),
        established: String(s.established),
        prefixes: String(s.ipv4Prefixes + s.ipv6Prefixes),
      },
    };
  };
  const grpc = await startGrpcServer(cfg.grpc, (s) => {
    s.addService(bgpProto().tern.bgp.v1.Bgp.service, bgpHandlers(speaker, {
      status,
      getStatus: statusHandler(spec.name, cfg.nodeName, ctx, status) as never,
      reload,
    }));
  });
  // Ready: the listener is up (start() threw otherwise) and the configuration is loaded.
  ctx.setReady(true);
  return {
    speaker,
    async reload() {
      const r = await reload();
      log.info(r, 'SIGHUP reload applied');
    },
    async stop(reason: string) {
      ctx.setReady(false);
      // SIGTERM is a restart as far as peers can tell: graceful restart keeps our routes there.
      if (reason === 'SIGTERM') await speaker.closeForRestart(`${spec.name} restarting`);
      else await speaker.stop(`${spec.name} stopped (${reason})`);
      // Let the NOTIFICATIONs and FINs leave before the process exits.
      await new Promise((r) => setTimeout(r, 200));
      await grpc.close();
    },
  };
}
