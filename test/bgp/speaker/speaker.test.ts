// The speaker in-process: configuration errors, and two Speakers peering over loopback
// (127.0.0.1 <-> 127.0.0.2) for reload semantics, re-export after policy changes and best-path
// watching. Real sockets and timers; no namespaces needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTernError } from '../../../src/errors/index.js';
import { freePort } from '../../../src/lab/ports.js';
import type { BestPathEvent } from '../../../src/bgp/rib/index.js';
import { BgpSchema, PeerSchema, bulkPrefixes, dynamicAsAllowed, matchDynamic, toPeerConfig, type BgpConfigInput } from '../../../src/bgp/speaker/config.js';
import { Speaker } from '../../../src/bgp/speaker/speaker.js';
import { specFromProto, specToProto } from '../../../src/bgp/speaker/grpc.js';
import { IPV6_UNICAST } from '../../../src/bgp/wire/context.js';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../../../src/proto/load.js';
import type { PeerConfig, PeerConfig__Output } from '../../../src/proto/gen/tern/bgp/v1/PeerConfig.js';
import { SockoptTransport } from '../../../src/bgp/sockopt/transport.js';
import { tcpTransport } from '../../../src/bgp/session/transport.js';
import { waitUntil } from './helpers.js';

/** A PeerConfig through the real protobuf codec, as a gRPC client's message arrives. */
function roundTrip(p: PeerConfig): PeerConfig__Output {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir(), target);
  const T = root.loadSync('tern/bgp/v1/bgp.proto').lookupType('tern.bgp.v1.PeerConfig');
  return T.toObject(T.decode(T.encode(T.fromObject(p)).finish()), { enums: String, longs: Number, defaults: true, arrays: true }) as PeerConfig__Output;
}

const issues = (input: unknown): string[] => {
  const r = BgpSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('speaker configuration', () => {
  it('names the field of each error', () => {
    expect(issues({ peers: [{ address: 'x', asNumber: 1 }] })).toEqual([expect.stringMatching(/^peers\.0\.address: /)]);
    expect(issues({ peers: [{ address: '10.0.0.1', asNumber: 1 }, { address: '10.0.0.1', asNumber: 2 }] })).toEqual(['peers.1.address: 10.0.0.1 is also peers[0]']);
    expect(issues({ peers: [{ address: '10.0.0.1', asNumber: 1, exportPolicies: ['nope'] }] })).toEqual(['peers.0.exportPolicies.0: no policy named "nope"']);
    expect(issues({ peers: [{ address: '10.0.0.1', asNumber: 1, timers: { hold: 2 } }] })).toEqual(['peers.0.timers.hold: must be 0 or at least 3']);
    expect(issues({ originateBulk: [{ from: '255.255.255.0/24', count: 2 }] })).toEqual(['originateBulk.0.count: only 1 prefixes of length 24 follow 255.255.255.0/24']);
    expect(issues({ dynamicNeighbors: [{ prefix: '10.0.0.0/8', asNumber: 1, asRange: [1, 2] }] })).toEqual(['dynamicNeighbors.0.asRange: give asNumber or asRange, not both']);
    expect(issues({ routerId: '0.0.0.0' })).toHaveLength(1);
  });

  it('passes TCP MD5 and GTSM settings to the session', () => {
    const c = BgpSchema.parse({ peers: [{ address: '10.0.0.2', asNumber: 2, password: 's3cret', ttlSecurity: true }] });
    expect(toPeerConfig(c.peers[0]!, c, '10.0.0.1', 'peers[0]')).toMatchObject({ password: 's3cret', ttlSecurity: 1 });
    const off = BgpSchema.parse({ peers: [{ address: '10.0.0.2', asNumber: 2, ttlSecurity: false }] });
    expect(toPeerConfig(off.peers[0]!, off, '10.0.0.1', 'peers[0]').ttlSecurity).toBeUndefined();
  });

  it('uses the socket-option transport when the addon is built, and refuses MD5 peers on plain TCP naming the field', async () => {
    const config = BgpSchema.parse({ routerId: '10.0.0.1', listen: { port: 0 }, peers: [{ address: '127.0.0.9', asNumber: 2, password: 's3cret', passive: true }] });
    const secure = new Speaker({ config });
    try {
      expect(secure.sessions.transport).toBeInstanceOf(SockoptTransport);
      await secure.start();
      expect(secure.sessions.get('127.0.0.9')).toBeDefined();
    } finally {
      await secure.stop();
    }
    const plain = new Speaker({ config, transport: tcpTransport });
    let err: unknown;
    try {
      await plain.start();
    } catch (e) {
      err = e;
    } finally {
      await plain.stop();
    }
    expect(isTernError(err) && err.code).toBe('TERN_ERR_CONFIG');
    expect((err as Error).message).toMatch(/^peers\[0\]\.password: TCP MD5 .*socket-option addon/);
  });

  it('translates a peer: defaults from the speaker, families from the transport, add-path, graceful restart', () => {
    const c = BgpSchema.parse({
      asNumber: 65001,
      timers: { hold: 30 },
      gracefulRestart: { restartTime: 60 },
      peers: [{ address: 'fd00::2', asNumber: 65002, addPath: { send: true, receive: true }, timers: { keepalive: 3 } }],
    });
    const p = toPeerConfig(c.peers[0]!, c, '10.0.0.1', 'peers[0]');
    expect(p).toMatchObject({ peerAs: 65002, localAs: 65001, holdTime: 30, keepaliveTime: 3, families: [0x0201], addPath: 'both', gracefulRestart: { restartTime: 60 } });
  });

  it('the gRPC PeerConfig carries extended next hop and the per-family forwarding bit both ways', () => {
    const cases: Array<boolean | Array<'ipv4' | 'ipv6'>> = [true, false, ['ipv6'], ['ipv4', 'ipv6']];
    for (const forwarding of cases) {
      const spec = PeerSchema.parse({ address: 'fd00::2', asNumber: 65002, extendedNextHop: true, gracefulRestart: { enabled: true, forwarding } });
      const back = specFromProto(roundTrip(specToProto(spec, 65001)));
      expect(back.extendedNextHop, JSON.stringify(forwarding)).toBe(true);
      expect(back.gracefulRestart?.forwarding, JSON.stringify(forwarding)).toEqual(forwarding);
    }
    const plain = specFromProto(roundTrip(specToProto(PeerSchema.parse({ address: '10.0.0.2', asNumber: 65002 }), 65001)));
    expect(plain.extendedNextHop ?? false).toBe(false);
    expect(plain.linkLocalNextHop ?? true).toBe(true);
    const noLl = specFromProto(roundTrip(specToProto(PeerSchema.parse({ address: 'fd00::2', asNumber: 65002, linkLocalNextHop: false }), 65001)));
    expect(noLl.linkLocalNextHop).toBe(false);
    // What a client sets on the wire: the families listed get the bit in our OPEN.
    const c = BgpSchema.parse({ asNumber: 65001, peers: [specFromProto(roundTrip({ address: 'fd00::2', peerAs: 65002, families: ['IPV4_UNICAST', 'IPV6_UNICAST'], extendedNextHop: true, gracefulRestart: { enabled: true, forwardingFamilies: ['IPV6_UNICAST'] } }))] });
    expect(toPeerConfig(c.peers[0]!, c, '10.0.0.1', 'peers[0]')).toMatchObject({ extendedNextHop: true, gracefulRestart: { forwarding: [IPV6_UNICAST] } });
  });

  it('matches dynamic neighbour ranges and their AS rules; expands bulk ranges', () => {
    const c = BgpSchema.parse({ dynamicNeighbors: [{ prefix: '10.1.0.0/16', asRange: [65000, 65010] }, { prefix: 'fd00::/64' }] });
    expect(matchDynamic(c, '10.1.2.3')?.index).toBe(0);
    expect(matchDynamic(c, 'fd00::9')?.index).toBe(1);
    expect(matchDynamic(c, '10.2.0.1')).toBeNull();
    expect(dynamicAsAllowed(c.dynamicNeighbors[0]!, 65005)).toBe(true);
    expect(dynamicAsAllowed(c.dynamicNeighbors[0]!, 65011)).toBe(false);
    expect([...bulkPrefixes({ from: '10.0.255.0/24', count: 3 })]).toEqual(['10.0.255.0/24', '10.1.0.0/24', '10.1.1.0/24']);
    expect([...bulkPrefixes({ from: 'fd00:0:ffff::/48', count: 2 })]).toEqual(['fd00:0:ffff::/48', 'fd00:1::/48']);
  });
});

describe('two speakers over loopback', () => {
  let a: Speaker;
  let b: Speaker;
  let pa = 0;
  let pb = 0;
  const events: BestPathEvent[] = [];
  const cfgA = (o: { exportPolicies?: string[]; hold?: number; extra?: string[] } = {}): BgpConfigInput => ({
    asNumber: 65001,
    routerId: '10.0.0.1',
    listen: { address: '127.0.0.1', port: pa },
    policies: [{ name: 'not-10-2', default: 'accept', terms: [{ name: 'x', match: { prefixes: [{ prefix: '10.2.0.0/24' }] }, then: { action: 'reject' } }] }],
    peers: [{ address: '127.0.0.2', asNumber: 65002, port: pb, sourceAddress: '127.0.0.1', timers: { connectRetry: 1, idleHold: 0, ...(o.hold ? { hold: o.hold } : {}) }, ...(o.exportPolicies ? { exportPolicies: o.exportPolicies } : {}) }],
    originate: [{ prefix: '10.1.0.0/24', med: 7 }, { prefix: '10.2.0.0/24' }, ...(o.extra ?? []).map((prefix) => ({ prefix }))],
  });
  const best = (p: string): BestPathEvent | null => b.rib.lookup(p);

  beforeAll(async () => {
    pa = await freePort('127.0.0.1');
    pb = await freePort('127.0.0.2');
    a = new Speaker({ config: BgpSchema.parse(cfgA()) });
    b = new Speaker({
      config: BgpSchema.parse({
        asNumber: 65002,
        routerId: '10.0.0.2',
        listen: { address: '127.0.0.2', port: pb },
        peers: [{ address: '127.0.0.1', asNumber: 65001, port: pa, sourceAddress: '127.0.0.2', timers: { connectRetry: 1, idleHold: 0 } }],
      }),
    });
    b.watchBest((evs) => events.push(...evs));
    await a.start();
    await b.start();
    await waitUntil('routes at b', () => best('10.1.0.0/24') !== null && best('10.2.0.0/24') !== null);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('b has a\'s routes with MED and AS path; watchers saw them', () => {
    expect(best('10.1.0.0/24')!.best).toMatchObject({ med: 7, asPath: '65001', nextHop: '127.0.0.1' });
    expect(events.some((e) => e.prefix === '10.2.0.0/24' && e.best !== null)).toBe(true);
    const e = a.peer('127.0.0.2')!;
    expect(a.peerCounts(e).advertised).toBe(2);
  });

  it('reload with a narrower export policy withdraws at once without a new session', async () => {
    const est = a.peer('127.0.0.2')!.session.counters.established;
    const r = a.reload(BgpSchema.parse(cfgA({ exportPolicies: ['not-10-2'], extra: ['10.3.0.0/24'] })));
    expect(r).toEqual({ added: [], deleted: [], changed: ['127.0.0.2'], reset: [] });
    await waitUntil('10.2.0.0/24 withdrawn at b', () => best('10.2.0.0/24') === null && best('10.3.0.0/24') !== null);
    expect(events.filter((e) => e.prefix === '10.2.0.0/24').at(-1)!.best).toBeNull();
    expect(a.peer('127.0.0.2')!.session.counters.established).toBe(est);
    expect(a.peerCounts(a.peer('127.0.0.2')!).advertised).toBe(2);
  });

  it('the same file again changes nothing; a policy definition change re-exports', async () => {
    expect(a.reload(BgpSchema.parse(cfgA({ exportPolicies: ['not-10-2'], extra: ['10.3.0.0/24'] })))).toEqual({ added: [], deleted: [], changed: [], reset: [] });
    const next = BgpSchema.parse(cfgA({ exportPolicies: ['not-10-2'], extra: ['10.3.0.0/24'] }));
    next.policies[0]!.terms[0]!.match!.prefixes = [{ prefix: '10.3.0.0/24' }];
    a.reload(next);
    await waitUntil('10.2 back, 10.3 gone', () => best('10.2.0.0/24') !== null && best('10.3.0.0/24') === null);
  });

  it('a hold-time change is hard: the session is reset and comes back', async () => {
    const est = a.peer('127.0.0.2')!.session.counters.established;
    const r = a.reload(BgpSchema.parse(cfgA({ hold: 30 })));
    expect(r.reset).toEqual(['127.0.0.2']);
    await waitUntil('re-established', () => a.peer('127.0.0.2')!.session.counters.established > est && a.peer('127.0.0.2')!.session.state === 'Established', 15_000);
    await waitUntil('routes back', () => best('10.2.0.0/24') !== null);
  });

  it('refuses to reload fields that need a restart, keeping the running config', () => {
    expect(() => a.reload(BgpSchema.parse({ ...cfgA({ hold: 30 }), asNumber: 65009 }))).toThrow(/bgp\.asNumber: changing it needs a restart/);
    expect(a.config.asNumber).toBe(65001);
  });

  it('API paths: addPaths in bulk, deletePath brings back the config path for the prefix', async () => {
    expect(a.addPaths([{ prefix: '10.50.0.0/24' }, { prefix: '10.50.1.0/24' }, { prefix: '10.1.0.0/24', med: 99 }])).toBe(3);
    await waitUntil('API paths at b', () => best('10.50.1.0/24') !== null && best('10.1.0.0/24')?.best?.med === 99);
    expect(a.deletePath('10.1.0.0/24')).toBe(true);
    await waitUntil('config path back', () => best('10.1.0.0/24')?.best?.med === 7);
    expect(a.deletePath('10.50.0.0/24')).toBe(true);
    await waitUntil('withdrawn', () => best('10.50.0.0/24') === null);
    expect(a.deletePath('10.99.0.0/24')).toBe(false);
  });
});
