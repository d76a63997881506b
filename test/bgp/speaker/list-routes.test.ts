// ListRoutes streams the RIB page by page: the speaker and its gRPC service in-process (a unix
// socket), a table of 200,000 prefixes. A prefix added once the first route has reached the
// client is in the very same stream: it can only be if the server had not walked the table yet
// when it started sending (a list built first would have been complete, and without it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcServer, type StartedServer } from '../../../src/grpc/index.js';
import { BgpSchema } from '../../../src/bgp/speaker/config.js';
import { bgpHandlers, LIST_PAGE } from '../../../src/bgp/speaker/grpc.js';
import { Speaker } from '../../../src/bgp/speaker/speaker.js';
import type { BgpClient } from '../../../src/proto/gen/tern/bgp/v1/Bgp.js';
import type { Route__Output } from '../../../src/proto/gen/tern/bgp/v1/Route.js';
import { bgpProto } from '../../../src/proto/load.js';

const TABLE = 200_000;
const LATE = '10.250.0.0/24';

let dir: string;
let sp: Speaker;
let server: StartedServer;
let client: BgpClient;

describe('ListRoutes pages through the RIB', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tern-list-'));
    sp = new Speaker({ config: BgpSchema.parse({ asNumber: 65001, routerId: '10.0.0.1', listen: { port: 0 }, originateBulk: [{ from: '16.0.0.0/24', count: TABLE }] }) });
    await sp.start();
    server = await startGrpcServer({ socket: join(dir, 'bgp.sock'), tcp: '' }, (s) => {
      s.addService(bgpProto().tern.bgp.v1.Bgp.service, bgpHandlers(sp, {
        status: () => ({ ready: true, details: {} }),
        getStatus: ((_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {})) as never,
        reload: () => Promise.reject(new Error('no reload here')),
      }));
    });
    const Ctor = bgpProto().tern.bgp.v1.Bgp;
    client = new Ctor(`unix:${join(dir, 'bgp.sock')}`, grpc.credentials.createInsecure()) as unknown as BgpClient;
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.close();
    await sp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams before the walk ends: a prefix added after the first route arrives is in the same stream', async () => {
    expect(sp.stats().ipv4Prefixes).toBe(TABLE);
    const seen = new Set<string>();
    let count = 0;
    let addedAt = -1;
    await new Promise<void>((resolve, reject) => {
      const s = client.listRoutes({ table: 'LOC_RIB', family: 'IPV4_UNICAST' });
      s.on('data', (r: Route__Output) => {
        count++;
        seen.add(r.prefix);
        if (addedAt < 0) {
          addedAt = count;
          // New prefix, new slot at the end of the table.
          sp.addPath({ prefix: LATE });
        }
      });
      s.on('error', reject);
      s.on('end', () => resolve());
    });
    expect(addedAt).toBe(1);
    expect(seen.has(LATE)).toBe(true);
    expect(count).toBe(TABLE + 1);
    expect(seen.size).toBe(TABLE + 1);
  }, 120_000);

  it('limit and exact prefix still hold across pages', async () => {
    const take = (req: object): Promise<Route__Output[]> =>
      new Promise((resolve, reject) => {
        const got: Route__Output[] = [];
        const s = client.listRoutes(req);
        s.on('data', (r: Route__Output) => got.push(r));
        s.on('error', reject);
        s.on('end', () => resolve(got));
      });
    expect(await take({ table: 'LOC_RIB', limit: LIST_PAGE * 2 + 7 })).toHaveLength(LIST_PAGE * 2 + 7);
    const one = await take({ table: 'LOC_RIB', prefix: '16.0.1.0/24' });
    expect(one.map((r) => r.prefix)).toEqual(['16.0.1.0/24']);
    const v6 = await take({ table: 'LOC_RIB', family: 'IPV6_UNICAST' });
    expect(v6).toEqual([]);
  }, 60_000);
});
