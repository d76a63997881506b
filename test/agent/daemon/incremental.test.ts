// The agent's per-update shortcuts against its full calculation, over random update sequences:
// - routes: applying routeFor() to the destinations each update touched keeps the same map
//   desiredRoutes() computes from scratch;
// - BGP: an update that does not mark BGP dirty leaves bgpDesired() as it was;
// - stripped WorkloadEndpoints keep every field the agent reads, and share repeated parts.
// Pure: no kernel, no etcd.
import { describe, expect, it } from 'vitest';
import { bgpDesired, desiredRoutes, nodeIps, routeFor, routeText } from '../../../src/agent/daemon/calc.js';
import { Interner, stripEndpoint } from '../../../src/agent/daemon/strip.js';
import { AgentState, type AgentUpdate } from '../../../src/agent/daemon/updates.js';
import { PolicyInputs } from '../../../src/agent/policy/inputs.js';
import { validateResource, type WorkloadEndpoint } from '../../../src/resources/index.js';

const NODE = 'n1';

function res<T>(doc: unknown): T {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}

const wep = (name: string, node: string, ip: string, iface?: string, labels: Record<string, string> = { app: 'a' }): WorkloadEndpoint =>
  res({
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: 'x', labels, annotations: { note: 'dropped' }, uid: 'u-1' },
    spec: { node, ipNetworks: [`${ip}/32`], ...(iface ? { interfaceName: iface } : {}), mac: '0a:58:0a:f4:01:05', containerID: 'c1', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  });

/** mulberry32 */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomUpdate(r: () => number): AgentUpdate {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  // Few names and addresses, so claims collide: two pods on one address, a veth reused, a
  // pod moving between nodes, a block holding pods or not.
  const ip = pick(['10.244.1.1', '10.244.1.2', '10.244.1.3', '10.244.2.7', '10.244.9.9']);
  switch (pick(['endpoint', 'endpoint', 'endpoint', 'delete', 'cni', 'affinity', 'remote', 'node'] as const)) {
    case 'endpoint': {
      const name = pick(['a', 'b', 'c', 'd']);
      return { kind: 'endpoint', id: `x/${name}`, endpoint: wep(name, pick([NODE, NODE, 'n2']), ip, r() < 0.85 ? pick(['veth1', 'veth2', 'veth3']) : undefined) };
    }
    case 'delete':
      return { kind: 'endpoint', id: `x/${pick(['a', 'b', 'c', 'd'])}`, endpoint: null };
    case 'cni':
      return { kind: 'cni-veth', iface: pick(['veth1', 'veth4']), ips: r() < 0.7 ? [ip] : null };
    case 'affinity':
      return { kind: 'affinity', cidr: pick(['10.244.1.0/26', '10.244.2.0/26', '10.244.1.1/32']), present: r() < 0.6 };
    case 'remote':
      return { kind: 'remote', prefix: pick(['10.244.3.0/26', '10.244.2.0/26', '10.244.1.2/32']), nextHops: r() < 0.7 ? [pick(['10.0.0.2', '10.0.0.3', '10.0.0.1'])] : [] };
    case 'node':
      return { kind: 'node', name: NODE, node: res({ apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name: NODE }, spec: { bgp: { ipv4Address: `${pick(['10.0.0.1', '10.0.0.3'])}/24` } } }) };
  }
}

const texts = (m: Map<string, Parameters<typeof routeText>[0]>): Record<string, string> => Object.fromEntries([...m].map(([k, r]) => [k, routeText(r)]).sort());

describe('incremental routes and BGP dirtiness', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`routeFor over touched destinations equals desiredRoutes, and clean BGP stays equal (seed ${seed})`, () => {
      const r = rng(seed);
      const state = new AgentState(NODE);
      const applied = new Map<string, string>();
      let ipsKey = '';
      let bgpBefore = JSON.stringify(bgpDesired(state, nodeIps(state, undefined), () => undefined));
      for (let step = 0; step < 300; step++) {
        const u = randomUpdate(r);
        const { dirty } = state.apply(u);
        const ips = nodeIps(state, undefined);
        const touched = state.takeTouched();
        const full = texts(desiredRoutes(state, ips));
        if (ips.all.join(',') !== ipsKey) {
          // The agent recomputes everything when the node's addresses change.
          ipsKey = ips.all.join(',');
          applied.clear();
          for (const [k, t] of Object.entries(full)) applied.set(k, t);
        } else {
          for (const dst of touched) {
            const route = routeFor(state, ips, dst);
            if (route) applied.set(dst, routeText(route));
            else applied.delete(dst);
          }
        }
        expect(Object.fromEntries([...applied].sort()), `step ${step}: ${JSON.stringify(u)}`).toEqual(full);
        const bgpNow = JSON.stringify(bgpDesired(state, ips, () => undefined));
        if (!dirty.bgp) expect(bgpNow, `step ${step}: ${JSON.stringify(u)} left BGP clean`).toBe(bgpBefore);
        bgpBefore = bgpNow;
      }
    });
  }

  it('keeps only this node\'s endpoints in the keyed view', () => {
    const state = new AgentState(NODE);
    state.apply({ kind: 'endpoint', id: 'x/a', endpoint: wep('a', NODE, '10.244.1.1', 'veth1') });
    state.apply({ kind: 'endpoint', id: 'x/b', endpoint: wep('b', 'n2', '10.244.2.1') });
    expect([...state.endpoints.keys()]).toEqual(['x/a']);
    // Moving away is a delete here (and its route goes).
    state.apply({ kind: 'endpoint', id: 'x/a', endpoint: wep('a', 'n2', '10.244.1.1', 'veth1') });
    expect(state.localEndpointCount).toBe(0);
    expect(routeFor(state, { all: [] }, '10.244.1.1/32')).toBeUndefined();
  });
});

describe('stripEndpoint', () => {
  it('keeps what the agent reads, drops the rest, and shares repeated parts', () => {
    const pool = new Interner();
    const a = stripEndpoint(wep('a', NODE, '10.244.1.1', 'veth1', { app: 'web', tier: 'f' }), pool);
    const b = stripEndpoint(wep('b', NODE, '10.244.1.2', 'veth2', { tier: 'f', app: 'web' }), pool);
    expect(a).toEqual({
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'a', namespace: 'x', labels: { app: 'web', tier: 'f' } },
      spec: { node: NODE, pod: 'a', interfaceName: 'veth1', ipNetworks: ['10.244.1.1/32'], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
    });
    expect(b.metadata.labels).toBe(a.metadata.labels);
    expect(b.spec.ports).toBe(a.spec.ports);
    expect(Object.isFrozen(a.metadata.labels)).toBe(true);
    const c = stripEndpoint(wep('c', NODE, '10.244.1.3', undefined, { app: 'db' }), pool);
    expect(c.metadata.labels).not.toBe(a.metadata.labels);
    expect('interfaceName' in c.spec).toBe(false);
  });

  it('starts over when full, without changing what it returns', () => {
    const pool = new Interner(4);
    for (let i = 0; i < 20; i++) {
      const e = stripEndpoint(wep(`p${i}`, NODE, `10.244.1.${i + 1}`, undefined, { app: `a${i}` }), pool);
      expect(e.metadata.labels).toEqual({ app: `a${i}` });
    }
    expect(pool.size.strings).toBeLessThanOrEqual(4);
    expect(pool.size.labels).toBeLessThanOrEqual(4);
  });
});

describe('PolicyInputs without snapshot', () => {
  it('computes the same state as with one, and refuses snapshot()', () => {
    const withMaps = new PolicyInputs(NODE);
    const without = new PolicyInputs(NODE, { snapshot: false });
    for (const p of [withMaps, without]) {
      p.apply({ kind: 'endpoint-upsert', endpoint: wep('a', NODE, '10.244.1.1', 'veth1') });
      p.apply({ kind: 'endpoint-upsert', endpoint: wep('b', 'n2', '10.244.2.1') });
      p.apply({ kind: 'policy-upsert', policy: res({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'x' }, spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] } }) });
      p.apply({ kind: 'node-ips', ips: ['10.0.0.1'] });
    }
    expect(without.desired()).toEqual(withMaps.desired());
    expect(() => without.snapshot()).toThrow(/snapshot: false/);
  });
});
