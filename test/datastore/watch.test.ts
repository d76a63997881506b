// PrefixWatcher against a real etcd 3.4: list, watch, resume after etcd dies and after a
// network cut, re-list after compaction, decode errors, clean stop.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3, type Watcher } from 'etcd3';
import { pino } from 'pino';
import { EtcdServer } from '../../src/lab/etcd.js';
import { PrefixWatcher, type WatchState, type WatchEvent } from '../../src/datastore/watch.js';
import { isTernError } from '../../src/errors/index.js';
import { TcpProxy } from './tcp-proxy.js';
import { Recorder, etcdView, interleavingClient, plain, str, waitFor } from './watch-helpers.js';

const server = new EtcdServer();
let client: Etcd3;
/** Everything a test opens, closed after it even when it fails. */
const cleanups: (() => Promise<void> | void)[] = [];
let prefixSeq = 0;
const quiet = pino({ level: process.env.TERN_LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  await server.start();
  client = new Etcd3({ hosts: server.endpoint });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // keep cleaning
    }
  }
});

afterAll(async () => {
  client?.close();
  await server.destroy();
});

function newPrefix(): string {
  return `/tern-watch-test/${++prefixSeq}/`;
}

function watcherOf(c: Etcd3, prefix: string, rec: Recorder<string>, opts: { pageSize?: number } = {}): PrefixWatcher<string> {
  const w = new PrefixWatcher<string>(c, prefix, { decode: str, logger: quiet, ...opts });
  w.onBatch(rec.handler);
  cleanups.push(() => w.stop());
  return w;
}

function newClient(endpoint: string): Etcd3 {
  const c = new Etcd3({ hosts: endpoint });
  cleanups.push(() => c.close());
  return c;
}

async function put(key: string, value: string, c: Etcd3 = client): Promise<number> {
  return Number((await c.put(key).value(value).exec()).header.revision);
}

async function del(key: string, c: Etcd3 = client): Promise<number> {
  const res = await c.delete().key(key).exec();
  if (Number(res.deleted) !== 1) throw new Error(`delete of ${key} found nothing`);
  return Number(res.header.revision);
}

async function settled(w: PrefixWatcher<string>, revision: number): Promise<void> {
  await waitFor(() => w.revision >= revision, `watcher at revision ${revision} (is ${w.revision})`);
}

async function cancelWithin(w: Watcher): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([w.cancel(), new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
  clearTimeout(timer);
}

function states(w: PrefixWatcher<string>): WatchState[] {
  const seen: WatchState[] = [];
  w.on('state', (s) => seen.push(s));
  return seen;
}

describe('PrefixWatcher (real etcd)', () => {
  it('delivers the list as one batch ending with synced, then puts and deletes in order', async () => {
    const p = newPrefix();
    await put(`${p}a`, '1');
    await put(`${p}b`, '2');
    const before = await put(`${p}c`, '3');
    const rec = new Recorder<string>();
    const w = watcherOf(client, p, rec);
    await w.start();

    expect(rec.batches).toHaveLength(1);
    const first = rec.batches[0]!;
    expect(first.map((e) => e.type)).toEqual(['put', 'put', 'put', 'synced']);
    expect(first.slice(0, 3).map((e) => (e.type === 'put' ? [e.key, e.value] : []))).toEqual([
      [`${p}a`, '1'],
      [`${p}b`, '2'],
      [`${p}c`, '3'],
    ]);
    const synced = first[3]!;
    expect(synced.type === 'synced' && synced.relisted).toBe(false);
    expect(synced.type === 'synced' && synced.revision).toBeGreaterThanOrEqual(before);
    expect(w.revision).toBe(synced.type === 'synced' ? synced.revision : -1);

    // Once the watch is in place (not replaying), each write reaches it as its own response.
    await waitFor(() => w.state === 'watching', 'watching');
    const r1 = await put(`${p}a`, '10');
    const r2 = await del(`${p}b`);
    // Two keys in one transaction share one revision and must arrive in one batch.
    const txn = await client.if(`${p}a`, 'Value', '==', '10').then(client.put(`${p}d`).value('4'), client.put(`${p}e`).value('5')).commit();
    const r3 = Number(txn.header.revision);
    await put('/tern-watch-test-outside', 'x'); // outside the prefix: never delivered
    await settled(w, r3);

    const after = rec.batches.slice(1).flat();
    expect(after).toEqual([
      { type: 'put', key: `${p}a`, value: '10', modRevision: r1, createRevision: expect.any(Number), prevValue: '1' },
      { type: 'delete', key: `${p}b`, modRevision: r2, prevValue: '2' },
      { type: 'put', key: `${p}d`, value: '4', modRevision: r3, createRevision: r3 },
      { type: 'put', key: `${p}e`, value: '5', modRevision: r3, createRevision: r3 },
    ]);
    expect(rec.batches.slice(1).map((b) => b.map((e) => (e.type === 'synced' ? '' : e.key)))).toEqual([
      [`${p}a`],
      [`${p}b`],
      [`${p}d`, `${p}e`],
    ]);
    expect(plain(w.snapshot())).toEqual(await etcdView(client, p));
    expect(rec.violations).toEqual([]);
    expect(w.state).toBe('watching');
  });

  it('lists a 5,000-key prefix as one snapshot while writes land between its pages', async () => {
    const p = newPrefix();
    const key = (i: number): string => `${p}k${String(i).padStart(5, '0')}`;
    const live = new Set<string>();
    // etcd allows 128 operations per transaction by default.
    for (let i = 0; i < 5000; i += 100) {
      const ops = [];
      for (let j = i; j < i + 100; j++) {
        ops.push(client.put(key(j)).value(`v0-${j}`));
        live.add(key(j));
      }
      await client.if(key(i), 'Create', '==', 0).then(...ops).commit();
    }
    const writeRevs: number[] = [];
    let n = 0;
    // One write step: change an existing key, delete one, create one; each has its own revision.
    const step = async (): Promise<void> => {
      const i = n++;
      const existing = [...live];
      const changed = existing[(i * 7919) % existing.length]!;
      writeRevs.push(await put(changed, `v1-${i}`));
      const gone = existing[(i * 104729 + 1) % existing.length]!;
      if (gone !== changed) {
        writeRevs.push(await del(gone));
        live.delete(gone);
      }
      const fresh = `${p}new${i}`;
      writeRevs.push(await put(fresh, `n-${i}`));
      live.add(fresh);
    };
    let pages = 0;
    // The watcher's own range reads go through a client that writes before every page but
    // the first, so each later page is read while the prefix has moved on.
    const reader = interleavingClient(client, async () => {
      if (pages++ > 0) await step();
    });
    const rec = new Recorder<string>();
    let atSync: ReadonlyMap<string, { value: string; modRevision: number }> | undefined;
    rec.onBatch = (b) => {
      if (b.some((e) => e.type === 'synced')) atSync = w.snapshot();
    };
    const w = watcherOf(reader, p, rec, { pageSize: 500 });
    await w.start();
    const synced = rec.batches[0]!.at(-1)!;
    if (synced.type !== 'synced') throw new Error('first batch does not end with synced');
    const R = synced.revision;
    expect(pages).toBeGreaterThanOrEqual(10);
    const landedDuringList = writeRevs.filter((r) => r > R);
    expect(landedDuringList.length).toBeGreaterThanOrEqual(2 * (pages - 1));
    // The delivered list is exactly etcd's state at the list revision, despite those writes.
    expect(atSync!.size).toBe(5000);
    expect(plain(atSync!)).toEqual(await etcdView(client, p, R));

    // Keep writing while the watch runs, then compare and count.
    for (let i = 0; i < 150; i++) await step();
    const last = Math.max(...writeRevs);
    await settled(w, last);
    expect(plain(w.snapshot())).toEqual(await etcdView(client, p));
    const expected = writeRevs.filter((r) => r > R).sort((a, b) => a - b);
    expect([...rec.watchedRevisions.keys()].sort((a, b) => a - b)).toEqual(expected);
    expect([...rec.watchedRevisions.values()].every((c) => c === 1)).toBe(true);
    expect(rec.violations).toEqual([]);
    expect(w.stats().staleEvents).toBe(0);
  });

  it('resumes from its last revision after etcd is killed and restarted, without gaps or repeats', async () => {
    const p = newPrefix();
    for (let i = 0; i < 50; i++) await put(`${p}k${i}`, 'seed');
    const rec = new Recorder<string>();
    // Its own client, so the kill breaks the watcher's connection like a real outage.
    const wc = newClient(server.endpoint);
    const w = watcherOf(wc, p, rec);
    const seen = states(w);
    await w.start();
    const listRev = w.revision;

    const acked: number[] = [];
    let writing = true;
    let killed = false;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          acked.push(await put(`${p}k${i % 80}`, `w${i}`));
        } catch {
          if (!killed) throw new Error('write failed before the kill');
          return; // etcd is gone: a write in flight may or may not have been applied
        }
      }
    })();
    await waitFor(() => acked.length >= 100, '100 writes before the kill');
    killed = true;
    await server.stop();
    writing = false;
    await writer;
    await waitFor(() => w.state === 'disconnected', 'watcher disconnected');
    await server.start();

    const after: number[] = [];
    // The writer's client may need a moment (its circuit breaker) before etcd answers again.
    await waitFor(async () => {
      try {
        after.push(await put(`${p}k0`, 'back'));
        return true;
      } catch {
        return false;
      }
    }, 'etcd writable again');
    for (let i = 0; i < 100; i++) {
      after.push(i % 5 === 4 ? await del(`${p}k${i % 80}`).catch(() => put(`${p}k${i % 80}`, `a${i}`)) : await put(`${p}k${i % 80}`, `a${i}`));
    }
    await settled(w, Math.max(...after));

    expect(plain(w.snapshot())).toEqual(await etcdView(client, p));
    expect(rec.violations).toEqual([]);
    for (const r of [...acked, ...after]) {
      if (r > listRev) expect(rec.watchedRevisions.get(r), `revision ${r}`).toBe(1);
    }
    expect([...rec.watchedRevisions.values()].every((c) => c === 1)).toBe(true);
    // It resumed: no re-list was needed, one reconnect was made.
    expect(w.stats().relists).toBe(0);
    expect(w.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(seen).toEqual(expect.arrayContaining(['listing', 'watching', 'disconnected']));
    expect(seen.at(-1)).toBe('watching');
    expect(rec.syncCount).toBe(1);
  });

  it('resumes in the middle of a replayed backlog from the last delivered event', async () => {
    const p = newPrefix();
    await put(`${p}seed`, '0');
    const proxy = new TcpProxy(server.host, server.clientPort);
    await proxy.start();
    cleanups.push(() => proxy.close());
    const rec = new Recorder<string>();
    const w = watcherOf(newClient(proxy.endpoint), p, rec);
    await w.start();
    const listRev = w.revision;

    proxy.cut();
    await waitFor(() => w.state === 'disconnected', 'watcher disconnected');
    // 2,500 revisions: etcd replays at most 1,000 revisions per watch response, with the
    // store's current revision in the header, so the backlog comes in several responses.
    const revs: number[] = [];
    for (let i = 0; i < 2500; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => put(`${p}k${(i + j) % 300}`, `v${i + j}`)));
      revs.push(...batch);
    }
    const last = Math.max(...revs);
    let cutAt: number | undefined;
    rec.onBatch = (b) => {
      if (cutAt !== undefined) return;
      // Cut the connection right after the first backlog response was delivered.
      const top = Math.max(...b.map((e) => (e.type === 'synced' ? 0 : e.modRevision)));
      cutAt = top;
      proxy.cut();
      setTimeout(() => proxy.restore(), 300);
    };
    proxy.restore();
    await settled(w, last);

    expect(cutAt, 'a backlog batch was delivered').toBeDefined();
    expect(cutAt).toBeLessThan(last); // the cut really happened mid-backlog
    expect(plain(w.snapshot())).toEqual(await etcdView(client, p));
    expect([...rec.watchedRevisions.keys()].sort((a, b) => a - b)).toEqual(revs.filter((r) => r > listRev).sort((a, b) => a - b));
    expect([...rec.watchedRevisions.values()].every((c) => c === 1)).toBe(true);
    expect(rec.violations).toEqual([]);
    expect(w.stats().relists).toBe(0);
    expect(w.stats().reconnects).toBeGreaterThanOrEqual(2);
  });

  it('re-lists and reconciles when its resume revision was compacted', async () => {
    const p = newPrefix();
    for (const k of ['a', 'b', 'c', 'd']) await put(`${p}${k}`, `${k}0`);
    // The watcher reaches etcd only through a proxy; cutting it stops delivery while this
    // test's own client keeps writing and compacts past the watcher's revision. When the
    // proxy is restored the watcher asks to resume from a compacted revision.
    const proxy = new TcpProxy(server.host, server.clientPort);
    await proxy.start();
    cleanups.push(() => proxy.close());
    const rec = new Recorder<string>();
    const w = watcherOf(newClient(proxy.endpoint), p, rec);
    const seen = states(w);
    await w.start();
    const before = plain(w.snapshot());

    proxy.cut();
    await waitFor(() => w.state === 'disconnected', 'watcher disconnected');
    await del(`${p}a`); // vanished
    await put(`${p}b`, 'b1');
    await put(`${p}b`, 'b2'); // changed twice: one put with the final value
    await put(`${p}e`, 'e0'); // new
    await put(`${p}f`, 'f0');
    await del(`${p}f`); // came and went: nothing to say
    await put(`${p}d`, 'd1');
    const top = await del(`${p}d`); // changed, then vanished
    // c is untouched: no event for it.
    await client.kv.compact({ revision: String(top), physical: true });
    const batchesBefore = rec.batches.length;
    proxy.restore();
    await waitFor(() => rec.syncCount === 2, 're-list');

    const relist = rec.batches.slice(batchesBefore).flat();
    expect(relist).toEqual([
      { type: 'put', key: `${p}b`, value: 'b2', modRevision: expect.any(Number), createRevision: before.get(`${p}b`)!.modRevision, prevValue: 'b0' },
      { type: 'put', key: `${p}e`, value: 'e0', modRevision: expect.any(Number), createRevision: expect.any(Number) },
      { type: 'delete', key: `${p}a`, modRevision: expect.any(Number), prevValue: 'a0' },
      { type: 'delete', key: `${p}d`, modRevision: expect.any(Number), prevValue: 'd0' },
      { type: 'synced', revision: expect.any(Number), relisted: true },
    ]);
    expect(plain(w.snapshot())).toEqual(await etcdView(client, p));
    expect(w.stats().relists).toBe(1);
    expect(seen).toEqual(expect.arrayContaining(['disconnected', 'relisting']));
    await waitFor(() => w.state === 'watching', 'watching after the re-list');
    // And it watches on from the re-list revision.
    const r = await put(`${p}c`, 'c1');
    await settled(w, r);
    expect(w.get(`${p}c`)?.value).toBe('c1');
    expect(rec.violations).toEqual([]);
  });

  it('counts a value that does not decode, treats its key as absent, and keeps watching', async () => {
    const p = newPrefix();
    type Obj = { n: number };
    const decode = (_k: string, v: Buffer): { ok: true; value: Obj } | { ok: false; error: string } => {
      try {
        const o: unknown = JSON.parse(v.toString());
        if (typeof o === 'object' && o !== null && typeof (o as Obj).n === 'number') return { ok: true, value: o as Obj };
        return { ok: false, error: 'n must be a number' };
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    };
    await put(`${p}a`, '{"n":1}');
    await put(`${p}x`, '{not json');
    const batches: WatchEvent<Obj>[][] = [];
    const w = new PrefixWatcher<Obj>(client, p, { decode, logger: quiet });
    cleanups.push(() => w.stop());
    w.onBatch((b) => batches.push(b));
    await w.start();
    expect([...w.snapshot().keys()]).toEqual([`${p}a`]);
    expect(w.stats().decodeErrors).toBe(1);

    const r1 = await put(`${p}a`, '{"n":"one"}'); // fails validation: a disappears
    const r2 = await put(`${p}b`, '{"n":2}');
    const r3 = await del(`${p}x`); // never seen: nothing to delete
    const r4 = await put(`${p}a`, '{"n":3}'); // good again: comes back as new
    await waitFor(() => w.revision >= r4, 'all writes');
    expect(batches.slice(1).flat()).toEqual([
      { type: 'delete', key: `${p}a`, modRevision: r1, prevValue: { n: 1 } },
      { type: 'put', key: `${p}b`, value: { n: 2 }, modRevision: r2, createRevision: r2 },
      { type: 'put', key: `${p}a`, value: { n: 3 }, modRevision: r4, createRevision: expect.any(Number) },
    ]);
    expect(r3).toBeLessThan(r4);
    expect(w.stats().decodeErrors).toBe(2);
    expect(w.state).toBe('watching');
    expect([...w.snapshot().keys()].sort()).toEqual([`${p}a`, `${p}b`]);
  });

  it('stops cleanly: no batch after stop(), idempotent, and start() after stop() rejects', async () => {
    const p = newPrefix();
    const rec = new Recorder<string>();
    const w = watcherOf(client, p, rec);
    await w.start();
    await w.stop();
    await w.stop();
    expect(w.state).toBe('stopped');
    const r = await put(`${p}late`, '1');
    // A second watcher sees the write, so etcd has sent it to every watch still open.
    const rec2 = new Recorder<string>();
    const w2 = watcherOf(client, p, rec2);
    await w2.start();
    const r2 = await put(`${p}later`, '2');
    await settled(w2, r2);
    expect(r2).toBeGreaterThan(r);
    expect(rec.batches).toHaveLength(1);
    expect(w.revision).toBeLessThan(r);
    await expect(w.start()).resolves.toBeUndefined(); // the first start() had resolved
    const fresh = watcherOf(client, p, new Recorder<string>());
    await fresh.stop();
    await expect(fresh.start()).rejects.toSatisfy((e: unknown) => isTernError(e, 'TERN_ERR_DATASTORE'));
  });

  it('keeps retrying while etcd is unreachable, and stop() then rejects the pending start()', async () => {
    const proxy = new TcpProxy(server.host, server.clientPort);
    await proxy.start();
    cleanups.push(() => proxy.close());
    proxy.cut();
    const w = watcherOf(newClient(proxy.endpoint), newPrefix(), new Recorder<string>());
    const started = w.start();
    started.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    expect(w.state).toBe('listing');
    await w.stop();
    await expect(started).rejects.toSatisfy((e: unknown) => isTernError(e, 'TERN_ERR_DATASTORE'));
  });
});

// What the etcd3 client's own Watcher does, checked against the same etcd: the reasons
// PrefixWatcher drives its own Watch stream (see the header of src/datastore/watch.ts).
describe('etcd3 Watcher behaviour this design depends on', () => {
  it('sets its internal resume revision from the response header, ahead of undelivered backlog', async () => {
    const p = newPrefix();
    const from = await put(`${p}x`, '0');
    for (let i = 0; i < 2500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => put(`${p}k${(i + j) % 100}`, `v${i + j}`)));
    }
    const watcher = client.watch().prefix(p).startRevision(String(from)).watcher();
    cleanups.push(() => cancelWithin(watcher));
    const first = await new Promise<{ lastEvent: number; resume: number }>((resolve, reject) => {
      watcher.on('data', (res) => {
        const last = res.events.at(-1);
        if (last) resolve({ lastEvent: Number(last.kv.mod_revision), resume: Number(watcher.lastRevision()) });
      });
      watcher.on('error', reject);
    });
    // A reconnect now would ask etcd for revisions from `resume`, skipping everything between
    // the last delivered event and it.
    expect(first.resume).toBeGreaterThan(first.lastEvent + 1);
  });

  it('reports a compacted start revision only as an error event, without the compact revision', async () => {
    const p = newPrefix();
    const from = await put(`${p}x`, '0');
    const top = await put(`${p}x`, '1');
    await client.kv.compact({ revision: String(top), physical: true });
    const watcher = client.watch().prefix(p).startRevision(String(from)).watcher();
    // After this error the client has dropped the watcher; cancelling it then waits forever
    // for etcd to confirm a watch it no longer has, hence the bound.
    cleanups.push(() => cancelWithin(watcher));
    const err = await new Promise<Error>((resolve) => watcher.on('error', resolve));
    expect(err).toBeInstanceOf(Error);
    expect(Object.keys(err)).not.toContain('compact_revision');
  });
});
