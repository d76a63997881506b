// Pure calculation: Kubernetes NetworkPolicy semantics as truth tables over the desired
// model, set deduplication and naming, error reporting, and independence from input order
// (the same updates shuffled, duplicated and squashed render the same bytes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calculate, canonicalSelector, intervalToCidrs, type PolicyInput } from '../../../src/agent/policy/calc.js';
import { PolicyInputs, type PolicyUpdate } from '../../../src/agent/policy/inputs.js';
import { renderFull } from '../../../src/agent/policy/render.js';
import type { NetworkPolicy, WorkloadEndpoint } from '../../../src/resources/index.js';
import { allowed } from './evaluate.js';
import { E2E_NAMESPACES, E2E_PODS, E2E_PORTS, NODE, e2eIp, netpol, ns, pod } from './fixtures.js';

const NODE_IP = '10.99.0.1';
const NODE_IP6 = 'fd99::1';

function world(policies: NetworkPolicy[], extra: WorkloadEndpoint[] = []): PolicyInput {
  const endpoints: WorkloadEndpoint[] = [];
  for (const n of E2E_NAMESPACES) {
    for (const p of E2E_PODS) {
      const ports = n === 'x' && p === 'c' ? [...E2E_PORTS, { name: 'web', port: 8080, protocol: 'TCP' as const }] : E2E_PORTS;
      endpoints.push(pod({ ns: n, name: p, ...e2eIp(n, p), ports }));
    }
  }
  // A pod on another node: a peer only (its IP fills sets), never given chains here.
  endpoints.push(pod({ ns: 'x', name: 'remote', labels: { pod: 'b' }, ip: '10.244.2.7', ip6: 'fd00:244:2::7', node: 'node2', ports: [{ name: 'web', port: 9090, protocol: 'TCP' }] }));
  return {
    nodeName: NODE,
    nodeIps: [NODE_IP, NODE_IP6],
    namespaces: E2E_NAMESPACES.map((n) => ns(n, { ns: n })),
    endpoints: [...endpoints, ...extra],
    policies,
  };
}

type Proto = 'TCP' | 'UDP' | 'SCTP';
/** [from, to, proto, port, allowed]; from/to are "ns/pod", "node", or a literal IP. */
type Expect = [string, string, Proto, number, boolean, 4 | 6];

function addrOf(input: PolicyInput, who: string, fam: 4 | 6): { ip: string; iface?: string } {
  if (who === 'node') return { ip: fam === 4 ? NODE_IP : NODE_IP6 };
  const [n, p] = who.split('/');
  if (p === undefined) return { ip: who };
  const ep = input.endpoints.find((e) => e.metadata.namespace === n && e.metadata.name === p)!;
  const ip = ep.spec.ipNetworks.find((c) => c.includes(fam === 4 ? '.' : ':'))!.split('/')[0]!;
  return { ip, ...(ep.spec.node === NODE && ep.spec.interfaceName ? { iface: ep.spec.interfaceName } : {}) };
}

function check(input: PolicyInput, expects: Expect[]): void {
  const state = calculate(input);
  const got = expects.map(([from, to, proto, port, , fam]) => {
    const s = addrOf(input, from, fam);
    const d = addrOf(input, to, fam);
    return allowed(state, { src: s.ip, dst: d.ip, proto, port, ...(s.iface ? { srcIface: s.iface } : {}), ...(d.iface ? { dstIface: d.iface } : {}) });
  });
  expect(expects.map((e, i) => `${e[0]} -> ${e[1]} ${e[2]}/${e[3]} v${e[5]}: ${got[i]}`)).toEqual(expects.map((e) => `${e[0]} -> ${e[1]} ${e[2]}/${e[3]} v${e[5]}: ${e[4]}`));
}

const T = (from: string, to: string, ok: boolean, port = 80, proto: Proto = 'TCP', fam: 4 | 6 = 4): Expect => [from, to, proto, port, ok, fam];

interface Case {
  name: string;
  policies: NetworkPolicy[];
  expects: Expect[];
}

const sel = (labels: Record<string, string>) => ({ matchLabels: labels });

const CASES: Case[] = [
  { name: 'no policy: everything allowed', policies: [], expects: [T('x/a', 'y/b', true), T('y/b', 'x/a', true, 81, 'UDP'), T('x/a', 'x/b', true, 80, 'TCP', 6)] },
  {
    name: 'default deny ingress in x',
    policies: [netpol('x', 'deny', { podSelector: {} })],
    expects: [T('y/a', 'x/a', false), T('x/b', 'x/a', false), T('x/a', 'y/a', true), T('x/a', 'x/b', false, 81, 'UDP'), T('node', 'x/a', true), T('node', 'x/c', true, 80, 'TCP', 6), T('y/a', 'x/a', false, 80, 'TCP', 6)],
  },
  {
    name: 'explicit empty ingress list denies all',
    policies: [netpol('x', 'deny', { podSelector: {}, ingress: [], policyTypes: ['Ingress'] })],
    expects: [T('y/a', 'x/a', false), T('x/a', 'z/c', true)],
  },
  {
    name: 'allow all ingress: one empty rule',
    policies: [netpol('x', 'all', { podSelector: {}, ingress: [{}] })],
    expects: [T('y/a', 'x/a', true), T('z/c', 'x/b', true, 81, 'UDP'), T('z/c', 'x/b', true, 81, 'UDP', 6)],
  },
  {
    name: 'pod selector within the namespace',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] })],
    expects: [T('x/b', 'x/a', true), T('x/c', 'x/a', false), T('y/b', 'x/a', false), T('x/c', 'x/b', true), T('x/b', 'x/a', true, 80, 'TCP', 6), T('x/remote', 'x/a', true)],
  },
  {
    name: 'namespace selector',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }] }] })],
    expects: [T('y/a', 'x/a', true), T('y/c', 'x/a', true), T('x/b', 'x/a', false), T('z/a', 'x/a', false)],
  },
  {
    name: 'pod AND namespace selector in one peer',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }), podSelector: sel({ pod: 'b' }) }] }] })],
    expects: [T('y/b', 'x/a', true), T('y/a', 'x/a', false), T('x/b', 'x/a', false), T('z/b', 'x/a', false)],
  },
  {
    name: 'pod OR namespace selector as two peers',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }, { podSelector: sel({ pod: 'b' }) }] }] })],
    expects: [T('y/b', 'x/a', true), T('y/a', 'x/a', true), T('x/b', 'x/a', true), T('x/c', 'x/a', false), T('z/b', 'x/a', false)],
  },
  {
    name: 'namespace selector by the kubernetes.io/metadata.name label and matchExpressions',
    policies: [netpol('x', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['z'] }] } }] }] })],
    expects: [T('z/a', 'x/b', true), T('y/a', 'x/b', false), T('x/a', 'x/b', false)],
  },
  {
    name: 'ipBlock with except',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24', except: ['10.244.1.21/32'] } }] }] })],
    expects: [T('y/a', 'x/a', true), T('y/b', 'x/a', false), T('z/c', 'x/a', true), T('x/remote', 'x/a', false), T('y/a', 'x/a', false, 80, 'TCP', 6)],
  },
  {
    name: 'IPv6 ipBlock leaves IPv4 denied',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: 'fd00:244:1::/64' } }] }] })],
    expects: [T('y/a', 'x/a', true, 80, 'TCP', 6), T('y/a', 'x/a', false)],
  },
  {
    name: 'numeric port, TCP by default',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] })],
    expects: [T('y/a', 'x/a', true, 80), T('y/a', 'x/a', false, 81), T('y/a', 'x/a', false, 80, 'UDP'), T('y/a', 'x/a', true, 80, 'TCP', 6)],
  },
  {
    name: 'UDP port',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 81, protocol: 'UDP' }] }] })],
    expects: [T('y/a', 'x/a', true, 81, 'UDP'), T('y/a', 'x/a', false, 81, 'TCP'), T('y/a', 'x/a', false, 80, 'UDP')],
  },
  {
    name: 'SCTP port',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }] })],
    expects: [T('y/a', 'x/a', true, 80, 'SCTP'), T('y/a', 'x/a', false, 80, 'TCP')],
  },
  {
    name: 'protocol without port: every port of that protocol',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    expects: [T('y/a', 'x/a', true, 81, 'UDP'), T('y/a', 'x/a', true, 5353, 'UDP'), T('y/a', 'x/a', false, 80, 'TCP')],
  },
  {
    name: 'endPort range',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80, endPort: 81 }] }] })],
    expects: [T('y/a', 'x/a', true, 80), T('y/a', 'x/a', true, 81), T('y/a', 'x/a', false, 82), T('y/a', 'x/a', false, 81, 'UDP')],
  },
  {
    name: 'named port resolves against the receiving pod',
    policies: [netpol('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }, { port: 'web' }] }] })],
    expects: [T('y/a', 'x/a', true, 81, 'UDP'), T('y/a', 'x/a', false, 80, 'UDP'), T('y/a', 'x/c', true, 8080), T('y/a', 'x/a', false, 8080), T('y/a', 'x/c', false, 80)],
  },
  {
    name: 'named port whose protocol does not match the container port matches nothing',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 'serve-80-tcp', protocol: 'UDP' }] }] })],
    expects: [T('y/a', 'x/a', false, 80, 'UDP'), T('y/a', 'x/a', false, 80, 'TCP')],
  },
  {
    name: 'default deny egress',
    policies: [netpol('x', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] })],
    expects: [T('x/a', 'y/a', false), T('x/a', 'x/b', false), T('y/a', 'x/a', true), T('x/a', 'y/a', false, 80, 'UDP', 6)],
  },
  {
    name: 'egress to a port',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), egress: [{ ports: [{ port: 80 }] }] })],
    expects: [T('x/a', 'y/b', true, 80), T('x/a', 'y/b', false, 81), T('x/a', 'y/b', false, 80, 'UDP'), T('y/b', 'x/a', false, 80)],
  },
  {
    name: 'egress named port resolves against each destination pod',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'web' }] }] })],
    expects: [T('x/a', 'x/c', true, 8080), T('x/a', 'x/b', false, 8080), T('x/a', 'x/remote', true, 9090), T('x/a', 'x/remote', false, 8080), T('x/a', 'x/c', true, 8080, 'TCP', 6)],
  },
  {
    name: 'egress named port with no peers: any pod of the cluster with that port',
    policies: [netpol('y', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'web' }] }] })],
    expects: [T('y/a', 'x/c', true, 8080), T('y/a', 'x/b', false, 8080), T('y/a', 'x/remote', true, 9090)],
  },
  {
    name: 'egress named port with an ipBlock peer: both must hold',
    policies: [netpol('y', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.2.0/24' } }], ports: [{ port: 'web' }] }] })],
    expects: [T('y/a', 'x/remote', true, 9090), T('y/a', 'x/c', false, 8080)],
  },
  {
    name: 'egress to an ipBlock outside the cluster',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] })],
    expects: [T('x/a', '192.0.2.9', true), T('x/a', '198.51.100.1', false), T('x/a', 'y/a', false)],
  },
  {
    name: 'policyTypes Egress only: ingress rules ignored, ingress not isolated',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], ingress: [], egress: [{}] })],
    expects: [T('y/a', 'x/a', true), T('x/a', 'y/a', true)],
  },
  {
    name: 'policyTypes defaulted to Ingress+Egress when egress rules exist',
    policies: [netpol('x', 'p', { podSelector: sel({ pod: 'a' }), egress: [{ to: [{ podSelector: sel({ pod: 'b' }) }] }] })],
    expects: [T('x/a', 'x/b', true), T('x/a', 'x/c', false), T('x/b', 'x/a', false)],
  },
  {
    name: 'multiple policies are unioned',
    policies: [
      netpol('x', 'p1', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] }),
      netpol('x', 'p2', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'z' }) }], ports: [{ port: 81 }] }] }),
    ],
    expects: [T('x/b', 'x/a', true, 80), T('z/a', 'x/a', true, 81), T('z/a', 'x/a', false, 80), T('x/c', 'x/a', false)],
  },
  {
    name: 'deny-all plus allow-specific',
    policies: [netpol('x', 'deny', { podSelector: {} }), netpol('x', 'allow', { podSelector: sel({ pod: 'c' }), ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    expects: [T('y/a', 'x/c', true), T('y/a', 'x/b', false), T('x/a', 'x/c', true)],
  },
  {
    name: 'policies in different namespaces stay in their namespace',
    policies: [netpol('y', 'deny', { podSelector: {} }), netpol('z', 'eg', { podSelector: {}, policyTypes: ['Egress'] })],
    expects: [T('x/a', 'y/a', false), T('x/a', 'x/b', true), T('z/a', 'x/a', false), T('x/a', 'z/a', true)],
  },
  {
    name: 'egress and ingress both checked on the path',
    policies: [
      netpol('x', 'eg', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: sel({ ns: 'y' }) }] }] }),
      netpol('y', 'in', { podSelector: sel({ pod: 'b' }), ingress: [{ from: [{ podSelector: sel({ pod: 'a' }), namespaceSelector: {} }], ports: [{ port: 81 }] }] }),
    ],
    expects: [T('x/a', 'y/a', true), T('x/a', 'y/b', false, 80), T('x/a', 'y/b', true, 81), T('z/a', 'y/b', true, 81), T('x/a', 'z/a', false)],
  },
];

describe('calculate: Kubernetes semantics as truth tables', () => {
  for (const c of CASES) {
    it(c.name, () => check(world(c.policies), c.expects));
  }
});

describe('calculate: structure', () => {
  it('isolates only local selected endpoints and keys them by interface, sorted', () => {
    const s = calculate(world([netpol('x', 'deny', { podSelector: {} })]));
    expect(s.endpoints.map((e) => e.iface)).toEqual(['vxa', 'vxb', 'vxc']);
    expect(s.endpoints.every((e) => e.ingress !== null && e.ingress.length === 0 && e.egress === null)).toBe(true);
    expect(s.errors).toEqual([]);
  });

  it('shares one set between identical selectors of different policies, however they are written', () => {
    const s = calculate(
      world([
        netpol('x', 'p1', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }] }] }),
        netpol('x', 'p2', { podSelector: sel({ pod: 'b' }), ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y', 'y'] }] } }], ports: [{ port: 81 }] }] }),
      ]),
    );
    const selSets = s.sets.filter((x) => x.name.startsWith('sel-'));
    expect(selSets.map((x) => x.family).sort()).toEqual([4, 6]);
    const v4 = selSets.find((x) => x.family === 4)!;
    expect(v4.elements).toEqual(['10.244.1.20', '10.244.1.21', '10.244.1.22']);
    expect(canonicalSelector(sel({ ns: 'y' }))).toBe(canonicalSelector({ matchExpressions: [{ key: 'ns', operator: 'In', values: ['y'] }] }));
  });

  it('turns ipBlock except into an interval set of exact prefixes', () => {
    const s = calculate(world([netpol('x', 'p', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/24', except: ['10.0.0.0/26', '10.0.0.200/30'] } }] }] })]));
    const net = s.sets.find((x) => x.name.startsWith('net-'))!;
    expect(net.kind).toBe('interval');
    expect(net.elements).toEqual(['10.0.0.192/29', '10.0.0.204/30', '10.0.0.208/28', '10.0.0.224/27', '10.0.0.64/26', '10.0.0.128/26'].sort());
    expect(intervalToCidrs(4, 0n, 0xffffffffn)).toEqual(['0.0.0.0/0']);
  });

  it('builds egress named-port sets of address . port per destination pod', () => {
    const s = calculate(world([netpol('x', 'p', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'web' }] }] })]));
    const np4 = s.sets.find((x) => x.name.startsWith('np-') && x.family === 4)!;
    expect(np4.kind).toBe('addr-port');
    expect(np4.elements).toEqual(['10.244.1.12 . 8080', '10.244.2.7 . 9090']);
  });

  it('keeps rules that several policies contribute once, naming all of them', () => {
    const s = calculate(world([netpol('x', 'p1', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] }), netpol('x', 'p2', { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] })]));
    const a = s.endpoints.find((e) => e.iface === 'vxa')!;
    expect(a.ingress).toEqual([{ peer: { kind: 'any' }, port: { kind: 'ports', proto: 'TCP', ranges: [[80, 80]] }, policies: ['x/p1', 'x/p2'] }]);
  });

  it('reports a policy that cannot be rendered by name, keeps its pods isolated, and renders the rest', () => {
    const bad = netpol('x', 'bad', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80 }] }] });
    (bad.spec.ingress![0]!.ports![0] as { protocol: string }).protocol = 'ICMP';
    const badCidr = netpol('y', 'bad-cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] });
    (badCidr.spec.ingress![0]!.from![0]!.ipBlock as { cidr: string }).cidr = '10.0.0.0/33';
    const good = netpol('z', 'good', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] });
    const input = world([bad, badCidr, good]);
    const s = calculate(input);
    expect(s.errors.map((e) => [e.code, e.policy])).toEqual([
      ['invalid-policy', 'x/bad'],
      ['invalid-policy', 'y/bad-cidr'],
    ]);
    expect(s.errors[0]!.message).toContain('ICMP');
    check(input, [T('y/a', 'x/a', false), T('x/a', 'y/a', false), T('x/a', 'z/a', true), T('y/a', 'x/b', true)]);
    expect(() => renderFull(s)).not.toThrow();
  });

  it('reports a selected local endpoint without an interface', () => {
    const noIf = pod({ ns: 'x', name: 'd', ip: '10.244.1.50' });
    delete (noIf.spec as { interfaceName?: string }).interfaceName;
    const s = calculate(world([netpol('x', 'deny', { podSelector: {} })], [noIf]));
    expect(s.errors).toEqual([expect.objectContaining({ code: 'no-interface', policy: 'x/deny', endpoint: 'x/d' })]);
  });
});

// ---------------------------------------------------------------------------------------
// Order independence

const labelValue = fc.constantFrom('a', 'b', 'c');
const selectorArb = fc.oneof(
  fc.constant({}),
  fc.record({ matchLabels: fc.dictionary(fc.constantFrom('pod', 'app'), labelValue, { minKeys: 1, maxKeys: 2 }) }),
  fc.record({ matchExpressions: fc.array(fc.record({ key: fc.constantFrom('pod', 'app'), operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(labelValue, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }) }),
);
const nsSelectorArb = fc.oneof(fc.constant({}), fc.record({ matchLabels: fc.record({ ns: fc.constantFrom('x', 'y', 'z') }) }));
const peerArb = fc.oneof(
  fc.record({ podSelector: selectorArb }),
  fc.record({ namespaceSelector: nsSelectorArb }),
  fc.record({ podSelector: selectorArb, namespaceSelector: nsSelectorArb }),
  fc.constantFrom({ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.16/28'] } }, { ipBlock: { cidr: 'fd00:244::/32' } }, { ipBlock: { cidr: '10.244.1.0/24' } }),
);
const portArb = fc.constantFrom({ port: 80 }, { port: 81, protocol: 'UDP' }, { port: 'serve-80-tcp' }, { port: 'web' }, { port: 80, endPort: 90 }, { protocol: 'UDP' }, { port: 80, protocol: 'SCTP' });
const ruleArb = (dir: 'from' | 'to') => fc.record({ [dir]: fc.array(peerArb, { maxLength: 2 }), ports: fc.array(portArb, { maxLength: 2 }) }, { requiredKeys: [] });
const specArb = fc.record(
  {
    podSelector: selectorArb,
    ingress: fc.array(ruleArb('from'), { maxLength: 2 }),
    egress: fc.array(ruleArb('to'), { maxLength: 2 }),
    policyTypes: fc.constantFrom(undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']),
  },
  { requiredKeys: ['podSelector'] },
);
const policyArb = fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.constantFrom('p1', 'p2', 'p3'), specArb).map(([n, name, spec]) => {
  const clean = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined));
  return netpol(n, name, clean);
});
const podArb = fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.constantFrom('a', 'b', 'c', 'd'), fc.record({ pod: labelValue, app: labelValue }), fc.boolean()).map(([n, p, labels, remote]) => {
  const idx = 10 * ['x', 'y', 'z'].indexOf(n) + ['a', 'b', 'c', 'd'].indexOf(p) + 10;
  return pod({ ns: n, name: p, labels, ip: `10.244.${remote ? 2 : 1}.${idx}`, ip6: `fd00:244:${remote ? 2 : 1}::${idx}`, ...(remote ? { node: 'node2' } : {}), ports: p === 'c' ? [{ name: 'web', port: 8080 }] : E2E_PORTS });
});
const nsArb = fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.constantFrom('x', 'y', 'z')).map(([n, l]) => ns(n, { ns: l }));

type Obj = { k: string; up: PolicyUpdate; del: PolicyUpdate };
const objOfPolicy = (p: NetworkPolicy): Obj => ({ k: `pol/${p.metadata.namespace}/${p.metadata.name}`, up: { kind: 'policy-upsert', policy: p }, del: { kind: 'policy-delete', namespace: p.metadata.namespace, name: p.metadata.name } });
const objOfPod = (e: WorkloadEndpoint): Obj => ({ k: `ep/${e.metadata.namespace}/${e.metadata.name}`, up: { kind: 'endpoint-upsert', endpoint: e }, del: { kind: 'endpoint-delete', namespace: e.metadata.namespace, name: e.metadata.name } });
const objOfNs = (n: ReturnType<typeof ns>): Obj => ({ k: `ns/${n.metadata.name}`, up: { kind: 'namespace-upsert', namespace: n }, del: { kind: 'namespace-delete', name: n.metadata.name } });

describe('calculate: order independence', () => {
  it('renders the same bytes for the same final state reached by shuffled, duplicated and squashed update streams', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(policyArb.map(objOfPolicy), podArb.map(objOfPod), nsArb.map(objOfNs)), { minLength: 1, maxLength: 30 }),
        fc.array(fc.oneof(policyArb.map(objOfPolicy), podArb.map(objOfPod)), { maxLength: 10 }),
        fc.infiniteStream(fc.nat()),
        (history, transient, rnd) => {
          const next = (n: number): number => (rnd.next().value as number) % n;
          // The final state: the last version of each key in `history`.
          const final = new Map<string, Obj>();
          for (const o of history) final.set(o.k, o);
          // Squashed: only final versions, in a fixed order.
          const squashed = new PolicyInputs(NODE);
          for (const o of [...final.values()].sort((a, b) => (a.k < b.k ? -1 : 1))) squashed.apply(o.up);
          squashed.apply({ kind: 'node-ips', ips: [NODE_IP, NODE_IP6] });
          // Replayed: per-key streams (every historical version, transient objects created then
          // deleted, random duplicates) interleaved at random, per-key order kept.
          const streams = new Map<string, PolicyUpdate[]>();
          const push = (k: string, u: PolicyUpdate) => streams.set(k, [...(streams.get(k) ?? []), u]);
          for (const o of history) {
            push(o.k, o.up);
            if (next(4) === 0) push(o.k, o.up);
          }
          for (const o of transient) {
            if (final.has(o.k)) continue;
            push(o.k, o.up);
            push(o.k, o.del);
          }
          for (const [k, o] of final) push(k, o.up);
          const queues = [...streams.values()];
          const replayed = new PolicyInputs(NODE);
          replayed.apply({ kind: 'node-ips', ips: ['10.1.1.1'] });
          while (queues.some((q) => q.length)) {
            const live = queues.filter((q) => q.length);
            replayed.apply(live[next(live.length)]!.shift()!);
          }
          replayed.apply({ kind: 'node-ips', ips: [NODE_IP6, NODE_IP] });
          const a = calculate(squashed.snapshot());
          const b = calculate(replayed.snapshot());
          // Arrays handed over in a random order, with duplicates, give the same result too.
          const snap = squashed.snapshot();
          const shuffle = <T>(xs: readonly T[]): T[] => {
            const out = [...xs, ...xs.filter(() => next(3) === 0)];
            for (let i = out.length - 1; i > 0; i--) {
              const j = next(i + 1);
              [out[i], out[j]] = [out[j]!, out[i]!];
            }
            return out;
          };
          const c = calculate({ ...snap, namespaces: shuffle(snap.namespaces), endpoints: shuffle(snap.endpoints), policies: shuffle(snap.policies) });
          const ra = renderFull(a).script;
          expect(renderFull(b).script).toBe(ra);
          expect(renderFull(c).script).toBe(ra);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 150 },
    );
  });
});
