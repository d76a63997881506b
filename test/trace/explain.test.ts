// The explain core on fixture facts: routes local and remote, a reflected and a meshed BGP
// path, a service with two endpoints, denies and allows named by policy and rule (numbered
// and named ports, ipBlock with except), the kernel cross-check, and the verdicts checked
// against an independent interpreter of the policy model on every pod pair and port.
import { describe, expect, it } from 'vitest';
import { calculate } from '../../src/agent/policy/calc.js';
import type { Protocol } from '../../src/agent/policy/model.js';
import { explain, needs, parseDest, policyVerdict, resolve, type ClusterFacts, type DataplaneFacts, type TraceRequest, type TraceResult } from '../../src/trace/index.js';
import { allowed } from '../agent/policy/evaluate.js';
import { cluster, dataplane, meshPath, pa, pb, pc, pd, policy } from './fixtures.js';

function run(facts: ClusterFacts, dest: string, dp: DataplaneFacts = dataplane(), protocol: Protocol = 'TCP'): TraceResult {
  const req: TraceRequest = { source: 'ns1/pa', dest: parseDest(dest, 'ns1'), protocol };
  return explain(facts, resolve(facts, req), dp);
}
const hop = (t: TraceResult, kind: string, path = 0) => t.paths[path]!.hops.find((h) => h.hop === kind);

describe('parseDest', () => {
  it.each([
    ['pb:80', { kind: 'pod', ref: 'ns1/pb', port: 80 }],
    ['other/pb:http', { kind: 'pod', ref: 'other/pb', port: 'http' }],
    ['svc/web', { kind: 'service', ref: 'ns1/web' }],
    ['svc/x/web:80', { kind: 'service', ref: 'x/web', port: 80 }],
    ['web.prod.svc.cluster.local:80', { kind: 'service', ref: 'prod/web', port: 80 }],
    ['10.96.0.10:80', { kind: 'ip', ip: '10.96.0.10', port: 80 }],
    ['[fd00::1]:443', { kind: 'ip', ip: 'fd00::1', port: 443 }],
    ['fd00::1', { kind: 'ip', ip: 'fd00::1' }],
  ])('%s', (text, want) => {
    expect(parseDest(text, 'ns1')).toEqual(want);
  });
  it('rejects a bad port', () => {
    expect(() => parseDest('pb:70000', 'ns1')).toThrow(/1-65535/);
  });
});

describe('routes', () => {
  it('remote pod through a reflector: veth, node route, BGP path with originator and reflector, destination veth', () => {
    const t = run(cluster(), 'pb:80');
    expect(t.paths).toHaveLength(1);
    expect(t.paths[0]!.hops.map((h) => h.hop)).toEqual(['pod veth', 'node route', 'bgp', 'dest node route', 'policy egress', 'policy ingress']);
    expect(t.paths[0]!.hops.every((h) => h.ok)).toBe(true);
    expect(hop(t, 'pod veth')!.detail).toContain('tpa');
    expect(hop(t, 'node route')!.detail).toMatch(/via 10\.99\.0\.22 \(node2\).*proto tern \(44\)/);
    const b = hop(t, 'bgp')!;
    expect(b.data).toMatchObject({ advertisedBy: 'node2', peerName: 'rr1', nextHop: '10.99.0.22', nextHopMatchesKernel: true, blockAffinity: 'node2' });
    expect(b.detail).toContain('reflected by rr1');
    expect(hop(t, 'dest node route')).toMatchObject({ node: 'node2', ok: true });
    expect(t.paths[0]!.verdict).toMatchObject({ allowed: true });
  });

  it('mesh path: the peer itself advertised the block, no reflector', () => {
    const t = run(cluster(), 'pb:80', dataplane(meshPath));
    expect(hop(t, 'bgp')!.data).toMatchObject({ advertisedBy: 'node2', reflectors: [] });
    expect(hop(t, 'bgp')!.detail).toContain('direct session');
  });

  it('a BGP next hop that disagrees with the kernel is flagged', () => {
    const dp = dataplane({ ...meshPath, nextHop: '10.99.0.23' });
    const t = run(cluster(), 'pb:80', dp);
    expect(hop(t, 'bgp')).toMatchObject({ ok: false });
    expect(hop(t, 'bgp')!.detail).toContain('MISMATCH');
  });

  it('local pod: out its veth on the same node, no BGP hop', () => {
    const t = run(cluster(), 'pd:80');
    expect(t.paths[0]!.hops.map((h) => h.hop)).toEqual(['pod veth', 'node route', 'policy egress', 'policy ingress']);
    expect(hop(t, 'node route')).toMatchObject({ ok: true });
    expect(hop(t, 'node route')!.detail).toContain('local pod: out tpd');
  });

  it('a wrong veth route on the destination node is flagged', () => {
    const dp = dataplane();
    dp.nodes.node2!.routeGet!['10.244.1.2'] = [{ dst: '10.244.1.2', dev: 'tpc' }];
    expect(hop(run(cluster(), 'pb:80', dp), 'dest node route')).toMatchObject({ ok: false });
  });

  it('needs lists exactly the reads the explanation uses', () => {
    const f = cluster([policy('b-80', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ ports: [{ port: 80 }] }] })]);
    const n = needs(f, resolve(f, { source: 'ns1/pa', dest: parseDest('pb:81', 'ns1'), protocol: 'TCP' }));
    expect(n.routeGets).toEqual([{ node: 'node1', dst: '10.244.1.2', from: '10.244.0.2', iif: 'tpa' }, { node: 'node2', dst: '10.244.1.2' }]);
    expect(n.bgpPrefixes).toEqual([{ node: 'node1', prefix: '10.244.1.0/26' }]);
    expect(n.chains).toEqual([{ node: 'node2', table: 'tern', chain: 'to-tpb' }]);
  });
});

describe('service translation', () => {
  it('lists both endpoints, resolves the named target port, and traces each', () => {
    const t = run(cluster(), 'svc/web');
    expect(t.paths.map((p) => p.target)).toEqual(['ns1/pd 10.244.0.3:8080', 'ns1/pb 10.244.1.2:8080']);
    const s = hop(t, 'service')!;
    expect(s.ok).toBe(true);
    expect(s.detail).toContain('10.96.0.10:80/TCP → 10.244.0.3:8080 (local), 10.244.1.2:8080');
    expect(s.detail).toContain('probability 1/2');
    expect(s.detail).toContain('tern-proxy');
    expect(hop(t, 'bgp', 0)).toBeUndefined();
    expect(hop(t, 'bgp', 1)!.data).toMatchObject({ advertisedBy: 'node2' });
  });

  it('by ClusterIP and by DNS name alike', () => {
    expect(run(cluster(), '10.96.0.10:80').paths).toHaveLength(2);
    expect(run(cluster(), 'web.ns1.svc:http').paths).toHaveLength(2);
  });

  it('policy is evaluated per endpoint (after DNAT: endpoint address and target port)', () => {
    const f = cluster([policy('b-8080-from-a', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 8080 }] }] })]);
    const t = run(f, 'svc/web');
    expect(t.paths.map((p) => p.verdict.allowed)).toEqual([true, true]);
    expect(t.paths[1]!.verdict).toMatchObject({ policy: ['ns1/b-8080-from-a'], rule: 'ns1/b-8080-from-a ingress[0]' });
    expect(t.paths[0]!.verdict.policy).toBeUndefined();
  });
});

describe('policy verdicts', () => {
  const only80 = policy('b-only-80', { podSelector: { matchLabels: { app: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x' } } }] }, { from: [{ podSelector: { matchLabels: { app: 'a' } } }], ports: [{ port: 80 }] }] });

  it('allowed by the named policy and rule on one port, denied naming the isolating policy on another', () => {
    const f = cluster([only80]);
    const ok = run(f, 'pb:80').paths[0]!.verdict;
    expect(ok).toMatchObject({ allowed: true, policy: ['ns1/b-only-80'], rule: 'ns1/b-only-80 ingress[1]' });
    expect(ok.kernel).toMatchObject({ node: 'node2', chain: 'to-tpb' });
    expect(ok.kernel!.comment).toMatch(/^tern [0-9a-f]{8} ns1\/b-only-80$/);
    const no = run(f, 'pb:81').paths[0]!.verdict;
    expect(no).toMatchObject({ allowed: false, policy: ['ns1/b-only-80'], rule: 'to-tpb drop' });
    expect(no.reason).toContain('isolated by ns1/b-only-80');
    expect(no.kernel!.comment).toMatch(/^tern [0-9a-f]{8} ingress of ns1\/pb isolated$/);
  });

  it('an ingress named port resolves against the destination pod: pb has "http", pc has not', () => {
    const f = cluster([policy('b-http', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ ports: [{ port: 'http' }] }] })]);
    expect(run(f, 'pb:8080').paths[0]!.verdict).toMatchObject({ allowed: true, rule: 'ns1/b-http ingress[0]' });
    expect(run(f, 'pb:80').paths[0]!.verdict).toMatchObject({ allowed: false, policy: ['ns1/b-http'] });
    expect(run(f, 'pc:8080').paths[0]!.verdict).toMatchObject({ allowed: false, policy: ['ns1/b-http'] });
  });

  it('an egress named port (address . port set) allows pa → pb:8080 only', () => {
    const f = cluster([policy('a-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 'http' }] }] })]);
    const t = run(f, 'pb:8080');
    expect(t.paths[0]!.verdict).toMatchObject({ allowed: true, policy: ['ns1/a-out'], rule: 'ns1/a-out egress[0]' });
    expect(hop(t, 'policy egress')!.detail).toContain('TCP/http');
    expect(run(f, 'pc:8080').paths[0]!.verdict).toMatchObject({ allowed: false, rule: 'from-tpa drop' });
    expect(run(f, 'pb:9090').paths[0]!.verdict).toMatchObject({ allowed: false, policy: ['ns1/a-out'] });
  });

  it('ipBlock with except: outside address routed by the default route, allowed or denied by the block', () => {
    const f = cluster([policy('a-net', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 443 }] }] })]);
    const t = run(f, '10.2.3.4:443');
    expect(t.paths[0]!.hops.map((h) => h.hop)).toEqual(['pod veth', 'node route', 'policy egress']);
    expect(hop(t, 'node route')!.detail).toMatch(/via 10\.99\.0\.254 \(tor\).*default route/);
    expect(t.paths[0]!.verdict).toMatchObject({ allowed: true, rule: 'ns1/a-net egress[0]' });
    const no = run(f, '10.1.2.3:443').paths[0]!.verdict;
    expect(no).toMatchObject({ allowed: false, policy: ['ns1/a-net'], rule: 'from-tpa drop' });
  });

  it('the kernel cross-check finds the rule by its comment, or reports it missing', () => {
    const f = cluster([only80]);
    const first = run(f, 'pb:80').paths[0]!.verdict.kernel!;
    const dp = dataplane();
    dp.nodes.node2!.nft = { 'tern/to-tpb': { table: 'tern', chain: 'to-tpb', rules: [{ comment: 'x', handle: 3 }, { comment: first.comment, handle: 7 }] } };
    expect(run(f, 'pb:80', dp).paths[0]!.verdict.kernel).toMatchObject({ present: true, handle: 7 });
    dp.nodes.node2!.nft = { 'tern/to-tpb': { table: 'tern', chain: 'to-tpb', rules: [{ comment: 'x', handle: 3 }] } };
    expect(run(f, 'pb:80', dp).paths[0]!.verdict.kernel).toMatchObject({ present: false });
    dp.nodes.node2!.nft = { 'tern/to-tpb': null };
    expect(run(f, 'pb:80', dp).paths[0]!.verdict.kernel).toMatchObject({ present: false });
  });

  it('agrees with an independent interpreter of the policy model on every pod pair and port', () => {
    const pols = [
      only80,
      policy('b-http', { podSelector: { matchLabels: { app: 'b' } }, ingress: [{ ports: [{ port: 'http' }] }] }),
      policy('a-out', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }], ports: [{ port: 'http' }, { port: 80 }] }] }),
      policy('d-in', { podSelector: { matchLabels: { app: 'd' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.0/26'] } }] }] }),
    ];
    const f = cluster(pols);
    const eps = [pa, pb, pc, pd];
    let checked = 0;
    for (const s of eps) for (const d of eps) for (const port of [80, 81, 8080]) {
      if (s === d) continue;
      const sip = s.spec.ipNetworks[0]!.split('/')[0]!;
      const dip = d.spec.ipNetworks[0]!.split('/')[0]!;
      const flow = { src: { ip: sip, ref: `ns1/${s.metadata.name}`, node: s.spec.node, iface: s.spec.interfaceName! }, dst: { ip: dip, ref: `ns1/${d.metadata.name}`, node: d.spec.node, iface: d.spec.interfaceName! }, proto: 'TCP' as const, port };
      const mine = policyVerdict(f, flow).verdict.allowed;
      const st = (node: string) => calculate({ nodeName: node, nodeIps: f.nodes.find((n) => n.name === node)!.ips, namespaces: f.namespaces, endpoints: f.endpoints, policies: f.policies });
      const eg = allowed(st(s.spec.node), { src: sip, dst: dip, proto: 'TCP', port, srcIface: s.spec.interfaceName! });
      const ing = allowed(st(d.spec.node), { src: sip, dst: dip, proto: 'TCP', port, dstIface: d.spec.interfaceName! });
      expect(mine, `${s.metadata.name} → ${d.metadata.name}:${port}`).toBe(eg && ing);
      checked++;
    }
    expect(checked).toBe(36);
  });
});
