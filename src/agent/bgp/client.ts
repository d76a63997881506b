// The agent's side of tern-bgpd's gRPC API. The agent owns what bgpd should do (sessions and
// originated paths); bgpd owns BGP state. This client keeps bgpd equal to the desired sets:
// after every (re)connect it reads what bgpd has and pushes the difference (bgpd restarted:
// everything; the agent restarted: usually nothing), then sends only changes. Best paths
// stream back through WatchBestPaths. All calls go through one queue, so bgpd sees one
// writer's calls in order.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log/index.js';
import { grpcTarget } from '../../grpc/index.js';
import type { BgpClient as PbBgpClient } from '../../proto/gen/tern/bgp/v1/Bgp.js';
import type { BestPathEvent__Output } from '../../proto/gen/tern/bgp/v1/BestPathEvent.js';
import type { Path } from '../../proto/gen/tern/bgp/v1/Path.js';
import type { PeerState__Output } from '../../proto/gen/tern/bgp/v1/PeerState.js';
import type { Route__Output } from '../../proto/gen/tern/bgp/v1/Route.js';
import { bgpProto } from '../../proto/load.js';
import { diffPaths, type DesiredPath } from './paths.js';
import { diffPeers, type DesiredPeer } from './peers.js';

export type BestPathUpdate =
  | { type: 'connected' }
  | { type: 'upsert'; prefix: string; nextHops: string[] }
  | { type: 'withdraw'; prefix: string }
  | { type: 'snapshot-end' }
  | { type: 'disconnected'; reason: string };

export interface BgpdClientOptions {
  socket: string;
  log: Logger;
  onBestPath: (u: BestPathUpdate) => void;
  /** First reconnect delay; doubles to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  callTimeoutMs?: number;
}

export interface BgpdClientStats {
  connects: number;
  disconnects: number;
  calls: number;
  callFailures: number;
  rejected: number;
}

/** The Path message of an originated path (the calculation's bookkeeping stays here). */
function pbPath(p: DesiredPath): Path {
  return { prefix: p.prefix, family: p.family, nextHop: p.nextHop, communities: p.communities, largeCommunities: p.largeCommunities, origin: 'igp' };
}

const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNKNOWN, grpc.status.INTERNAL]);

export class BgpdClient {
  private readonly opts: Required<Omit<BgpdClientOptions, 'log' | 'onBestPath' | 'socket'>> & BgpdClientOptions;
  private client: PbBgpClient | undefined;
  private stream: grpc.ClientReadableStream<BestPathEvent__Output> | undefined;
  private desiredPeers = new Map<string, DesiredPeer>();
  private desiredPaths = new Map<string, DesiredPath>();
  private appliedPeers = new Map<string, DesiredPeer>();
  private appliedPaths = new Map<string, DesiredPath>();
  /** Peers bgpd refused (bad config): not retried until they change. */
  readonly rejectedPeers = new Map<string, string>();
  private state: 'idle' | 'connecting' | 'connected' | 'stopped' = 'idle';
  private backoff: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private generation = 0;
  readonly stats: BgpdClientStats = { connects: 0, disconnects: 0, calls: 0, callFailures: 0, rejected: 0 };

  constructor(opts: BgpdClientOptions) {
    this.opts = { backoffMs: 200, maxBackoffMs: 5000, callTimeoutMs: 10_000, ...opts };
    this.backoff = this.opts.backoffMs;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    if (this.state !== 'idle') return;
    void this.connect();
  }

  /** The sessions and paths bgpd should have; pushed now if connected, after the next connect otherwise. */
  setDesired(peers: ReadonlyMap<string, DesiredPeer>, paths: ReadonlyMap<string, DesiredPath>): void {
    this.desiredPeers = new Map(peers);
    this.desiredPaths = new Map(paths);
    for (const [a, why] of [...this.rejectedPeers]) if (!peers.has(a) || why !== JSON.stringify(peers.get(a))) this.rejectedPeers.delete(a);
    if (this.state === 'connected') this.kick();
  }

  /** Resolves when the last setDesired() has been pushed (or the connection is down). */
  async flushed(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  async listPeers(): Promise<PeerState__Output[]> {
    const c = this.client;
    if (!c || this.state !== 'connected') return [];
    const r = await this.call<{ peers: PeerState__Output[] }>((cb, o) => c.listPeers({}, o, cb));
    return r.peers;
  }

  private call<T>(fn: (cb: (err: grpc.ServiceError | null, res?: T) => void, opts: grpc.CallOptions) => unknown): Promise<T> {
    this.stats.calls++;
    return new Promise((resolve, reject) =>
      fn((err, res) => {
        if (err) {
          this.stats.callFailures++;
          reject(err);
        } else resolve(res as T);
      }, { deadline: Date.now() + this.opts.callTimeoutMs }),
    );
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    const gen = ++this.generation;
    const Ctor = bgpProto().tern.bgp.v1.Bgp;
    const c = new Ctor(grpcTarget(this.opts.socket), grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A dead bgpd behind a kept-open socket is noticed by the stream, not by a hung call.
      'grpc.keepalive_time_ms': 10_000,
    }) as unknown as PbBgpClient;
    this.client = c;
    try {
      await new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 2000, (e) => (e ? reject(e) : resolve())));
      // What bgpd has now: after a bgpd restart nothing, after an agent restart everything.
      await this.reconcile(c);
      if (gen !== this.generation || (this.state as string) === 'stopped') return;
      this.openStream(c, gen);
      this.state = 'connected';
      this.stats.connects++;
      this.backoff = this.opts.backoffMs;
      this.opts.log.info({ socket: this.opts.socket, peers: this.appliedPeers.size, paths: this.appliedPaths.size }, 'bgpd connected; desired peers and paths pushed');
      this.opts.onBestPath({ type: 'connected' });
      this.kick();
    } catch (e) {
      if (gen !== this.generation) return;
      this.opts.log.debug({ err: (e as Error).message }, 'bgpd not reachable');
      this.scheduleReconnect(gen, (e as Error).message);
    }
  }

  private scheduleReconnect(gen: number, reason: string): void {
    if (gen !== this.generation || this.state === 'stopped') return;
    const wasConnected = this.state === 'connected';
    this.state = 'connecting';
    this.stream?.cancel();
    this.stream = undefined;
    this.client?.close();
    this.client = undefined;
    if (wasConnected) {
      this.stats.disconnects++;
      this.opts.log.warn({ reason }, 'bgpd connection lost; reconnecting');
      this.opts.onBestPath({ type: 'disconnected', reason });
    }
    const delay = this.backoff * (0.8 + Math.random() * 0.4);
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private async reconcile(c: PbBgpClient): Promise<void> {
    const have = await this.call<{ peers: PeerState__Output[] }>((cb, o) => c.listPeers({}, o, cb));
    // Peers from bgpd's own configuration file are not ours to change.
    this.appliedPeers = new Map();
    const apiPeers = new Set(have.peers.filter((p) => p.source === 'api').map((p) => p.config?.address ?? ''));
    const allPeers = new Set(have.peers.map((p) => p.config?.address ?? ''));
    for (const p of this.desiredPeers.values()) {
      // UpdatePeer with unchanged settings keeps the session (bgpd answers "same").
      if (allPeers.has(p.address) && !apiPeers.has(p.address)) continue;
      try {
        if (apiPeers.has(p.address)) await this.call((cb, o) => c.updatePeer({ peer: p }, o, cb));
        else await this.call((cb, o) => c.addPeer({ peer: p }, o, cb));
        this.appliedPeers.set(p.address, p);
      } catch (e) {
        this.rejectPeer(p, e);
      }
    }
    for (const a of apiPeers) if (!this.desiredPeers.has(a)) await this.call((cb, o) => c.deletePeer({ address: a, shutdownMessage: 'no longer configured' }, o, cb)).catch(() => undefined);

    const paths = [...this.desiredPaths.values()];
    if (paths.length > 0) {
      await new Promise<void>((resolve, reject) => {
        this.stats.calls++;
        const w = c.addPaths({ deadline: Date.now() + this.opts.callTimeoutMs }, (err) => (err ? reject(err) : resolve()));
        for (const p of paths) w.write({ path: pbPath(p) });
        w.end();
      });
    }
    this.appliedPaths = new Map(this.desiredPaths);
    // Paths an earlier agent added that are no longer wanted (bgpd outlived the agent).
    const own = await new Promise<Route__Output[]>((resolve, reject) => {
      const out: Route__Output[] = [];
      const s = c.listRoutes({ table: 'LOC_RIB' }, { deadline: Date.now() + this.opts.callTimeoutMs });
      s.on('data', (r: Route__Output) => out.push(r));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    for (const r of own) {
      if (this.desiredPaths.has(r.prefix) || !r.paths.some((p) => p.peerAddress === '')) continue;
      await this.call((cb, o) => c.deletePath({ prefix: r.prefix, family: r.family }, o, cb)).catch(() => undefined);
    }
  }

  private rejectPeer(p: DesiredPeer, e: unknown): void {
    const err = e as grpc.ServiceError;
    if (RETRYABLE.has(err.code)) throw e;
    this.stats.rejected++;
    this.rejectedPeers.set(p.address, JSON.stringify(p));
    this.opts.log.error({ peer: p.address, err: err.details ?? err.message }, 'bgpd refused the peer');
  }

  private openStream(c: PbBgpClient, gen: number): void {
    const s = c.watchBestPaths({ family: 'FAMILY_UNSPECIFIED' });
    this.stream = s;
    s.on('data', (ev: BestPathEvent__Output) => {
      if (gen !== this.generation) return;
      if (ev.type === 'SNAPSHOT_END') this.opts.onBestPath({ type: 'snapshot-end' });
      else if (ev.type === 'WITHDRAW' || ev.nextHops.length === 0) this.opts.onBestPath({ type: 'withdraw', prefix: ev.prefix });
      else this.opts.onBestPath({ type: 'upsert', prefix: ev.prefix, nextHops: [...ev.nextHops] });
    });
    s.on('error', (e: Error) => this.scheduleReconnect(gen, e.message));
    s.on('end', () => this.scheduleReconnect(gen, 'stream ended'));
  }

  private kick(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.syncLoop().finally(() => (this.syncing = undefined));
  }

  private async syncLoop(): Promise<void> {
    do {
      this.syncAgain = false;
      const c = this.client;
      const gen = this.generation;
      if (!c || this.state !== 'connected') return;
      try {
        await this.syncOnce(c);
      } catch (e) {
        const err = e as grpc.ServiceError;
        this.opts.log.warn({ err: err.details ?? err.message }, 'pushing to bgpd failed');
        this.scheduleReconnect(gen, err.details ?? err.message);
        return;
      }
    } while (this.syncAgain);
  }

  private async syncOnce(c: PbBgpClient): Promise<void> {
    const wanted = new Map([...this.desiredPeers].filter(([a, p]) => this.rejectedPeers.get(a) !== JSON.stringify(p)));
    const d = diffPeers(this.appliedPeers, wanted);
    for (const a of d.delete) {
      await this.call((cb, o) => c.deletePeer({ address: a, shutdownMessage: 'peer removed from the cluster configuration' }, o, cb)).catch((e: grpc.ServiceError) => {
        if (e.code !== grpc.status.NOT_FOUND) throw e;
      });
      this.appliedPeers.delete(a);
    }
    for (const p of d.add) {
      try {
        await this.call((cb, o) => c.addPeer({ peer: p }, o, cb));
        this.appliedPeers.set(p.address, p);
      } catch (e) {
        this.rejectPeer(p, e);
      }
    }
    for (const p of d.update) {
      try {
        await this.call((cb, o) => c.updatePeer({ peer: p }, o, cb));
        this.appliedPeers.set(p.address, p);
      } catch (e) {
        this.rejectPeer(p, e);
      }
    }
    const pd = diffPaths(this.appliedPaths, this.desiredPaths);
    for (const p of pd.delete) {
      await this.call((cb, o) => c.deletePath({ prefix: p.prefix, family: p.family }, o, cb)).catch((e: grpc.ServiceError) => {
        if (e.code !== grpc.status.NOT_FOUND) throw e;
      });
      this.appliedPaths.delete(p.prefix);
    }
    for (const p of pd.add) {
      await this.call((cb, o) => c.addPath({ path: pbPath(p) }, o, cb));
      this.appliedPaths.set(p.prefix, p);
    }
  }

  get peersApplied(): number {
    return this.appliedPeers.size;
  }

  get pathsApplied(): number {
    return this.appliedPaths.size;
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.generation++;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.client?.close();
  }
}
