// tern-dnsd's process layout. `workers: 1`: one process does everything. `workers: N`: the
// primary keeps gRPC and the ops listeners and forks N node:cluster workers, each with its
// own watch, index and DNS sockets. Node 20's dgram has no `reusePort` (it arrived in 22.12 /
// 23.1), so workers share the primary's UDP socket handle (the kernel hands each datagram to
// one of the readers) and TCP connections are dealt round robin by the primary.
import cluster, { type Worker } from 'node:cluster';
import type * as grpc from '@grpc/grpc-js';
import type { DaemonContext, RunningDaemon } from '../../daemon/run.js';
import { statusHandler } from '../../daemon/status.js';
import { startGrpcServer, statusDetails } from '../../grpc/index.js';
import { initLogger, type Logger } from '../../log/index.js';
import { startOpsServer } from '../../ops/http.js';
import type { LookupRequest__Output } from '../../proto/gen/tern/dns/v1/LookupRequest.js';
import type { LookupResponse } from '../../proto/gen/tern/dns/v1/LookupResponse.js';
import type { Stats } from '../../proto/gen/tern/dns/v1/Stats.js';
import { dnsProto } from '../../proto/load.js';
import { DnsdConfig } from './config.js';
import { DnsInstance } from './instance.js';
import type { LookupResult } from './lookup.js';
import { RCODE_LABELS, registerDnsMetrics, sumSnapshots, type MetricsSnapshot } from './metrics.js';

/** Environment variable carrying the parsed configuration to worker processes. */
export const WORKER_CONFIG_ENV = 'TERN_DNSD_WORKER_CONFIG';

/** What gRPC, metrics and readiness read, whether the DNS runs here or in workers. */
interface Backend {
  snapshot(): Promise<MetricsSnapshot | undefined>;
  lookup(name: string, type: string): Promise<LookupResult>;
  ready(): boolean;
  stop(): Promise<void>;
}

type Request = { t: 'snapshot'; id: number } | { t: 'lookup'; id: number; name: string; type: string };
type Reply = { t: 'reply'; id: number; ok: true; value: unknown } | { t: 'reply'; id: number; ok: false; error: string } | { t: 'synced' };

function localBackend(inst: DnsInstance): Backend {
  return {
    snapshot: async () => inst.snapshot(),
    lookup: (n, t) => inst.lookup(n, t),
    ready: () => inst.ready,
    stop: () => inst.stop(),
  };
}

function clusterBackend(cfg: DnsdConfig, log: Logger): Backend {
  const n = cfg.dns.workers;
  const synced = new Set<number>();
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let seq = 0;
  let rr = 0;
  let stopping = false;
  const slots: (Worker | undefined)[] = new Array(n).fill(undefined);
  const fork = (slot: number): void => {
    const w = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(cfg), TERN_DNSD_WORKER_SLOT: String(slot) });
    slots[slot] = w;
    w.on('message', (m: Reply) => {
      if (m.t === 'synced') synced.add(slot);
      else if (m.t === 'reply') {
        const c = calls.get(m.id);
        if (!c) return;
        calls.delete(m.id);
        clearTimeout(c.timer);
        if (m.ok) c.resolve(m.value);
        else c.reject(new Error(m.error));
      }
    });
    w.on('exit', (code, signal) => {
      synced.delete(slot);
      slots[slot] = undefined;
      if (stopping) return;
      log.error({ slot, code, signal }, 'DNS worker exited; starting a new one');
      setTimeout(() => fork(slot), 500).unref();
    });
  };
  for (let i = 0; i < n; i++) fork(i);
  const call = <T>(w: Worker, req: { t: 'snapshot' } | { t: 'lookup'; name: string; type: string }): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => {
        calls.delete(id);
        reject(new Error('DNS worker did not answer'));
      }, 5000);
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      w.send({ ...req, id });
    });
  const live = (): Worker[] => slots.filter((w): w is Worker => w !== undefined && w.isConnected());
  return {
    async snapshot() {
      const got = await Promise.allSettled(live().map((w) => call<MetricsSnapshot>(w, { t: 'snapshot' })));
      const snaps = got.flatMap((g) => (g.status === 'fulfilled' ? [g.value] : []));
      const sum = sumSnapshots(snaps);
      // A worker that did not answer counts as a disconnected process.
      if (sum) sum.processes = n;
      return sum;
    },
    lookup(name, type) {
      const ws = live();
      if (ws.length === 0) return Promise.reject(new Error('no DNS worker running'));
      return call<LookupResult>(ws[rr++ % ws.length]!, { t: 'lookup', name, type });
    },
    ready: () => synced.size === n,
    async stop() {
      stopping = true;
      await Promise.all(
        live().map((w) => new Promise<void>((resolve) => {
          const t = setTimeout(() => w.process.kill('SIGKILL'), 3000);
          w.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          w.process.kill('SIGTERM');
        })),
      );
    },
  };
}

function statsOf(s: MetricsSnapshot | undefined): Stats {
  if (!s) return { queries: 0, responsesByRcode: {}, services: 0, endpoints: 0, pods: 0, cacheHits: 0, cacheMisses: 0, synced: false };
  const byRcode: Record<string, number> = {};
  s.queries.responses.forEach((v, r) => {
    if (v) byRcode[RCODE_LABELS[r]!] = v;
  });
  return {
    queries: s.engine.queries,
    responsesByRcode: byRcode,
    services: s.index.services,
    endpoints: s.index.endpoints,
    pods: s.index.pods,
    cacheHits: s.engine.cacheHits + (s.forward?.cacheHits ?? 0),
    cacheMisses: s.engine.cacheMisses + (s.forward?.cacheMisses ?? 0),
    synced: s.synced === s.processes,
  };
}

/** The daemon's `start` for runDaemon (primary process). */
export async function startDnsd(cfg: DnsdConfig, ctx: DaemonContext): Promise<RunningDaemon> {
  const d = cfg.dns;
  const backend = d.workers > 1 ? clusterBackend(cfg, ctx.log) : localBackend(await DnsInstance.start(cfg, ctx.log));
  const first = d.listen[0]!;
  registerDnsMetrics(ctx.registry, `dns://${first.startsWith('0.0.0.0:') || first.startsWith('[::]:') ? first.slice(first.lastIndexOf(':')) : first}`, () => backend.snapshot());
  // /ready stays true once synced, also while etcd is away: CoreDNS's meaning, "can answer".
  let readyLatched = false;
  const ready = (): boolean => (readyLatched ||= backend.ready());
  const readyTimer = setInterval(() => ctx.setReady(ready()), 200);
  readyTimer.unref();
  const extra = await Promise.all([
    d.health ? startOpsServer({ listen: d.health, registry: ctx.registry, ready, paths: ['/health'] }) : undefined,
    d.ready ? startOpsServer({ listen: d.ready, registry: ctx.registry, ready, paths: ['/ready'] }) : undefined,
  ]);
  const grpcServer = await startGrpcServer(cfg.grpc, (s) => {
    s.addService(dnsProto().tern.dns.v1.Dns.service, {
      GetStatus: statusHandler('tern-dnsd', cfg.nodeName, ctx, () => ({ ready: ready(), details: { workers: String(d.workers), zones: d.zones.join(',') } })),
      GetStats: ((_call, cb) => {
        backend.snapshot().then((s) => cb(null, statsOf(s)), (e: Error) => cb(e));
      }) as grpc.handleUnaryCall<unknown, Stats>,
      Lookup: ((call, cb) => {
        backend.lookup(call.request.name, call.request.type || 'A').then(
          (r) => cb(null, r satisfies LookupResponse),
          (e: Error) => cb({ code: 3, message: statusDetails(e.message), name: 'Lookup', details: statusDetails(e.message) } as grpc.ServiceError),
        );
      }) as grpc.handleUnaryCall<LookupRequest__Output, LookupResponse>,
    });
  });
  ctx.log.info({ listen: d.listen, workers: d.workers, zones: d.zones }, 'DNS serving');
  return {
    async stop() {
      clearInterval(readyTimer);
      await grpcServer.close();
      await Promise.all(extra.map((x) => x?.close()));
      await backend.stop();
    },
  };
}

/** Entry of a worker process (cluster.isWorker): serves DNS and answers the primary's requests. */
export async function runWorker(): Promise<void> {
  const raw = process.env[WORKER_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_CONFIG_ENV} is not set`);
  const cfg = DnsdConfig.parse(JSON.parse(raw));
  const log = initLogger({ name: `tern-dnsd-worker-${process.env.TERN_DNSD_WORKER_SLOT ?? '?'}`, level: cfg.logLevel });
  const inst = await DnsInstance.start(cfg, log);
  const timer = setInterval(() => {
    if (!inst.ready) return;
    clearInterval(timer);
    process.send?.({ t: 'synced' } satisfies Reply);
  }, 50);
  process.on('message', (m: Request) => {
    const reply = (p: Promise<unknown>): void => {
      p.then(
        (value) => process.send?.({ t: 'reply', id: m.id, ok: true, value } satisfies Reply),
        (e: Error) => process.send?.({ t: 'reply', id: m.id, ok: false, error: e.message } satisfies Reply),
      );
    };
    if (m.t === 'snapshot') reply(Promise.resolve(inst.snapshot()));
    else if (m.t === 'lookup') reply(inst.lookup(m.name, m.type));
  });
  const stop = (): void => {
    clearInterval(timer);
    inst.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => undefined); // the primary decides; a terminal ^C reaches every process
}

export function isDnsWorker(): boolean {
  return cluster.isWorker;
}
