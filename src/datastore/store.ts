// The typed resource store: validated objects in etcd, one key per object (keys.ts), JSON in
// Kubernetes object form. Every write is one etcd transaction that compares what it read, so a
// concurrent writer makes it retry (or fail with a conflict) instead of silently overwriting.
import { randomUUID } from 'node:crypto';
import { CompareResult, CompareTarget, type Etcd3, type ICompare, type IKeyValue } from 'etcd3';
import { isTernError, TernError } from '../errors/index.js';
import { logger } from '../log/index.js';
import { cidrOverlaps, parseCidr } from '../net/ip.js';
import {
  decodeStored,
  describeRef,
  encodeStored,
  KINDS,
  refOf,
  validateResource,
  type Kind,
  type ObjectRef,
  type Resource,
  type ResourceOf,
} from '../resources/registry.js';
import type { IPPool } from '../resources/kinds/ippool.js';
import type { Keys } from './keys.js';

export type WriteAction = 'created' | 'updated' | 'unchanged';

export interface WriteResult<T extends Resource = Resource> {
  action: WriteAction;
  /** etcd revision of the write (for `unchanged`, the object's current mod_revision). */
  revision: string;
  /** The object as stored, with metadata.resourceVersion set. */
  object: T;
}

type Mode = 'apply' | 'create' | 'update';

const MAX_ATTEMPTS = 32;

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i] = b[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** JSON with object keys sorted: equal objects give equal strings whatever their key order. */
function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Kubernetes writes timestamps in RFC 3339 without fractional seconds. */
const nowTimestamp = (): string => `${new Date().toISOString().slice(0, 19)}Z`;

function notFound(r: ObjectRef): TernError {
  return new TernError('TERN_ERR_NOT_FOUND', `${describeRef(r)} not found`);
}

export class Store {
  private readonly log = logger('store');

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
  ) {}

  private keyOf(r: ObjectRef): string {
    return this.keys.resource(r.kind, r.name, KINDS[r.kind].namespaced ? (r.namespace ?? 'default') : undefined);
  }

  /** Runs an etcd call; anything but a TernError becomes TERN_ERR_DATASTORE. */
  private async etcd<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isTernError(e)) throw e;
      const msg = (e as Error).message.replace(/\s*Resolution note:\s*$/, '');
      throw new TernError('TERN_ERR_DATASTORE', `etcd ${what}: ${msg}`, { cause: e });
    }
  }

  private decode<K extends Kind>(kind: K, kv: IKeyValue): ResourceOf<K> | TernError {
    const r = decodeStored(kind, kv.value, kv.mod_revision);
    return r.ok ? r.value : new TernError('TERN_ERR_DATASTORE', `stored value at ${kv.key.toString()} is invalid: ${r.error.message}`, { cause: r.error });
  }

  /** The object, or undefined when it does not exist. Namespaced kinds default to "default". */
  async get<K extends Kind>(kind: K, name: string, namespace?: string): Promise<ResourceOf<K> | undefined> {
    const key = this.keyOf({ kind, name, namespace });
    const res = await this.etcd(`get ${key}`, () => this.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    if (!kv) return undefined;
    const obj = this.decode(kind, kv);
    if (obj instanceof TernError) throw obj;
    return obj;
  }

  /**
   * Every object of a kind (in one namespace, or all when `namespace` is omitted), sorted by
   * namespace and name, with the etcd revision the list was read at (the place to start a watch
   * from). Values that no longer validate are skipped and logged.
   */
  async list<K extends Kind>(kind: K, namespace?: string): Promise<{ items: ResourceOf<K>[]; revision: string }> {
    const prefix = KINDS[kind].namespaced && namespace !== undefined ? this.keys.namespacePrefix(kind, namespace) : this.keys.kindPrefix(kind);
    const res = await this.etcd(`list ${prefix}`, () => this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }));
    const items: ResourceOf<K>[] = [];
    for (const kv of res.kvs) {
      if (!this.keys.parseResource(kv.key.toString())) continue;
      const obj = this.decode(kind, kv);
      if (obj instanceof TernError) this.log.warn({ key: kv.key.toString(), err: obj.message }, 'skipping invalid stored object');
      else items.push(obj);
    }
    return { items, revision: res.header.revision };
  }

  /** Validates and creates or updates; `unchanged` when the stored object is already equal. */
  apply(doc: unknown): Promise<WriteResult> {
    return this.write(doc, 'apply');
  }

  /** Validates and creates; TERN_ERR_CONFLICT when the object already exists. */
  create(doc: unknown): Promise<WriteResult> {
    return this.write(doc, 'create');
  }

  /**
   * Validates and replaces an existing object (TERN_ERR_NOT_FOUND if there is none). With
   * metadata.resourceVersion set, the write happens only if the stored object still has that
   * revision (compare-and-swap), else TERN_ERR_CONFLICT.
   */
  update(doc: unknown): Promise<WriteResult> {
    return this.write(doc, 'update');
  }

  /** Deletes the object and returns it as it was; TERN_ERR_NOT_FOUND if absent. */
  async delete<K extends Kind>(kind: K, name: string, namespace?: string): Promise<{ revision: string; object: ResourceOf<K> }> {
    const ref: ObjectRef = { kind, name, namespace: KINDS[kind].namespaced ? (namespace ?? 'default') : undefined };
    const key = this.keyOf(ref);
    const res = await this.etcd(`delete ${key}`, () => this.client.kv.deleteRange({ key: Buffer.from(key), prev_kv: true }));
    const prev = res.prev_kvs[0];
    if (!prev || res.deleted === '0') throw notFound(ref);
    const obj = this.decode(kind, prev);
    if (obj instanceof TernError) throw obj;
    return { revision: res.header.revision, object: obj };
  }

  private async write(doc: unknown, mode: Mode): Promise<WriteResult> {
    const v = validateResource(doc);
    if (!v.ok) throw v.error;
    const ref = refOf(v.value);
    const key = this.keyOf(ref);
    const wantRV = v.value.metadata.resourceVersion;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // A fresh copy per attempt: the preserved uid/creationTimestamp come from what was read.
      const obj = structuredClone(v.value);
      delete obj.metadata.resourceVersion;

      const compares: ICompare[] = [];
      let existing: IKeyValue | undefined;
      if (obj.kind === 'IPPool') {
        const r = await this.poolGuard(obj, key);
        existing = r.existing;
        compares.push(r.compare);
      } else {
        const res = await this.etcd(`get ${key}`, () => this.client.kv.range({ key: Buffer.from(key) }));
        existing = res.kvs[0];
      }

      if (existing) {
        if (mode === 'create') throw new TernError('TERN_ERR_CONFLICT', `${describeRef(ref)} already exists`);
        if (wantRV !== undefined && wantRV !== existing.mod_revision) {
          throw new TernError('TERN_ERR_CONFLICT', `${describeRef(ref)} was modified (resourceVersion is ${existing.mod_revision}, not ${wantRV}): read it again and retry`);
        }
        const old = this.decode(ref.kind, existing);
        if (!(old instanceof TernError)) {
          // uid and creationTimestamp belong to the object's lifetime, not to the document.
          if (old.metadata.uid !== undefined) obj.metadata.uid = old.metadata.uid;
          if (old.metadata.creationTimestamp !== undefined) obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
          delete old.metadata.resourceVersion;
          if (canonical(old) === canonical(obj)) {
            return { action: 'unchanged', revision: existing.mod_revision, object: { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.mod_revision } } as Resource };
          }
        }
        compares.push({ key: Buffer.from(key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: existing.mod_revision });
      } else {
        if (mode === 'update' || wantRV !== undefined) throw notFound(ref);
        obj.metadata.uid ??= randomUUID();
        obj.metadata.creationTimestamp ??= nowTimestamp();
        compares.push({ key: Buffer.from(key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 });
      }

      const value = encodeStored(obj);
      const res = await this.etcd(`write ${key}`, () =>
        this.client.kv.txn({ compare: compares, success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }], failure: [] }),
      );
      if (res.succeeded) {
        const revision = res.header.revision;
        return { action: existing ? 'updated' : 'created', revision, object: { ...obj, metadata: { ...obj.metadata, resourceVersion: revision } } as Resource };
      }
      this.log.debug({ key, attempt }, 'write lost a race; retrying');
    }
    throw new TernError('TERN_ERR_CONFLICT', `${describeRef(ref)}: still racing with other writers after ${MAX_ATTEMPTS} attempts`);
  }

  /**
   * Reads every pool, rejects an overlap, and returns a compare that holds only while no pool
   * key has changed since this read: two overlapping pools written at once cannot both pass,
   * because the second transaction sees the first one's key with a newer mod_revision.
   */
  private async poolGuard(pool: IPPool, key: string): Promise<{ existing: IKeyValue | undefined; compare: ICompare }> {
    const prefix = this.keys.kindPrefix('IPPool');
    const res = await this.etcd(`list ${prefix}`, () => this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) }));
    const mine = parseCidr(pool.spec.cidr);
    let existing: IKeyValue | undefined;
    for (const kv of res.kvs) {
      if (kv.key.toString() === key) {
        existing = kv;
        continue;
      }
      const other = this.decode('IPPool', kv);
      if (other instanceof TernError) {
        this.log.warn({ key: kv.key.toString(), err: other.message }, 'ignoring invalid stored pool in overlap check');
        continue;
      }
      if (cidrOverlaps(mine, parseCidr(other.spec.cidr))) {
        throw new TernError(
          'TERN_ERR_POOL_OVERLAP',
          `IPPool ${pool.metadata.name} (${pool.spec.cidr}) overlaps IPPool ${other.metadata.name} (${other.spec.cidr})`,
          { field: 'spec.cidr' },
        );
      }
    }
    // etcd ≥ 3.3 compares a whole key range: every pool key's mod_revision must still be ≤ the
    // revision this list was read at (an empty range compares as revision 0 and passes).
    const compare: ICompare = {
      key: Buffer.from(prefix),
      range_end: prefixEnd(prefix),
      target: CompareTarget.Mod,
      result: CompareResult.Less,
      mod_revision: String(BigInt(res.header.revision) + 1n),
    };
    return { existing, compare };
  }
}
