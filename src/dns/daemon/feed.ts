// etcd -> DnsIndex: one PrefixWatcher per kind dnsd answers from, each batch mapped to index
// events. The index is marked synced once every watcher has delivered its initial list; after
// that a lost etcd only stops updates (the watchers resume by themselves) while answers go on
// from the index — the CoreDNS etcd plugin instead SERVFAILs while etcd is down.
import type { Etcd3 } from 'etcd3';
import type { Keys } from '../../datastore/keys.js';
import { PrefixWatcher, WatchStates, type WatchEvent } from '../../datastore/watch.js';
import type { Logger } from '../../log/index.js';
import { storedDecoder, type Resource } from '../../resources/index.js';
import type { DnsIndex, DnsKind, IndexEvent } from '../index/dns-index.js';

export const DNS_KINDS: readonly DnsKind[] = ['Namespace', 'Service', 'EndpointSlice', 'WorkloadEndpoint'];

/** Maps one watcher batch to index events; keys that do not parse as `kind` are skipped. */
export function toIndexEvents(keys: Keys, kind: DnsKind, batch: readonly WatchEvent<Resource>[]): IndexEvent[] {
  const out: IndexEvent[] = [];
  for (const ev of batch) {
    if (ev.type === 'put') out.push({ type: 'put', kind, obj: ev.value });
    else if (ev.type === 'delete') {
      const ref = keys.parseResource(ev.key);
      if (!ref || ref.kind !== kind) continue;
      out.push({ type: 'delete', kind, name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) });
    }
  }
  return out;
}

export class DnsFeed {
  private readonly watchers: PrefixWatcher<Resource>[] = [];
  private readonly syncedKinds = new Set<DnsKind>();
  /** Wall-clock ms of the last batch that changed the index (for programming latency). */
  lastBatchAt = 0;

  constructor(
    client: Etcd3,
    private readonly keys: Keys,
    private readonly index: DnsIndex,
    private readonly log: Logger,
  ) {
    for (const kind of DNS_KINDS) {
      const w = new PrefixWatcher<Resource>(client, keys.kindPrefix(kind), {
        decode: storedDecoder(keys, kind),
        logger: log,
        name: kind,
      });
      w.onBatch((batch) => this.onBatch(kind, batch));
      this.watchers.push(w);
    }
  }

  /** Starts watching; resolves once every kind is listed (may take forever while etcd is down). */
  async start(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop().catch(() => undefined)));
  }

  /** Every watcher has an open watch stream on etcd. */
  get connected(): boolean {
    return this.watchers.every((w) => w.state === WatchStates.watching);
  }

  get synced(): boolean {
    return this.index.synced;
  }

  private onBatch(kind: DnsKind, batch: WatchEvent<Resource>[]): void {
    const events = toIndexEvents(this.keys, kind, batch);
    if (events.length) {
      this.index.applyBatch(events);
      this.lastBatchAt = Date.now();
    }
    if (!this.index.synced && batch.some((e) => e.type === 'synced')) {
      this.syncedKinds.add(kind);
      if (this.syncedKinds.size === DNS_KINDS.length) {
        this.index.markSynced();
        this.log.info({ ...this.index.stats() }, 'index synced');
      }
    }
  }
}
