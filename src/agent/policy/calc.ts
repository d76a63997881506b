// NetworkPolicy calculation: the node's view of the cluster in, the desired dataplane out.
// Pure: no I/O, no clock, no randomness; every list is sorted and every set is named after a
// hash of what defines it, so the result depends on the inputs' content, never their order.
//
// Semantics follow networking.k8s.io/v1 (and the upstream netpol e2e suite):
// - a pod is isolated for a direction once any policy of its namespace selects it with that
//   policyType; allows of all such policies are unioned;
// - `from`/`to` absent or empty: every peer; `ingress`/`egress` list empty: nothing allowed;
// - a peer with podSelector and namespaceSelector matches pods satisfying both; two peers
//   in one list are alternatives;
// - ipBlock is cidr minus except; ports by number, by range (endPort) or by name; TCP default;
// - a named port resolves against the pod that receives the traffic: the local pod for
//   ingress, each peer pod for egress (so egress named ports become address . port sets);
// - traffic from the node's own addresses to its pods is always allowed; replies of allowed
//   connections pass by conntrack (render.ts).
import { createHash } from 'node:crypto';
import { matchLabelSelector, type LabelSelector, type Namespace, type NetworkPolicy, type NetworkPolicyPort, type WorkloadEndpoint } from '../../resources/index.js';
import { bitsOf, formatCidr, formatIp, parseCidr, parseIp, type Cidr, type Family } from '../../net/ip.js';
import {
  Protocols,
  type DesiredEndpoint,
  type DesiredRule,
  type DesiredSet,
  type DesiredState,
  type PeerMatch,
  type PolicyError,
  type PortMatch,
  type Protocol,
} from './model.js';

export interface PolicyInput {
  /** This node's name: endpoints with spec.node equal to it are local. */
  nodeName: string;
  /** The node's own addresses; traffic from them to local pods is always allowed. */
  nodeIps: readonly string[];
  namespaces: readonly Namespace[];
  endpoints: readonly WorkloadEndpoint[];
  policies: readonly NetworkPolicy[];
}

/** Kubernetes sets this label on every namespace (immutable since 1.21); selectors use it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const NODE_SET = { 4: 'node-4', 6: 'node-6' } as const;

export const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const refOf = (o: { metadata: { name: string; namespace?: string } }): string => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

// ---------------------------------------------------------------------------------------
// Selectors

/**
 * One text per meaning for the common cases: matchLabels k=v is `k In (v)`, terms and values
 * sorted and deduplicated, so identical selectors written differently share one set.
 */
export function canonicalSelector(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const terms = new Set<string>();
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) terms.add(`${k} In (${v})`);
  for (const r of sel.matchExpressions ?? []) {
    const vals = [...new Set(r.values ?? [])].sort(byString);
    terms.add(r.operator === 'Exists' || r.operator === 'DoesNotExist' ? `${r.key} ${r.operator}` : `${r.key} ${r.operator} (${vals.join(',')})`);
  }
  return [...terms].sort(byString).join(' && ');
}

/** Which pods a peer means: in the policy's namespace, or in namespaces matching nsSel. */
export interface PodScope {
  key: string;
  describe: string;
  namespace: string | null;
  nsSel: LabelSelector | null;
  podSel: LabelSelector | null;
}

export function podScope(policyNs: string, podSel: LabelSelector | undefined, nsSel: LabelSelector | undefined): PodScope {
  const pod = canonicalSelector(podSel);
  if (nsSel === undefined) {
    return { key: `ns=${policyNs}|pod=${pod}`, describe: `pods in ${policyNs}${pod ? ` with ${pod}` : ''}`, namespace: policyNs, nsSel: null, podSel: podSel ?? null };
  }
  const ns = canonicalSelector(nsSel);
  return {
    key: `nssel=${ns}|pod=${pod}`,
    describe: `pods${pod ? ` with ${pod}` : ''} in namespaces ${ns ? `with ${ns}` : '(all)'}`,
    namespace: null,
    nsSel,
    podSel: podSel ?? null,
  };
}

export const ALL_PODS: PodScope = { key: 'all-pods', describe: 'all pods', namespace: null, nsSel: null, podSel: null };

// ---------------------------------------------------------------------------------------
// Address arithmetic for ipBlock

type Interval = [bigint, bigint];

/** cidr minus every except, as disjoint sorted intervals. */
function subtract(outer: Cidr, excepts: readonly Cidr[]): Interval[] {
  const size = 1n << BigInt(bitsOf(outer.family) - outer.prefixLen);
  let out: Interval[] = [[outer.base, outer.base + size - 1n]];
  for (const e of excepts) {
    const lo = e.base;
    const hi = e.base + (1n << BigInt(bitsOf(e.family) - e.prefixLen)) - 1n;
    const next: Interval[] = [];
    for (const [a, b] of out) {
      if (hi < a || lo > b) { next.push([a, b]); continue; }
      if (a < lo) next.push([a, lo - 1n]);
      if (hi < b) next.push([hi + 1n, b]);
    }
    out = next;
  }
  return out;
}

/** The fewest prefixes covering [lo, hi] exactly: how nft lists an interval set. */
export function intervalToCidrs(family: Family, lo: bigint, hi: bigint): string[] {
  const bits = bitsOf(family);
  const out: string[] = [];
  let cur = lo;
  while (cur <= hi) {
    let len = bits;
    // Grow the block while it stays aligned at cur and inside hi.
    while (len > 0) {
      const size = 1n << BigInt(bits - len + 1);
      if (cur % size !== 0n || cur + size - 1n > hi) break;
      len--;
    }
    out.push(formatCidr({ family, base: cur, prefixLen: len }));
    cur += 1n << BigInt(bits - len);
  }
  return out;
}

/** An ipBlock peer: its interval set (named after its content) and the peer match naming it. */
export function blockSet(cidr: string, except: readonly string[]): { name: string; family: Family; elements: string[]; describe: string; peer: PeerMatch } {
  const outer = parseCidr(cidr);
  const ivs = subtract(outer, except.map((e) => parseCidr(e)));
  const elements = ivs.flatMap(([lo, hi]) => intervalToCidrs(outer.family, lo, hi));
  const name = `net-${hash(`${outer.family}|${elements.join(',')}`)}-${outer.family}`;
  const describe = `ipBlock ${formatCidr(outer)}${except.length ? ` except ${[...except].sort(byString).join(',')}` : ''}`;
  return { name, family: outer.family, elements, describe, peer: outer.family === 4 ? { kind: 'sets', v4: name } : { kind: 'sets', v6: name } };
}

// ---------------------------------------------------------------------------------------
// Validation of what the calculation relies on. Resources are validated on the way into
// etcd; this guards against anything that slipped past (older writers, hand-edited keys),
// so one bad policy is reported by name instead of breaking the whole table.

const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

export function selectorIssue(sel: unknown, where: string): string | undefined {
  if (sel === undefined) return undefined;
  if (typeof sel !== 'object' || sel === null) return `${where}: not a label selector`;
  const s = sel as LabelSelector;
  if (s.matchLabels !== undefined && (typeof s.matchLabels !== 'object' || Object.values(s.matchLabels).some((v) => typeof v !== 'string'))) return `${where}.matchLabels: must map strings to strings`;
  for (const [i, r] of (s.matchExpressions ?? []).entries()) {
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r.operator)) return `${where}.matchExpressions[${i}].operator: unknown operator ${JSON.stringify(r.operator)}`;
    if (r.values !== undefined && !Array.isArray(r.values)) return `${where}.matchExpressions[${i}].values: must be a list`;
  }
  return undefined;
}

/** The first problem of a policy's rules, or undefined. */
export function rulesIssue(p: NetworkPolicy): string | undefined {
  const check = (rules: ReadonlyArray<{ ports?: unknown; from?: unknown; to?: unknown }> | undefined, dir: 'ingress' | 'egress'): string | undefined => {
    if (rules === undefined) return undefined;
    if (!Array.isArray(rules)) return `spec.${dir}: must be a list`;
    for (const [i, r] of rules.entries()) {
      const at = `spec.${dir}[${i}]`;
      const peers: unknown = dir === 'ingress' ? r.from : r.to;
      for (const [j, peer] of ((peers ?? []) as Array<Record<string, unknown>>).entries()) {
        const pat = `${at}.${dir === 'ingress' ? 'from' : 'to'}[${j}]`;
        const issue = selectorIssue(peer.podSelector, `${pat}.podSelector`) ?? selectorIssue(peer.namespaceSelector, `${pat}.namespaceSelector`);
        if (issue) return issue;
        const block = peer.ipBlock as { cidr?: unknown; except?: unknown } | undefined;
        if (block !== undefined) {
          if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined) return `${pat}.ipBlock: may not be combined with selectors`;
          let outer: Cidr;
          try {
            outer = parseCidr(String(block.cidr));
          } catch (e) {
            return `${pat}.ipBlock.cidr: ${(e as Error).message}`;
          }
          for (const [k, ex] of ((block.except ?? []) as unknown[]).entries()) {
            let inner: Cidr;
            try {
              inner = parseCidr(String(ex));
            } catch (e) {
              return `${pat}.ipBlock.except[${k}]: ${(e as Error).message}`;
            }
            if (inner.family !== outer.family) return `${pat}.ipBlock.except[${k}]: not the family of cidr`;
          }
        } else if (peer.podSelector === undefined && peer.namespaceSelector === undefined) {
          return `${pat}: must specify podSelector, namespaceSelector or ipBlock`;
        }
      }
      for (const [j, port] of ((r.ports ?? []) as Array<Record<string, unknown>>).entries()) {
        const pat = `${at}.ports[${j}]`;
        const proto = port.protocol ?? 'TCP';
        if (!(Protocols as readonly unknown[]).includes(proto)) return `${pat}.protocol: ${JSON.stringify(proto)} is not TCP, UDP or SCTP`;
        if (port.port !== undefined && !isPort(port.port) && !(typeof port.port === 'string' && PORT_NAME.test(port.port) && port.port.length <= 15)) return `${pat}.port: ${JSON.stringify(port.port)} is neither a port number nor a port name`;
        if (port.endPort !== undefined) {
          if (!isPort(port.port)) return `${pat}.endPort: needs a numeric port`;
          if (!isPort(port.endPort) || port.endPort < port.port) return `${pat}.endPort: must be a port number ≥ port`;
        }
      }
    }
    return undefined;
  };
  return check(p.spec.ingress, 'ingress') ?? check(p.spec.egress, 'egress');
}

// ---------------------------------------------------------------------------------------

// Decimal 0–255 without leading zeros: the form formatIp writes, so such a /32 needs no parse.
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CANONICAL_V4_HOST = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}/32$`);

/** An endpoint's single addresses by family, canonical text; anything else is reported. */
export function endpointAddresses(ipNetworks: readonly string[] | undefined, ref: string, errors: PolicyError[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const n of ipNetworks ?? []) {
    // A canonical IPv4 host prefix is its own address text: no bigint parse and format.
    if (CANONICAL_V4_HOST.test(n)) {
      v4.push(n.slice(0, -3));
      continue;
    }
    try {
      const c = parseCidr(n, { strict: false });
      if (c.prefixLen !== bitsOf(c.family)) throw new Error(`${n} is not a single address`);
      (c.family === 4 ? v4 : v6).push(formatIp({ family: c.family, value: c.base }));
    } catch (e) {
      errors.push({ code: 'bad-address', endpoint: ref, message: `ipNetworks: ${(e as Error).message}` });
    }
  }
  return { v4, v6 };
}

/** The node's addresses by family (a prefix length is ignored), canonical text. */
export function nodeAddresses(ips: readonly string[], errors: PolicyError[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of ips) {
    try {
      const ip = parseIp(a.includes('/') ? a.slice(0, a.indexOf('/')) : a);
      (ip.family === 4 ? v4 : v6).push(formatIp(ip));
    } catch (e) {
      errors.push({ code: 'bad-address', message: `node address: ${(e as Error).message}` });
    }
  }
  return { v4, v6 };
}

/** The port number a pod gives a named port, or undefined. */
export function namedPort(ports: WorkloadEndpoint['spec']['ports'], name: string, proto: Protocol): number | undefined {
  return (ports ?? []).find((x) => x.name === name && (x.protocol ?? 'TCP') === proto)?.port;
}

/** The policy types a policy applies to (Kubernetes defaulting, for objects that skipped it). */
export function policyTypesOf(p: NetworkPolicy): readonly string[] {
  return p.spec.policyTypes ?? (p.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress']);
}

interface EpInfo {
  ep: WorkloadEndpoint;
  ref: string;
  ns: string;
  labels: Readonly<Record<string, string>>;
  v4: string[];
  v6: string[];
}

interface Acc {
  info: EpInfo;
  iface: string;
  ingress: Map<string, DesiredRule> | null;
  egress: Map<string, DesiredRule> | null;
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const s = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

export const ruleKey = (peer: PeerMatch, port: PortMatch): string => JSON.stringify([peer, port]);

/** Computes the desired state for one node. Never throws on bad input: problems land in `errors`. */
export function calculate(input: PolicyInput): DesiredState {
  const errors: PolicyError[] = [];
  const sets = new Map<string, DesiredSet>();

  const nsLabels = new Map<string, Record<string, string>>();
  for (const n of input.namespaces) nsLabels.set(n.metadata.name, { ...(n.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.metadata.name });
  const labelsOfNs = (ns: string): Record<string, string> => nsLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };

  // Endpoints, deduplicated by namespace/name (the last one in sorted content order wins, so
  // a duplicate in the input cannot make the result depend on order).
  const byRef = new Map<string, WorkloadEndpoint>();
  const sortedEps = [...input.endpoints].sort((a, b) => byString(JSON.stringify(a), JSON.stringify(b)));
  for (const ep of sortedEps) byRef.set(refOf(ep), ep);
  const infos: EpInfo[] = [];
  for (const ref of [...byRef.keys()].sort(byString)) {
    const ep = byRef.get(ref)!;
    const { v4, v6 } = endpointAddresses(ep.spec.ipNetworks, ref, errors);
    infos.push({ ep, ref, ns: ep.metadata.namespace ?? 'default', labels: ep.metadata.labels ?? {}, v4, v6 });
  }
  const infosByNs = new Map<string, EpInfo[]>();
  for (const i of infos) {
    const l = infosByNs.get(i.ns) ?? [];
    l.push(i);
    infosByNs.set(i.ns, l);
  }

  const addSet = (s: DesiredSet): string => {
    if (!sets.has(s.name)) sets.set(s.name, { ...s, elements: [...new Set(s.elements)].sort(byString) });
    return s.name;
  };

  const scopeCache = new Map<string, EpInfo[]>();
  const podsIn = (scope: PodScope): EpInfo[] => {
    let r = scopeCache.get(scope.key);
    if (r) return r;
    if (scope === ALL_PODS) r = infos;
    else if (scope.namespace !== null) r = (infosByNs.get(scope.namespace) ?? []).filter((i) => !scope.podSel || matchLabelSelector(scope.podSel, i.labels));
    else {
      r = [];
      for (const [ns, list] of [...infosByNs].sort((a, b) => byString(a[0], b[0]))) {
        if (scope.nsSel && !matchLabelSelector(scope.nsSel, labelsOfNs(ns))) continue;
        for (const i of list) if (!scope.podSel || matchLabelSelector(scope.podSel, i.labels)) r.push(i);
      }
    }
    scopeCache.set(scope.key, r);
    return r;
  };

  const selectorPeer = (scope: PodScope): PeerMatch => {
    const h = hash(scope.key);
    const pods = podsIn(scope);
    return {
      kind: 'sets',
      v4: addSet({ name: `sel-${h}-4`, family: 4, kind: 'addr', elements: pods.flatMap((p) => p.v4), comment: scope.describe }),
      v6: addSet({ name: `sel-${h}-6`, family: 6, kind: 'addr', elements: pods.flatMap((p) => p.v6), comment: scope.describe }),
    };
  };

  const blockPeer = (cidr: string, except: readonly string[]): PeerMatch => {
    const b = blockSet(cidr, except);
    addSet({ name: b.name, family: b.family, kind: 'interval', elements: b.elements, comment: b.describe });
    return b.peer;
  };

  const namedPortSets = (scope: PodScope, portName: string, proto: Protocol): PortMatch => {
    const h = hash(`${scope.key}|${portName}|${proto}`);
    const pods = podsIn(scope);
    const v4: string[] = [];
    const v6: string[] = [];
    for (const p of pods) {
      const cp = (p.ep.spec.ports ?? []).find((x) => x.name === portName && (x.protocol ?? 'TCP') === proto);
      if (!cp) continue;
      for (const a of p.v4) v4.push(`${a} . ${cp.port}`);
      for (const a of p.v6) v6.push(`${a} . ${cp.port}`);
    }
    const comment = `port ${portName}/${proto} of ${scope.describe}`;
    return {
      kind: 'named',
      proto,
      v4: addSet({ name: `np-${h}-4`, family: 4, kind: 'addr-port', elements: v4, comment }),
      v6: addSet({ name: `np-${h}-6`, family: 6, kind: 'addr-port', elements: v6, comment }),
    };
  };

  // Node addresses: always present, so the rule allowing them never has to change.
  const { v4: nodeV4, v6: nodeV6 } = nodeAddresses(input.nodeIps, errors);
  addSet({ name: NODE_SET[4], family: 4, kind: 'addr', elements: nodeV4, comment: `addresses of node ${input.nodeName}` });
  addSet({ name: NODE_SET[6], family: 6, kind: 'addr', elements: nodeV6, comment: `addresses of node ${input.nodeName}` });

  // Local endpoints by interface.
  const local = new Map<string, Acc>();
  const accOf = new Map<string, Acc>();
  const noIface = new Set<string>();
  for (const i of infos) {
    if (i.ep.spec.node !== input.nodeName) continue;
    const iface = i.ep.spec.interfaceName;
    if (!iface) { noIface.add(i.ref); continue; }
    const other = local.get(iface);
    if (other) {
      errors.push({ code: 'duplicate-interface', endpoint: i.ref, message: `interface ${iface} is already used by ${other.info.ref}` });
      continue;
    }
    const acc: Acc = { info: i, iface, ingress: null, egress: null };
    local.set(iface, acc);
    accOf.set(i.ref, acc);
  }

  const addRule = (m: Map<string, DesiredRule>, peer: PeerMatch, port: PortMatch, policy: string): void => {
    const k = ruleKey(peer, port);
    const r = m.get(k);
    if (!r) m.set(k, { peer, port, policies: [policy] });
    else if (!r.policies.includes(policy)) r.policies.push(policy);
  };

  const policies = [...input.policies].sort((a, b) => byString(refOf(a), refOf(b)) || byString(JSON.stringify(a), JSON.stringify(b)));
  const seenPolicy = new Set<string>();
  for (const p of policies) {
    const pref = refOf(p);
    // Two versions of one policy in a view is an input bug; the sorted-first one is used.
    if (seenPolicy.has(pref)) continue;
    seenPolicy.add(pref);
    const ns = p.metadata.namespace ?? 'default';
    const selIssue = selectorIssue(p.spec?.podSelector ?? null, 'spec.podSelector') ?? (p.spec?.podSelector ? undefined : 'spec.podSelector: missing');
    if (selIssue) {
      errors.push({ code: 'invalid-selector', policy: pref, message: selIssue });
      continue;
    }
    const issue = rulesIssue(p);
    if (issue) errors.push({ code: 'invalid-policy', policy: pref, message: issue });

    const selected: Acc[] = [];
    for (const i of infosByNs.get(ns) ?? []) {
      if (i.ep.spec.node !== input.nodeName || !matchLabelSelector(p.spec.podSelector, i.labels)) continue;
      const acc = accOf.get(i.ref);
      if (acc) selected.push(acc);
      else if (noIface.has(i.ref)) errors.push({ code: 'no-interface', policy: pref, endpoint: i.ref, message: 'selected endpoint has no interfaceName; its traffic cannot be filtered' });
    }
    if (selected.length === 0) continue;

    const types = p.spec.policyTypes ?? (p.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress']);
    const wantIn = types.includes('Ingress');
    const wantEg = types.includes('Egress');
    // Fail closed: a policy with a bad rule still isolates the pods it selects.
    for (const a of selected) {
      if (wantIn) a.ingress ??= new Map();
      if (wantEg) a.egress ??= new Map();
    }
    if (issue) continue;

    if (wantIn) {
      for (const rule of p.spec.ingress ?? []) {
        const peers: PeerMatch[] = rule.from?.length
          ? rule.from.map((f) => (f.ipBlock ? blockPeer(f.ipBlock.cidr, f.ipBlock.except ?? []) : selectorPeer(podScope(ns, f.podSelector, f.namespaceSelector))))
          : [{ kind: 'any' }];
        for (const a of selected) {
          // Named ports resolve against the receiving (local) pod.
          const ports = portMatches(rule.ports, (name, proto) => {
            const cp = (a.info.ep.spec.ports ?? []).find((x) => x.name === name && (x.protocol ?? 'TCP') === proto);
            return cp ? cp.port : undefined;
          });
          for (const peer of peers) for (const port of ports.fixed) addRule(a.ingress!, peer, port, pref);
        }
      }
    }
    if (wantEg) {
      for (const rule of p.spec.egress ?? []) {
        const peers = rule.to?.length ? rule.to : [undefined];
        const ports = portMatches(rule.ports, () => undefined);
        const out: Array<[PeerMatch, PortMatch]> = [];
        for (const to of peers) {
          const peer: PeerMatch = !to ? { kind: 'any' } : to.ipBlock ? blockPeer(to.ipBlock.cidr, to.ipBlock.except ?? []) : selectorPeer(podScope(ns, to.podSelector, to.namespaceSelector));
          for (const port of ports.fixed) out.push([peer, port]);
          // Named ports resolve against each destination pod: the selector's own pods, or
          // every pod of the cluster for `to: []` and ipBlock peers.
          for (const np of ports.named) {
            if (to && !to.ipBlock) out.push([{ kind: 'any' }, namedPortSets(podScope(ns, to.podSelector, to.namespaceSelector), np.name, np.proto)]);
            else out.push([peer, namedPortSets(ALL_PODS, np.name, np.proto)]);
          }
        }
        for (const a of selected) for (const [peer, port] of out) addRule(a.egress!, peer, port, pref);
      }
    }
  }

  const finish = (m: Map<string, DesiredRule> | null): DesiredRule[] | null =>
    m === null
      ? null
      : [...m.entries()]
          .sort((a, b) => byString(a[0], b[0]))
          .map(([, r]) => ({ ...r, policies: [...r.policies].sort(byString) }));

  const endpoints: DesiredEndpoint[] = [...local.values()]
    .filter((a) => a.ingress !== null || a.egress !== null)
    .sort((a, b) => byString(a.iface, b.iface))
    .map((a) => ({ iface: a.iface, endpoint: a.info.ref, ingress: finish(a.ingress), egress: finish(a.egress) }));

  // Only sets some rule uses (plus the node sets) are kept: a selector evaluated for a
  // policy that turned out to select nothing here must not cost kernel memory.
  const used = new Set<string>([NODE_SET[4], NODE_SET[6]]);
  for (const e of endpoints) {
    for (const r of [...(e.ingress ?? []), ...(e.egress ?? [])]) {
      if (r.peer.kind === 'sets') { if (r.peer.v4) used.add(r.peer.v4); if (r.peer.v6) used.add(r.peer.v6); }
      if (r.port.kind === 'named') { used.add(r.port.v4); used.add(r.port.v6); }
    }
  }
  const outSets = [...sets.values()].filter((s) => used.has(s.name)).sort((a, b) => byString(a.name, b.name));
  const errKey = (e: PolicyError): string => `${e.policy ?? ''}|${e.endpoint ?? ''}|${e.code}|${e.message}`;
  const uniqErrors = [...new Map(errors.map((e) => [errKey(e), e])).values()].sort((a, b) => byString(errKey(a), errKey(b)));
  return { sets: outSets, endpoints, errors: uniqErrors };
}

export interface PortPlan {
  /** Matches that need no per-destination resolution. */
  fixed: PortMatch[];
  /** Named ports left for the caller to resolve per destination (egress). */
  named: Array<{ name: string; proto: Protocol }>;
}

/**
 * Groups a rule's ports by protocol into one match each (`th dport { 80, 8000-8080 }`).
 * `resolve` turns a named port into a number (ingress: the local pod's port); when it
 * returns undefined the name is kept in `named` — which for ingress means "matches nothing".
 */
export function portMatches(ports: readonly NetworkPolicyPort[] | undefined, resolve: (name: string, proto: Protocol) => number | undefined): PortPlan {
  if (!ports || ports.length === 0) return { fixed: [{ kind: 'any' }], named: [] };
  const all = new Set<Protocol>();
  const ranges = new Map<Protocol, Array<[number, number]>>();
  const named: Array<{ name: string; proto: Protocol }> = [];
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP') as Protocol;
    if (p.port === undefined) { all.add(proto); continue; }
    let lo: number;
    if (typeof p.port === 'number') lo = p.port;
    else {
      const n = resolve(p.port, proto);
      if (n === undefined) {
        if (!named.some((x) => x.name === p.port && x.proto === proto)) named.push({ name: p.port, proto });
        continue;
      }
      lo = n;
    }
    const hi = typeof p.port === 'number' && p.endPort !== undefined ? p.endPort : lo;
    const l = ranges.get(proto) ?? [];
    l.push([lo, hi]);
    ranges.set(proto, l);
  }
  const fixed: PortMatch[] = [];
  for (const proto of Protocols) {
    if (all.has(proto)) fixed.push({ kind: 'proto', proto });
    else if (ranges.has(proto)) fixed.push({ kind: 'ports', proto, ranges: mergeRanges(ranges.get(proto)!) });
  }
  named.sort((a, b) => byString(`${a.name}/${a.proto}`, `${b.name}/${b.proto}`));
  return { fixed, named };
}
