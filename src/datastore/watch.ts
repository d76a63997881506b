// List+watch of one etcd prefix (a Kubernetes reflector, Calico's syncer): a consistent
// paginated list, then a watch from the list revision + 1, resumed by this class after any
// disconnect and re-listed (mark and sweep) when the resume revision was compacted.
//
// Why this class drives its own Watch stream instead of etcd3's Watcher (read in
// node_modules/etcd3/lib/watch.js, v1.1.2):
// - The Watcher resumes internally from `header.revision + 1` of the last response, set on
//   every response *and* on the create response. While etcd replays a backlog it sends at most
//   1000 revisions per response with header.revision = the store's current revision (etcd 3.4
//   mvcc/watchable_store.go syncWatchers), so a disconnect in the middle of a catch-up resumes
//   past events that were never delivered. The resume point must come from delivered events.
// - On compaction it emits a bare 'error' (compact_revision is lost) and drops the watcher.
// - `create()` resolves on 'connected' in a later microtask, after which events of the same
//   socket read may already have been emitted to no listener.
// Here one gRPC Watch stream per watcher carries one watch; the resume revision is the last
// delivered event's mod revision (WatchView.revision), which etcd's guarantees make exact:
// revisions are delivered whole and in order, so no event is missed or repeated.
import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { Range, type Etcd3, type IKeyValue, type IWatchResponse, type IDuplexStream, type IWatchRequest } from 'etcd3';
import { logger as componentLogger, type Logger } from '../log/index.js';
import { TernError } from '../errors/index.js';
import {
  WatchView,
  copyBuffer,
  type Decoder,
  type RawEvent,
  type RawKv,
  type WatchEvent,
  type DecodeFailure,
} from './watch-view.js';

export type { WatchEvent, Decoder, DecodeResult } from './watch-view.js';

export const WatchStates = {
  idle: 'idle',
  listing: 'listing',
  watching: 'watching',
  disconnected: 'disconnected',
  relisting: 'relisting',
  stopped: 'stopped',
} as const;
export type WatchState = (typeof WatchStates)[keyof typeof WatchStates];

/** Why a state changed: a closed set, logged as `listing -> watching (watch-created)`. */
export type TransitionReason =
  | 'start'
  | 'listed'
  | 'watch-created'
  | 'stream-failed'
  | 'compacted'
  | 'watch-canceled'
  | 'revision-regressed'
  | 'stop';

export interface StateChange {
  from: WatchState;
  to: WatchState;
  reason: TransitionReason;
}

export interface PrefixWatcherOptions<T> {
  /**
   * Turns a stored value into T. A failure (or a throw) makes the key count as absent: it is
   * logged, counted in stats().decodeErrors, and a delete is emitted if the key was present.
   * Without a decoder the values are Buffers (copies), so T must then be Buffer.
   */
  decode?: Decoder<T>;
  logger?: Logger;
  /** First retry delay after a failure; doubles up to maxRetryDelayMs. Default 100. */
  retryDelayMs?: number;
  /** Cap of the retry delay. Default 5000. */
  maxRetryDelayMs?: number;
  /** Keys per range read while listing; every page is read at the first page's revision. Default 1000. */
  pageSize?: number;
  /** Deadline of each page read. Default 30000. */
  listTimeoutMs?: number;
  /** Shown in logs, e.g. the kind watched. */
  name?: string;
}

export interface WatchStats {
  state: WatchState;
  revision: number;
  keys: number;
  batches: number;
  events: number;
  decodeErrors: number;
  /** Re-lists after the initial one (compaction, canceled watch, regressed revision). */
  relists: number;
  /** Watch streams re-established after a disconnect. */
  reconnects: number;
  /** Watch events at or below the view's revision, dropped (etcd should never send them). */
  staleEvents: number;
}

type WatchEnd =
  | { kind: 'stream-failed'; error: unknown; established: boolean }
  | { kind: 'compacted'; compactRevision: number }
  | { kind: 'watch-canceled'; reason: string }
  | { kind: 'revision-regressed'; serverRevision: number };

const STOPPED = Symbol('stopped');

export class PrefixWatcher<T = Buffer> {
  private readonly view: WatchView<T>;
  private readonly log: Logger;
  private readonly emitter = new EventEmitter();
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly pageSize: number;
  private readonly listTimeoutMs: number;
  private readonly abort = new AbortController();
  private handler: ((events: WatchEvent<T>[]) => void) | undefined;
  private st: WatchState = WatchStates.idle;
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private loop: Promise<void> | undefined;
  private startPromise: Promise<void> | undefined;
  private settleStart: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private failures = 0;
  private counters = { batches: 0, events: 0, relists: 0, reconnects: 0 };

  constructor(
    private readonly client: Etcd3,
    readonly prefix: string,
    opts: PrefixWatcherOptions<T> = {},
  ) {
    this.log = (opts.logger ?? componentLogger('watch')).child({ watch: opts.name ?? prefix });
    this.initialDelay = opts.retryDelayMs ?? 100;
    this.maxDelay = Math.max(opts.maxRetryDelayMs ?? 5000, this.initialDelay);
    this.pageSize = opts.pageSize ?? 1000;
    this.listTimeoutMs = opts.listTimeoutMs ?? 30_000;
    const decode = opts.decode ?? (copyBuffer as unknown as Decoder<T>);
    this.view = new WatchView<T>(decode, (f) => this.logDecodeError(f));
  }

  /** The one consumer of batches. Set it before start(); batches before that are not replayed. */
  onBatch(handler: (events: WatchEvent<T>[]) => void): this {
    this.handler = handler;
    return this;
  }

  on(event: 'state', fn: (state: WatchState, change: StateChange) => void): this {
    this.emitter.on(event, fn);
    return this;
  }

  off(event: 'state', fn: (state: WatchState, change: StateChange) => void): this {
    this.emitter.off(event, fn);
    return this;
  }

  get state(): WatchState {
    return this.st;
  }

  /** The etcd revision the view reflects: every change up to it has been delivered. */
  get revision(): number {
    return this.view.revision;
  }

  /** A copy of the current view (O(keys)); use get() for single keys. */
  snapshot(): ReadonlyMap<string, { value: T; modRevision: number }> {
    return this.view.snapshot();
  }

  get(key: string): { value: T; modRevision: number; createRevision: number } | undefined {
    return this.view.get(key);
  }

  stats(): WatchStats {
    return {
      state: this.st,
      revision: this.view.revision,
      keys: this.view.size,
      decodeErrors: this.view.decodeErrors,
      staleEvents: this.view.staleEvents,
      ...this.counters,
    };
  }

  /**
   * Lists, delivers the list as one batch ending with `synced`, then watches. Resolves after
   * that first batch; if etcd is unreachable it keeps retrying, and rejects only if stop() is
   * called before the first list succeeded.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    if (this.abort.signal.aborted) return Promise.reject(this.stoppedError());
    this.startPromise = new Promise<void>((resolve, reject) => {
      this.settleStart = { resolve, reject };
    });
    this.loop = this.run().catch((e: unknown) => {
      // run() handles every etcd failure itself; reaching here is a bug, not an outage.
      this.log.error({ err: e }, 'watch loop failed');
      this.settleStart?.reject(e instanceof Error ? e : new Error(String(e)));
    });
    return this.startPromise;
  }

  /** Cancels the etcd watch; no batch is delivered after this resolves. Idempotent. */
  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.abort.abort();
      this.closeStream();
      this.transition(WatchStates.stopped, 'stop');
      this.settleStart?.reject(this.stoppedError());
      this.settleStart = undefined;
    }
    await this.loop;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private stoppedError(): TernError {
    return new TernError('TERN_ERR_DATASTORE', `watch of ${this.prefix} stopped before its initial list completed`);
  }

  private async run(): Promise<void> {
    let relist = false;
    this.transition(WatchStates.listing, 'start');
    while (!this.stopped) {
      if (!(await this.listUntilDone(relist))) return;
      if (!relist) {
        this.settleStart?.resolve();
        this.settleStart = undefined;
      }
      const end = await this.watchUntilBroken();
      if (end === STOPPED) return;
      relist = true;
      this.counters.relists++;
      this.transition(WatchStates.relisting, end.kind);
      this.log.warn({ end, revision: this.view.revision }, 'watch cannot resume: re-listing');
    }
  }

  /** Lists with retries until it succeeds (true) or the watcher stops (false). */
  private async listUntilDone(relist: boolean): Promise<boolean> {
    for (;;) {
      let listed: { kvs: RawKv[]; revision: number } | typeof STOPPED;
      try {
        listed = await this.listOnce();
      } catch (e) {
        if (!(await this.backoffAfter(e, relist ? 're-list' : 'list'))) return false;
        continue;
      }
      if (listed === STOPPED) return false;
      this.recovered(relist ? 're-list' : 'list');
      this.deliver(this.view.applyListing(listed.kvs, listed.revision, relist));
      return true;
    }
  }

  /**
   * Reads the prefix in pages. The first page's header revision pins every later page
   * (`revision` in RangeRequest), so the pages together are one snapshot however many writes
   * happen meanwhile; if that revision gets compacted between pages the read fails and the
   * whole list starts over.
   */
  private async listOnce(): Promise<{ kvs: RawKv[]; revision: number } | typeof STOPPED> {
    const range = Range.prefix(this.prefix);
    const kvs: RawKv[] = [];
    let start = range.start;
    let revision = 0;
    for (;;) {
      let b = this.client
        .getAll()
        .inRange({ start, end: range.end })
        .limit(this.pageSize)
        .options({ deadline: Date.now() + this.listTimeoutMs });
      if (revision) b = b.revision(revision);
      const res = await this.unlessStopped(b.exec());
      if (res === STOPPED) return STOPPED;
      if (!revision) revision = Number(res.header.revision);
      for (const kv of res.kvs) kvs.push(toRawKv(kv));
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) return { kvs, revision };
      // The next key after `last` in byte order: last + 0x00.
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  /** Opens watch streams from revision + 1 until one ends in a way a resume cannot fix. */
  private async watchUntilBroken(): Promise<Exclude<WatchEnd, { kind: 'stream-failed' }> | typeof STOPPED> {
    for (;;) {
      const end = await this.unlessStopped(this.watchOnce());
      if (end === STOPPED) return STOPPED;
      if (end.kind !== 'stream-failed') return end;
      if (this.st !== WatchStates.disconnected) {
        this.transition(WatchStates.disconnected, 'stream-failed');
        this.log.warn({ err: end.error, revision: this.view.revision, established: end.established }, 'watch stream lost: resuming');
      }
      if (!(await this.backoffAfter(end.error, 'watch'))) return STOPPED;
    }
  }

  /** One Watch stream, one watch on it; resolves when that watch can deliver no more. */
  private async watchOnce(): Promise<WatchEnd> {
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.client.watchClient.watch();
    } catch (error) {
      return { kind: 'stream-failed', error, established: false };
    }
    if (this.stopped) {
      stream.cancel();
      return { kind: 'stream-failed', error: new Error('stopped'), established: false };
    }
    this.stream = stream;
    const range = Range.prefix(this.prefix);
    const fromRevision = this.view.revision + 1;
    return new Promise<WatchEnd>((resolve) => {
      let done = false;
      let established = false;
      const finish = (end: WatchEnd): void => {
        if (done) return;
        done = true;
        if (this.stream === stream) this.stream = undefined;
        // Cancelling the RPC also cancels the watch on the server.
        stream.cancel();
        resolve(end);
      };
      stream.on('data', (res: IWatchResponse) => {
        if (done || this.stopped) return;
        if (res.created && !res.canceled) {
          const serverRevision = Number(res.header.revision);
          // The store's revision never goes backwards; if it did, this is a restored or new
          // etcd and a watch from our revision would wait for history that will never exist.
          if (serverRevision < this.view.revision) {
            finish({ kind: 'revision-regressed', serverRevision });
            return;
          }
          established = true;
          if (this.st === WatchStates.disconnected) this.counters.reconnects++;
          this.recovered('watch');
          this.transition(WatchStates.watching, 'watch-created');
        }
        if (res.canceled) {
          const compactRevision = Number(res.compact_revision ?? 0);
          if (compactRevision > 0) finish({ kind: 'compacted', compactRevision });
          else finish({ kind: 'watch-canceled', reason: res.cancel_reason || 'canceled by etcd' });
          return;
        }
        if (res.events.length > 0) this.deliver(this.view.applyEvents(res.events.map(toRawEvent)));
      });
      stream.on('error', (error: Error) => finish({ kind: 'stream-failed', error, established }));
      stream.on('end', () => finish({ kind: 'stream-failed', error: new Error('watch stream ended'), established }));
      stream.write({
        create_request: {
          key: range.start,
          range_end: range.end,
          start_revision: String(fromRevision),
        },
      });
    });
  }

  private deliver(events: WatchEvent<T>[]): void {
    if (events.length === 0 || this.stopped) return;
    this.counters.batches++;
    this.counters.events += events.length;
    if (!this.handler) return;
    try {
      this.handler(events);
    } catch (e) {
      // The view already holds these events; a consumer bug must not stall the watch.
      this.log.error({ err: e }, 'batch handler threw');
    }
  }

  /** Waits the next backoff delay; false if the watcher stopped meanwhile. */
  private async backoffAfter(error: unknown, what: string): Promise<boolean> {
    if (this.stopped) return false;
    this.failures++;
    const base = Math.min(this.maxDelay, this.initialDelay * 2 ** Math.min(this.failures - 1, 30));
    // ±20 % jitter, so many agents do not hit a restarted etcd in lockstep.
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    // Logged once per outage (a lost stream was already logged with its transition); the
    // retries themselves only at debug level.
    if (this.failures === 1 && what !== 'watch') this.log.warn({ err: error }, `${what} failed: retrying every ≤${this.maxDelay} ms`);
    else this.log.debug({ err: error, attempt: this.failures, delay }, `${what} failed again`);
    try {
      await sleep(delay, undefined, { signal: this.abort.signal });
    } catch {
      return false;
    }
    return !this.stopped;
  }

  private recovered(what: string): void {
    if (this.failures > 0) this.log.info({ attempts: this.failures }, `${what} succeeded again`);
    this.failures = 0;
  }

  private unlessStopped<R>(p: Promise<R>): Promise<R | typeof STOPPED> {
    // The losing promise may still reject later (a read in flight when stop() was called).
    p.catch(() => undefined);
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve(STOPPED);
    // A listener per call, removed when the call settles: racing against one promise that only
    // settles at stop() would keep every settled call (each list page, with its buffers)
    // referenced from that promise's reaction list for the watcher's whole life.
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(STOPPED);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private closeStream(): void {
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
  }

  private transition(to: WatchState, reason: TransitionReason): void {
    const from = this.st;
    if (from === to || from === WatchStates.stopped) return;
    this.st = to;
    this.log.info(`${from} -> ${to} (${reason})`);
    try {
      this.emitter.emit('state', to, { from, to, reason });
    } catch (e) {
      this.log.error({ err: e }, 'state listener threw');
    }
  }

  private logDecodeError(f: DecodeFailure): void {
    this.log.warn({ key: f.key, modRevision: f.modRevision, error: f.error }, 'value does not decode: key treated as absent');
  }
}

function toRawKv(kv: IKeyValue): RawKv {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
  };
}

function toRawEvent(ev: IWatchResponse['events'][number]): RawEvent {
  if (ev.type === 'Put') return { type: 'put', kv: toRawKv(ev.kv) };
  return { type: 'delete', key: ev.kv.key.toString('utf8'), modRevision: Number(ev.kv.mod_revision) };
}
