// kube-sync: mirrors Kubernetes Namespaces, Services, EndpointSlices and NetworkPolicies into
// etcd, and merges Pods' labels (and the few pod fields Tern needs) into the WorkloadEndpoints
// agentd created. One informer per kind; every write goes through Store.apply, which validates
// and skips unchanged objects.
//
// Ownership: kube-sync marks what it writes (annotation tern.dev/synced-from: kubernetes) and
// deletes only marked objects — on a DELETED event and in the sweep after every (re-)list,
// which removes marked objects the list no longer holds (deletions missed while the watch was
// broken). Objects written by `tern apply` carry no mark and are never deleted by it.
// WorkloadEndpoints belong to agentd: kube-sync never creates, marks or deletes one.
import type { Counter, Registry } from 'prom-client';
import { Counter as PromCounter } from 'prom-client';
import type { Store } from '../datastore/store.js';
import { isTernError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { logger } from '../log/index.js';
import type { WorkloadEndpoint } from '../resources/index.js';
import { Informer, type InformerDelivery, type InformerOptions, type InformerStats } from './informer.js';
import type { KubeApi } from './kubeapi.js';
import {
  isSynced,
  KUBE_KINDS,
  KUBE_RESOURCES,
  mergePodIntoWep,
  objectKey,
  translate,
  type KubeKind,
  type KubeObject,
  type MirroredKind,
  type WepLike,
} from './translate.js';

/** An API object Tern could not store: reported, skipped, and the controller goes on. */
export interface InvalidObject {
  kind: KubeKind;
  key: string;
  error: string;
}

export interface KubeSyncOptions extends InformerOptions {
  api: KubeApi;
  store: Store;
  /** Which kinds to follow; all five by default. */
  kinds?: readonly KubeKind[];
  registry?: Registry;
  onInvalid?: (o: InvalidObject) => void;
}

export interface KubeSyncStats {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  swept: number;
  invalid: number;
  podsMerged: number;
  podsWithoutEndpoint: number;
  informers: Partial<Record<KubeKind, InformerStats>>;
}

const POD_MERGE_ATTEMPTS = 5;

const isMirrored = (k: KubeKind): k is MirroredKind => k !== 'Pod';

export class KubeSync {
  private readonly log: Logger;
  private readonly informers: Informer[];
  private readonly counts = { created: 0, updated: 0, unchanged: 0, deleted: 0, swept: 0, invalid: 0, podsMerged: 0, podsWithoutEndpoint: 0 };
  private readonly metrics: { writes: Counter<'kind' | 'action'>; invalid: Counter<'kind'> } | undefined;
  private ready = false;

  constructor(private readonly opts: KubeSyncOptions) {
    this.log = opts.log ?? logger('kubesync');
    const kinds = opts.kinds ?? KUBE_KINDS;
    this.informers = kinds.map((kind) => new Informer(opts.api, kind, (d) => this.deliver(kind, d), { ...opts, log: this.log }));
    if (opts.registry) {
      this.metrics = {
        writes: new PromCounter({ name: 'tern_kubesync_writes_total', help: 'etcd writes by kind and action (created, updated, unchanged, deleted, swept, merged)', labelNames: ['kind', 'action'], registers: [opts.registry] }),
        invalid: new PromCounter({ name: 'tern_kubesync_invalid_objects_total', help: 'Kubernetes objects Tern could not store', labelNames: ['kind'], registers: [opts.registry] }),
      };
    }
  }

  /** Resolves when every kind's first list is in etcd (the daemon is ready then). */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    // start() also resolves when stop() came first; ready means every kind was listed.
    if (this.informers.some((i) => i.stats().lists === 0)) return;
    this.ready = true;
    this.log.info({ kinds: this.informers.map((i) => i.kind) }, 'initial sync done');
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  get synced(): boolean {
    return this.ready;
  }

  stats(): KubeSyncStats {
    return { ...this.counts, informers: Object.fromEntries(this.informers.map((i) => [i.kind, i.stats()])) };
  }

  private count(kind: KubeKind, action: 'created' | 'updated' | 'unchanged' | 'deleted' | 'swept'): void {
    this.counts[action]++;
    this.metrics?.writes.inc({ kind, action });
  }

  private invalid(kind: KubeKind, o: KubeObject, error: string): void {
    this.counts.invalid++;
    this.metrics?.invalid.inc({ kind });
    const info = { kind, key: objectKey(o), error };
    this.log.warn(info, 'skipping an object Tern cannot store');
    this.opts.onInvalid?.(info);
  }

  private async deliver(kind: KubeKind, d: InformerDelivery): Promise<void> {
    if (kind === 'Pod') {
      if (d.type === 'list') for (const p of d.items) await this.mergePod(p);
      else if (d.type !== 'DELETED') await this.mergePod(d.object);
      // A deleted pod's endpoint is removed by agentd on CNI DEL, not here.
      return;
    }
    if (!isMirrored(kind)) return;
    if (d.type === 'list') {
      const present = new Set<string>();
      for (const o of d.items) {
        // Present in the API counts even when invalid: the last good copy in etcd is kept.
        present.add(objectKey(o));
        await this.upsert(kind, o);
      }
      await this.sweep(kind, present);
    } else if (d.type === 'DELETED') {
      await this.remove(kind, d.object);
    } else {
      await this.upsert(kind, d.object);
    }
  }

  private async upsert(kind: MirroredKind, o: KubeObject): Promise<void> {
    const t = translate(kind, o);
    if (!t.ok) return this.invalid(kind, o, t.error);
    try {
      const r = await this.opts.store.apply(t.doc);
      this.count(kind, r.action);
      if (r.action !== 'unchanged') this.log.debug({ kind, key: objectKey(o), action: r.action }, 'synced');
    } catch (e) {
      if (isTernError(e, 'TERN_ERR_VALIDATION')) return this.invalid(kind, o, e.message.replaceAll('\n', '; '));
      throw e;
    }
  }

  private async remove(kind: MirroredKind, o: KubeObject): Promise<void> {
    const m = o.metadata ?? {};
    if (!m.name) return;
    const ns = KUBE_RESOURCES[kind].namespaced ? m.namespace : undefined;
    const cur = await this.opts.store.get(kind, m.name, ns);
    if (!cur || !isSynced(cur)) return;
    await this.deleteQuietly(kind, m.name, ns, 'deleted');
  }

  /** Deletes marked objects of `kind` that the latest list no longer holds. */
  private async sweep(kind: MirroredKind, present: ReadonlySet<string>): Promise<void> {
    const { items } = await this.opts.store.list(kind);
    for (const obj of items) {
      const key = 'namespace' in obj.metadata && obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
      if (present.has(key) || !isSynced(obj)) continue;
      const ns = 'namespace' in obj.metadata ? obj.metadata.namespace : undefined;
      await this.deleteQuietly(kind, obj.metadata.name, ns, 'swept');
      this.log.info({ kind, key }, 'swept: gone from the API');
    }
  }

  private async deleteQuietly(kind: MirroredKind, name: string, ns: string | undefined, action: 'deleted' | 'swept'): Promise<void> {
    try {
      await this.opts.store.delete(kind, name, ns);
      this.count(kind, action);
    } catch (e) {
      if (!isTernError(e, 'TERN_ERR_NOT_FOUND')) throw e;
    }
  }

  private async mergePod(pod: KubeObject): Promise<void> {
    const m = pod.metadata ?? {};
    if (!m.name || !m.namespace) return this.invalid('Pod', pod, 'metadata.name and metadata.namespace are required');
    for (let attempt = 0; attempt < POD_MERGE_ATTEMPTS; attempt++) {
      const wep = (await this.opts.store.get('WorkloadEndpoint', m.name, m.namespace)) as WorkloadEndpoint | undefined;
      if (!wep) {
        // Pods on other CNIs, host-network pods and pods not yet wired have no endpoint; the
        // pod's next update (the kubelet writes its IPs after CNI ADD) merges it then.
        this.counts.podsWithoutEndpoint++;
        return;
      }
      const r = mergePodIntoWep(pod, wep as unknown as WepLike);
      if (r.action === 'skip') return;
      try {
        const w = await this.opts.store.apply(r.doc);
        if (w.action !== 'unchanged') {
          this.counts.podsMerged++;
          this.metrics?.writes.inc({ kind: 'Pod', action: 'merged' });
        } else this.count('Pod', 'unchanged');
        return;
      } catch (e) {
        // agentd wrote the endpoint between our read and write (the write compares the
        // resourceVersion read): read it again and merge into the new one.
        if (isTernError(e, 'TERN_ERR_CONFLICT') || isTernError(e, 'TERN_ERR_NOT_FOUND')) continue;
        if (isTernError(e, 'TERN_ERR_VALIDATION')) return this.invalid('Pod', pod, e.message.replaceAll('\n', '; '));
        throw e;
      }
    }
    this.log.warn({ pod: objectKey(pod) }, 'endpoint kept changing; merge left to the next pod event');
  }
}
