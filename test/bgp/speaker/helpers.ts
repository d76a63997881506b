// Plumbing for speaker tests: the compiled tern-bgpd / tern-rrd in a lab namespace, its gRPC
// client, BIRD and GoBGP in namespaces with their command-line clients.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify as toYaml } from 'yaml';
import type { Host, Lab } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import { unary } from '../../../src/grpc/index.js';
import type { BgpClient } from '../../../src/proto/gen/tern/bgp/v1/Bgp.js';
import type { BestPathEvent__Output } from '../../../src/proto/gen/tern/bgp/v1/BestPathEvent.js';
import type { ListRoutesRequest } from '../../../src/proto/gen/tern/bgp/v1/ListRoutesRequest.js';
import type { PeerState__Output } from '../../../src/proto/gen/tern/bgp/v1/PeerState.js';
import type { Route__Output } from '../../../src/proto/gen/tern/bgp/v1/Route.js';
import { bgpProto } from '../../../src/proto/load.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 15_000, everyMs = 150): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

export const bin = (name: string): string => join(process.cwd(), 'dist/daemons', `${name}.js`);

/** A tern-bgpd / tern-rrd process in a lab host, with its config file and gRPC client. */
export class TernDaemon {
  proc: ManagedProcess | null = null;
  client: BgpClient | null = null;
  readonly socket: string;
  readonly configFile: string;
  constructor(
    readonly lab: Lab,
    readonly host: Host,
    readonly name: 'tern-bgpd' | 'tern-rrd',
    readonly opsPort = 9180,
  ) {
    this.socket = join(lab.dir, `${host.name}-${name}.sock`);
    this.configFile = join(lab.dir, `${host.name}-${name}.yaml`);
  }

  writeConfig(bgp: object): void {
    writeFileSync(this.configFile, toYaml({ bgp }));
  }

  async start(): Promise<void> {
    this.proc = this.lab.spawn(this.host, process.execPath, [
      bin(this.name), '--config', this.configFile, '--grpc-socket', this.socket, '--ops-listen', `${this.host.fabricIp}:${this.opsPort}`, '--log-level', 'info',
    ]);
    const Ctor = bgpProto().tern.bgp.v1.Bgp;
    this.client?.close();
    this.client = new Ctor(`unix:${this.socket}`, grpc.credentials.createInsecure()) as unknown as BgpClient;
    await waitUntil(`${this.name} ready`, async () => {
      if (this.proc?.exited) throw new Error(`${this.name} exited: ${this.proc.tail()}`);
      const s = await this.call<{ ready: boolean }>('getStatus', {}, 1000);
      return s.ready;
    }, 20_000);
  }

  get pid(): number {
    return this.proc!.pid;
  }

  call<T>(method: keyof BgpClient & string, req: object, timeoutMs = 10_000): Promise<T> {
    const c = this.client! as unknown as Record<string, (...a: unknown[]) => unknown>;
    return unary<object, T>(c[method]!.bind(c) as never, req, timeoutMs);
  }

  async peers(): Promise<PeerState__Output[]> {
    return (await this.call<{ peers: PeerState__Output[] }>('listPeers', {})).peers;
  }

  async peer(address: string): Promise<PeerState__Output | undefined> {
    return (await this.call<{ peers: PeerState__Output[] }>('listPeers', { address })).peers[0];
  }

  async waitEstablished(address: string, timeoutMs = 30_000): Promise<PeerState__Output> {
    let p: PeerState__Output | undefined;
    await waitUntil(`${address} Established`, async () => (p = await this.peer(address))?.state === 'Established', timeoutMs);
    return p!;
  }

  routes(req: ListRoutesRequest): Promise<Route__Output[]> {
    return new Promise((resolve, reject) => {
      const got: Route__Output[] = [];
      const s = this.client!.listRoutes(req, { deadline: Date.now() + 30_000 });
      s.on('data', (r: Route__Output) => got.push(r));
      s.on('error', reject);
      s.on('end', () => resolve(got));
    });
  }

  /** Opens WatchBestPaths; events accumulate in the returned array. */
  watchBest(family: 'FAMILY_UNSPECIFIED' | 'IPV4_UNICAST' | 'IPV6_UNICAST' = 'FAMILY_UNSPECIFIED'): { events: BestPathEvent__Output[]; cancel(): void } {
    const events: BestPathEvent__Output[] = [];
    const s = this.client!.watchBestPaths({ family });
    s.on('data', (e: BestPathEvent__Output) => events.push(e));
    s.on('error', () => {});
    return { events, cancel: () => s.cancel() };
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = null;
    await this.proc?.stop('SIGTERM', 5000);
  }
}

/** How far two readings of one unchanged BIRD "Since" stamp may differ (see Bird.sameSession). */
const SINCE_JITTER_MS = 50;

export class Bird {
  readonly socket: string;
  readonly conf: string;
  proc: ManagedProcess | null = null;
  constructor(readonly lab: Lab, readonly host: Host) {
    this.socket = join(lab.dir, `${host.name}.bird.ctl`);
    this.conf = join(lab.dir, `${host.name}.bird.conf`);
  }
  start(config: string): void {
    writeFileSync(this.conf, config);
    this.proc = this.lab.spawn(this.host, 'bird', ['-f', '-c', this.conf, '-s', this.socket, '-P', join(this.lab.dir, `${this.host.name}.bird.pid`)]);
  }
  async c(...args: string[]): Promise<string> {
    const r = await this.lab.exec(this.host, 'birdc', ['-s', this.socket, ...args], { allowFail: true });
    return r.stdout;
  }
  /** `show route PREFIX all` text ('' when absent). */
  async route(prefix: string, ...extra: string[]): Promise<string> {
    const r = await this.c('show', 'route', prefix, ...extra, 'all');
    return r.includes(prefix.split('/')[0]!) ? r : '';
  }
  async established(proto: string): Promise<boolean> {
    return /BGP state:\s+Established/.test(await this.c('show', 'protocols', 'all', proto));
  }
  /**
   * When an up protocol came up: its "Since" column of `show protocols`, in ms into the day (NaN
   * when it is not up). It changes when the session resets.
   */
  async since(proto: string): Promise<number> {
    const line = (await this.c('show', 'protocols', proto)).split('\n').find((l) => l.startsWith(proto));
    const [state, time] = line?.trim().split(/\s+/).slice(3, 5) ?? [];
    const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/.exec(time ?? '');
    if (state !== 'up' || !m) return NaN;
    return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number((m[4] ?? '0').padEnd(3, '0'));
  }

  /**
   * Whether an up protocol is still in the session that came up at `since` (from since()). BIRD
   * keeps the stamp on its monotonic clock and turns it into wall time at each question, so two
   * readings of one stamp can differ by a millisecond or so; a reset moves it by at least the
   * peers' 1 s connect retry.
   */
  async sameSession(proto: string, since: number): Promise<boolean> {
    return Math.abs((await this.since(proto)) - since) <= SINCE_JITTER_MS;
  }
}

export class GoBgp {
  proc: ManagedProcess | null = null;
  readonly conf: string;
  constructor(readonly lab: Lab, readonly host: Host, readonly apiPort = 50051) {
    this.conf = join(lab.dir, `${host.name}.gobgpd.toml`);
  }
  start(config: string): void {
    writeFileSync(this.conf, config);
    this.proc = this.lab.spawn(this.host, 'gobgpd', ['-f', this.conf, '--api-hosts', `127.0.0.1:${this.apiPort}`, '--pprof-disable']);
  }
  async c(...args: string[]): Promise<string> {
    const r = await this.lab.exec(this.host, 'gobgp', ['-p', String(this.apiPort), ...args], { allowFail: true });
    return r.stdout + r.stderr;
  }
  /** `gobgp global rib -a FAMILY [PREFIX] -j` parsed: prefix → paths. */
  async rib(family: 'ipv4' | 'ipv6', prefix?: string): Promise<Record<string, GoPath[]>> {
    const r = await this.lab.exec(this.host, 'gobgp', ['-p', String(this.apiPort), 'global', 'rib', '-a', family, ...(prefix ? [prefix] : []), '-j'], { allowFail: true });
    const t = r.stdout.trim();
    if (t === '' || t === 'null') return {};
    const j = JSON.parse(t) as Record<string, GoPath[]> | GoPath[];
    return Array.isArray(j) ? (prefix ? { [prefix]: j } : {}) : j;
  }
  async neighborState(addr: string): Promise<string> {
    const r = await this.c('neighbor', addr);
    return /BGP state = (\w+)/.exec(r)?.[1] ?? '';
  }
}

export interface GoPath {
  nlri: { prefix: string };
  attrs: { type: number; as_paths?: { segment_type: number; asns: number[] }[]; nexthop?: string; metric?: number; value?: unknown; communities?: number[] }[];
  'path-id'?: number;
  best?: boolean;
  source?: string;
  neighbor?: string;
  stale?: boolean;
}

/** Attribute type codes in GoBGP's JSON. */
export const GoAttr = { ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH: 14, LARGE_COMMUNITY: 32 } as const;
