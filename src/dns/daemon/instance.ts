// One DNS-serving process: etcd watch -> index -> engine (+ forwarder) -> UDP/TCP server,
// with its query meter. With `workers: 1` the daemon runs one in-process; with more, each
// worker process runs its own.
import type { Etcd3 } from 'etcd3';
import { connectEtcd } from '../../datastore/client.js';
import { Keys } from '../../datastore/keys.js';
import type { Logger } from '../../log/index.js';
import { DnsEngine } from '../answer/engine.js';
import { recursionAcl } from '../forward/acl.js';
import { Forwarder } from '../forward/forwarder.js';
import { DnsIndex } from '../index/dns-index.js';
import { DnsServer } from '../server/server.js';
import { autopathHandler } from './autopath.js';
import { parseListen, resolveUpstreams, type DnsdConfig } from './config.js';
import { DnsFeed } from './feed.js';
import { lookup, type LookupResult } from './lookup.js';
import { QueryMeter, meteredHandler, type MetricsSnapshot } from './metrics.js';

export class DnsInstance {
  readonly index = new DnsIndex();
  readonly engine: DnsEngine;
  readonly forwarder: Forwarder | undefined;
  readonly meter = new QueryMeter();
  readonly server: DnsServer;
  private readonly client: Etcd3;
  readonly feed: DnsFeed;

  private constructor(private readonly cfg: DnsdConfig, private readonly log: Logger) {
    const d = cfg.dns;
    const upstreams = resolveUpstreams(d);
    const acl = recursionAcl(d.recursionAcl);
    if (!acl.ok) throw new Error(acl.error);
    this.forwarder = upstreams.length
      ? new Forwarder({
          upstreams,
          timeoutMs: d.upstreamTimeoutMs,
          cache: { maxTtl: d.cache.maxTtl, maxNegativeTtl: d.cache.maxNegativeTtl, maxEntries: d.cache.forwardMaxEntries, staleSeconds: d.cache.serveStaleSeconds },
        })
      : undefined;
    this.engine = new DnsEngine(this.index, {
      zones: d.zones, ttl: d.ttl, negativeTtl: d.negativeTtl, pods: d.pods, nameserverIps: d.nameserverIps,
      ednsBufferSize: d.ednsBufferSize, maxCacheEntries: d.cache.maxEntries, recursion: acl.allow,
      ...(this.forwarder ? { upstream: this.forwarder } : {}),
    });
    const inner = d.autopath ? autopathHandler(this.engine, this.engine, this.index, d.zones) : this.engine;
    const handler = meteredHandler(inner, this.engine, this.meter);
    this.server = new DnsServer(handler, {
      listen: d.listen.map(parseListen), tcpIdleTimeoutMs: d.tcpIdleTimeoutMs, maxTcpConnections: d.maxTcpConnections,
    });
    this.client = connectEtcd(cfg.etcd);
    this.feed = new DnsFeed(this.client, new Keys(cfg.etcd.prefix), this.index, log);
    if (upstreams.length) log.info({ upstreams: upstreams.map((u) => `${u.host}:${u.port}`) }, 'forwarding out-of-zone names');
  }

  /**
   * Listens first and watches in the background: until the index is synced the zones answer
   * SERVFAIL (clients retry) rather than the port being closed.
   */
  static async start(cfg: DnsdConfig, log: Logger): Promise<DnsInstance> {
    const inst = new DnsInstance(cfg, log);
    await inst.server.start();
    inst.feed.start().catch((e: unknown) => log.error({ err: e }, 'watch start failed'));
    return inst;
  }

  get ready(): boolean {
    return this.index.synced;
  }

  snapshot(): MetricsSnapshot {
    return {
      queries: this.meter.counters(),
      engine: this.engine.stats(),
      ...(this.forwarder ? { forward: this.forwarder.stats() } : {}),
      index: this.index.stats(),
      connected: this.feed.connected ? 1 : 0,
      processes: 1,
      synced: this.index.synced ? 1 : 0,
    };
  }

  lookup(name: string, type: string): Promise<LookupResult> {
    return lookup(this.engine, this.index, this.cfg.dns.zones, this.forwarder !== undefined, name, type);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.feed.stop();
    await this.forwarder?.close();
    this.client.close();
  }
}
