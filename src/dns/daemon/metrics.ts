// CoreDNS-named metrics at a per-query cost of a few array increments. The hot path counts
// into typed arrays (`QueryMeter`); a scrape turns a snapshot of them (summed over worker
// processes when there are several) into Prometheus series, through metric objects that build
// their values on demand instead of prom-client calls per query.
import type { Registry } from 'prom-client';
import type { EngineStats } from '../answer/engine.js';
import type { DnsEngine, Transport } from '../answer/engine.js';
import type { DnsIndexStats } from '../index/dns-index.js';
import type { QueryHandler } from '../server/server.js';
import { FORWARD_BUCKETS, type ForwarderStats } from '../forward/forwarder.js';
import { RRType } from '../wire/index.js';

/** The `type` label's values: CoreDNS's monitored types; anything else is "other". */
export const TYPE_LABELS = ['A', 'AAAA', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'SRV', 'NAPTR', 'DS', 'DNSKEY', 'HTTPS', 'SVCB', 'IXFR', 'AXFR', 'ANY', 'other'] as const;
const TYPE_CODES: Record<string, number> = { ...RRType, MX: 15, NAPTR: 35, DS: 43, DNSKEY: 48, HTTPS: 65, SVCB: 64 };
const OTHER = TYPE_LABELS.length - 1;
const typeIndex = new Uint8Array(256).fill(OTHER);
TYPE_LABELS.forEach((t, i) => {
  const c = TYPE_CODES[t];
  if (c !== undefined && c < 256) typeIndex[c] = i;
});
const typeIdx = (qtype: number): number => (qtype < 256 ? typeIndex[qtype]! : OTHER);

export const RCODE_LABELS = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'RCODE11', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15'] as const;

/** CoreDNS's request duration buckets: 0.25 ms doubling 16 times. */
export const DURATION_BUCKETS = FORWARD_BUCKETS;
const NB = DURATION_BUCKETS.length;
const NT = TYPE_LABELS.length;

/** Plain counters of one process; JSON-serialisable so workers can send them. */
export interface QueryCounters {
  /** [proto udp=0/tcp=1][family v4=0/v6=1][type]. */
  requests: number[];
  /** By the rcode in the response header. */
  responses: number[];
  /** [type][bucket] non-cumulative counts, with +Inf as bucket NB. */
  durations: number[];
  durationSums: number[];
}

export class QueryMeter {
  readonly requests = new Float64Array(2 * 2 * NT);
  readonly responses = new Float64Array(16);
  readonly durations = new Float64Array(NT * (NB + 1));
  readonly durationSums = new Float64Array(NT);

  /** Counts one answered query: `t0` from performance.now() when it arrived. */
  record(res: Buffer, transport: Transport, client: string | undefined, qtype: number, t0: number): void {
    const t = typeIdx(qtype);
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d and is family 1.
    const v6 = client !== undefined && client.includes(':') && !client.startsWith('::ffff:');
    this.requests[((transport === 'tcp' ? 1 : 0) * 2 + (v6 ? 1 : 0)) * NT + t]!++;
    this.responses[res[3]! & 0xf]!++;
    const secs = (performance.now() - t0) / 1000;
    let b = 0;
    while (b < NB && secs > DURATION_BUCKETS[b]!) b++;
    this.durations[t * (NB + 1) + b]!++;
    this.durationSums[t]! += secs;
  }

  counters(): QueryCounters {
    return {
      requests: Array.from(this.requests), responses: Array.from(this.responses),
      durations: Array.from(this.durations), durationSums: Array.from(this.durationSums),
    };
  }
}

/** Wraps the handler (the engine, or autopath around it): answers unchanged, each one counted. */
export function meteredHandler(inner: QueryHandler, engine: DnsEngine, meter: QueryMeter): QueryHandler {
  return {
    handle(msg: Buffer, transport: Transport, client?: string) {
      const t0 = performance.now();
      const res = inner.handle(msg, transport, client);
      if (res === null) return res;
      // Read now: the engine's parse state belongs to the next query once this returns.
      const qtype = engine.lastQuery.questionEnd ? engine.lastQuery.qtype : 0;
      if (res instanceof Uint8Array) {
        meter.record(res, transport, client, qtype, t0);
        return res;
      }
      return res.then((b) => {
        if (b) meter.record(b, transport, client, qtype, t0);
        return b;
      });
    },
  };
}

/** Everything a scrape reports, from one process or summed over workers. */
export interface MetricsSnapshot {
  queries: QueryCounters;
  engine: EngineStats;
  forward?: ForwarderStats;
  index: DnsIndexStats;
  /** Watchers connected to etcd (all four = 1 per process). */
  connected: number;
  processes: number;
  synced: number;
}

const addArr = (a: number[], b: number[]): number[] => a.map((x, i) => x + (b[i] ?? 0));
const addRec = (a: Record<string | number, number>, b: Record<string | number, number>): Record<string, number> => {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** Sums worker snapshots (counters add; per-upstream stats are matched by address). */
export function sumSnapshots(list: MetricsSnapshot[]): MetricsSnapshot | undefined {
  if (list.length === 0) return undefined;
  return list.reduce((a, b) => ({
    queries: {
      requests: addArr(a.queries.requests, b.queries.requests), responses: addArr(a.queries.responses, b.queries.responses),
      durations: addArr(a.queries.durations, b.queries.durations), durationSums: addArr(a.queries.durationSums, b.queries.durationSums),
    },
    engine: {
      ...addRec(a.engine as unknown as Record<string, number>, { ...b.engine, rcodes: 0 } as unknown as Record<string, number>),
      rcodes: addRec(a.engine.rcodes, b.engine.rcodes),
    } as unknown as EngineStats,
    ...(a.forward && b.forward
      ? {
          forward: {
            cacheHits: a.forward.cacheHits + b.forward.cacheHits, cacheHitsDenial: a.forward.cacheHitsDenial + b.forward.cacheHitsDenial, cacheMisses: a.forward.cacheMisses + b.forward.cacheMisses,
            cacheEntries: a.forward.cacheEntries + b.forward.cacheEntries, staleServed: a.forward.staleServed + b.forward.staleServed,
            failures: a.forward.failures + b.forward.failures, maxConcurrentRejects: a.forward.maxConcurrentRejects + b.forward.maxConcurrentRejects,
            upstreams: a.forward.upstreams.map((u, i) => {
              const v = b.forward!.upstreams[i]!;
              return {
                ...u, requests: u.requests + v.requests, responses: addRec(u.responses, v.responses), buckets: addArr(u.buckets, v.buckets),
                durationSum: u.durationSum + v.durationSum, durationCount: u.durationCount + v.durationCount,
                tcpRetries: u.tcpRetries + v.tcpRetries, healthy: u.healthy && v.healthy,
              };
            }),
          },
        }
      : {}),
    // Every worker holds the whole index: report one copy, not the sum.
    index: a.index,
    connected: a.connected + b.connected,
    processes: a.processes + b.processes,
    synced: a.synced + b.synced,
  }));
}

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/** A registry entry whose values are computed at scrape time from the snapshot. */
function lazyMetric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: (s: MetricsSnapshot) => Sample[], snap: () => Promise<MetricsSnapshot | undefined>) {
  return {
    name, help, type, aggregator: 'sum' as const,
    async get() {
      const s = await snap();
      return { name, help, type, aggregator: 'sum' as const, values: s ? values(s) : [] };
    },
    reset() {},
  };
}

/**
 * Registers the CoreDNS-named series. `source` is asked once per scrape (calls within 200 ms
 * share a snapshot). `server` is CoreDNS's server label, e.g. "dns://:53"; the zone label is
 * "." as for CoreDNS's single root server block.
 */
export function registerDnsMetrics(registry: Registry, server: string, source: () => MetricsSnapshot | undefined | Promise<MetricsSnapshot | undefined>): void {
  let cached: { at: number; p: Promise<MetricsSnapshot | undefined> } | undefined;
  const snap = (): Promise<MetricsSnapshot | undefined> => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, p: Promise.resolve(source()) };
    return cached.p;
  };
  const zone = '.';
  const add = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', f: (s: MetricsSnapshot) => Sample[]): void => {
    registry.registerMetric(lazyMetric(name, help, type, f, snap) as never);
  };

  add('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', 'counter', (s) => {
    const out: Sample[] = [];
    for (let p = 0; p < 2; p++) for (let f = 0; f < 2; f++) for (let t = 0; t < NT; t++) {
      const v = s.queries.requests[(p * 2 + f) * NT + t]!;
      if (v) out.push({ labels: { server, zone, proto: p ? 'tcp' : 'udp', family: f ? '2' : '1', type: TYPE_LABELS[t]! }, value: v });
    }
    return out;
  });
  add('coredns_dns_responses_total', 'Counter of response status codes.', 'counter', (s) =>
    s.queries.responses.flatMap((v, r) => (v ? [{ labels: { server, zone, rcode: RCODE_LABELS[r]! }, value: v }] : [])));
  add('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', 'histogram', (s) => {
    const out: Sample[] = [];
    for (let t = 0; t < NT; t++) {
      let cum = 0;
      const base = t * (NB + 1);
      let total = 0;
      for (let b = 0; b <= NB; b++) total += s.queries.durations[base + b]!;
      if (!total) continue;
      const labels = { server, zone, type: TYPE_LABELS[t]! };
      for (let b = 0; b < NB; b++) {
        cum += s.queries.durations[base + b]!;
        out.push({ labels: { ...labels, le: DURATION_BUCKETS[b]! }, value: cum, metricName: 'coredns_dns_request_duration_seconds_bucket' });
      }
      out.push({ labels: { ...labels, le: '+Inf' }, value: total, metricName: 'coredns_dns_request_duration_seconds_bucket' });
      out.push({ labels, value: s.queries.durationSums[t]!, metricName: 'coredns_dns_request_duration_seconds_sum' });
      out.push({ labels, value: total, metricName: 'coredns_dns_request_duration_seconds_count' });
    }
    return out;
  });
  // Cache: the answer cache of our zones and the forwarded-answer cache, as CoreDNS's one cache.
  add('coredns_cache_hits_total', 'The count of cache hits.', 'counter', (s) => {
    const denial = s.engine.cacheHitsDenial + (s.forward?.cacheHitsDenial ?? 0);
    return [
      { labels: { server, type: 'success' }, value: s.engine.cacheHits + (s.forward?.cacheHits ?? 0) - denial },
      { labels: { server, type: 'denial' }, value: denial },
    ];
  });
  add('coredns_cache_misses_total', 'The count of cache misses.', 'counter', (s) => [
    { labels: { server }, value: s.engine.cacheMisses + (s.forward?.cacheMisses ?? 0) },
  ]);
  add('coredns_cache_entries', 'The number of elements in the cache.', 'gauge', (s) => [
    { labels: { server, type: 'zone' }, value: s.engine.cacheEntries },
    { labels: { server, type: 'forward' }, value: s.forward?.cacheEntries ?? 0 },
  ]);
  add('coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', 'counter', (s) => [
    { labels: { server }, value: s.forward?.staleServed ?? 0 },
  ]);
  add('coredns_panics_total', 'A metrics that counts the number of panics.', 'counter', (s) => [{ labels: {}, value: s.engine.internalErrors }]);
  add('coredns_forward_requests_total', 'Counter of requests made per upstream.', 'counter', (s) =>
    (s.forward?.upstreams ?? []).map((u) => ({ labels: { to: u.to }, value: u.requests })));
  add('coredns_forward_responses_total', 'Counter of responses received per upstream.', 'counter', (s) =>
    (s.forward?.upstreams ?? []).flatMap((u) => Object.entries(u.responses).map(([rcode, v]) => ({ labels: { to: u.to, rcode }, value: v }))));
  add('coredns_forward_request_duration_seconds', 'Histogram of the time each request took.', 'histogram', (s) =>
    (s.forward?.upstreams ?? []).flatMap((u): Sample[] => [
      ...u.buckets.map((v, b) => ({ labels: { to: u.to, le: FORWARD_BUCKETS[b]! }, value: v, metricName: 'coredns_forward_request_duration_seconds_bucket' })),
      { labels: { to: u.to, le: '+Inf' }, value: u.durationCount, metricName: 'coredns_forward_request_duration_seconds_bucket' },
      { labels: { to: u.to }, value: u.durationSum, metricName: 'coredns_forward_request_duration_seconds_sum' },
      { labels: { to: u.to }, value: u.durationCount, metricName: 'coredns_forward_request_duration_seconds_count' },
    ]));
  add('coredns_forward_healthcheck_broken_total', 'Counter of the number of complete failures of the upstreams.', 'counter', (s) => [
    { labels: {}, value: s.forward?.failures ?? 0 },
  ]);
  add('coredns_forward_max_concurrent_rejects_total', 'Counter of the number of queries rejected because the concurrent queries were at maximum.', 'counter', (s) => [
    { labels: {}, value: s.forward?.maxConcurrentRejects ?? 0 },
  ]);
  add('coredns_kubernetes_dns_programming_objects', 'Objects in the DNS index by kind.', 'gauge', (s) => [
    { labels: { kind: 'service' }, value: s.index.services },
    { labels: { kind: 'endpointslice' }, value: s.index.slices },
    { labels: { kind: 'endpoint' }, value: s.index.endpoints },
    { labels: { kind: 'pod' }, value: s.index.pods },
    { labels: { kind: 'namespace' }, value: s.index.namespaces },
  ]);
  add('tern_dnsd_datastore_connected', 'Whether every etcd watcher of every DNS process is connected (1) or not (0).', 'gauge', (s) => [
    { labels: {}, value: s.connected === s.processes ? 1 : 0 },
  ]);
  add('tern_dnsd_synced', 'DNS processes whose index has completed its initial listing.', 'gauge', (s) => [{ labels: {}, value: s.synced }]);
}
