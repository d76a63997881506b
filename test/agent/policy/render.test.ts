// Rendering without a kernel: the full script's shape, and that incremental transactions
// touch only what changed (pod churn → set elements; a policy edit → the chains of the
// endpoints it selects; a deletion → map elements, then chains, then sets).
import { describe, expect, it } from 'vitest';
import { calculate, type PolicyInput } from '../../../src/agent/policy/calc.js';
import { buildTable, renderDiff, renderFull, ruleCount } from '../../../src/agent/policy/render.js';
import type { NetworkPolicy } from '../../../src/resources/index.js';
import { E2E_NAMESPACES, E2E_PODS, E2E_PORTS, NODE, e2eIp, netpol, ns, pod } from './fixtures.js';

function input(policies: NetworkPolicy[], extraPods: ReturnType<typeof pod>[] = []): PolicyInput {
  return {
    nodeName: NODE,
    nodeIps: ['10.99.0.1'],
    namespaces: E2E_NAMESPACES.map((n) => ns(n, { ns: n })),
    endpoints: [...E2E_NAMESPACES.flatMap((n) => E2E_PODS.map((p) => pod({ ns: n, name: p, ...e2eIp(n, p), ports: E2E_PORTS }))), ...extraPods],
    policies,
  };
}

const fromY = netpol('x', 'from-y', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 80 }, { port: 81, protocol: 'UDP' }] }] });
const denyEgress = netpol('z', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
const block = netpol('y', 'block', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.0.0/16'] } }] }] });

describe('renderFull', () => {
  it('replaces the table atomically and reaches endpoint chains through verdict maps', () => {
    const { script, errors } = renderFull(calculate(input([fromY, denyEgress, block])));
    expect(errors).toEqual([]);
    const lines = script.split('\n');
    expect(lines.slice(0, 3)).toEqual(['table inet tern {}', 'delete table inet tern', 'table inet tern {']);
    expect(script).toMatch(/iifname vmap @ep-from comment "tern [0-9a-f]{8} /);
    expect(script).toMatch(/oifname vmap @ep-to comment/);
    expect(script).toContain('"vxa" : jump to-vxa');
    expect(script).toContain('"vzc" : jump from-vzc');
    expect(script).toMatch(/ip saddr @sel-[0-9a-f]{12}-4 meta l4proto tcp th dport 80 accept/);
    expect(script).toMatch(/ip6 saddr @sel-[0-9a-f]{12}-6 meta l4proto udp th dport 81 accept/);
    // The ipBlock is an interval set in one family only: no IPv6 rule for it.
    expect(script).toMatch(/set net-[0-9a-f]{12}-4 \{\n\t\ttype ipv4_addr\n\t\tflags interval/);
    expect(script).not.toMatch(/ip6 saddr @net-/);
    expect(script).toContain('ct state established,related accept');
  });

  it('uses the configured table name and refuses names nft would misread', () => {
    expect(renderFull(calculate(input([fromY])), { table: 'tern_test' }).script).toContain('table inet tern_test {');
    expect(() => renderFull(calculate(input([fromY])), { table: 'x; flush ruleset' })).toThrow(/table name/);
  });

  it('reports an endpoint whose interface name nft cannot carry and renders the others', () => {
    const s = calculate(input([netpol('x', 'deny', { podSelector: {} })]));
    s.endpoints[0] = { ...s.endpoints[0]!, iface: 'bad"name' };
    const { script, errors } = renderFull(s);
    expect(errors).toEqual([expect.objectContaining({ code: 'no-interface', endpoint: 'x/a' })]);
    expect(script).not.toContain('bad"name');
    expect(script).toContain('jump to-vxb');
  });

  it('counts rules: per endpoint chain its allows plus node and drop rules, plus the base chain', () => {
    const t = buildTable(calculate(input([fromY])));
    // to-vxa: node-4, node-6, TCP 80 ×2 families, UDP 81 ×2 families, drop = 7; forward: 3.
    expect(ruleCount(t)).toBe(10);
  });
});

describe('renderDiff', () => {
  it('is empty when nothing changed', () => {
    const s = calculate(input([fromY, block]));
    expect(renderDiff(s, calculate(input([block, fromY]))).script).toBe('');
  });

  it('turns a new pod in a selected namespace into set element additions only', () => {
    const prev = calculate(input([fromY]));
    const next = calculate(input([fromY], [pod({ ns: 'y', name: 'd', ip: '10.244.1.99', ip6: 'fd00:244:1::99', node: 'node2' })]));
    const d = renderDiff(prev, next);
    expect(d.full).toBe(false);
    expect(d.script.trim().split('\n')).toEqual([expect.stringMatching(/^add element inet tern sel-[0-9a-f]{12}-4 \{ 10\.244\.1\.99 \}$/), expect.stringMatching(/^add element inet tern sel-[0-9a-f]{12}-6 \{ fd00:244:1::99 \}$/)]);
  });

  it('refills only the chains of the endpoints an edited policy selects', () => {
    const prev = calculate(input([fromY, denyEgress]));
    const edited = netpol('x', 'from-y', { ...fromY.spec, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 81 }] }] });
    const d = renderDiff(prev, calculate(input([edited, denyEgress])));
    const cmds = d.script.trim().split('\n');
    expect(cmds[0]).toBe('flush chain inet tern to-vxa');
    expect(cmds.slice(1).every((l) => l.startsWith('add rule inet tern to-vxa '))).toBe(true);
    expect(d.stats).toMatchObject({ chainsRefilled: 1, chainsAdded: 0, chainsDeleted: 0, mapAdds: 0, mapDeletes: 0, setsAdded: 0 });
  });

  it('removes a deleted policy in dependency order: map elements, chains, then sets', () => {
    const prev = calculate(input([fromY, denyEgress]));
    const d = renderDiff(prev, calculate(input([denyEgress])));
    const cmds = d.script.trim().split('\n');
    const at = (re: RegExp) => cmds.findIndex((l) => re.test(l));
    expect(at(/^delete element inet tern ep-to \{ "vxa" \}$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^delete chain inet tern to-vxa$/)).toBeGreaterThan(at(/^delete element inet tern ep-to/));
    expect(at(/^delete set inet tern sel-/)).toBeGreaterThan(at(/^delete chain inet tern to-vxa$/));
    expect(cmds.some((l) => l.includes('from-vz'))).toBe(false);
  });

  it('adds sets before the chains whose rules use them', () => {
    const d = renderDiff(calculate(input([])), calculate(input([fromY])));
    const cmds = d.script.trim().split('\n');
    const lastSet = Math.max(...cmds.map((l, i) => (/^add (set|element) inet tern sel-/.test(l) ? i : -1)));
    const firstRule = cmds.findIndex((l) => l.startsWith('add rule'));
    expect(lastSet).toBeGreaterThanOrEqual(0);
    expect(firstRule).toBeGreaterThan(lastSet);
    expect(cmds[cmds.length - 1]).toBe('add element inet tern ep-to { "vxa" : jump to-vxa }');
  });
});
