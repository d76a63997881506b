// WatchView without etcd: mark-and-sweep reconciliation and per-response event application,
// checked against a model store over random histories.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WatchView, type RawKv, type RawEvent, type WatchEvent } from '../../src/datastore/watch-view.js';

const text = (_k: string, v: Buffer) => ({ ok: true as const, value: v.toString() });
const kv = (key: string, value: string, modRevision: number, createRevision = modRevision): RawKv => ({
  key,
  value: Buffer.from(value),
  modRevision,
  createRevision,
});

type Model = Map<string, { value: string; modRevision: number }>;

/** What a consumer holds after applying events in order. */
function applyTo(state: Model, events: WatchEvent<string>[]): void {
  for (const e of events) {
    if (e.type === 'put') state.set(e.key, { value: e.value, modRevision: e.modRevision });
    else if (e.type === 'delete') state.delete(e.key);
  }
}

// A random history of writes on a few keys; each write is its own revision.
const history = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), del: fc.boolean(), value: fc.constantFrom('1', '2', 'bad') }),
  { maxLength: 40 },
);

function replay(ops: { key: string; del: boolean; value: string }[], startRev: number) {
  const store = new Map<string, RawKv>();
  const events: RawEvent[] = [];
  let rev = startRev;
  for (const op of ops) {
    if (op.del) {
      if (!store.has(op.key)) continue;
      rev++;
      store.delete(op.key);
      events.push({ type: 'delete', key: op.key, modRevision: rev });
    } else {
      rev++;
      const created = store.get(op.key)?.createRevision ?? rev;
      const k = kv(op.key, op.value, rev, created);
      store.set(op.key, k);
      events.push({ type: 'put', kv: k });
    }
  }
  return { store, events, rev };
}

const strict = (_k: string, v: Buffer) =>
  v.toString() === 'bad' ? { ok: false as const, error: 'bad value' } : { ok: true as const, value: v.toString() };

function decodable(store: Map<string, RawKv>): Model {
  const m: Model = new Map();
  for (const [k, v] of store) if (v.value.toString() !== 'bad') m.set(k, { value: v.value.toString(), modRevision: v.modRevision });
  return m;
}

describe('WatchView', () => {
  it('re-list emits puts for new and changed keys, deletes for vanished ones, nothing for unchanged', () => {
    const v = new WatchView(text);
    v.applyListing([kv('a', '1', 2), kv('b', '1', 3), kv('c', '1', 4)], 4, false);
    const events = v.applyListing([kv('b', '1', 3), kv('c', '2', 9), kv('d', '1', 8)], 10, true);
    expect(events).toEqual([
      { type: 'put', key: 'c', value: '2', modRevision: 9, createRevision: 9, prevValue: '1' },
      { type: 'put', key: 'd', value: '1', modRevision: 8, createRevision: 8 },
      { type: 'delete', key: 'a', modRevision: 10, prevValue: '1' },
      { type: 'synced', revision: 10, relisted: true },
    ]);
    expect(v.revision).toBe(10);
  });

  it('drops watch events at or below its revision and advances to the last event', () => {
    const v = new WatchView(text);
    v.applyListing([kv('a', '1', 5)], 7, false);
    const events = v.applyEvents([
      { type: 'put', kv: kv('a', 'old', 7) },
      { type: 'put', kv: kv('a', '2', 8, 5) },
      { type: 'put', kv: kv('b', '1', 8) },
    ]);
    expect(events.map((e) => (e.type === 'synced' ? '' : `${e.key}@${e.modRevision}`))).toEqual(['a@8', 'b@8']);
    expect(v.staleEvents).toBe(1);
    expect(v.revision).toBe(8);
  });

  it('counts an undecodable value once, even when a re-list finds it again', () => {
    const v = new WatchView(strict);
    v.applyListing([kv('a', 'bad', 3), kv('b', '1', 4)], 5, false);
    expect(v.decodeErrors).toBe(1);
    v.applyListing([kv('a', 'bad', 3), kv('b', '1', 4)], 9, true);
    expect(v.decodeErrors).toBe(1);
    expect(v.applyEvents([{ type: 'delete', key: 'a', modRevision: 10 }])).toEqual([]);
  });

  it('treats a throwing decoder as a decode error', () => {
    const v = new WatchView<string>(() => {
      throw new Error('boom');
    });
    expect(v.applyListing([kv('a', '1', 3)], 3, false)).toEqual([{ type: 'synced', revision: 3, relisted: false }]);
    expect(v.decodeErrors).toBe(1);
  });

  it('a consumer applying the events always holds exactly the decodable store (random histories)', () => {
    fc.assert(
      fc.property(history, history, fc.integer({ min: 0, max: 40 }), (before, after, cut) => {
        const v = new WatchView(strict);
        const consumer: Model = new Map();
        // List after `before`, then watch part of `after`, then re-list after all of it.
        const first = replay(before, 1);
        applyTo(consumer, v.applyListing([...first.store.values()].sort((x, y) => (x.key < y.key ? -1 : 1)), first.rev, false));
        expect(consumer).toEqual(decodable(first.store));
        const second = replay(after, first.rev);
        const store = new Map(first.store);
        const watched = second.events.slice(0, cut);
        for (const e of watched) {
          if (e.type === 'put') store.set(e.kv.key, e.kv);
          else store.delete(e.key);
        }
        applyTo(consumer, v.applyEvents(watched));
        expect(consumer).toEqual(decodable(store));
        // Replaying the same events again changes nothing.
        expect(v.applyEvents(watched)).toEqual([]);
        for (const e of second.events.slice(cut)) {
          if (e.type === 'put') store.set(e.kv.key, e.kv);
          else store.delete(e.key);
        }
        const held = v.snapshot();
        const relist = v.applyListing([...store.values()], second.rev + 1, true);
        applyTo(consumer, relist);
        expect(consumer).toEqual(decodable(store));
        expect(v.snapshot()).toEqual(decodable(store));
        // Exactly one event per key whose decodable state changed since the watch part.
        const want = decodable(store);
        const changed = new Set([...held.keys(), ...want.keys()].filter((k) => held.get(k)?.modRevision !== want.get(k)?.modRevision));
        expect(relist.flatMap((e) => (e.type === 'synced' ? [] : [e.key])).sort()).toEqual([...changed].sort());
      }),
      { numRuns: 300 },
    );
  });
});
