// Real packets through real nftables, inside namespaces this file creates: the upstream
// netpol e2e topology (namespaces x/y/z × pods a/b/c, servers on TCP and UDP 80/81) hangs
// off one "node" namespace that routes between the pods and holds Tern's table. Each
// scenario is reached from the previous one by the agent's update path (incremental nft
// transactions), probed as a full truth table (IPv4 and IPv6), and the kernel's table is
// compared with a full render of the same state loaded into a second namespace.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculate } from '../../../src/agent/policy/calc.js';
import { PolicyDataplane } from '../../../src/agent/policy/dataplane.js';
import { PolicyInputs } from '../../../src/agent/policy/inputs.js';
import type { DesiredState } from '../../../src/agent/policy/model.js';
import { nftApply, nftListTable } from '../../../src/agent/policy/nft.js';
import { compareViews, desiredView, renderFull } from '../../../src/agent/policy/render.js';
import { Lab, type Host, type Pod } from '../../../src/lab/netns.js';
import type { ManagedProcess } from '../../../src/lab/process.js';
import type { NetworkPolicy } from '../../../src/resources/index.js';
import { E2E_NAMESPACES, E2E_PODS, E2E_PORTS, e2eIp, netpol, ns, pod } from './fixtures.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODE_NAME = 'node';
const TABLE = 'tern';

type NsName = (typeof E2E_NAMESPACES)[number];
type PodName = (typeof E2E_PODS)[number];
interface Who {
  ns: NsName;
  pod: PodName;
}
interface Probe {
  s: Who;
  d: Who;
  port: 80 | 81;
  proto: 'TCP' | 'UDP';
  fam: 4 | 6;
}
type Expectation = (p: Probe) => boolean;

const WHO: Who[] = E2E_NAMESPACES.flatMap((n) => E2E_PODS.map((p) => ({ ns: n, pod: p })));
const id = (w: Who): string => `${w.ns}/${w.pod}`;
const probeId = (p: Probe): string => `${id(p.s)}>${id(p.d)}:${p.proto}${p.port}v${p.fam}`;
const is = (w: Who, ref: string): boolean => id(w) === ref;

let lab: Lab;
let node: Host;
let shadow: Host;
const pods = new Map<string, Pod>();
const servers: ManagedProcess[] = [];
let dp: PolicyDataplane;
const inputs = new PolicyInputs(NODE_NAME);
let nsLabels: Record<NsName, Record<string, string>> = { x: { ns: 'x' }, y: { ns: 'y' }, z: { ns: 'z' } };
let current: DesiredState;

// Each probe round gets its own block of UDP source ports (200 per round covers 72 targets
// tried twice), cycling over 100 blocks: a block comes back long after conntrack forgot it.
let probeRound = 0;
const udpPortBase = (): number => 12000 + ((probeRound++ % 100) * 200);

/**
 * Probes from every pod to every pod. `only` limits the probes to those ids; `timeoutMs` is
 * per probe (the probe script tries a failed one once more).
 */
async function probeAll(only?: ReadonlySet<string>, timeoutMs = 300): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  // Every source pod is its own namespace, so they can all use the same block.
  const portBase = udpPortBase();
  await Promise.all(
    WHO.map(async (s) => {
      const targets = WHO.flatMap((d) =>
        ([80, 81] as const).flatMap((port) =>
          (['TCP', 'UDP'] as const).flatMap((proto) =>
            ([4, 6] as const).map((fam) => {
              const p = pods.get(id(d))!;
              return { id: probeId({ s, d, port, proto, fam }), ip: fam === 4 ? p.ip : p.ipv6!, port, proto };
            }),
          ),
        ),
      ).filter((t) => !only || only.has(t.id));
      if (targets.length === 0) return;
      const r = await lab.exec(pods.get(id(s))!, process.execPath, [join(HERE, 'probe.mjs'), JSON.stringify(targets), String(timeoutMs), String(portBase)], { timeoutMs: 30_000 });
      for (const [k, v] of Object.entries(JSON.parse(r.stdout) as Record<string, boolean>)) out.set(k, v);
    }),
  );
  return out;
}

function expectedTable(f: Expectation): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const s of WHO)
    for (const d of WHO)
      for (const port of [80, 81] as const)
        for (const proto of ['TCP', 'UDP'] as const)
          for (const fam of [4, 6] as const) {
            const p = { s, d, port, proto, fam };
            // A pod talking to itself never leaves its namespace.
            out.set(probeId(p), id(s) === id(d) ? true : f(p));
          }
  return out;
}

/**
 * Probes that should have connected but did not are tried again with a long timeout: on a
 * loaded machine a 300 ms probe can miss an allowed connection, while a wrong deny stays a deny
 * however long we wait. Unexpected allows are never retried away.
 */
async function confirmMisses(want: Map<string, boolean>, got: Map<string, boolean>): Promise<Map<string, boolean>> {
  const missed = new Set([...want].filter(([k, v]) => v && got.get(k) !== true).map(([k]) => k));
  if (missed.size === 0) return got;
  const again = await probeAll(missed, 3000);
  return new Map([...got, ...again]);
}

/** Differences as readable lines, e.g. "x/b>x/a:TCP80v4 expected false got true". */
function mismatches(want: Map<string, boolean>, got: Map<string, boolean>): string[] {
  const out: string[] = [];
  for (const [k, v] of want) if (got.get(k) !== v) out.push(`${k} expected ${v} got ${got.get(k)}`);
  return out;
}

/** `nft -j list table` without handles and with set elements sorted: equal tables compare equal. */
async function listing(netns: string): Promise<unknown> {
  const json = (await nftListTable(TABLE, { netns })) as { nftables: Array<Record<string, Record<string, unknown>>> } | null;
  if (!json) return null;
  const objs = json.nftables.filter((o) => !o.metainfo).map((o) => {
    const [kind, body] = Object.entries(o)[0]!;
    const { handle: _h, ...rest } = body as Record<string, unknown>;
    if (Array.isArray(rest.elem)) rest.elem = rest.elem.map((e) => JSON.stringify(e)).sort();
    return { kind, ...rest } as Record<string, unknown> & { kind: string };
  });
  const rules = objs.filter((o) => o.kind === 'rule');
  const rest = objs.filter((o) => o.kind !== 'rule').sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { objects: rest, rules: rules.sort((a, b) => String(a.chain).localeCompare(String(b.chain))) };
}

async function setPolicies(policies: NetworkPolicy[]): Promise<void> {
  const want = new Map(policies.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  for (const p of inputs.snapshot().policies) {
    const k = `${p.metadata.namespace}/${p.metadata.name}`;
    if (!want.has(k)) inputs.apply({ kind: 'policy-delete', namespace: p.metadata.namespace, name: p.metadata.name });
  }
  for (const p of policies) inputs.apply({ kind: 'policy-upsert', policy: p });
}

async function program(): Promise<Awaited<ReturnType<PolicyDataplane['apply']>>> {
  current = calculate(inputs.snapshot());
  expect(current.errors).toEqual([]);
  return await dp.apply(current);
}

beforeAll(async () => {
  lab = await Lab.create();
  try {
    node = await lab.addHost(NODE_NAME, { ipv6: true });
    shadow = await lab.addHost('shadow');
    for (const n of E2E_NAMESPACES) {
      for (const p of E2E_PODS) {
        const { ip, ip6 } = e2eIp(n, p);
        pods.set(`${n}/${p}`, await lab.addPod(node, `${n}${p}`, { ip, ipv6: ip6 }));
      }
    }
    for (const p of pods.values()) {
      const srv = lab.spawn(p, process.execPath, [join(HERE, 'server.mjs')]);
      servers.push(srv);
    }
    await Promise.all(servers.map((s) => s.waitForOutput(/ready/, 15_000)));
    inputs.apply({ kind: 'node-ips', ips: [node.fabricIp, node.ipv6!] });
    for (const n of E2E_NAMESPACES) inputs.apply({ kind: 'namespace-upsert', namespace: ns(n, nsLabels[n]) });
    for (const [k, p] of pods) {
      const [n, name] = k.split('/') as [NsName, PodName];
      const ep = pod({ ns: n, name, ip: p.ip, ip6: p.ipv6!, node: NODE_NAME, ports: E2E_PORTS });
      ep.spec.interfaceName = p.hostIface;
      inputs.apply({ kind: 'endpoint-upsert', endpoint: ep });
    }
    dp = new PolicyDataplane({ netns: node.netns, table: TABLE });
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}, 120_000);

afterAll(async () => {
  // Lab.destroy stops every spawned server by PID, then deletes the namespaces it made.
  await lab?.destroy();
}, 60_000);

// ---------------------------------------------------------------------------------------
// Scenarios, after the upstream e2e suite (test/e2e/network/netpol/network_policy.go).

const sel = (labels: Record<string, string>) => ({ matchLabels: labels });
const all: Expectation = () => true;
/** Only these pods are isolated for ingress; `allow` says what reaches them. */
const ingressTo = (targets: (d: Who) => boolean, allow: Expectation): Expectation => (p) => !targets(p.d) || allow(p);
const egressFrom = (sources: (s: Who) => boolean, allow: Expectation): Expectation => (p) => !sources(p.s) || allow(p);
const both = (...fs: Expectation[]): Expectation => (p) => fs.every((f) => f(p));
const xa = (w: Who) => is(w, 'x/a');
const inNs = (n: NsName) => (w: Who) => w.ns === n;

interface Scenario {
  name: string;
  policies: NetworkPolicy[];
  /** Namespace labels for this step (defaults kept otherwise). */
  nsLabels?: Record<NsName, Record<string, string>>;
  expect: Expectation;
}

const scenarios: Scenario[] = [
  { name: 'no policies: all traffic allowed', policies: [], expect: all },
  { name: 'default deny ingress in x', policies: [netpol('x', 'deny-ingress', { podSelector: {} })], expect: ingressTo(inNs('x'), () => false) },
  { name: 'allow all ingress in x', policies: [netpol('x', 'allow-all', { podSelector: {}, ingress: [{}] })], expect: all },
  { name: 'default deny egress in x', policies: [netpol('x', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] })], expect: egressFrom(inNs('x'), () => false) },
  { name: 'allow all egress in x', policies: [netpol('x', 'allow-egress', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] })], expect: all },
  {
    name: 'deny all ingress and egress in x',
    policies: [netpol('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    expect: both(ingressTo(inNs('x'), () => false), egressFrom(inNs('x'), () => false)),
  },
  { name: 'allow ingress from the same namespace', policies: [netpol('x', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })], expect: ingressTo(inNs('x'), (p) => p.s.ns === 'x') },
  { name: 'allow ingress to x/a from namespace y', policies: [netpol('x', 'from-y', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }] }] })], expect: ingressTo(xa, (p) => p.s.ns === 'y') },
  {
    name: 'allow ingress from pod b of any namespace (podSelector AND namespaceSelector {})',
    policies: [netpol('x', 'from-b', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: {}, podSelector: sel({ pod: 'b' }) }] }] })],
    expect: ingressTo(xa, (p) => p.s.pod === 'b'),
  },
  {
    name: 'namespaceSelector OR podSelector (two peers)',
    policies: [netpol('x', 'or', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }, { podSelector: sel({ pod: 'c' }) }] }] })],
    expect: ingressTo(xa, (p) => p.s.ns === 'y' || is(p.s, 'x/c')),
  },
  {
    name: 'namespaceSelector AND podSelector (one peer)',
    policies: [netpol('x', 'and', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }), podSelector: sel({ pod: 'c' }) }] }] })],
    expect: ingressTo(xa, (p) => is(p.s, 'y/c')),
  },
  {
    name: 'namespaceSelector with matchExpressions NotIn',
    policies: [netpol('x', 'not-x', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['x'] }] } }] }] })],
    expect: ingressTo(xa, (p) => p.s.ns !== 'x'),
  },
  {
    name: 'podSelector with matchExpressions In',
    policies: [netpol('x', 'in-bc', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] } }] }] })],
    expect: ingressTo(xa, (p) => p.s.ns === 'x' && p.s.pod !== 'a'),
  },
  { name: 'ingress on TCP port 81 only', policies: [netpol('x', 'tcp81', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 81 }] }] })], expect: ingressTo(xa, (p) => p.proto === 'TCP' && p.port === 81) },
  { name: 'ingress on UDP port 80 only', policies: [netpol('x', 'udp80', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80, protocol: 'UDP' }] }] })], expect: ingressTo(xa, (p) => p.proto === 'UDP' && p.port === 80) },
  {
    name: 'ingress on a named TCP port',
    policies: [netpol('x', 'named-tcp', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'serve-80-tcp' }] }] })],
    expect: ingressTo(xa, (p) => p.proto === 'TCP' && p.port === 80),
  },
  {
    name: 'ingress on a named UDP port',
    policies: [netpol('x', 'named-udp', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] })],
    expect: ingressTo(xa, (p) => p.proto === 'UDP' && p.port === 81),
  },
  { name: 'ingress on a port range (endPort)', policies: [netpol('x', 'range', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80, endPort: 81 }] }] })], expect: ingressTo(xa, (p) => p.proto === 'TCP') },
  {
    name: 'ingress from an IPv4 ipBlock with except',
    policies: [netpol('x', 'block', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24', except: [`${e2eIp('y', 'b').ip}/32`] } }] }] })],
    expect: ingressTo(xa, (p) => p.fam === 4 && !is(p.s, 'y/b')),
  },
  {
    name: 'ingress from an IPv6 ipBlock with except',
    policies: [netpol('x', 'block6', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ ipBlock: { cidr: 'fd00:244:1::/64', except: ['fd00:244:1::10/126'] } }] }] })],
    // ::10/126 covers x/a, x/b, x/c (::10, ::11, ::12).
    expect: ingressTo(xa, (p) => p.fam === 6 && p.s.ns !== 'x'),
  },
  { name: 'egress to TCP port 80 only', policies: [netpol('x', 'eg80', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] })], expect: egressFrom(xa, (p) => p.proto === 'TCP' && p.port === 80) },
  {
    name: 'egress to namespace y only',
    policies: [netpol('x', 'eg-y', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: sel({ ns: 'y' }) }] }] })],
    expect: egressFrom(xa, (p) => p.d.ns === 'y'),
  },
  {
    name: 'egress to a named UDP port of every pod',
    policies: [netpol('x', 'eg-named', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] })],
    expect: egressFrom(xa, (p) => p.proto === 'UDP' && p.port === 81),
  },
  {
    name: 'egress to an ipBlock',
    policies: [netpol('x', 'eg-block', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.1.20/30' } }] }] })],
    expect: egressFrom(xa, (p) => p.fam === 4 && p.d.ns === 'y'),
  },
  {
    name: 'multiple policies are unioned',
    policies: [
      netpol('x', 'from-xb', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ podSelector: sel({ pod: 'b' }) }] }] }),
      netpol('x', 'from-z-81', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'z' }) }], ports: [{ port: 81 }, { port: 81, protocol: 'UDP' }] }] }),
    ],
    expect: ingressTo(xa, (p) => is(p.s, 'x/b') || (p.s.ns === 'z' && p.port === 81)),
  },
  {
    name: 'policies in different namespaces',
    policies: [netpol('y', 'deny-in', { podSelector: {} }), netpol('z', 'deny-out', { podSelector: {}, policyTypes: ['Egress'] })],
    expect: both(ingressTo(inNs('y'), () => false), egressFrom(inNs('z'), () => false)),
  },
  {
    name: 'deny all in x, then allow x/c from namespace y',
    policies: [netpol('x', 'deny', { podSelector: {} }), netpol('x', 'allow-c', { podSelector: sel({ pod: 'c' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'y' }) }] }] })],
    expect: ingressTo(inNs('x'), (p) => p.d.pod === 'c' && p.s.ns === 'y'),
  },
  {
    name: 'policy updated in place: x/c now allowed from namespace z',
    policies: [netpol('x', 'deny', { podSelector: {} }), netpol('x', 'allow-c', { podSelector: sel({ pod: 'c' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'z' }) }] }] })],
    expect: ingressTo(inNs('x'), (p) => p.d.pod === 'c' && p.s.ns === 'z'),
  },
  {
    name: 'policy deleted: the deny-all goes, the allow for x/c stays',
    policies: [netpol('x', 'allow-c', { podSelector: sel({ pod: 'c' }), ingress: [{ from: [{ namespaceSelector: sel({ ns: 'z' }) }] }] })],
    expect: ingressTo((d) => is(d, 'x/c'), (p) => p.s.ns === 'z'),
  },
  {
    name: 'namespace selector on a label nobody has yet',
    policies: [netpol('x', 'team', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ team: 'blue' }) }] }] })],
    expect: ingressTo(xa, () => false),
  },
  {
    name: 'namespace relabelled: z joins team blue (set elements change, rules do not)',
    policies: [netpol('x', 'team', { podSelector: sel({ pod: 'a' }), ingress: [{ from: [{ namespaceSelector: sel({ team: 'blue' }) }] }] })],
    nsLabels: { x: { ns: 'x' }, y: { ns: 'y' }, z: { ns: 'z', team: 'blue' } },
    expect: ingressTo(xa, (p) => p.s.ns === 'z'),
  },
  {
    name: 'egress of one pod and ingress of another on the same path',
    policies: [
      netpol('x', 'eg-y', { podSelector: sel({ pod: 'a' }), policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: sel({ ns: 'y' }) }] }] }),
      netpol('y', 'in-b', { podSelector: sel({ pod: 'b' }), ingress: [{ from: [{ namespaceSelector: {}, podSelector: sel({ pod: 'a' }) }], ports: [{ port: 81 }] }] }),
    ],
    expect: both(
      egressFrom(xa, (p) => p.d.ns === 'y'),
      ingressTo((d) => is(d, 'y/b'), (p) => p.s.pod === 'a' && p.proto === 'TCP' && p.port === 81),
    ),
  },
  {
    name: 'ingress SCTP only: TCP and UDP to x/a denied',
    policies: [netpol('x', 'sctp', { podSelector: sel({ pod: 'a' }), ingress: [{ ports: [{ port: 80, protocol: 'SCTP' }] }] })],
    expect: ingressTo(xa, () => false),
  },
  {
    name: 'deny ingress everywhere',
    policies: E2E_NAMESPACES.map((n) => netpol(n, 'deny', { podSelector: {} })),
    expect: () => false,
  },
  { name: 'all policies deleted: all traffic allowed again', policies: [], expect: all },
];

describe('NetworkPolicy on real packets (x/y/z × a/b/c, TCP/UDP 80/81, IPv4/IPv6)', () => {
  let step = 0;
  for (const sc of scenarios) {
    it(sc.name, async () => {
      if (sc.nsLabels) {
        nsLabels = sc.nsLabels;
        for (const n of E2E_NAMESPACES) inputs.apply({ kind: 'namespace-upsert', namespace: ns(n, nsLabels[n]) });
      }
      await setPolicies(sc.policies);
      const report = await program();
      expect(report.drift).toEqual([]);
      if (step++ === 0) expect(report.mode).toBe('full');
      else expect(['incremental', 'noop']).toContain(report.mode);
      const want = expectedTable(sc.expect);
      const got = await confirmMisses(want, await probeAll());
      expect(mismatches(want, got)).toEqual([]);

      // Incremental equals full: the kernel's table after this step's transaction is the
      // table a full render of the same state produces.
      const full = renderFull(current, { table: TABLE });
      expect((await nftApply(full.script, { netns: shadow.netns })).ok).toBe(true);
      expect(await listing(node.netns)).toEqual(await listing(shadow.netns));
      expect(await dp.check(current)).toEqual([]);
    }, 60_000);
  }
});

describe('transactions and drift', () => {
  it('leaves the previous table intact when a transaction fails in the kernel', async () => {
    await setPolicies([netpol('x', 'deny', { podSelector: {} })]);
    await program();
    const before = await listing(node.netns);
    // A valid full replace of a different state, then an operation the kernel refuses
    // (deleting an element that is not there): the whole transaction must be rolled back.
    await setPolicies([netpol('y', 'deny', { podSelector: {} })]);
    const other = calculate(inputs.snapshot());
    const bad = `${renderFull(other, { table: TABLE }).script}delete element inet ${TABLE} node-4 { 192.0.2.254 }\n`;
    const r = await nftApply(bad, { netns: node.netns });
    expect(r.ok).toBe(false);
    expect(await listing(node.netns)).toEqual(before);
    expect(await dp.check(current)).toEqual([]);
    const want = expectedTable(ingressTo(inNs('x'), () => false));
    expect(mismatches(want, await confirmMisses(want, await probeAll()))).toEqual([]);
  }, 60_000);

  it('repairs a table changed behind its back with a full replace', async () => {
    await setPolicies([netpol('x', 'deny', { podSelector: {} })]);
    await program();
    const xa = pods.get('x/a')!;
    await lab.exec(node, 'nft', ['flush', 'chain', 'inet', TABLE, `to-${xa.hostIface}`]);
    expect(await dp.check(current)).toEqual([`chain to-${xa.hostIface}: rules differ`]);
    const report = await program();
    expect(report.mode).toBe('full');
    expect(report.reason).toBe('drift');
    expect(await dp.check(current)).toEqual([]);
    expect(compareViews((await dp.readView())!, desiredView(current, { table: TABLE }))).toEqual([]);
  }, 60_000);

  it('always lets the node itself reach an isolated pod', async () => {
    const xa = pods.get('x/a')!;
    expect(await lab.tcpCheck(node, xa.ip, 80)).toBe(true);
    expect(await lab.tcpCheck(node, xa.ipv6!, 81)).toBe(true);
    expect(await lab.tcpCheck(pods.get('y/a')!, xa.ip, 80, 500)).toBe(false);
  }, 30_000);
});
