// Shared pieces of the watch tests: reading etcd's own view, waiting for a condition, and a
// recorder that checks every delivered batch as it arrives.
import type { Etcd3, MultiRangeBuilder } from 'etcd3';
import type { WatchEvent } from '../../src/datastore/watch.js';

export type View = Map<string, { value: string; modRevision: number }>;

export const str = (_k: string, v: Buffer): { ok: true; value: string } => ({ ok: true, value: v.toString() });

/** etcd's own view of a prefix (optionally at a past revision), in the watcher's shape. */
export async function etcdView(client: Etcd3, prefix: string, revision?: number): Promise<View> {
  let b = client.getAll().prefix(prefix);
  if (revision !== undefined) b = b.revision(revision);
  const res = await b.exec();
  const out: View = new Map();
  for (const kv of res.kvs) out.set(kv.key.toString(), { value: kv.value.toString(), modRevision: Number(kv.mod_revision) });
  return out;
}

export function plain(view: ReadonlyMap<string, { value: string; modRevision: number }>): View {
  const out: View = new Map();
  for (const [k, e] of view) out.set(k, { value: e.value, modRevision: e.modRevision });
  return out;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Records batches and checks, per key, that delivered mod revisions strictly increase, and
 * counts how often each revision was delivered (a write of one key has a revision of its own).
 */
export class Recorder<T> {
  readonly batches: WatchEvent<T>[][] = [];
  readonly violations: string[] = [];
  /** Deliveries per mod revision, for events that came from the watch (not from a list). */
  readonly watchedRevisions = new Map<number, number>();
  private readonly lastRev = new Map<string, number>();
  private syncs = 0;
  onBatch?: (batch: WatchEvent<T>[]) => void;

  readonly handler = (batch: WatchEvent<T>[]): void => {
    this.batches.push(batch);
    const isList = batch.some((e) => e.type === 'synced');
    if (isList) this.syncs++;
    for (const e of batch) {
      if (e.type === 'synced') continue;
      const last = this.lastRev.get(e.key) ?? 0;
      if (e.modRevision <= last) this.violations.push(`${e.key}: revision ${e.modRevision} after ${last}`);
      this.lastRev.set(e.key, e.modRevision);
      if (!isList) this.watchedRevisions.set(e.modRevision, (this.watchedRevisions.get(e.modRevision) ?? 0) + 1);
    }
    this.onBatch?.(batch);
  };

  get syncCount(): number {
    return this.syncs;
  }

  events(): WatchEvent<T>[] {
    return this.batches.flat();
  }
}

/**
 * A client whose range reads first run `beforeRead`: used to land writes between the pages of
 * a list, deterministically.
 */
export function interleavingClient(real: Etcd3, beforeRead: () => Promise<void>): Etcd3 {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'getAll') return () => wrapBuilder(target.getAll(), beforeRead);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function wrapBuilder(b: MultiRangeBuilder, beforeRead: () => Promise<void>): MultiRangeBuilder {
  const proxy: MultiRangeBuilder = new Proxy(b, {
    get(target, prop) {
      if (prop === 'exec') return async () => {
        await beforeRead();
        return target.exec();
      };
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(target, args);
        return r === target ? proxy : r;
      };
    },
  });
  return proxy;
}
