// Pure tests of the calculation, the renderer's incremental transactions and the conntrack
// plan. Real-traffic behaviour is in netns.test.ts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { calculate } from '../../../src/agent/proxy/calc.js';
import { staleUdp, conntrackArgs } from '../../../src/agent/proxy/conntrack.js';
import { ProxyInputs, type ProxyUpdate } from '../../../src/agent/proxy/inputs.js';
import { ProxyTable, chainNames, resolveOptions, shardOf } from '../../../src/agent/proxy/render.js';
import { healthResponse } from '../../../src/agent/proxy/health.js';
import { pod, service, slice } from './fixtures.js';

const ctx = { nodeName: 'n1', clusterCidrs: ['10.244.0.0/16'] };
const web = service('ns', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] });
const webSlices = [
  slice('ns', 'web', 'web-a', 4, [{ ip: '10.244.1.2', node: 'n1' }, { ip: '10.244.2.2', node: 'n2' }], [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
  slice('ns', 'web', 'web-b', 4, [{ ip: '10.244.1.3', node: 'n1', ready: false, serving: true, terminating: true }], [{ name: 'http', port: 9090 }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
];

describe('calculate', () => {
  it('takes ready endpoints, their per-slice port numbers, and marks local ones', () => {
    const m = calculate({ context: ctx, services: [web], slices: webSlices }).services.get('ns/web')!;
    const http = m.ports.find((p) => p.proto === 'tcp')!;
    expect(http.endpoints).toEqual([
      { ip: '10.244.1.2', port: 8080, local: true },
      { ip: '10.244.2.2', port: 8080, local: false },
    ]);
    expect(http.localEndpoints.map((e) => e.ip)).toEqual(['10.244.1.2']);
  });

  it('falls back to serving endpoints when none is ready; publishNotReadyAddresses counts all as ready', () => {
    const only = [webSlices[1]!];
    const m = calculate({ context: ctx, services: [web], slices: only }).services.get('ns/web')!;
    expect(m.ports[0]!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.244.1.3:9090']);
    const notServing = slice('ns', 'web', 'web-b', 4, [{ ip: '10.244.1.3', ready: false, serving: false }], [{ name: 'http', port: 9090 }]);
    expect(calculate({ context: ctx, services: [web], slices: [notServing] }).services.get('ns/web')!.ports[0]!.endpoints).toEqual([]);
    const pub = service('ns', 'web', { clusterIP: '10.96.0.10', publishNotReadyAddresses: true, ports: [{ name: 'http', port: 80 }] });
    expect(calculate({ context: ctx, services: [pub], slices: [notServing] }).services.get('ns/web')!.ports[0]!.endpoints).toHaveLength(1);
  });

  it('resolves a named target port on each endpoint\'s pod when the slice carries no number', () => {
    const s = slice('ns', 'web', 'web-x', 4, [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }, { ip: '10.244.1.4' }], [{ name: 'http' }]);
    const pods = [pod('ns', 'p2', 'n1', ['10.244.1.2'], [{ name: 'http', port: 8080 }]), pod('ns', 'p3', 'n1', ['10.244.1.3'], [{ name: 'http', port: 9090 }])];
    const m = calculate({ context: ctx, services: [web], slices: [s], pods }).services.get('ns/web')!;
    expect(m.ports[0]!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.244.1.2:8080', '10.244.1.3:9090']);
    expect(m.errors.map((e) => e.code)).toContain('unresolved-port');
  });

  it('skips headless and ExternalName services; dual stack gives one port model per family', () => {
    const headless = service('ns', 'h', { clusterIP: 'None', selector: { a: 'b' } });
    const en = service('ns', 'e', { type: 'ExternalName', externalName: 'example.org' });
    const ds = service('ns', 'd', { clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] });
    const st = calculate({ context: ctx, services: [headless, en, ds], slices: [] });
    expect([...st.services.keys()]).toEqual(['ns/d']);
    expect(st.services.get('ns/d')!.ports.map((p) => p.family)).toEqual([4, 6]);
  });

  it('is independent of input order, and ProxyInputs equals a from-scratch calculation whatever the update order', () => {
    const updates: ProxyUpdate[] = [
      { kind: 'service-upsert', service: web },
      ...webSlices.map((s) => ({ kind: 'slice-upsert', slice: s }) as ProxyUpdate),
      { kind: 'service-upsert', service: service('ns', 'other', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }) },
      { kind: 'slice-upsert', slice: slice('ns', 'other', 'other-1', 4, [{ ip: '10.244.3.3' }], [{ port: 80 }]) },
      { kind: 'pod-upsert', pod: pod('ns', 'p', 'n1', ['10.244.1.2'], [{ name: 'http', port: 8080 }]) },
    ];
    const reference = new ProxyTable().full(calculate({ context: ctx, services: [web, (updates[3] as { service: typeof web }).service], slices: [...webSlices, (updates[4] as { slice: (typeof webSlices)[0] }).slice] })).script;
    fc.assert(
      fc.property(fc.shuffledSubarray(updates, { minLength: updates.length, maxLength: updates.length }), fc.array(fc.nat({ max: updates.length - 1 }), { maxLength: 4 }), (order, dups) => {
        const inputs = new ProxyInputs('n1', ctx.clusterCidrs);
        for (const u of order) {
          inputs.apply(u);
          inputs.snapshot(); // interleaved snapshots must not change the end result
        }
        for (const d of dups) inputs.apply(order[d]!);
        expect(new ProxyTable().full(inputs.snapshot()).script).toBe(reference);
      }),
      { numRuns: 40 },
    );
  });
});

describe('render', () => {
  const base = () => {
    const inputs = new ProxyInputs('n1', ctx.clusterCidrs);
    inputs.apply({ kind: 'service-upsert', service: web });
    for (const s of webSlices) inputs.apply({ kind: 'slice-upsert', slice: s });
    for (let i = 0; i < 50; i++) {
      inputs.apply({ kind: 'service-upsert', service: service('ns', `s${i}`, { clusterIP: `10.96.1.${i}`, ports: [{ port: 80 }] }) });
      inputs.apply({ kind: 'slice-upsert', slice: slice('ns', `s${i}`, `s${i}-1`, 4, [{ ip: `10.244.5.${i}`, node: 'n2' }], [{ port: 80 }]) });
    }
    const t = new ProxyTable();
    t.full(inputs.snapshot());
    return { inputs, t };
  };

  it('one remote endpoint change refills that service port\'s chain only, no table or map churn', () => {
    const { inputs, t } = base();
    inputs.apply({ kind: 'slice-upsert', slice: slice('ns', 's7', 's7-1', 4, [{ ip: '10.244.5.7', node: 'n2' }, { ip: '10.244.6.7', node: 'n2' }], [{ port: 80 }]) });
    const st = inputs.snapshot();
    const p = t.next(st);
    const chain = chainNames(st.services.get('ns/s7')!.ports[0]!).svc;
    const shard = t.tableOf('ns/s7');
    expect(shard).toMatch(/^tern-proxy-[0-7]$/);
    expect(p.script.trim().split('\n')).toEqual([
      `flush chain inet ${shard} ${chain}`,
      `add rule inet ${shard} ${chain} meta l4proto tcp numgen random mod 2 == 0 dnat ip to 10.244.5.7:80`,
      `add rule inet ${shard} ${chain} meta l4proto tcp dnat ip to 10.244.6.7:80`,
    ]);
    expect(p.tables).toEqual([shard]);
    expect(t.next(inputs.snapshot()).script).toBe('');
  });

  it('losing the last endpoint moves the cluster IP from service-ips to no-endpoint-services and deletes the chain', () => {
    const { inputs, t } = base();
    inputs.apply({ kind: 'slice-delete', namespace: 'ns', name: 's3-1' });
    const p = t.next(inputs.snapshot());
    const lines = p.script.trim().split('\n');
    expect(lines).toContain(`delete element inet ${t.tableOf('ns/s3')} service-ips-4 { 10.96.1.3 . tcp . 80 }`);
    expect(lines).toContain('add element inet tern-proxy no-endpoint-services-4 { 10.96.1.3 . tcp . 80 : goto reject-chain }');
    const del = lines.findIndex((l) => l.startsWith('delete chain'));
    expect(del).toBeGreaterThan(lines.findIndex((l) => l.startsWith('delete element')));
    expect(p.stats.chainsDeleted).toBe(1);
  });

  it('shared elements are reference-counted: a local endpoint of two services stays until both drop it', () => {
    const { inputs, t } = base();
    inputs.apply({ kind: 'service-upsert', service: service('ns', 'twin', { clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 80 }] }) });
    inputs.apply({ kind: 'slice-upsert', slice: slice('ns', 'twin', 'twin-1', 4, [{ ip: '10.244.1.2', node: 'n1' }], [{ name: 'http', port: 8080 }]) });
    expect(t.next(inputs.snapshot()).script).not.toMatch(/local-endpoints-4/);
    inputs.apply({ kind: 'service-delete', namespace: 'ns', name: 'twin' });
    expect(t.next(inputs.snapshot()).script).not.toMatch(/local-endpoints-4/);
    inputs.apply({ kind: 'service-delete', namespace: 'ns', name: 'web' });
    expect(t.next(inputs.snapshot()).script).toMatch(/delete element inet tern-proxy local-endpoints-4 \{ 10\.244\.1\.2 \}/);
  });

  it('each endpoint is chosen with probability 1/N', () => {
    const { inputs } = base();
    const many = slice('ns', 's1', 's1-1', 4, [1, 2, 3, 4].map((i) => ({ ip: `10.244.7.${i}` })), [{ port: 80 }]);
    inputs.apply({ kind: 'slice-upsert', slice: many });
    const t = new ProxyTable();
    const script = t.full(inputs.snapshot()).script;
    const chain = chainNames(inputs.snapshot().services.get('ns/s1')!.ports[0]!).svc;
    const rules = script.split('\n').filter((l) => l.startsWith(`add rule inet ${t.tableOf('ns/s1')} ${chain} `));
    const mods = rules.map((r) => /mod (\d+)/.exec(r)?.[1] ?? '-');
    expect(mods).toEqual(['4', '3', '2', '-']);
    // P(i) = 1/(N-i) × Π_{j<i} (1 - 1/(N-j)) = 1/N for every i.
    let rest = 1;
    const p = mods.map((m) => {
      const q = m === '-' ? 1 : 1 / Number(m);
      const pi = rest * q;
      rest *= 1 - q;
      return pi;
    });
    for (const x of p) expect(x).toBeCloseTo(0.25, 10);
  });
});

describe('shards', () => {
  const state = (n: number, extra: ProxyUpdate[] = []) => {
    const inputs = new ProxyInputs('n1', ctx.clusterCidrs);
    for (let i = 0; i < n; i++) {
      inputs.apply({ kind: 'service-upsert', service: service('ns', `s${i}`, { clusterIP: `10.96.1.${i}`, ports: [{ port: 80 }] }) });
      inputs.apply({ kind: 'slice-upsert', slice: slice('ns', `s${i}`, `s${i}-1`, 4, [{ ip: `10.244.5.${i}`, node: 'n2' }], [{ port: 80 }]) });
    }
    for (const u of extra) inputs.apply(u);
    return inputs;
  };

  it('hashes namespace/name with FNV-1a (32 bit), so a service keeps its shard across restarts', () => {
    // Published FNV-1a test vectors: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(shardOf('', 64)).toBe(0x811c9dc5 % 64);
    expect(shardOf('a', 64)).toBe(0xe40c292c % 64);
    expect(shardOf('foobar', 61)).toBe(0xbf9cf968 % 61);
    expect(shardOf('foobar', 1)).toBe(0);
  });

  it('each service\'s chains and verdict-map keys live in its shard; node-wide state in the main table', () => {
    const t = new ProxyTable({ shards: 4 });
    const st = state(40).snapshot();
    const lines = t.full(st).script.split('\n');
    expect(t.tables).toEqual(['tern-proxy', 'tern-proxy-0', 'tern-proxy-1', 'tern-proxy-2', 'tern-proxy-3']);
    const used = new Set<string>();
    for (const [k, m] of st.services) {
      const shard = t.tableOf(k);
      used.add(shard);
      const chain = chainNames(m.ports[0]!).svc;
      const own = lines.filter((l) => /^add (chain|rule) /.test(l) && l.split(' ')[4] === chain);
      expect(own.length).toBe(2); // the chain and its one endpoint's rule
      expect(own.every((l) => l.split(' ')[3] === shard), own.join('\n')).toBe(true);
      const key = `${m.ports[0]!.clusterIp} . tcp . 80 : goto ${chain}`;
      const holder = lines.filter((l) => l.startsWith('add element') && l.includes(key));
      expect(holder.map((l) => l.split(' ')[3])).toEqual([shard]);
      expect(holder[0]).toMatch(/ service-ips-4 \{/);
    }
    // 40 services over 4 shards: every shard has some (the hash spreads them).
    expect(used.size).toBe(4);
    for (const x of t.tables.slice(1)) {
      expect(lines).toContain(`add chain inet ${x} nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }`);
      expect(lines).toContain(`add rule inet ${x} services ip daddr . meta l4proto . th dport vmap @service-ips-4`);
      expect(lines.some((l) => l.startsWith(`add map inet ${x} no-endpoint`) || l.startsWith(`add set inet ${x} cluster-ips`))).toBe(false);
    }
    // The clusterCIDR mark runs before any shard's DNAT, where the cluster-IP set is.
    expect(lines).toContain('add chain inet tern-proxy nat-prerouting { type nat hook prerouting priority dstnat - 1; policy accept; }');
    expect(lines).toContain('add rule inet tern-proxy cluster-ip-masq ip daddr @cluster-ips-4 ip saddr != @pod-cidrs-4 meta mark set meta mark | 0x4000');
    expect(lines.some((l) => /^add element inet tern-proxy cluster-ips-4 \{ /.test(l))).toBe(true);
  });

  it('a key two services claim lives in the winner\'s shard and moves to the other shard with it', () => {
    // Two services in different shards with the same cluster IP and port.
    const t = new ProxyTable({ shards: 8 });
    const names: string[] = [];
    for (let i = 0; names.length < 2; i++) if (names.length === 0 || shardOf(`ns/dup${i}`, 8) !== shardOf(`ns/${names[0]}`, 8)) names.push(`dup${i}`);
    const [a, b] = names as [string, string];
    const svc = (n: string) => ({ kind: 'service-upsert', service: service('ns', n, { clusterIP: '10.96.9.9', ports: [{ port: 80 }] }) }) as ProxyUpdate;
    const eps = (n: string, ip: string) => ({ kind: 'slice-upsert', slice: slice('ns', n, `${n}-1`, 4, [{ ip, node: 'n2' }], [{ port: 80 }]) }) as ProxyUpdate;
    const inputs = state(0, [svc(a), eps(a, '10.244.7.1'), svc(b), eps(b, '10.244.7.2')]);
    const st = inputs.snapshot();
    const [ta, tb] = [t.tableOf(`ns/${a}`), t.tableOf(`ns/${b}`)];
    const chainOf = (n: string) => chainNames(st.services.get(`ns/${n}`)!.ports[0]!).svc;
    const full = t.full(st).script.split('\n');
    const winner = a < b ? a : b;
    const loser = winner === a ? b : a;
    const [tw, tl] = winner === a ? [ta, tb] : [tb, ta];
    expect(full.filter((l) => l.includes('10.96.9.9 . tcp . 80'))).toEqual([`add element inet ${tw} service-ips-4 { 10.96.9.9 . tcp . 80 : goto ${chainOf(winner)} }`]);
    inputs.apply({ kind: 'service-delete', namespace: 'ns', name: winner });
    const p = t.next(inputs.snapshot());
    const lines = p.script.trim().split('\n');
    expect(lines).toContain(`delete element inet ${tw} service-ips-4 { 10.96.9.9 . tcp . 80 }`);
    expect(lines).toContain(`add element inet ${tl} service-ips-4 { 10.96.9.9 . tcp . 80 : goto ${chainOf(loser)} }`);
    expect(p.tables).toEqual([tw, tl].sort());
  });

  it('a full load replaces every table in one transaction and deletes shards of a larger count', () => {
    const t = new ProxyTable({ shards: 2 });
    const p = t.full(state(3).snapshot(), { stale: ['tern-proxy', 'tern-proxy-1', 'tern-proxy-5'] });
    const lines = p.script.split('\n');
    expect(p.tables).toEqual(['tern-proxy', 'tern-proxy-0', 'tern-proxy-1', 'tern-proxy-5']);
    expect(lines.filter((l) => l.startsWith('delete table'))).toEqual(['delete table inet tern-proxy', 'delete table inet tern-proxy-0', 'delete table inet tern-proxy-1', 'delete table inet tern-proxy-5']);
    expect(lines.some((l) => / tern-proxy-5 /.test(l) && !/^(add|delete) table inet tern-proxy-5$/.test(l))).toBe(false);
  });

  it('refuses shard counts outside 1..64 and names whose shard names would be too long', () => {
    for (const shards of [0, 65, 1.5]) expect(() => resolveOptions({ shards })).toThrow(/shards/);
    // nft table names here stay within 64 characters, shard suffix included.
    expect(() => resolveOptions({ table: 'x'.repeat(62), shards: 11 })).toThrow(/table name/);
    expect(resolveOptions({ table: 'x'.repeat(62), shards: 10 }).shards).toBe(10);
  });
});

describe('conntrack plan', () => {
  it('removed UDP endpoints are flushed per service IP and node port; a UDP service gaining endpoints is flushed whole', () => {
    const svc = service('ns', 'dns', { type: 'NodePort', clusterIP: '10.96.0.53', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 't', port: 54 }].map((p, i) => (i === 0 ? { ...p, name: 'u' } : p)) });
    const two = slice('ns', 'dns', 'd', 4, [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }], [{ name: 'u', port: 53, protocol: 'UDP' }, { name: 't', port: 54 }]);
    const one = slice('ns', 'dns', 'd', 4, [{ ip: '10.244.1.3' }], [{ name: 'u', port: 53, protocol: 'UDP' }, { name: 't', port: 54 }]);
    const m = (s: typeof two[]) => calculate({ context: ctx, services: [svc], slices: s }).services.get('ns/dns')!;
    expect(staleUdp(m([two]), m([one]))).toEqual([
      { family: 4, origDst: '10.96.0.53', dstNat: '10.244.1.2' },
      { family: 4, origPortDst: 30053, dstNat: '10.244.1.2' },
    ]);
    expect(staleUdp(m([]), m([one]))).toEqual([{ family: 4, origDst: '10.96.0.53' }, { family: 4, origPortDst: 30053 }]);
    expect(staleUdp(m([one]), m([one]))).toEqual([]);
    expect(conntrackArgs({ family: 6, origDst: 'fd00::1', dstNat: 'fd00::2' })).toEqual(['-D', '-f', 'ipv6', '-p', 'udp', '--orig-dst', 'fd00::1', '--dst-nat', 'fd00::2']);
  });

  it('health-check answers 200 with local endpoints, 503 without', () => {
    expect(healthResponse({ service: 'a/b', nodePort: 1, localEndpoints: 2 })).toEqual({ status: 200, body: '{"service":{"namespace":"a","name":"b"},"localEndpoints":2}' });
    expect(healthResponse({ service: 'a/b', nodePort: 1, localEndpoints: 0 }).status).toBe(503);
  });
});
