// The pure parts of the route manager: normalisation, ip batch lines, dump/monitor/stderr
// parsers, and the diff. Fixtures are real iproute2 6.1 output (`ip -N -j route show`,
// `ip -N monitor route link`, `ip -force -batch -` stderr) captured on this kernel.
import { describe, expect, it } from 'vitest';
import { BatchStderrParser, MonitorParser, classifyError, encodeOp, parseRouteDump, type MonitorEvent } from '../../../src/agent/routes/codec.js';
import { buildView, planRoutes } from '../../../src/agent/routes/diff.js';
import {
  TERN_ROUTE_PROTOCOL,
  asKernelRoute,
  normalizeRoute,
  routeKey,
  satisfies,
  type NormalRoute,
  type RouteSpec,
} from '../../../src/agent/routes/model.js';

function norm(spec: RouteSpec): NormalRoute {
  const n = normalizeRoute(spec);
  if (!n.ok) throw new Error(`${n.issue.field}: ${n.issue.message}`);
  return n.route;
}

describe('normalizeRoute', () => {
  it('fills defaults per family and sorts next hops', () => {
    const v4 = norm({ kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.3' }, { via: '10.99.0.2', weight: 2 }] });
    expect(v4).toMatchObject({ family: 4, table: 254, metric: 0 });
    expect(v4.nexthops.map((n) => n.via)).toEqual(['10.99.0.2', '10.99.0.3']);
    const v6 = norm({ kind: 'local', dst: 'fd01:0:0::5/128', dev: 'cali1' });
    expect(v6).toMatchObject({ family: 6, dst: 'fd01::5/128', metric: 1024 });
  });

  it.each<[string, RouteSpec, string]>([
    ['token injection in a device name', { kind: 'local', dst: '10.1.0.5/32', dev: 'cali1 via 1.2.3.4' }, 'dev'],
    ['a new line in a device name', { kind: 'local', dst: '10.1.0.5/32', dev: 'cali1\nroute flush' }, 'dev'],
    ['a device name over 15 characters', { kind: 'local', dst: '10.1.0.5/32', dev: 'cali0123456789abc' }, 'dev'],
    ['host bits in the prefix', { kind: 'blackhole', dst: '10.1.0.1/26' }, 'dst'],
    ['gateway of the other family', { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: 'fd99::2' }] }, 'nexthops[0].via'],
    ['link-local IPv6 gateway without device', { kind: 'via', dst: 'fd02::/64', nexthops: [{ via: 'fe80::1' }] }, 'nexthops[0].dev'],
    ['no next hop', { kind: 'via', dst: '10.2.0.0/26', nexthops: [] }, 'nexthops'],
    ['duplicate next hop', { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.2' }] }, 'nexthops[1]'],
    ['the local table', { kind: 'blackhole', dst: '10.1.0.0/26', table: 255 }, 'table'],
    ['a weight of 0 in ECMP', { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2', weight: 0 }, { via: '10.99.0.3' }] }, 'nexthops[0].weight'],
  ])('refuses %s', (_label, spec, field) => {
    const n = normalizeRoute(spec);
    expect(n.ok).toBe(false);
    if (!n.ok) expect(n.issue.field).toBe(field);
  });
});

describe('encodeOp', () => {
  it.each<[RouteSpec, 'add' | 'replace', string]>([
    [{ kind: 'local', dst: '10.1.0.5/32', dev: 'cali1' }, 'add', 'route add 10.1.0.5/32 dev cali1 scope 253 proto 44 table 254 metric 0'],
    [{ kind: 'local', dst: 'fd01::5/128', dev: 'cali1' }, 'add', 'route add fd01::5/128 dev cali1 proto 44 table 254 metric 1024'],
    [{ kind: 'blackhole', dst: '10.1.0.0/26' }, 'replace', 'route replace blackhole 10.1.0.0/26 proto 44 table 254 metric 0'],
    [{ kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2', dev: 'd0', onlink: true }] }, 'add', 'route add 10.2.0.0/26 via 10.99.0.2 dev d0 onlink proto 44 table 254 metric 0'],
    [
      { kind: 'via', dst: '10.3.0.0/26', table: 100, nexthops: [{ via: '10.99.0.3', weight: 2 }, { via: '10.99.0.2' }] },
      'replace',
      'route replace 10.3.0.0/26 proto 44 table 100 metric 0 nexthop via 10.99.0.2 weight 1 nexthop via 10.99.0.3 weight 2',
    ],
  ])('%j → %s', (spec, op, line) => {
    expect(encodeOp({ op, route: norm(spec) })).toBe(line);
  });

  it('deletes by key and protocol only', () => {
    const k = asKernelRoute(norm({ kind: 'blackhole', dst: 'fd01::/122' }));
    expect(encodeOp({ op: 'delete', route: k })).toBe('route del fd01::/122 proto 44 table 254 metric 1024');
  });
});

// `ip -N -j -4 route show table all` / `-6` in a namespace with Tern and foreign routes.
const DUMP4 =
  '[{"type":"6","dst":"10.1.0.0/26","protocol":"44","flags":[]},{"dst":"10.1.0.5","dev":"cali1","protocol":"44","scope":"253","flags":[]},' +
  '{"dst":"10.2.0.0/26","gateway":"10.99.0.2","dev":"d0","protocol":"44","flags":[]},' +
  '{"dst":"10.3.0.0/26","protocol":"44","flags":[],"nexthops":[{"gateway":"10.99.0.3","dev":"d0","weight":2,"flags":[]},{"gateway":"10.99.0.2","dev":"d0","weight":1,"flags":[]}]},' +
  '{"dst":"10.4.0.0/24","gateway":"10.99.0.9","dev":"d0","protocol":"4","flags":[]},' +
  '{"dst":"10.99.0.0/24","dev":"d0","protocol":"2","scope":"253","prefsrc":"10.99.0.1","flags":[]},' +
  '{"type":"2","dst":"10.99.0.1","dev":"d0","table":"255","protocol":"2","scope":"254","prefsrc":"10.99.0.1","flags":[]}]';
const DUMP6 =
  '[{"dst":"fd01::5","dev":"cali1","protocol":"44","metric":1024,"flags":[],"pref":"medium"},' +
  '{"type":"6","dst":"fd01::/122","dev":"lo","protocol":"44","metric":1024,"flags":[],"pref":"medium"},' +
  '{"dst":"fd02::/122","protocol":"44","metric":1024,"flags":[],"pref":"medium","nexthops":[{"gateway":"fd99::2","dev":"d0","weight":1,"flags":[]},{"gateway":"fd99::3","dev":"d0","weight":1,"flags":[]}]},' +
  '{"type":"5","dst":"ff00::/8","dev":"d0","table":"255","protocol":"2","metric":256,"flags":[],"pref":"medium"}]';

describe('parseRouteDump', () => {
  const v4 = parseRouteDump(DUMP4, 4);
  const v6 = parseRouteDump(DUMP6, 6);

  it('classifies every route and normalises prefixes', () => {
    expect(v4.errors).toEqual([]);
    expect(v4.routes.map((r) => `${r.kind} ${r.dst} ${r.table} ${r.protocol}`)).toEqual([
      'blackhole 10.1.0.0/26 254 44',
      'local 10.1.0.5/32 254 44',
      'via 10.2.0.0/26 254 44',
      'via 10.3.0.0/26 254 44',
      'via 10.4.0.0/24 254 4',
      'local 10.99.0.0/24 254 2',
      'other 10.99.0.1/32 255 2',
    ]);
    expect(v6.routes.map((r) => `${r.kind} ${r.dst} ${r.metric}`)).toEqual(['local fd01::5/128 1024', 'blackhole fd01::/122 1024', 'via fd02::/122 1024', 'other ff00::/8 256']);
  });

  it('reads back exactly what the codec writes', () => {
    const specs: RouteSpec[] = [
      { kind: 'blackhole', dst: '10.1.0.0/26' },
      { kind: 'local', dst: '10.1.0.5/32', dev: 'cali1' },
      { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2' }] },
      { kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.3', weight: 2 }] },
      { kind: 'local', dst: 'fd01::5/128', dev: 'cali1' },
      { kind: 'blackhole', dst: 'fd01::/122' },
      { kind: 'via', dst: 'fd02::/122', nexthops: [{ via: 'fd99::3', dev: 'd0' }, { via: 'fd99::2', dev: 'd0' }] },
    ];
    const have = new Map([...v4.routes, ...v6.routes].filter((r) => r.protocol === TERN_ROUTE_PROTOCOL).map((r) => [routeKey(r), r]));
    for (const s of specs) {
      const want = norm(s);
      expect(satisfies(want, have.get(routeKey(want))!), want.dst).toBe(true);
    }
    // And a different next hop, weight or device does not.
    expect(satisfies(norm({ kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.3' }] }), have.get('254 10.2.0.0/26 0')!)).toBe(false);
    expect(satisfies(norm({ kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.3' }] }), have.get('254 10.3.0.0/26 0')!)).toBe(false);
    expect(satisfies(norm({ kind: 'local', dst: '10.1.0.5/32', dev: 'cali2' }), have.get('254 10.1.0.5/32 0')!)).toBe(false);
  });

  it('reports garbage instead of throwing', () => {
    expect(parseRouteDump('not json', 4).errors).toHaveLength(1);
    expect(parseRouteDump('[{"dst":"10.0.0.0/8","metric":-1}]', 4).errors).toHaveLength(1);
    expect(parseRouteDump('', 6)).toEqual({ routes: [], errors: [] });
  });
});

// `ip -N monitor route link` in a namespace while routes and links changed.
const MONITOR = [
  '10.7.0.0/24 via 10.99.0.9 dev d0 proto 44 ',
  'Deleted 10.7.0.0/24 via 10.99.0.9 dev d0 proto 44 ',
  'fd0e::/64 proto 44 metric 1024 pref medium',
  '\tnexthop via fd99::3 dev d0 weight 1 ',
  '\tnexthop via fd99::2 dev d0 weight 1 ',
  '2: cali1p@cali1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group 0 ',
  '    link/[1] 06:84:97:a0:a1:f6 brd ff:ff:ff:ff:ff:ff',
  'Deleted 2 fe80::484:97ff:fea0:a1f6 dev cali1p table 255 proto 2 metric 0 pref medium',
  '6 10.1.0.0/26 proto 44 ',
  '10.1.0.5 dev cali1 proto 44 scope 253 ',
  '',
].join('\n');

function summarize(evs: MonitorEvent[]): string[] {
  return evs.map((e) =>
    e.kind === 'route'
      ? `${e.deleted ? '-' : '+'}${e.route.kind} ${e.route.dst} t${e.route.table} p${e.route.protocol} ${e.route.nexthops.map((n) => n.via).join(',')}`
      : e.kind === 'link'
        ? `${e.deleted ? '-' : '+'}link ${e.ifname}`
        : `?${e.line}`,
  );
}

describe('MonitorParser', () => {
  const expected = [
    '+via 10.7.0.0/24 t254 p44 10.99.0.9',
    '-via 10.7.0.0/24 t254 p44 10.99.0.9',
    '+via fd0e::/64 t254 p44 fd99::2,fd99::3',
    '+link cali1p',
    '-other fe80::484:97ff:fea0:a1f6/128 t255 p2 ',
    '+blackhole 10.1.0.0/26 t254 p44 ',
    '+local 10.1.0.5/32 t254 p44 ',
  ];

  it('parses route and link events, multipath included', () => {
    const p = new MonitorParser();
    expect(summarize([...p.push(MONITOR), ...p.flush()])).toEqual(expected);
  });

  it('gives the same events whatever the chunking', () => {
    for (let cut = 0; cut <= MONITOR.length; cut++) {
      const p = new MonitorParser();
      const evs = [...p.push(MONITOR.slice(0, cut)), ...p.push(MONITOR.slice(cut)), ...p.flush()];
      expect(summarize(evs), `cut at ${cut}`).toEqual(expected);
    }
  });
});

describe('BatchStderrParser', () => {
  const STDERR =
    'Cannot find device "cali1"\nCommand failed -:1\nError: Nexthop has invalid gateway.\nCommand failed -:3\n' +
    'RTNETLINK answers: File exists\nCommand failed -:11\nObject "ternsync1" is unknown, try "ip help".\nCommand failed -:12\n';

  it('correlates messages with line numbers whatever the chunking', () => {
    for (let cut = 0; cut <= STDERR.length; cut++) {
      const p = new BatchStderrParser();
      const errs = [...p.push(STDERR.slice(0, cut)), ...p.push(STDERR.slice(cut))];
      expect(errs.map((e) => e.line)).toEqual([1, 3, 11, 12]);
      expect(errs.map((e) => classifyError(e.message))).toEqual(['no-device', 'unreachable-gateway', 'exists', 'other']);
    }
  });
});

describe('planRoutes', () => {
  const kernel = [...parseRouteDump(DUMP4, 4).routes, ...parseRouteDump(DUMP6, 6).routes];
  const view = () => buildView(kernel, new Set([254]));
  const desiredOf = (specs: RouteSpec[]) => new Map(specs.map((s) => norm(s)).map((r) => [routeKey(r), r]));
  const all = (d: Map<string, NormalRoute>) => new Set([...d.keys(), ...view().ours.keys()]);
  const same: RouteSpec[] = [
    { kind: 'blackhole', dst: '10.1.0.0/26' },
    { kind: 'local', dst: '10.1.0.5/32', dev: 'cali1' },
    { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.2' }] },
    { kind: 'via', dst: '10.3.0.0/26', nexthops: [{ via: '10.99.0.2' }, { via: '10.99.0.3', weight: 2 }] },
    { kind: 'local', dst: 'fd01::5/128', dev: 'cali1' },
    { kind: 'blackhole', dst: 'fd01::/122' },
    { kind: 'via', dst: 'fd02::/122', nexthops: [{ via: 'fd99::2' }, { via: 'fd99::3' }] },
  ];

  it('adopts a kernel that already matches: no ops', () => {
    const d = desiredOf(same);
    const plan = planRoutes({ desired: d, view: view(), keys: all(d), mayDelete: () => true });
    expect(plan.ops).toEqual([]);
    expect(plan.unchanged).toBe(same.length);
  });

  it.each<[string, RouteSpec[], boolean, string[]]>([
    ['a changed next hop is replaced', [...same.slice(0, 2), { kind: 'via', dst: '10.2.0.0/26', nexthops: [{ via: '10.99.0.4' }] }, ...same.slice(3)], true, ['replace 10.2.0.0/26']],
    ['a new route is added', [...same, { kind: 'blackhole', dst: '10.1.1.0/26' }], true, ['add 10.1.1.0/26']],
    ['an undesired Tern route is deleted once synced', same.slice(1), true, ['delete 10.1.0.0/26']],
    ['an undesired Tern route is kept before sync', same.slice(1), false, []],
    ['a route moved to another metric is added before the old one goes', [{ kind: 'blackhole', dst: '10.1.0.0/26', metric: 5 }, ...same.slice(1)], true, ['add 10.1.0.0/26', 'delete 10.1.0.0/26']],
  ])('%s', (_l, specs, synced, ops) => {
    const d = desiredOf(specs);
    const plan = planRoutes({ desired: d, view: view(), keys: all(d), mayDelete: () => synced });
    expect(plan.ops.map((o) => `${o.op} ${o.route.dst}`)).toEqual(ops);
  });

  it('never writes over a foreign route and reports the conflict', () => {
    const d = desiredOf([
      { kind: 'via', dst: '10.4.0.0/24', nexthops: [{ via: '10.99.0.2' }] }, // static route holds this key
      { kind: 'via', dst: '10.4.0.0/24', metric: 10, nexthops: [{ via: '10.99.0.2' }] }, // same prefix, other metric
    ]);
    const plan = planRoutes({ desired: d, view: view(), keys: all(d), mayDelete: () => false });
    expect(plan.ops.map((o) => `${o.op} ${o.route.dst} ${o.route.metric}`)).toEqual(['add 10.4.0.0/24 10']);
    expect([...plan.conflicts.values()].flat().map((c) => [c.foreign.protocol, c.blocking])).toEqual([
      [4, true],
      [4, false],
    ]);
  });
});
