// The policy verdict of one flow, from the agent's own calculation: calculate() (the function
// tern-agentd's engine is checked against) gives each node's DesiredState, and this file walks
// that model the way the kernel walks the rendered table. It is not a second implementation
// of NetworkPolicy semantics: it knows nothing of selectors, namespaces, ipBlock arithmetic or
// named-port resolution, which all happened inside calculate().
//
// The walk mirrors render.ts one rule to one rule, in the same order:
//   chain forward: ct established → (not traced: a new connection), iifname vmap @ep-from,
//                  oifname vmap @ep-to
//   chain from-<if>: each DesiredRule of egress, one nft rule per family when it uses sets
//                    (`ip daddr @set`, `ip daddr . th dport @np-set`), first match returns;
//                    then drop
//   chain to-<if>:   `ip saddr @node-4 accept`, `ip6 saddr @node-6 accept`, then each
//                    DesiredRule of ingress likewise (accept), then drop
// and takes each rule's comment from buildTable(), so the rule it names is the very text
// (`tern <digest> <policies>`) the kernel holds; gather.ts reads the chain back to confirm.
//
// Which NetworkPolicy rule produced a matching DesiredRule is found by calculating again with
// the policy cut down to that one rule: the rule whose own calculation yields the same peer
// and port match is the one. Likewise the policies that isolate an endpoint are those whose
// calculation alone gives it a chain for that direction.
import { calculate, type PolicyInput } from '../agent/policy/calc.js';
import type { DesiredEndpoint, DesiredRule, DesiredSet, DesiredState, Protocol } from '../agent/policy/model.js';
import { buildTable, egressChain, ingressChain, ruleTexts } from '../agent/policy/render.js';
import { cidrContainsIp, parseCidr, parseIp, type Family } from '../net/ip.js';
import type { NetworkPolicy, NetworkPolicyPort, WorkloadEndpoint } from '../resources/index.js';
import type { ClusterFacts, Verdict } from './model.js';

export const POLICY_TABLE = 'tern';

export interface FlowEnd {
  ip: string;
  /** "ns/name" when the address is a pod's. */
  ref?: string;
  node?: string;
  iface?: string;
}

export interface Flow {
  src: FlowEnd;
  /** After service translation: the endpoint's address and target port. */
  dst: FlowEnd;
  proto: Protocol;
  port: number;
}

/** How one direction (egress of the source, ingress of the destination) decides. */
export interface DirectionVerdict {
  dir: 'egress' | 'ingress';
  node: string;
  endpoint: string;
  /** false: no policy isolates the endpoint in this direction (no chain, no map element). */
  isolated: boolean;
  allowed: boolean;
  chain?: string;
  /** The nft rule that decides, as rendered: text and comment. */
  ruleText?: string;
  comment?: string;
  /** Policies of the matching rule, or the isolating ones when it drops. */
  policies: string[];
  /** "ns/name ingress[0]" for each NetworkPolicy rule behind the matching DesiredRule. */
  rules: string[];
  /** Human description of those rules. */
  described?: string[];
  reason: string;
}

export interface PolicyVerdict {
  verdict: Verdict;
  egress?: DirectionVerdict;
  ingress?: DirectionVerdict;
}

const refOf = (o: { metadata: { name: string; namespace?: string } }): string => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const typesOf = (p: NetworkPolicy): string[] => [...(p.spec.policyTypes ?? (p.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress']))];

/** calculate() for each node once per trace. */
export class NodeStates {
  private readonly cache = new Map<string, DesiredState>();
  constructor(private readonly facts: ClusterFacts) {}

  input(node: string, policies: readonly NetworkPolicy[] = this.facts.policies): PolicyInput {
    return {
      nodeName: node,
      nodeIps: this.facts.nodes.find((n) => n.name === node)?.ips ?? [],
      namespaces: this.facts.namespaces,
      endpoints: this.facts.endpoints,
      policies,
    };
  }

  of(node: string): DesiredState {
    let s = this.cache.get(node);
    if (!s) {
      s = calculate(this.input(node));
      this.cache.set(node, s);
    }
    return s;
  }
}

function inSet(s: DesiredSet | undefined, ip: string, port?: number): boolean {
  if (!s) return false;
  const a = parseIp(ip);
  if (a.family !== s.family) return false;
  switch (s.kind) {
    case 'addr':
      return s.elements.some((e) => parseIp(e).value === a.value);
    case 'interval':
      return s.elements.some((e) => cidrContainsIp(parseCidr(e, { strict: false }), a));
    case 'addr-port':
      return s.elements.some((e) => {
        const [ipText, p] = e.split(' . ');
        return parseIp(ipText!).value === a.value && Number(p) === port;
      });
    default: {
      const never: never = s.kind;
      throw new Error(`unknown set kind ${String(never)}`);
    }
  }
}

/** The nft rules one DesiredRule renders to, with the family each one is limited to (null: both). */
function renderedFamilies(r: DesiredRule): Array<Family | null> {
  const perFamily = r.peer.kind === 'sets' || r.port.kind === 'named';
  if (!perFamily) return [null];
  const out: Family[] = [];
  for (const f of [4, 6] as const) {
    if (r.peer.kind === 'sets' && !(f === 4 ? r.peer.v4 : r.peer.v6)) continue;
    out.push(f);
  }
  return out;
}

/** Does the nft rule of `r` for family `fam` match this packet? `remote`: saddr (ingress) or daddr (egress). */
function ruleMatches(sets: Map<string, DesiredSet>, r: DesiredRule, fam: Family | null, remote: string, flow: Flow): boolean {
  const pf = parseIp(remote).family;
  if (fam !== null && fam !== pf) return false;
  if (r.peer.kind === 'sets') {
    const name = pf === 4 ? r.peer.v4 : r.peer.v6;
    if (!name || !inSet(sets.get(name), remote)) return false;
  }
  switch (r.port.kind) {
    case 'any':
      return true;
    case 'proto':
      return r.port.proto === flow.proto;
    case 'ports':
      return r.port.proto === flow.proto && r.port.ranges.some(([lo, hi]) => flow.port >= lo && flow.port <= hi);
    case 'named': {
      // `ip daddr . th dport @np-…`: the destination's address and port, whatever the direction.
      const dfam = parseIp(flow.dst.ip).family;
      return r.port.proto === flow.proto && inSet(sets.get(dfam === 4 ? r.port.v4 : r.port.v6), flow.dst.ip, flow.port);
    }
    default: {
      const never: never = r.port;
      throw new Error(`unknown port match ${JSON.stringify(never)}`);
    }
  }
}

interface RenderedRule {
  text: string;
  comment: string;
}

/** The chain as buildTable renders it: texts and comments in kernel order. */
function renderedChain(state: DesiredState, chain: string): RenderedRule[] {
  return buildTable(state).chains.find((c) => c.name === chain)?.rules.map((r) => ({ text: r.text, comment: r.comment })) ?? [];
}

const ruleKey = (r: Pick<DesiredRule, 'peer' | 'port'>): string => JSON.stringify([r.peer, r.port]);

/** The NetworkPolicy rules (by index) whose own calculation yields `target` for this endpoint and direction. */
function attribute(states: NodeStates, node: string, ep: DesiredEndpoint, dir: 'ingress' | 'egress', target: DesiredRule, policies: readonly NetworkPolicy[]): string[] {
  const out: string[] = [];
  const want = ruleKey(target);
  for (const pref of target.policies) {
    const p = policies.find((x) => refOf(x) === pref);
    if (!p) continue;
    const rules = (dir === 'ingress' ? p.spec.ingress : p.spec.egress) ?? [];
    rules.forEach((rule, i) => {
      const cut: NetworkPolicy = { ...p, spec: { ...p.spec, policyTypes: typesOf(p) as NetworkPolicy['spec']['policyTypes'], ingress: dir === 'ingress' ? [rule] : [], egress: dir === 'egress' ? [rule] : [] } } as NetworkPolicy;
      const s = calculate(states.input(node, [cut]));
      const e = s.endpoints.find((x) => x.iface === ep.iface);
      if ((e?.[dir] ?? []).some((r) => ruleKey(r) === want)) out.push(`${pref} ${dir}[${i}]`);
    });
  }
  return out;
}

/** Policies that, calculated alone, isolate the endpoint in this direction. */
function isolating(states: NodeStates, node: string, ep: DesiredEndpoint, dir: 'ingress' | 'egress', policies: readonly NetworkPolicy[]): string[] {
  const ns = ep.endpoint.split('/')[0];
  return policies
    .filter((p) => (p.metadata.namespace ?? 'default') === ns)
    .filter((p) => {
      const s = calculate(states.input(node, [p]));
      const e = s.endpoints.find((x) => x.iface === ep.iface);
      return e !== undefined && e[dir] !== null;
    })
    .map(refOf)
    .sort();
}

function portsText(ports: readonly NetworkPolicyPort[] | undefined): string {
  if (!ports?.length) return 'any port';
  return ports.map((p) => `${p.protocol ?? 'TCP'}${p.port === undefined ? '' : `/${p.port}${p.endPort ? `-${p.endPort}` : ''}`}`).join(', ');
}

function selText(s: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined): string {
  if (!s) return '';
  const parts = [...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`), ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`)];
  return parts.length ? parts.join(',') : '(all)';
}

/** "from pods app=a in namespaces team=x; TCP/80" for a rule, for people. */
export function describeRule(p: NetworkPolicy, dir: 'ingress' | 'egress', index: number): string {
  const rule = (dir === 'ingress' ? p.spec.ingress : p.spec.egress)?.[index];
  if (!rule) return '';
  const peers = (dir === 'ingress' ? (rule as { from?: unknown[] }).from : (rule as { to?: unknown[] }).to) as Array<Record<string, never>> | undefined;
  const word = dir === 'ingress' ? 'from' : 'to';
  const who = peers?.length
    ? peers
        .map((x) => {
          const peer = x as { podSelector?: Parameters<typeof selText>[0]; namespaceSelector?: Parameters<typeof selText>[0]; ipBlock?: { cidr: string; except?: string[] } };
          if (peer.ipBlock) return `ipBlock ${peer.ipBlock.cidr}${peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(',')}` : ''}`;
          const pods = peer.podSelector ? `pods ${selText(peer.podSelector)}` : 'all pods';
          return peer.namespaceSelector ? `${pods} in namespaces ${selText(peer.namespaceSelector)}` : pods;
        })
        .join(' or ')
    : 'anywhere';
  return `${word} ${who}; ${portsText(rule.ports)}`;
}

function direction(states: NodeStates, facts: ClusterFacts, dir: 'ingress' | 'egress', end: FlowEnd, flow: Flow): DirectionVerdict | undefined {
  if (!end.node || !end.iface || !end.ref) return undefined;
  const state = states.of(end.node);
  const ep = state.endpoints.find((e) => e.iface === end.iface);
  const rules = ep ? ep[dir] : null;
  const base = { dir, node: end.node, endpoint: end.ref };
  if (!ep || rules === null) {
    return { ...base, isolated: false, allowed: true, policies: [], rules: [], reason: `no NetworkPolicy selects ${end.ref} for ${dir}` };
  }
  const chain = dir === 'ingress' ? ingressChain(ep.iface) : egressChain(ep.iface);
  const rendered = renderedChain(state, chain);
  const byText = new Map(rendered.map((r) => [r.text, r.comment]));
  const sets = new Map(state.sets.map((s) => [s.name, s]));
  const remote = dir === 'ingress' ? flow.src.ip : flow.dst.ip;
  if (dir === 'ingress') {
    const fam = parseIp(flow.src.ip).family;
    const nodeSet = fam === 4 ? 'node-4' : 'node-6';
    if (inSet(sets.get(nodeSet), flow.src.ip)) {
      const text = `${fam === 4 ? 'ip' : 'ip6'} saddr @${nodeSet} accept`;
      return { ...base, isolated: true, allowed: true, chain, ruleText: text, comment: byText.get(text) ?? '', policies: [], rules: [], reason: `${flow.src.ip} is an address of node ${end.node}, always allowed to reach its pods` };
    }
  }
  // The same order render.ts writes: DesiredRules in order, families 4 then 6, a text already
  // written once is skipped (its first occurrence already decided).
  const seen = new Set<string>();
  for (const r of rules) {
    const fams = renderedFamilies(r);
    // ruleTexts yields one text per family in renderedFamilies' order.
    const ts = ruleTexts(r, dir);
    for (let i = 0; i < fams.length; i++) {
      const text = ts[i]!;
      if (seen.has(text)) continue;
      seen.add(text);
      if (!ruleMatches(sets, r, fams[i]!, remote, flow)) continue;
      const named = attribute(states, end.node, ep, dir, r, facts.policies);
      const descr = named.map((n) => {
        const [ref, which] = n.split(' ');
        const p = facts.policies.find((x) => refOf(x) === ref)!;
        const m = /^(ingress|egress)\[(\d+)\]$/.exec(which!)!;
        return `${n}: ${describeRule(p, m[1] as 'ingress' | 'egress', Number(m[2]))}`;
      });
      return {
        ...base, isolated: true, allowed: true, chain, ruleText: text, comment: byText.get(text) ?? '',
        policies: [...r.policies], rules: named, described: descr,
        reason: `${dir} of ${end.ref} allowed by ${named.join(', ') || r.policies.join(', ')}`,
      };
    }
  }
  const iso = isolating(states, end.node, ep, dir, facts.policies);
  const what = `${flow.proto}/${flow.port} ${dir === 'ingress' ? `from ${flow.src.ip}` : `to ${flow.dst.ip}`}`;
  return {
    ...base, isolated: true, allowed: false, chain, ruleText: 'drop', comment: byText.get('drop') ?? '',
    policies: iso, rules: [`${chain} drop`],
    reason: `${dir} of ${end.ref} is isolated by ${iso.join(', ') || '(a policy)'} and no rule of ${iso.length > 1 ? 'them' : 'it'} allows ${what}`,
  };
}

/** Egress of the source pod (on its node), then ingress of the destination pod (on its node). */
export function policyVerdict(facts: ClusterFacts, flow: Flow, states = new NodeStates(facts)): PolicyVerdict {
  const egress = direction(states, facts, 'egress', flow.src, flow);
  const ingress = flow.dst.ref ? direction(states, facts, 'ingress', flow.dst, flow) : undefined;
  const kernelOf = (d: DirectionVerdict): Verdict['kernel'] => (d.chain ? { node: d.node, chain: d.chain, comment: d.comment ?? '', present: null } : undefined);
  const denied = [egress, ingress].find((d) => d && !d.allowed);
  let verdict: Verdict;
  if (denied) {
    verdict = { allowed: false, policy: denied.policies, rule: denied.rules.join(', '), reason: denied.reason };
    const k = kernelOf(denied);
    if (k) verdict.kernel = k;
  } else {
    const deciding = [ingress, egress].filter((d): d is DirectionVerdict => !!d && d.isolated);
    const reasons = [egress, ingress].filter((d): d is DirectionVerdict => !!d).map((d) => d.reason);
    verdict = { allowed: true, reason: reasons.join('; ') || 'no policy applies' };
    const pols = [...new Set(deciding.flatMap((d) => d.policies))];
    const rules = deciding.flatMap((d) => d.rules);
    if (pols.length) verdict.policy = pols;
    if (rules.length) verdict.rule = rules.join(', ');
    const k = deciding[0] ? kernelOf(deciding[0]) : undefined;
    if (k) verdict.kernel = k;
  }
  if (!flow.dst.ref) verdict.reason += `; ${flow.dst.ip} is not a pod: only the source's egress applies`;
  const out: PolicyVerdict = { verdict };
  if (egress) out.egress = egress;
  if (ingress) out.ingress = ingress;
  return out;
}

/** The chains a flow's verdict reads, so gathering can read them back from the kernel. */
export function chainsOf(v: PolicyVerdict): Array<{ node: string; table: string; chain: string }> {
  return [v.egress, v.ingress].filter((d): d is DirectionVerdict => !!d?.chain).map((d) => ({ node: d.node, table: POLICY_TABLE, chain: d.chain! }));
}

/** The endpoint of a WorkloadEndpoint as a flow end. */
export function endOf(ep: WorkloadEndpoint, ip: string): FlowEnd {
  const e: FlowEnd = { ip, ref: refOf(ep), node: ep.spec.node };
  if (ep.spec.interfaceName) e.iface = ep.spec.interfaceName;
  return e;
}
