// The watcher's view of one etcd prefix, and the two ways it changes: a full listing (initial
// list or re-list, reconciled by mark and sweep) and one watch response's events. No I/O here:
// the etcd side lives in watch.ts, so every rule below is testable without a server.

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };
export type Decoder<T> = (key: string, value: Buffer) => DecodeResult<T>;

export type WatchEvent<T> =
  | { type: 'put'; key: string; value: T; modRevision: number; createRevision: number; prevValue?: T }
  | { type: 'delete'; key: string; modRevision: number; prevValue?: T }
  | { type: 'synced'; revision: number; relisted: boolean };

/** A key as etcd returned it (from a range read or a put event). */
export interface RawKv {
  key: string;
  value: Buffer;
  modRevision: number;
  createRevision: number;
}

export type RawEvent = { type: 'put'; kv: RawKv } | { type: 'delete'; key: string; modRevision: number };

export interface ViewEntry<T> {
  value: T;
  modRevision: number;
  createRevision: number;
}

export interface DecodeFailure {
  key: string;
  modRevision: number;
  error: string;
}

/** Keeps raw values: a copy, so a small value does not pin the whole gRPC message it came in. */
export function copyBuffer(_key: string, value: Buffer): DecodeResult<Buffer> {
  return { ok: true, value: Buffer.from(value) };
}

export class WatchView<T> {
  private readonly entries = new Map<string, ViewEntry<T>>();
  /**
   * Keys whose current value failed to decode, with that value's mod revision: a re-list that
   * finds the same bad value neither decodes nor counts it again.
   */
  private readonly bad = new Map<string, number>();
  /** Every event with a mod revision up to this one is reflected in the view. */
  revision = 0;
  decodeErrors = 0;
  /** Watch events dropped because their revision was already reflected (never expected). */
  staleEvents = 0;

  constructor(
    private readonly decode: Decoder<T>,
    private readonly onDecodeError: (f: DecodeFailure) => void = () => undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): ViewEntry<T> | undefined {
    return this.entries.get(key);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  snapshot(): Map<string, { value: T; modRevision: number }> {
    const out = new Map<string, { value: T; modRevision: number }>();
    for (const [k, e] of this.entries) out.set(k, { value: e.value, modRevision: e.modRevision });
    return out;
  }

  /**
   * Reconciles the view with a complete listing taken at `revision` (mark and sweep): a put for
   * each key that is new or whose mod revision differs, a delete for each key that is gone,
   * nothing for unchanged keys, then `synced`. A vanished key's delete carries the listing
   * revision: the revision of the delete itself is compacted away, and the listing revision is
   * the first at which its absence is known.
   */
  applyListing(kvs: Iterable<RawKv>, revision: number, relisted: boolean): WatchEvent<T>[] {
    const events: WatchEvent<T>[] = [];
    const seen = new Set<string>();
    for (const kv of kvs) {
      seen.add(kv.key);
      const prev = this.entries.get(kv.key);
      if (prev && prev.modRevision === kv.modRevision) continue;
      if (this.bad.get(kv.key) === kv.modRevision) continue;
      this.applyPut(kv, prev, events);
    }
    for (const [key, e] of this.entries) {
      if (seen.has(key)) continue;
      this.entries.delete(key);
      events.push({ type: 'delete', key, modRevision: revision, prevValue: e.value });
    }
    for (const key of this.bad.keys()) if (!seen.has(key)) this.bad.delete(key);
    this.revision = revision;
    events.push({ type: 'synced', revision, relisted });
    return events;
  }

  /**
   * Applies the events of one watch response. etcd sends a revision's events whole and in
   * revision order, so after a response every event up to its last mod revision has been seen:
   * that is the only revision the view advances to, and events at or below it are dropped.
   */
  applyEvents(raw: Iterable<RawEvent>): WatchEvent<T>[] {
    const events: WatchEvent<T>[] = [];
    const floor = this.revision;
    let top = floor;
    for (const ev of raw) {
      const rev = ev.type === 'put' ? ev.kv.modRevision : ev.modRevision;
      if (rev <= floor) {
        this.staleEvents++;
        continue;
      }
      if (rev > top) top = rev;
      if (ev.type === 'put') {
        this.applyPut(ev.kv, this.entries.get(ev.kv.key), events);
        continue;
      }
      this.bad.delete(ev.key);
      const prev = this.entries.get(ev.key);
      // A key the consumer never saw (absent, or only ever undecodable) has nothing to delete.
      if (!prev) continue;
      this.entries.delete(ev.key);
      events.push({ type: 'delete', key: ev.key, modRevision: rev, prevValue: prev.value });
    }
    this.revision = top;
    return events;
  }

  private applyPut(kv: RawKv, prev: ViewEntry<T> | undefined, events: WatchEvent<T>[]): void {
    const res = this.safeDecode(kv);
    if (!res.ok) {
      this.decodeErrors++;
      this.bad.set(kv.key, kv.modRevision);
      this.onDecodeError({ key: kv.key, modRevision: kv.modRevision, error: res.error });
      // An undecodable value counts as absent: the consumer must drop what it had.
      if (prev) {
        this.entries.delete(kv.key);
        events.push({ type: 'delete', key: kv.key, modRevision: kv.modRevision, prevValue: prev.value });
      }
      return;
    }
    this.bad.delete(kv.key);
    this.entries.set(kv.key, { value: res.value, modRevision: kv.modRevision, createRevision: kv.createRevision });
    const put: WatchEvent<T> = {
      type: 'put',
      key: kv.key,
      value: res.value,
      modRevision: kv.modRevision,
      createRevision: kv.createRevision,
    };
    if (prev) put.prevValue = prev.value;
    events.push(put);
  }

  private safeDecode(kv: RawKv): DecodeResult<T> {
    try {
      return this.decode(kv.key, kv.value);
    } catch (e) {
      return { ok: false, error: `decoder threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
}
