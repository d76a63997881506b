// List + watch of one Kubernetes resource, the way client-go's reflector does it: list every
// page at one resourceVersion, hand the whole list over, watch from that resourceVersion, follow
// bookmarks, resume a broken watch from the last version seen, and list again when the API
// server answers 410 Gone (the version fell out of its watch cache) — in the first response
// or as an ERROR event inside the stream.
//
// The handler is awaited for every delivery, so one informer's deliveries never overlap. A
// handler that throws (etcd down) makes the informer list again after a backoff: a re-list
// converges whatever was missed, where replaying single events could not.
import type { Logger } from '../log/index.js';
import { logger } from '../log/index.js';
import { KubeApiError, type KubeApi, type WatchHandle } from './kubeapi.js';
import { KUBE_RESOURCES, type KubeKind, type KubeObject } from './translate.js';

export type InformerDelivery =
  | { type: 'list'; items: KubeObject[]; resourceVersion: string; relist: boolean }
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };

export interface InformerOptions {
  log?: Logger;
  /** First retry delay after a failure, doubling up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Objects per list page. */
  pageSize?: number;
  /** Server-side watch timeout; a watch that ends cleanly is resumed at once. */
  watchTimeoutSeconds?: number;
}

export interface InformerStats {
  lists: number;
  relists: number;
  expired: number;
  watches: number;
  events: number;
  bookmarks: number;
  failures: number;
  resourceVersion: string | undefined;
}

type WatchOutcome = { outcome: 'closed' | 'expired' | 'failed'; error?: unknown };

export class Informer {
  private readonly log: Logger;
  private readonly path: string;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private current: WatchHandle | undefined;
  private wake: (() => void) | undefined;
  private rv: string | undefined;
  private readonly s: Omit<InformerStats, 'resourceVersion'> = { lists: 0, relists: 0, expired: 0, watches: 0, events: 0, bookmarks: 0, failures: 0 };
  private firstList: { resolve: () => void; promise: Promise<void> };

  constructor(
    private readonly api: KubeApi,
    readonly kind: KubeKind,
    private readonly handler: (d: InformerDelivery) => Promise<void>,
    private readonly opts: InformerOptions = {},
  ) {
    this.log = (opts.log ?? logger('kubesync')).child({ informer: kind });
    this.path = KUBE_RESOURCES[kind].path;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstList = { resolve, promise };
  }

  /** Starts the loop; the promise resolves once the first list has been handled. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.firstList.promise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    this.firstList.resolve();
    await this.loop;
  }

  stats(): InformerStats {
    return { ...this.s, resourceVersion: this.rv };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const base = this.opts.retryDelayMs ?? 200;
    const cap = this.opts.maxRetryDelayMs ?? 30_000;
    let delay = base;
    const backoff = async () => {
      // ±20 % jitter so informers failing together do not retry together.
      await this.sleep(delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(delay * 2, cap);
    };
    let listed = false;
    while (!this.stopped) {
      if (this.rv === undefined) {
        try {
          const { items, resourceVersion } = await this.listAll();
          if (this.stopped) break;
          await this.handler({ type: 'list', items, resourceVersion, relist: listed });
          this.s.lists++;
          if (listed) this.s.relists++;
          listed = true;
          this.rv = resourceVersion;
          this.firstList.resolve();
          delay = base;
        } catch (e) {
          if (this.stopped) break;
          this.s.failures++;
          this.log.warn({ err: errText(e) }, 'list failed; retrying');
          await backoff();
          continue;
        }
      }
      const r = await this.watchOnce(this.rv);
      if (this.stopped) break;
      if (r.outcome === 'expired') {
        this.s.expired++;
        this.log.info({ resourceVersion: this.rv }, 'watch expired (410 Gone); listing again');
        this.rv = undefined;
      } else if (r.outcome === 'failed') {
        this.s.failures++;
        this.log.warn({ err: errText(r.error), resourceVersion: this.rv }, 'watch failed; retrying');
        await backoff();
      } else {
        delay = base;
      }
    }
  }

  /** Every page at the first page's resourceVersion; an expired continue token restarts. */
  private async listAll(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const { apiVersion } = KUBE_RESOURCES[this.kind];
    const limit = this.opts.pageSize ?? 500;
    for (;;) {
      const items: KubeObject[] = [];
      let rv: string | undefined;
      let cont: string | undefined;
      try {
        do {
          const page = await this.api.list(this.path, { limit, ...(cont ? { continue: cont } : {}) });
          rv ??= page.resourceVersion;
          // List items come without apiVersion and kind; watch events carry them.
          for (const it of page.items) items.push({ ...it, apiVersion, kind: this.kind });
          cont = page.continue;
        } while (cont && !this.stopped);
      } catch (e) {
        // A continue token outlives the compaction window only so long (HTTP 410): start over.
        if (e instanceof KubeApiError && e.statusCode === 410 && cont) continue;
        throw e;
      }
      return { items, resourceVersion: rv! };
    }
  }

  private watchOnce(resourceVersion: string): Promise<WatchOutcome> {
    const { apiVersion } = KUBE_RESOURCES[this.kind];
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    return new Promise<WatchOutcome>((resolve) => {
      let chain = Promise.resolve();
      let outcome: WatchOutcome | undefined;
      let settled = false;
      const finish = (o: WatchOutcome) => {
        outcome ??= o;
        this.current?.abort();
        // Events already queued are handled before the watch counts as ended.
        void chain.then(() => {
          if (settled) return;
          settled = true;
          this.current = undefined;
          resolve(outcome!);
        });
      };
      this.s.watches++;
      this.api
        .watch(
          this.path,
          { resourceVersion, timeoutSeconds },
          (ev) => {
            if (outcome) return;
            if (ev.type === 'ERROR') {
              const st = ev.object as { code?: number; reason?: string; message?: string };
              if (st.code === 410 || st.reason === 'Expired' || st.reason === 'Gone') finish({ outcome: 'expired' });
              else finish({ outcome: 'failed', error: new KubeApiError(`watch ${this.path}: ${st.message ?? 'error event'}`, st.code, st.reason) });
              return;
            }
            const evRv = ev.object?.metadata?.resourceVersion;
            if (ev.type === 'BOOKMARK') {
              this.s.bookmarks++;
              chain = chain.then(() => {
                if (evRv) this.rv = evRv;
              });
              return;
            }
            if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return;
            this.s.events++;
            const object: KubeObject = { ...ev.object, apiVersion: ev.object.apiVersion ?? apiVersion, kind: ev.object.kind ?? this.kind };
            chain = chain.then(async () => {
              if (outcome) return;
              try {
                await this.handler({ type: ev.type as 'ADDED' | 'MODIFIED' | 'DELETED', object });
                if (evRv) this.rv = evRv;
              } catch (e) {
                // The event is not marked as seen: list again so nothing is lost.
                this.rv = undefined;
                finish({ outcome: 'failed', error: e });
              }
            });
          },
          (err) => {
            if (!err) finish({ outcome: 'closed' });
            else if (err.statusCode === 410) finish({ outcome: 'expired' });
            else finish({ outcome: 'failed', error: err });
          },
        )
        .then(
          (h) => {
            this.current = h;
            if (outcome || this.stopped) h.abort();
          },
          (e: unknown) => finish({ outcome: 'failed', error: e }),
        );
    });
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
