// The incremental engine against the full calculation: random update sequences (namespaces
// with changing labels, endpoints that move between nodes and change labels, addresses,
// ports and interfaces, policies with pod and namespace selectors, matchExpressions,
// ipBlocks, named ports, invalid rules, deletes) are applied to both, and after every step
// the engine's state must deep-equal calculate(snapshot()), render to the same bytes, and
// give the same incremental transaction from the previous step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calculate } from '../../../src/agent/policy/calc.js';
import { renderChanges } from '../../../src/agent/policy/diff.js';
import { PolicyEngine } from '../../../src/agent/policy/engine.js';
import { PolicyInputs, type PolicyUpdate } from '../../../src/agent/policy/inputs.js';
import type { DesiredState } from '../../../src/agent/policy/model.js';
import { renderDiff, renderFull } from '../../../src/agent/policy/render.js';
import type { LabelSelector, Namespace, NetworkPolicy, WorkloadEndpoint } from '../../../src/resources/index.js';
import { NODE, netpol, ns, pod } from './fixtures.js';

const NSS = ['a', 'b', 'c', 'd'] as const; // 'd' never gets a Namespace object
const NAMES = ['p0', 'p1', 'p2', 'p3', 'p4'] as const;
const POLS = ['q0', 'q1', 'q2'] as const;

const labelKey = fc.constantFrom('app', 'tier', 'team', 'env');
const labelVal = fc.constantFrom('x', 'y', 'z');
const labels = fc.dictionary(labelKey, labelVal, { maxKeys: 3 });

const anySelector: fc.Arbitrary<LabelSelector> = fc.record(
  {
    matchLabels: fc.dictionary(labelKey, labelVal, { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.oneof(
        fc.record({ key: labelKey, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(labelVal, { minLength: 1, maxLength: 2 }) }),
        fc.record({ key: labelKey, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);
// Mostly broad selectors, so policies select pods often enough to produce rules.
const selector: fc.Arbitrary<LabelSelector> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 3, arbitrary: fc.record({ matchLabels: fc.dictionary(labelKey, labelVal, { minKeys: 1, maxKeys: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ matchExpressions: fc.tuple(fc.record({ key: labelKey, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(labelVal, { minLength: 1, maxLength: 2 }) })) }) },
  { weight: 2, arbitrary: anySelector },
);

// Blocks chosen so that different texts give the same elements (one set, two comments) and
// so that pod addresses fall inside some of them.
const ipBlock = fc.constantFrom(
  { cidr: '10.0.0.0/8' },
  { cidr: '10.0.0.0/8', except: ['10.0.0.0/9'] },
  { cidr: '10.128.0.0/9' },
  { cidr: '10.1.0.0/16', except: ['10.1.1.0/24', '10.1.2.0/24'] },
  { cidr: 'fd00::/64', except: ['fd00::/65'] },
  { cidr: 'fd00::8000:0:0:0/65' },
);

const peer = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: selector }),
  fc.record({ podSelector: selector, namespaceSelector: selector }),
  fc.record({ ipBlock }),
);

const port = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'), port: fc.constantFrom(53, 80, 443, 8080) }, { requiredKeys: ['protocol'] }),
  fc.record({ protocol: fc.constant('TCP'), port: fc.constantFrom(80, 8000), endPort: fc.constantFrom(8002, 9000) }),
  fc.record({ protocol: fc.constantFrom('TCP', 'UDP'), port: fc.constantFrom('http', 'dns', 'metrics') }),
);

const ports = fc.option(fc.array(port, { maxLength: 3 }), { nil: undefined });
const peers = fc.option(fc.array(peer, { maxLength: 3 }), { nil: undefined });

const policySpec = fc.record(
  {
    podSelector: selector,
    policyTypes: fc.constantFrom(['Ingress'], ['Egress'], ['Ingress', 'Egress']),
    ingress: fc.array(fc.record({ from: peers, ports }, { requiredKeys: [] }), { maxLength: 2 }),
    egress: fc.array(fc.record({ to: peers, ports }, { requiredKeys: [] }), { maxLength: 2 }),
  },
  { requiredKeys: ['podSelector'] },
);

/** Strips undefined fields (the schema would reject them) and builds the policy. */
function clean<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

const policyUpsert: fc.Arbitrary<PolicyUpdate> = fc
  .record({
    ns: fc.constantFrom(...NSS),
    name: fc.constantFrom(...POLS),
    spec: policySpec,
    // Objects that skipped validation (older writers): a rule the calculation refuses, or a
    // pod selector it cannot evaluate.
    broken: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'none', 'peer', 'selector'),
  })
  .map(({ ns: n, name, spec, broken }) => {
    let policy: NetworkPolicy;
    if (broken === 'none') policy = netpol(n, name, clean(spec));
    else {
      policy = netpol(n, name, clean({ podSelector: spec.podSelector, ingress: spec.ingress, policyTypes: spec.policyTypes }));
      const p = policy as unknown as { spec: Record<string, unknown> };
      if (broken === 'peer') p.spec.ingress = [{ from: [{}] }];
      else p.spec.podSelector = { matchExpressions: [{ key: 'app', operator: 'Near' }] };
    }
    return { kind: 'policy-upsert' as const, policy };
  });

const V4 = ['10.1.1.5', '10.1.3.7', '10.200.0.1', '10.0.0.9', '192.168.0.1'];
const V6 = ['fd00::5', 'fd00::8000:0:0:1', 'fd01::1'];

const endpointUpsert: fc.Arbitrary<PolicyUpdate> = fc
  .record({
    ns: fc.constantFrom(...NSS),
    name: fc.constantFrom(...NAMES),
    labels,
    node: fc.constantFrom(NODE, NODE, 'node2'),
    // 'v@x' is a valid Linux name nft cannot carry (render reports it).
    iface: fc.constantFrom<string | undefined>('va', 'vb', 'vc', 'vd', 'v@x', undefined),
    v4: fc.option(fc.constantFrom(...V4), { nil: undefined }),
    v6: fc.option(fc.constantFrom(...V6), { nil: undefined }),
    wide: fc.constantFrom(false, false, false, false, false, false, false, true),
    ports: fc.option(
      fc.uniqueArray(fc.record({ name: fc.constantFrom('http', 'dns', 'metrics'), port: fc.constantFrom(53, 80, 8080, 9090), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }), { selector: (p) => p.name, maxLength: 3 }),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const ep: WorkloadEndpoint = pod({ ns: r.ns, name: r.name, labels: r.labels, ip: r.v4 ?? '10.9.9.9', ...(r.v6 ? { ip6: r.v6 } : {}), node: r.node, ...(r.ports ? { ports: r.ports } : {}), ...(r.iface ? { iface: r.iface } : {}) });
    // An address that is not a single IP (bad-address), or no IPv4 at all.
    const nets = [...(r.v4 ? [`${r.v4}/32`] : []), ...(r.v6 ? [`${r.v6}/128`] : [])];
    ep.spec.ipNetworks = r.wide ? ['10.1.0.0/24', ...nets.slice(1)] : nets;
    if (r.node === NODE && !r.iface) delete ep.spec.interfaceName;
    return { kind: 'endpoint-upsert' as const, endpoint: ep };
  });

const namespaceUpsert: fc.Arbitrary<PolicyUpdate> = fc
  .record({ name: fc.constantFrom('a', 'b', 'c'), labels })
  .map(({ name, labels: l }): PolicyUpdate => ({ kind: 'namespace-upsert', namespace: ns(name, l) as Namespace }));

const update: fc.Arbitrary<PolicyUpdate> = fc.oneof(
  { weight: 6, arbitrary: endpointUpsert },
  { weight: 2, arbitrary: fc.record({ namespace: fc.constantFrom(...NSS), name: fc.constantFrom(...NAMES) }).map((r): PolicyUpdate => ({ kind: 'endpoint-delete', ...r })) },
  { weight: 4, arbitrary: policyUpsert },
  { weight: 1, arbitrary: fc.record({ namespace: fc.constantFrom(...NSS), name: fc.constantFrom(...POLS) }).map((r): PolicyUpdate => ({ kind: 'policy-delete', ...r })) },
  { weight: 2, arbitrary: namespaceUpsert },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'c').map((name): PolicyUpdate => ({ kind: 'namespace-delete', name })) },
  { weight: 1, arbitrary: fc.constantFrom<readonly string[]>(['10.99.0.1'], ['10.99.0.1', 'fd99::1'], ['10.99.0.2/24'], ['not-an-ip', '10.99.0.1'], []).map((ips): PolicyUpdate => ({ kind: 'node-ips', ips })) },
);

/** Applies a sequence to both, checking after every `every` steps. */
function compareAlong(seq: PolicyUpdate[], every = 1): void {
  const inputs = new PolicyInputs(NODE);
  inputs.apply({ kind: 'node-ips', ips: ['10.99.0.1', 'fd99::1'] });
  let prevInc: DesiredState = inputs.desired();
  let prevFull: DesiredState = calculate(inputs.snapshot());
  expect(prevInc).toEqual(prevFull);
  seq.forEach((u, i) => {
    inputs.apply(u);
    if ((i + 1) % every !== 0 && i !== seq.length - 1) return;
    const inc = inputs.desired();
    const full = calculate(inputs.snapshot());
    expect(inc).toEqual(full);
    expect(renderFull(inc).script).toBe(renderFull(full).script);
    const dInc = renderDiff(prevInc, inc);
    const dFull = renderDiff(prevFull, full);
    expect(dInc.script).toBe(dFull.script);
    expect(dInc.stats).toEqual(dFull.stats);
    // The identity-based transaction is the same as the one over the whole states.
    const dShared = renderChanges(prevInc, inc);
    expect(dShared.script).toBe(dFull.script);
    expect(dShared.stats).toEqual(dFull.stats);
    expect(dShared.errors).toEqual(dFull.errors);
    expect(dShared.full).toBe(dFull.full);
    prevInc = inc;
    prevFull = full;
  });
}

describe('incremental calculation equals the full calculation', () => {
  it('after every step of random update sequences', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 60, size: 'max' }), (seq) => compareAlong(seq)),
      { numRuns: 300 },
    );
  });

  it('after batches of updates (several changes between two states)', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 80, size: 'max' }), fc.integer({ min: 2, max: 9 }), (seq, every) => compareAlong(seq, every)),
      { numRuns: 200 },
    );
  });

  it('a long sequence over a bigger world (many endpoints per selector, shared addresses)', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 150, maxLength: 300, size: 'max' }), (seq) => compareAlong(seq, 7)),
      { numRuns: 15 },
    );
  });

  it('is independent of order: the same final objects reached by a shuffled stream give the same state', () => {
    fc.assert(
      fc.property(fc.array(update, { minLength: 1, maxLength: 40, size: 'max' }), fc.integer(), (seq, seed) => {
        const a = new PolicyEngine(NODE);
        for (const u of seq) a.apply(u);
        // Replay only the last update per key, in a rotated order, then the same ones again.
        const last = new Map<string, PolicyUpdate>();
        const keyOf = (u: PolicyUpdate): string =>
          u.kind === 'endpoint-upsert' ? `e/${u.endpoint.metadata.namespace}/${u.endpoint.metadata.name}`
          : u.kind === 'endpoint-delete' ? `e/${u.namespace}/${u.name}`
          : u.kind === 'policy-upsert' ? `p/${u.policy.metadata.namespace}/${u.policy.metadata.name}`
          : u.kind === 'policy-delete' ? `p/${u.namespace}/${u.name}`
          : u.kind === 'namespace-upsert' ? `n/${u.namespace.metadata.name}`
          : u.kind === 'namespace-delete' ? `n/${u.name}`
          : 'node';
        for (const u of seq) {
          last.delete(keyOf(u));
          last.set(keyOf(u), u);
        }
        const squashed = [...last.values()];
        const k = squashed.length ? Math.abs(seed) % squashed.length : 0;
        const b = new PolicyEngine(NODE);
        for (const u of [...squashed.slice(k), ...squashed.slice(0, k), ...squashed]) b.apply(u);
        expect(renderFull(b.state()).script).toBe(renderFull(a.state()).script);
        expect(b.state()).toEqual(a.state());
      }),
      { numRuns: 200 },
    );
  });
});

describe('incremental calculation touches only what an update changes', () => {
  const world = (): PolicyInputs => {
    const inputs = new PolicyInputs(NODE);
    inputs.apply({ kind: 'node-ips', ips: ['10.99.0.1'] });
    for (const n of ['a', 'b']) inputs.apply({ kind: 'namespace-upsert', namespace: ns(n, { team: n }) });
    for (let i = 0; i < 6; i++) {
      inputs.apply({ kind: 'endpoint-upsert', endpoint: pod({ ns: i % 2 ? 'a' : 'b', name: `l${i}`, labels: { app: `x${i % 3}` }, ip: `10.1.0.${i + 1}`, iface: `vl${i}` }) });
      inputs.apply({ kind: 'endpoint-upsert', endpoint: pod({ ns: i % 2 ? 'a' : 'b', name: `r${i}`, labels: { app: `x${i % 3}` }, ip: `10.2.0.${i + 1}`, node: 'node2' }) });
    }
    inputs.apply({ kind: 'policy-upsert', policy: netpol('a', 'web', { podSelector: { matchLabels: { app: 'x1' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x0' } } }], ports: [{ port: 80 }] }] }) });
    inputs.apply({ kind: 'policy-upsert', policy: netpol('b', 'all', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] }) });
    return inputs;
  };

  it('a new remote pod changes set elements only: every endpoint object is kept', () => {
    const inputs = world();
    const before = inputs.desired();
    inputs.apply({ kind: 'endpoint-upsert', endpoint: pod({ ns: 'a', name: 'r9', labels: { app: 'x0' }, ip: '10.2.0.99', node: 'node2' }) });
    const after = inputs.desired();
    expect(after).toEqual(calculate(inputs.snapshot()));
    expect(after.endpoints).toBe(before.endpoints);
    const changed = after.sets.filter((s, i) => s !== before.sets[i]).map((s) => s.name);
    // The pod is in namespace a (team=a, matched by b/all's namespaceSelector) with app=x0 (a/web's peer).
    expect(changed).toHaveLength(2);
    expect(after.sets.filter((s) => s.elements.includes('10.2.0.99'))).toHaveLength(2);
    expect(renderDiff(before, after).stats).toMatchObject({ elementsAdded: 2, chainsAdded: 0, chainsRefilled: 0 });
    expect(renderChanges(before, after).script).toBe(renderDiff(before, after).script);
  });

  it('an edited policy recomputes the chains of the pods it selects, before and after', () => {
    const inputs = world();
    const before = inputs.desired();
    inputs.apply({ kind: 'policy-upsert', policy: netpol('a', 'web', { podSelector: { matchLabels: { app: 'x1' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'x0' } } }], ports: [{ port: 443 }] }] }) });
    const after = inputs.desired();
    expect(after).toEqual(calculate(inputs.snapshot()));
    const touched = after.endpoints.filter((e) => !before.endpoints.includes(e)).map((e) => e.endpoint);
    // app=x1 in namespace a: l1 (i=1); l3 has x0, l5 has x2.
    expect(touched).toEqual(['a/l1']);
  });

  it('nothing recorded since the last state: the same object', () => {
    const inputs = world();
    const s = inputs.desired();
    expect(inputs.dirty).toBe(false);
    expect(inputs.desired()).toBe(s);
  });
});
