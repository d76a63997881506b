// What every daemon's main shares: flags, configuration (file + TERN_* env + flags), logging,
// the ops HTTP endpoint, and signal handling (SIGTERM/SIGINT stop, SIGHUP reload).
import { Command, Option } from 'commander';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { CommonConfig, loadConfig } from '../config/index.js';
import { isTernError } from '../errors/index.js';
import { GrpcListenConfig, defaultSocket } from '../grpc/index.js';
import { initLogger, type Logger } from '../log/index.js';
import { newRegistry, startOpsServer } from '../ops/http.js';

export const VERSION = '0.1.0';

/** The configuration every daemon accepts; daemons extend it with their own section. */
export function daemonConfig<T extends z.ZodRawShape>(daemon: string, opsListen: string, extra: T) {
  return CommonConfig.extend({
    grpc: GrpcListenConfig.default({ socket: defaultSocket(daemon), tcp: '' }),
    ops: z.object({ listen: z.string().default(opsListen) }).strict().default({ listen: opsListen }),
    ...extra,
  });
}

export interface DaemonContext {
  log: Logger;
  registry: Registry;
  setReady(ready: boolean): void;
  startedAt: number;
}

export interface RunningDaemon {
  stop(reason: string): Promise<void>;
  reload?(): Promise<void>;
}

export interface DaemonSpec<S extends z.ZodType> {
  name: string;
  description: string;
  schema: S;
  start(cfg: z.infer<S>, ctx: DaemonContext): Promise<RunningDaemon>;
}

/** Parses argv into a partial config tree: only the flags given, so they override file and env. */
function flagsLayer(o: Record<string, string | undefined>): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  if (o.logLevel) layer.logLevel = o.logLevel;
  if (o.nodeName) layer.nodeName = o.nodeName;
  if (o.nodeIp) layer.nodeIP = o.nodeIp;
  if (o.etcdEndpoints) layer.etcd = { endpoints: o.etcdEndpoints.split(',').map((s) => s.trim()) };
  if (o.etcdPrefix) layer.etcd = { ...(layer.etcd as object), prefix: o.etcdPrefix };
  if (o.grpcSocket !== undefined || o.grpcTcp !== undefined) {
    layer.grpc = { ...(o.grpcSocket !== undefined ? { socket: o.grpcSocket } : {}), ...(o.grpcTcp !== undefined ? { tcp: o.grpcTcp } : {}) };
  }
  if (o.opsListen) layer.ops = { listen: o.opsListen };
  return layer;
}

export function daemonCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .version(VERSION)
    .addOption(new Option('-c, --config <file>', 'YAML configuration file'))
    .addOption(new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace (env TERN_LOG_LEVEL)'))
    .addOption(new Option('--node-name <name>', 'this node (env TERN_NODE_NAME)'))
    .addOption(new Option('--node-ip <ip>', "this node's address (env TERN_NODE_IP)"))
    .addOption(new Option('--etcd-endpoints <urls>', 'comma-separated etcd URLs (env TERN_ETCD_ENDPOINTS)'))
    .addOption(new Option('--etcd-prefix <prefix>', 'etcd key prefix (env TERN_ETCD_PREFIX)'))
    .addOption(new Option('--grpc-socket <path>', 'gRPC unix socket ("" for none)'))
    .addOption(new Option('--grpc-tcp <host:port>', 'gRPC TCP listen address'))
    .addOption(new Option('--ops-listen <host:port>', 'metrics/health/ready HTTP listen address'))
    .addOption(new Option('--check-config', 'validate the configuration, print it as JSON and exit'));
}

/** Runs a daemon until SIGTERM/SIGINT. Configuration errors exit 2 with one line per bad field. */
export async function runDaemon<S extends z.ZodType>(spec: DaemonSpec<S>, argv = process.argv): Promise<void> {
  const cmd = daemonCommand(spec.name, spec.description);
  cmd.parse(argv);
  const opts = cmd.opts<Record<string, string | undefined>>();
  const check = Boolean((opts as Record<string, unknown>).checkConfig);
  let cfg: z.infer<S>;
  try {
    cfg = loadConfig(spec.schema, { file: opts.config, env: process.env, flags: flagsLayer(opts) });
  } catch (e) {
    process.stderr.write(`${spec.name}: ${isTernError(e) ? e.message : String(e)}\n`);
    process.exit(2);
  }
  if (check) {
    process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
    process.exit(0);
  }
  const c = cfg as { logLevel: string; ops: { listen: string } };
  const log = initLogger({ name: spec.name, level: c.logLevel });
  const registry = newRegistry(spec.name);
  let ready = false;
  const ctx: DaemonContext = { log, registry, setReady: (r) => void (ready = r), startedAt: Date.now() };
  const ops = await startOpsServer({ listen: c.ops.listen, registry, ready: () => ready });
  let running: RunningDaemon;
  try {
    running = await spec.start(cfg, ctx);
  } catch (e) {
    log.fatal({ err: e }, 'start failed');
    process.stderr.write(`${spec.name}: ${(e as Error).message}\n`);
    await ops.close();
    process.exit(1);
  }
  log.info({ version: VERSION, ops: c.ops.listen }, 'started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    running
      .stop(signal)
      .catch((e: unknown) => log.error({ err: e }, 'stop failed'))
      .finally(() => ops.close().finally(() => process.exit(0)));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (!running.reload) return log.warn('SIGHUP: this daemon has nothing to reload');
    running.reload().then(
      () => log.info('reloaded'),
      (e: unknown) => log.error({ err: e }, 'reload failed; keeping the running configuration'),
    );
  });
}
