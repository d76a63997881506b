import { beforeEach, describe, expect, it } from 'vitest';
import { useEtcd } from '../helpers/etcd.js';
import { Keys } from '../../src/datastore/keys.js';
import { Store } from '../../src/datastore/store.js';
import { isTernError } from '../../src/errors/index.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra },
});
const svc = (name: string, port: number, namespace?: string) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { selector: { app: name }, ports: [{ port }] },
});

async function rejects(p: Promise<unknown>, code: Parameters<typeof isTernError>[1]): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(isTernError(e, code), `got ${String(e)}`).toBe(true);
    return e as Error;
  }
  throw new Error(`expected ${code}`);
}

describe('Store (real etcd)', () => {
  const etcd = useEtcd();
  let keys: Keys;
  let store: Store;

  beforeEach(() => {
    // A fresh prefix per test: tests see only their own keys.
    keys = etcd.freshKeys();
    store = new Store(etcd.client, keys);
  });

  it('creates, reads back with resourceVersion = mod_revision, never stores resourceVersion', async () => {
    const r = await store.apply(svc('web', 80));
    expect(r.action).toBe('created');
    const got = await store.get('Service', 'web');
    expect(got?.metadata.namespace).toBe('default');
    expect(got?.metadata.resourceVersion).toBe(r.revision);
    expect(got?.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(got?.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const raw = await etcd.client.get(keys.resource('Service', 'web', 'default')).string();
    expect(JSON.parse(raw!).metadata.resourceVersion).toBeUndefined();
    const kv = (await etcd.client.get(keys.resource('Service', 'web', 'default')).exec()).kvs[0]!;
    expect(kv.mod_revision).toBe(r.revision);
  });

  it('apply: created, then unchanged, then updated; uid and creationTimestamp survive updates', async () => {
    const a = await store.apply(svc('web', 80, 'shop'));
    const b = await store.apply(svc('web', 80, 'shop'));
    expect([a.action, b.action]).toEqual(['created', 'unchanged']);
    expect(b.revision).toBe(a.revision);
    const before = await store.get('Service', 'web', 'shop');
    const c = await store.apply(svc('web', 8080, 'shop'));
    expect(c.action).toBe('updated');
    expect(Number(c.revision)).toBeGreaterThan(Number(a.revision));
    const after = await store.get('Service', 'web', 'shop');
    expect(after?.spec.ports?.[0]?.port).toBe(8080);
    expect(after?.metadata.uid).toBe(before?.metadata.uid);
    expect(after?.metadata.creationTimestamp).toBe(before?.metadata.creationTimestamp);
    // Applying what get returned (uid, timestamp, resourceVersion included) changes nothing.
    expect((await store.apply(after)).action).toBe('unchanged');
  });

  it('apply rejects invalid objects with TERN_ERR_VALIDATION and writes nothing', async () => {
    const e = await rejects(store.apply(svc('web', 0)), 'TERN_ERR_VALIDATION');
    expect(e.message).toContain('spec.ports[0].port: must be 1–65535');
    expect((await store.list('Service')).items).toEqual([]);
  });

  it('create fails with TERN_ERR_CONFLICT when the object exists', async () => {
    await store.create(pool('a', '10.1.0.0/16'));
    const e = await rejects(store.create(pool('a', '10.1.0.0/16')), 'TERN_ERR_CONFLICT');
    expect(e.message).toContain('IPPool a already exists');
    await store.create(svc('web', 80));
    await rejects(store.create(svc('web', 81)), 'TERN_ERR_CONFLICT');
  });

  it('concurrent creates of one object: exactly one succeeds', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.create(svc('race', 80 + i))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isTernError(r.reason, 'TERN_ERR_CONFLICT')).toBe(true);
  });

  it('update: not found, compare-and-swap on resourceVersion', async () => {
    await rejects(store.update(svc('ghost', 80)), 'TERN_ERR_NOT_FOUND');
    await store.create(svc('web', 80));
    const v1 = (await store.get('Service', 'web'))!;
    const r = await store.update({ ...v1, spec: { ...v1.spec, ports: [{ port: 81 }] } });
    expect(r.action).toBe('updated');
    // A writer holding the old resourceVersion loses.
    const e = await rejects(store.update({ ...v1, spec: { ...v1.spec, ports: [{ port: 82 }] } }), 'TERN_ERR_CONFLICT');
    expect(e.message).toContain(`not ${v1.metadata.resourceVersion}`);
    expect((await store.get('Service', 'web'))?.spec.ports?.[0]?.port).toBe(81);
    // With the current one it wins.
    const v2 = (await store.get('Service', 'web'))!;
    expect((await store.update({ ...v2, spec: { ...v2.spec, ports: [{ port: 82 }] } })).action).toBe('updated');
    // apply honours a given resourceVersion too.
    await rejects(store.apply({ ...v2, spec: { ...v2.spec, ports: [{ port: 83 }] } }), 'TERN_ERR_CONFLICT');
  });

  it('list: per namespace and across namespaces, with the read revision', async () => {
    await store.apply(svc('a', 80, 'x'));
    await store.apply(svc('b', 80, 'x'));
    const last = await store.apply(svc('a', 80, 'y'));
    const x = await store.list('Service', 'x');
    expect(x.items.map((s) => s.metadata.name)).toEqual(['a', 'b']);
    const all = await store.list('Service');
    expect(all.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(['x/a', 'x/b', 'y/a']);
    expect(Number(all.revision)).toBeGreaterThanOrEqual(Number(last.revision));
    expect((await store.list('Service', 'z')).items).toEqual([]);
  });

  it('list skips stored values that do not validate', async () => {
    await store.apply(pool('good', '10.1.0.0/16'));
    await etcd.client.put(keys.resource('IPPool', 'bad')).value(JSON.stringify(pool('bad', '10.2.0.1/16')));
    await etcd.client.put(keys.resource('IPPool', 'junk')).value('not json');
    expect((await store.list('IPPool')).items.map((p) => p.metadata.name)).toEqual(['good']);
    await rejects(store.get('IPPool', 'junk'), 'TERN_ERR_DATASTORE');
  });

  it('delete returns the object; deleting again is not found', async () => {
    await store.apply(svc('web', 80, 'shop'));
    const d = await store.delete('Service', 'web', 'shop');
    expect(d.object.metadata.name).toBe('web');
    expect(await store.get('Service', 'web', 'shop')).toBeUndefined();
    const e = await rejects(store.delete('Service', 'web', 'shop'), 'TERN_ERR_NOT_FOUND');
    expect(e.message).toBe('Service shop/web not found');
  });

  it('IPPool overlap is rejected naming both pools and CIDRs', async () => {
    await store.apply(pool('pods-v4', '10.244.0.0/16'));
    await store.apply(pool('pods-v6', 'fd00:10:244::/56'));
    const e = await rejects(store.apply(pool('inner', '10.244.128.0/20')), 'TERN_ERR_POOL_OVERLAP');
    expect(e.message).toContain('IPPool inner (10.244.128.0/20) overlaps IPPool pods-v4 (10.244.0.0/16)');
    const e6 = await rejects(store.apply(pool('outer6', 'fd00::/8')), 'TERN_ERR_POOL_OVERLAP');
    expect(e6.message).toContain('pods-v6 (fd00:10:244::/56)');
    // Adjacent pools and a pool updating itself are fine.
    expect((await store.apply(pool('next', '10.245.0.0/16'))).action).toBe('created');
    expect((await store.apply(pool('pods-v4', '10.244.0.0/16', { disabled: true }))).action).toBe('updated');
    // Moving a pool onto another one is not.
    await rejects(store.apply(pool('next', '10.244.0.0/15')), 'TERN_ERR_POOL_OVERLAP');
    expect((await store.list('IPPool')).items.map((p) => p.spec.cidr).sort()).toEqual(['10.244.0.0/16', '10.245.0.0/16', 'fd00:10:244::/56']);
  });

  it('two concurrent overlapping pool creates: exactly one wins, every time', async () => {
    for (let round = 0; round < 10; round++) {
      const a = pool(`a${round}`, `10.${round}.0.0/16`);
      const b = pool(`b${round}`, `10.${round}.64.0/18`);
      const results = await Promise.allSettled([store.create(a), store.create(b)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(isTernError(lost.reason, 'TERN_ERR_POOL_OVERLAP')).toBe(true);
    }
    const cidrs = (await store.list('IPPool')).items.map((p) => p.spec.cidr);
    expect(cidrs).toHaveLength(10);
  });

  it('many concurrent pool applies keep the stored pools disjoint', async () => {
    // 12 writers, 4 of them per /16 at different sizes: at most one per /16 may win.
    const docs = [0, 1, 2].flatMap((n) => [16, 17, 18, 24].map((len) => pool(`p${n}-${len}`, `10.${100 + n}.0.0/${len}`)));
    const results = await Promise.allSettled(docs.map((d) => store.apply(d)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const items = (await store.list('IPPool')).items;
    expect(items.map((p) => p.spec.cidr.split('.')[1]).sort()).toEqual(['100', '101', '102']);
  });
});
