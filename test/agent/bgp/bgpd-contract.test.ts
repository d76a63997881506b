// The agent's bgpd client against the real tern-bgpd (compiled, in a lab namespace): desired
// peers and paths land in bgpd, a changed peer costs exactly one call, best paths stream back
// with a snapshot end, and after bgpd is killed and restarted the client reconnects and
// pushes the whole desired set again.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpdClient, type BestPathUpdate } from '../../../src/agent/bgp/client.js';
import type { DesiredPath } from '../../../src/agent/bgp/paths.js';
import type { DesiredPeer } from '../../../src/agent/bgp/peers.js';
import { Lab, type Host } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import { logger } from '../../../src/log/index.js';
import type { BgpClient } from '../../../src/proto/gen/tern/bgp/v1/Bgp.js';
import type { Route__Output } from '../../../src/proto/gen/tern/bgp/v1/Route.js';
import { bgpProto } from '../../../src/proto/load.js';
import { waitFor } from '../cni/helpers.js';

const BGPD = join(process.cwd(), 'dist/daemons/tern-bgpd.js');
let lab: Lab;
let host: Host;
let bgpd: ManagedProcess;
let socket: string;
let client: BgpdClient;
const events: BestPathUpdate[] = [];

function startBgpd(): ManagedProcess {
  const conf = join(lab.dir, 'bgpd.yaml');
  writeFileSync(conf, `bgp:\n  asNumber: 64512\n  routerId: ${host.fabricIp}\n  listen:\n    address: ${host.fabricIp}\n    port: 179\n`);
  return lab.spawn(host, process.execPath, [BGPD, '-c', conf, '--grpc-socket', socket, '--ops-listen', '127.0.0.1:0', '--log-level', 'warn']);
}

async function bgpdState(): Promise<{ peers: { address: string; hold: number; source: string }[]; own: string[] }> {
  const C = bgpProto().tern.bgp.v1.Bgp;
  const c = new C(`unix:${socket}`, grpc.credentials.createInsecure()) as unknown as BgpClient;
  try {
    const peers = await new Promise<{ address: string; hold: number; source: string }[]>((resolve, reject) =>
      c.listPeers({}, (e, r) => (e ? reject(e) : resolve(r!.peers.map((p) => ({ address: p.config!.address, hold: p.config!.holdTimeSeconds, source: p.source }))))),
    );
    const own = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const s = c.listRoutes({ table: 'LOC_RIB' });
      s.on('data', (r: Route__Output) => {
        if (r.paths.some((p) => p.peerAddress === '')) out.push(r.prefix);
      });
      s.on('end', () => resolve(out.sort()));
      s.on('error', reject);
    });
    return { peers: peers.sort((a, b) => (a.address < b.address ? -1 : 1)), own };
  } finally {
    c.close();
  }
}

const peer = (address: string, hold?: number): DesiredPeer => ({ address, peerAs: 65000, localAs: 64512, description: `bgppeer ${address}`, ...(hold ? { holdTimeSeconds: hold } : {}) });
const path = (prefix: string): DesiredPath => ({ prefix, family: 'IPV4_UNICAST', nextHop: host.fabricIp, communities: ['65000:100'], largeCommunities: [], reason: 'block' });

beforeAll(async () => {
  lab = await Lab.create();
  host = await lab.addHost('n1');
  socket = join(lab.dir, 'bgpd.sock');
  bgpd = startBgpd();
  client = new BgpdClient({ socket, log: logger('test'), onBestPath: (u) => events.push(u), backoffMs: 100, maxBackoffMs: 500 });
  client.start();
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await lab?.destroy();
}, 30_000);

describe('agent ↔ tern-bgpd gRPC contract', () => {
  it('pushes desired peers and paths, streams best paths with a snapshot end', async () => {
    client.setDesired(new Map([['10.99.0.50', peer('10.99.0.50')], ['10.99.0.51', peer('10.99.0.51')]]), new Map([['10.244.5.0/26', path('10.244.5.0/26')]]));
    await waitFor(async () => {
      if (!client.connected) throw new Error('not connected');
      await client.flushed();
      const s = await bgpdState();
      expect(s.peers.map((p) => p.address)).toEqual(['10.99.0.50', '10.99.0.51']);
      expect(s.own).toEqual(['10.244.5.0/26']);
    }, 20_000);
    expect(events.some((e) => e.type === 'snapshot-end')).toBe(true);
    await waitFor(async () => {
      expect(events.some((e) => e.type === 'upsert' && e.prefix === '10.244.5.0/26')).toBe(true);
    });
  }, 30_000);

  it('a changed peer costs one UpdatePeer; a removed path one DeletePath', async () => {
    await client.flushed();
    const before = client.stats.calls;
    client.setDesired(new Map([['10.99.0.50', peer('10.99.0.50', 30)], ['10.99.0.51', peer('10.99.0.51')]]), new Map([['10.244.5.0/26', path('10.244.5.0/26')]]));
    await client.flushed();
    expect(client.stats.calls - before).toBe(1);
    expect((await bgpdState()).peers.find((p) => p.address === '10.99.0.50')?.hold).toBe(30);
    const mid = client.stats.calls;
    client.setDesired(new Map([['10.99.0.50', peer('10.99.0.50', 30)], ['10.99.0.51', peer('10.99.0.51')]]), new Map());
    await client.flushed();
    expect(client.stats.calls - mid).toBe(1);
    expect((await bgpdState()).own).toEqual([]);
    await waitFor(async () => {
      expect(events.some((e) => e.type === 'withdraw' && e.prefix === '10.244.5.0/26')).toBe(true);
    });
  }, 30_000);

  it('after bgpd is killed and restarted, the whole desired set is pushed again', async () => {
    client.setDesired(new Map([['10.99.0.50', peer('10.99.0.50', 30)]]), new Map([['10.244.6.0/26', path('10.244.6.0/26')]]));
    await client.flushed();
    await bgpd.stop('SIGKILL');
    await waitFor(async () => {
      expect(events.some((e) => e.type === 'disconnected')).toBe(true);
    });
    bgpd = startBgpd();
    await waitFor(async () => {
      if (!client.connected) throw new Error('not reconnected');
      await client.flushed();
      const s = await bgpdState();
      expect(s.peers).toEqual([{ address: '10.99.0.50', hold: 30, source: 'api' }]);
      expect(s.own).toEqual(['10.244.6.0/26']);
    }, 20_000);
    expect(client.stats.connects).toBe(2);
  }, 40_000);
});
