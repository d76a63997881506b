// Incremental NetworkPolicy calculation (Felix's calculation graph): indexes that let one
// update recompute only what it touches, producing the same DesiredState as calculate() in
// calc.ts for the same inputs (deep-equal, same rendered bytes; test/agent/policy proves it
// over random update sequences).
//
// - apply() records an update and marks what it touches dirty; it never builds output.
//   Selector membership is kept as reference-counted set elements, so an endpoint upsert
//   changes only the sets whose members it joins or leaves.
// - state() recomputes the chains of dirty local endpoints and republishes changed sets.
//   Unchanged DesiredEndpoint and DesiredSet objects are carried over by identity, and the
//   published state is never mutated afterwards (the dataplane keeps it to diff against).
//
// Indexes: endpoints by namespace; local endpoints by namespace and by interface; policies
// by namespace; scopes (a peer's pod selector in a namespace or in selected namespaces) by
// namespace; policy → selected local endpoints and back. Endpoint and policy records hold
// only what the calculation reads, sharing the label and port objects of the stored resource.
import { type LabelSelector, type Namespace, type NetworkPolicy, type NetworkPolicyPort, type WorkloadEndpoint } from '../../resources/index.js';
import {
  ALL_PODS,
  blockSet,
  byString,
  endpointAddresses,
  hash,
  NAMESPACE_NAME_LABEL,
  NODE_SET,
  namedPort,
  nodeAddresses,
  podScope,
  policyTypesOf,
  portMatches,
  ruleKey,
  rulesIssue,
  selectorIssue,
  type PodScope,
} from './calc.js';
import type { PolicyUpdate } from './inputs.js';
import type { DesiredEndpoint, DesiredRule, DesiredSet, DesiredState, PeerMatch, PolicyError, PortMatch, Protocol, SetKind } from './model.js';

type Labels = Readonly<Record<string, string>>;
type Ports = WorkloadEndpoint['spec']['ports'];

/** What the calculation reads of a WorkloadEndpoint. */
interface Ep {
  ref: string;
  ns: string;
  labels: Labels;
  node: string;
  iface: string | undefined;
  v4: readonly string[];
  v6: readonly string[];
  ports: Ports;
}

interface Rule {
  peer: PeerMatch;
  port: PortMatch;
  key: string;
}

interface IngressRule {
  peers: PeerMatch[];
  ports: readonly NetworkPolicyPort[] | undefined;
  /** The rule's rules when no port is named (they do not depend on the receiving pod). */
  fixed: Rule[] | null;
}

/** What the calculation reads of a NetworkPolicy, compiled once per version. */
interface Pol {
  ref: string;
  ns: string;
  /** null: the pod selector is invalid and the policy is ignored. */
  podSel: LabelSelector | null;
  errors: PolicyError[];
  /** A rule could not be compiled: the policy isolates and allows nothing. */
  failed: boolean;
  wantIn: boolean;
  wantEg: boolean;
  ingress: IngressRule[];
  egress: Rule[];
  /** Scopes referenced (selector peers, named-port sets), one entry per reference. */
  scopeRefs: Scope[];
  namedRefs: Array<{ scope: Scope; key: string }>;
  /** ipBlock sets in order of first occurrence, with the description this policy gives them. */
  nets: Array<{ set: OutSet; describe: string }>;
  /** Local endpoints (by ref) in the policy's namespace its pod selector matches. */
  selects: Set<string>;
}

/** One published set: reference-counted elements, the last published sorted list. */
class OutSet {
  readonly counts = new Map<string, number>();
  elements: readonly string[] = [];
  private readonly adds = new Set<string>();
  private readonly dels = new Set<string>();
  published: DesiredSet | null = null;
  /** Compiled policies that reference the set. */
  owners = 0;
  /** Rules of published endpoints that reference the set. */
  uses = 0;
  /** ipBlock sets: elements are fixed by the name and filled once. */
  filled = false;

  constructor(
    readonly name: string,
    readonly family: 4 | 6,
    readonly kind: SetKind,
    public comment: string,
  ) {}

  add(e: string, dirty: Set<OutSet>): void {
    const n = this.counts.get(e) ?? 0;
    this.counts.set(e, n + 1);
    if (n > 0) return;
    if (!this.dels.delete(e)) this.adds.add(e);
    dirty.add(this);
  }

  remove(e: string, dirty: Set<OutSet>): void {
    const n = this.counts.get(e) ?? 0;
    if (n > 1) {
      this.counts.set(e, n - 1);
      return;
    }
    if (n === 0) return;
    this.counts.delete(e);
    if (!this.adds.delete(e)) this.dels.add(e);
    dirty.add(this);
  }

  /** Folds pending element changes into a new sorted list; true when it changed. */
  settle(): boolean {
    if (this.adds.size === 0 && this.dels.size === 0) return false;
    const kept = this.dels.size ? this.elements.filter((e) => !this.dels.has(e)) : this.elements;
    const added = [...this.adds].sort(byString);
    const out: string[] = new Array<string>(kept.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < kept.length && j < added.length) out[k++] = kept[i]! < added[j]! ? kept[i++]! : added[j++]!;
    while (i < kept.length) out[k++] = kept[i++]!;
    while (j < added.length) out[k++] = added[j++]!;
    this.elements = out;
    this.adds.clear();
    this.dels.clear();
    this.published = null;
    return true;
  }

  desired(): DesiredSet {
    this.published ??= { name: this.name, family: this.family, kind: this.kind, elements: this.elements as string[], comment: this.comment };
    return this.published;
  }
}

/** The pods a selector peer means, with the sets made of them. */
interface Scope {
  def: PodScope;
  all: boolean;
  /** References from compiled policies; 0: dropped at the next state(). */
  users: number;
  sel: { v4: OutSet; v6: OutSet } | null;
  /** Named-port sets, by `name|proto`. */
  named: Map<string, { name: string; proto: Protocol; v4: OutSet; v6: OutSet; users: number }>;
}

interface Local {
  ep: Ep;
  selectedBy: Set<Pol>;
  out: DesiredEndpoint | null;
  /** Stable text of `out`, to keep the same object when a recomputation changes nothing. */
  outKey: string;
}

/**
 * matchLabelSelector (src/resources/meta.ts) with the selector's terms taken apart once per
 * selector object: the generic function builds Object.entries arrays and iterators on every
 * call, and the cold sync calls it ~1 million times (each pod against every candidate scope),
 * ~120 MB of garbage. Same semantics: all terms ANDed, labels read as own properties only.
 */
type Matcher = (labels: Labels) => boolean;
const matchers = new WeakMap<LabelSelector, Matcher>();

export function compileSelector(sel: LabelSelector): Matcher {
  const keys: string[] = [];
  const vals: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    keys.push(k);
    vals.push(v);
  }
  const exprs = (sel.matchExpressions ?? []).map((r) => ({ key: r.key, op: r.operator, values: r.values ?? [] }));
  return (labels) => {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (!Object.hasOwn(labels, k) || labels[k] !== vals[i]) return false;
    }
    for (let i = 0; i < exprs.length; i++) {
      const r = exprs[i]!;
      const x = Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
      const ok =
        r.op === 'In' ? x !== undefined && r.values.includes(x)
        : r.op === 'NotIn' ? x === undefined || !r.values.includes(x)
        : r.op === 'Exists' ? x !== undefined
        : x === undefined;
      if (!ok) return false;
    }
    return true;
  };
}

function matchLabelSelector(sel: LabelSelector, labels: Labels): boolean {
  let m = matchers.get(sel);
  if (!m) matchers.set(sel, (m = compileSelector(sel)));
  return m(labels);
}

const errKey = (e: PolicyError): string => `${e.policy ?? ''}|${e.endpoint ?? ''}|${e.code}|${e.message}`;

function setNamesOf(e: DesiredEndpoint | null): string[] {
  if (!e) return [];
  const out: string[] = [];
  for (const r of [...(e.ingress ?? []), ...(e.egress ?? [])]) {
    if (r.peer.kind === 'sets') {
      if (r.peer.v4) out.push(r.peer.v4);
      if (r.peer.v6) out.push(r.peer.v6);
    }
    if (r.port.kind === 'named') out.push(r.port.v4, r.port.v6);
  }
  return out;
}

// Records kept per endpoint and per policy are built by push(), which reserves 17 slots at
// the first element (152 bytes where a pod's one address needs 24, 11,000 times over). Kept
// copies are cut to size; an empty array literal has no backing store at all.
const NO_LABELS: Labels = Object.freeze({});
const NO_ADDRESSES: readonly string[] = Object.freeze([]);
function tight<T>(a: T[]): T[] {
  return a.length === 0 ? [] : a.slice();
}

function insertSorted(list: string[], x: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, x);
}

export interface EngineStats {
  endpoints: number;
  localEndpoints: number;
  policies: number;
  scopes: number;
  sets: number;
}

export class PolicyEngine {
  /** Endpoints by namespace, then by ref. No second index by ref alone: a ref names its namespace. */
  private readonly epsByNs = new Map<string, Map<string, Ep>>();
  private epCount = 0;
  private readonly nsLabels = new Map<string, Labels>();
  private readonly pols = new Map<string, Pol>();
  private readonly polsByNs = new Map<string, Set<Pol>>();
  private readonly scopes = new Map<string, Scope>();
  private readonly scopesByNs = new Map<string, Set<Scope>>();
  private readonly nsSelScopes = new Set<Scope>();
  private readonly sets = new Map<string, OutSet>();
  private readonly locals = new Map<string, Local>();
  private readonly localsByNs = new Map<string, Set<string>>();
  /** Interface → local endpoint refs claiming it, sorted: the first one owns it. */
  private readonly claims = new Map<string, string[]>();
  private nodeIps: readonly string[] = [];
  private readonly nodeSets: { v4: OutSet; v6: OutSet };

  // Errors, grouped by what produced them, deduplicated by errKey across groups.
  private readonly errGroups = new Map<string, PolicyError[]>();
  private readonly errCounts = new Map<string, { err: PolicyError; n: number }>();

  // Dirty marks, consumed by state().
  private readonly dirtyLocals = new Set<string>();
  private readonly dirtySets = new Set<OutSet>();
  private dirtyFlag = true;
  private setListChanged = true;
  private endpointListChanged = true;
  private errorsChanged = true;
  private netsChanged = true;

  private current: DesiredState = { sets: [], endpoints: [], errors: [] };
  private setNames: string[] = [];
  private published = new Map<string, DesiredEndpoint>();

  constructor(readonly nodeName: string) {
    const comment = `addresses of node ${nodeName}`;
    this.nodeSets = { v4: new OutSet(NODE_SET[4], 4, 'addr', comment), v6: new OutSet(NODE_SET[6], 6, 'addr', comment) };
    this.nodeSets.v4.uses = this.nodeSets.v6.uses = 1;
    this.sets.set(NODE_SET[4], this.nodeSets.v4);
    this.sets.set(NODE_SET[6], this.nodeSets.v6);
  }

  /** True when updates arrived since the last state(). */
  get dirty(): boolean {
    return this.dirtyFlag;
  }

  stats(): EngineStats {
    return { endpoints: this.epCount, localEndpoints: this.locals.size, policies: this.pols.size, scopes: this.scopes.size, sets: this.sets.size };
  }

  /** Records one update and marks what it affects; nothing is published until state(). */
  apply(u: PolicyUpdate): void {
    this.dirtyFlag = true;
    switch (u.kind) {
      case 'namespace-upsert':
        this.setNamespace(u.namespace.metadata.name, u.namespace.metadata.labels ?? {});
        return;
      case 'namespace-delete':
        this.setNamespace(u.name, null);
        return;
      case 'endpoint-upsert': {
        const e = u.endpoint;
        this.setEndpoint(`${e.metadata.namespace ?? 'default'}/${e.metadata.name}`, e);
        return;
      }
      case 'endpoint-delete':
        this.setEndpoint(`${u.namespace ?? 'default'}/${u.name}`, null);
        return;
      case 'policy-upsert': {
        const p = u.policy;
        this.setPolicy(`${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, p);
        return;
      }
      case 'policy-delete':
        this.setPolicy(`${u.namespace ?? 'default'}/${u.name}`, null);
        return;
      case 'node-ips':
        this.setNodeIps(u.ips);
        return;
      default: {
        const never: never = u;
        throw new Error(`unhandled policy update ${JSON.stringify(never)}`);
      }
    }
  }

  // --- errors --------------------------------------------------------------------------------

  private setErrors(group: string, errs: PolicyError[]): void {
    const old = this.errGroups.get(group);
    if (!old && errs.length === 0) return;
    for (const e of errs) {
      const k = errKey(e);
      const c = this.errCounts.get(k);
      if (c) c.n++;
      else {
        this.errCounts.set(k, { err: e, n: 1 });
        this.errorsChanged = true;
      }
    }
    for (const e of old ?? []) {
      const k = errKey(e);
      const c = this.errCounts.get(k)!;
      if (--c.n === 0) {
        this.errCounts.delete(k);
        this.errorsChanged = true;
      }
    }
    if (errs.length) this.errGroups.set(group, errs);
    else this.errGroups.delete(group);
  }

  // --- namespaces ----------------------------------------------------------------------------

  private labelsOfNs(ns: string): Labels {
    return this.nsLabels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
  }

  private setNamespace(name: string, labels: Labels | null): void {
    const before = this.labelsOfNs(name);
    if (labels) this.nsLabels.set(name, { ...labels, [NAMESPACE_NAME_LABEL]: name });
    else this.nsLabels.delete(name);
    const after = this.labelsOfNs(name);
    const eps = this.epsByNs.get(name);
    if (!eps) return;
    // Only namespace selectors read namespace labels; a scope whose verdict on this
    // namespace flips gains or loses every matching pod of it.
    for (const s of this.nsSelScopes) {
      const nsSel = s.def.nsSel!;
      const was = matchLabelSelector(nsSel, before);
      const is = matchLabelSelector(nsSel, after);
      if (was === is) continue;
      for (const e of eps.values()) if (!s.def.podSel || matchLabelSelector(s.def.podSel, e.labels)) this.contribute(s, e, is ? 1 : -1);
    }
  }

  // --- scopes and their sets -----------------------------------------------------------------

  private inScope(s: Scope, e: Ep): boolean {
    if (s.all) return true;
    const d = s.def;
    if (d.namespace !== null) {
      if (e.ns !== d.namespace) return false;
    } else if (d.nsSel && !matchLabelSelector(d.nsSel, this.labelsOfNs(e.ns))) return false;
    return !d.podSel || matchLabelSelector(d.podSel, e.labels);
  }

  private contribute(s: Scope, e: Ep, sign: 1 | -1): void {
    const d = this.dirtySets;
    if (s.sel) {
      for (const a of e.v4) sign > 0 ? s.sel.v4.add(a, d) : s.sel.v4.remove(a, d);
      for (const a of e.v6) sign > 0 ? s.sel.v6.add(a, d) : s.sel.v6.remove(a, d);
    }
    for (const np of s.named.values()) this.contributeNamed(np, e, sign);
  }

  private contributeNamed(np: { name: string; proto: Protocol; v4: OutSet; v6: OutSet }, e: Ep, sign: 1 | -1): void {
    const port = namedPort(e.ports, np.name, np.proto);
    if (port === undefined) return;
    const d = this.dirtySets;
    for (const a of e.v4) sign > 0 ? np.v4.add(`${a} . ${port}`, d) : np.v4.remove(`${a} . ${port}`, d);
    for (const a of e.v6) sign > 0 ? np.v6.add(`${a} . ${port}`, d) : np.v6.remove(`${a} . ${port}`, d);
  }

  /** Every endpoint in a scope (for filling a new scope's sets). */
  private *membersOf(s: Scope): Iterable<Ep> {
    if (s.def.namespace !== null) {
      for (const e of this.epsByNs.get(s.def.namespace)?.values() ?? []) if (this.inScope(s, e)) yield e;
      return;
    }
    for (const [ns, eps] of this.epsByNs) {
      if (s.def.nsSel && !matchLabelSelector(s.def.nsSel, this.labelsOfNs(ns))) continue;
      for (const e of eps.values()) if (!s.def.podSel || matchLabelSelector(s.def.podSel, e.labels)) yield e;
    }
  }

  private outSet(name: string, family: 4 | 6, kind: SetKind, comment: string): OutSet {
    let s = this.sets.get(name);
    if (!s) {
      s = new OutSet(name, family, kind, comment);
      this.sets.set(name, s);
    }
    s.owners++;
    return s;
  }

  private releaseSet(s: OutSet): void {
    s.owners--;
    // Dropped in state() once no published rule uses it either.
  }

  private scopeOf(def: PodScope): Scope {
    let s = this.scopes.get(def.key);
    if (!s) {
      const all = def === ALL_PODS;
      s = { def, all, users: 0, sel: null, named: new Map() };
      if (!all) {
        const h = hash(def.key);
        s.sel = { v4: this.outSet(`sel-${h}-4`, 4, 'addr', def.describe), v6: this.outSet(`sel-${h}-6`, 6, 'addr', def.describe) };
        for (const e of this.membersOf(s)) this.contribute(s, e, 1);
      }
      this.scopes.set(def.key, s);
      if (all) {
        /* every endpoint is a candidate; see contributeToScopes() */
      } else if (def.namespace !== null) {
        let l = this.scopesByNs.get(def.namespace);
        if (!l) this.scopesByNs.set(def.namespace, (l = new Set()));
        l.add(s);
      } else this.nsSelScopes.add(s);
    }
    s.users++;
    return s;
  }

  private namedOf(s: Scope, name: string, proto: Protocol): { key: string; v4: OutSet; v6: OutSet } {
    const key = `${name}|${proto}`;
    let np = s.named.get(key);
    if (!np) {
      const h = hash(`${s.def.key}|${name}|${proto}`);
      const comment = `port ${name}/${proto} of ${s.def.describe}`;
      np = { name, proto, v4: this.outSet(`np-${h}-4`, 4, 'addr-port', comment), v6: this.outSet(`np-${h}-6`, 6, 'addr-port', comment), users: 0 };
      s.named.set(key, np);
      for (const e of this.membersOf(s)) this.contributeNamed(np, e, 1);
    }
    np.users++;
    return { key, v4: np.v4, v6: np.v6 };
  }

  private allScope(): Scope | undefined {
    return this.scopes.get(ALL_PODS.key);
  }

  /**
   * Adds (or removes) an endpoint to (from) every scope it is in. The candidates: the scopes of
   * its namespace, the namespace-selector scopes, the all-pods scope. Plain loops, not a
   * generator: this runs for every endpoint update.
   */
  private contributeToScopes(e: Ep, sign: 1 | -1): void {
    const byNs = this.scopesByNs.get(e.ns);
    if (byNs) for (const s of byNs) if (this.inScope(s, e)) this.contribute(s, e, sign);
    for (const s of this.nsSelScopes) if (this.inScope(s, e)) this.contribute(s, e, sign);
    const all = this.allScope();
    if (all) this.contribute(all, e, sign);
  }

  // --- endpoints -----------------------------------------------------------------------------

  /** `ns/name`: names are DNS subdomains (no "/"), so the namespace is what precedes the last "/". */
  private epOf(ref: string): Ep | undefined {
    return this.epsByNs.get(ref.slice(0, ref.lastIndexOf('/')))?.get(ref);
  }

  private setEndpoint(ref: string, w: WorkloadEndpoint | null): void {
    const old = this.epOf(ref);
    let next: Ep | undefined;
    if (w) {
      const errs: PolicyError[] = [];
      const { v4, v6 } = endpointAddresses(w.spec.ipNetworks, ref, errs);
      this.setErrors(`ep:${ref}`, errs);
      next = { ref, ns: w.metadata.namespace ?? 'default', labels: w.metadata.labels ?? NO_LABELS, node: w.spec.node, iface: w.spec.interfaceName, v4: v4.length ? v4.slice() : NO_ADDRESSES, v6: v6.length ? v6.slice() : NO_ADDRESSES, ports: w.spec.ports };
    } else this.setErrors(`ep:${ref}`, []);

    // Selector sets: the old version leaves the scopes it was in, the new one joins its own.
    if (old) this.contributeToScopes(old, -1);
    if (old) {
      const m = this.epsByNs.get(old.ns)!;
      m.delete(ref);
      if (m.size === 0) this.epsByNs.delete(old.ns);
      this.epCount--;
    }
    if (next) {
      this.epCount++;
      let m = this.epsByNs.get(next.ns);
      if (!m) this.epsByNs.set(next.ns, (m = new Map()));
      m.set(ref, next);
      this.contributeToScopes(next, 1);
    }

    const wasLocal = old !== undefined && old.node === this.nodeName;
    const isLocal = next !== undefined && next.node === this.nodeName;
    if (old && wasLocal) this.dropLocal(old);
    if (next && isLocal) this.addLocal(next);
    if (wasLocal || isLocal) this.dirtyLocals.add(ref);
  }

  private claimsChanged(iface: string): void {
    for (const r of this.claims.get(iface) ?? []) this.dirtyLocals.add(r);
  }

  private dropLocal(e: Ep): void {
    const l = this.locals.get(e.ref)!;
    for (const p of l.selectedBy) p.selects.delete(e.ref);
    l.selectedBy.clear();
    const byNs = this.localsByNs.get(e.ns)!;
    byNs.delete(e.ref);
    if (byNs.size === 0) this.localsByNs.delete(e.ns);
    if (e.iface) {
      const c = this.claims.get(e.iface)!;
      c.splice(c.indexOf(e.ref), 1);
      if (c.length === 0) this.claims.delete(e.iface);
      else this.claimsChanged(e.iface);
    }
  }

  private addLocal(e: Ep): void {
    let l = this.locals.get(e.ref);
    if (!l) {
      l = { ep: e, selectedBy: new Set(), out: null, outKey: '' };
      this.locals.set(e.ref, l);
    }
    l.ep = e;
    let byNs = this.localsByNs.get(e.ns);
    if (!byNs) this.localsByNs.set(e.ns, (byNs = new Set()));
    byNs.add(e.ref);
    for (const p of this.polsByNs.get(e.ns) ?? []) {
      if (!matchLabelSelector(p.podSel!, e.labels)) continue;
      p.selects.add(e.ref);
      l.selectedBy.add(p);
    }
    if (e.iface) {
      let c = this.claims.get(e.iface);
      if (!c) this.claims.set(e.iface, (c = []));
      insertSorted(c, e.ref);
      this.claimsChanged(e.iface);
    }
  }

  // --- policies ------------------------------------------------------------------------------

  private setPolicy(ref: string, p: NetworkPolicy | null): void {
    const old = this.pols.get(ref);
    // The new version takes its references before the old one releases its own, so the
    // sets both versions use are never dropped and refilled.
    const next = p ? this.compile(ref, p) : undefined;
    if (old) this.retire(old);
    if (next) {
      this.pols.set(ref, next);
      this.setErrors(`pol:${ref}`, next.errors);
    } else {
      this.pols.delete(ref);
      this.setErrors(`pol:${ref}`, []);
    }
    this.netsChanged = true;
  }

  private compile(ref: string, p: NetworkPolicy): Pol {
    const ns = p.metadata.namespace ?? 'default';
    const pol: Pol = { ref, ns, podSel: null, errors: [], failed: false, wantIn: false, wantEg: false, ingress: [], egress: [], scopeRefs: [], namedRefs: [], nets: [], selects: new Set() };
    const selIssue = selectorIssue(p.spec?.podSelector ?? null, 'spec.podSelector') ?? (p.spec?.podSelector ? undefined : 'spec.podSelector: missing');
    if (selIssue) {
      pol.errors.push({ code: 'invalid-selector', policy: ref, message: selIssue });
      return pol;
    }
    pol.podSel = p.spec.podSelector;
    const issue = rulesIssue(p);
    if (issue) {
      pol.errors.push({ code: 'invalid-policy', policy: ref, message: issue });
      pol.failed = true;
    }
    const types = policyTypesOf(p);
    pol.wantIn = types.includes('Ingress');
    pol.wantEg = types.includes('Egress');
    if (!pol.failed) {
      const seenNets = new Set<OutSet>();
      const net = (cidr: string, except: readonly string[]): PeerMatch => {
        const b = blockSet(cidr, except);
        const set = this.outSet(b.name, b.family, 'interval', b.describe);
        if (!set.filled) {
          set.filled = true;
          for (const e of [...new Set(b.elements)].sort(byString)) set.add(e, this.dirtySets);
        }
        if (seenNets.has(set)) this.releaseSet(set);
        else {
          seenNets.add(set);
          pol.nets.push({ set, describe: b.describe });
        }
        return b.peer;
      };
      const selector = (podSel: LabelSelector | undefined, nsSel: LabelSelector | undefined): PeerMatch => {
        const s = this.scopeOf(podScope(ns, podSel, nsSel));
        pol.scopeRefs.push(s);
        return { kind: 'sets', v4: s.sel!.v4.name, v6: s.sel!.v6.name };
      };
      const named = (s: Scope, name: string, proto: Protocol): PortMatch => {
        const np = this.namedOf(s, name, proto);
        pol.namedRefs.push({ scope: s, key: np.key });
        return { kind: 'named', proto, v4: np.v4.name, v6: np.v6.name };
      };
      const rule = (peer: PeerMatch, port: PortMatch): Rule => ({ peer, port, key: ruleKey(peer, port) });
      if (pol.wantIn) {
        for (const r of p.spec.ingress ?? []) {
          const peers: PeerMatch[] = r.from?.length ? r.from.map((f) => (f.ipBlock ? net(f.ipBlock.cidr, f.ipBlock.except ?? []) : selector(f.podSelector, f.namespaceSelector))) : [{ kind: 'any' }];
          // A named port resolves against the receiving pod; without one the rules are the
          // same for every pod the policy selects.
          const hasNamed = (r.ports ?? []).some((x) => typeof x.port === 'string');
          const fixed = hasNamed ? null : portMatches(r.ports, () => undefined).fixed;
          pol.ingress.push({ peers, ports: r.ports, fixed: fixed ? peers.flatMap((peer) => fixed.map((port) => rule(peer, port))) : null });
        }
      }
      if (pol.wantEg) {
        for (const r of p.spec.egress ?? []) {
          const tos = r.to?.length ? r.to : [undefined];
          const ports = portMatches(r.ports, () => undefined);
          for (const to of tos) {
            let peer: PeerMatch;
            let scope: Scope | null = null;
            if (!to) peer = { kind: 'any' };
            else if (to.ipBlock) peer = net(to.ipBlock.cidr, to.ipBlock.except ?? []);
            else {
              peer = selector(to.podSelector, to.namespaceSelector);
              scope = pol.scopeRefs[pol.scopeRefs.length - 1]!;
            }
            for (const port of ports.fixed) pol.egress.push(rule(peer, port));
            for (const np of ports.named) {
              if (scope) pol.egress.push(rule({ kind: 'any' }, named(scope, np.name, np.proto)));
              else {
                const all = this.scopeOf(ALL_PODS);
                pol.scopeRefs.push(all);
                pol.egress.push(rule(peer, named(all, np.name, np.proto)));
              }
            }
          }
        }
      }
    }
    pol.errors = tight(pol.errors);
    pol.ingress = tight(pol.ingress);
    pol.egress = tight(pol.egress);
    pol.scopeRefs = tight(pol.scopeRefs);
    pol.namedRefs = tight(pol.namedRefs);
    pol.nets = tight(pol.nets);
    let byNs = this.polsByNs.get(ns);
    if (!byNs) this.polsByNs.set(ns, (byNs = new Set()));
    byNs.add(pol);
    for (const r of this.localsByNs.get(ns) ?? []) {
      const l = this.locals.get(r)!;
      if (!matchLabelSelector(pol.podSel!, l.ep.labels)) continue;
      pol.selects.add(r);
      l.selectedBy.add(pol);
      this.dirtyLocals.add(r);
    }
    return pol;
  }

  private retire(pol: Pol): void {
    if (pol.podSel === null) return;
    const byNs = this.polsByNs.get(pol.ns)!;
    byNs.delete(pol);
    if (byNs.size === 0) this.polsByNs.delete(pol.ns);
    for (const r of pol.selects) {
      this.locals.get(r)!.selectedBy.delete(pol);
      this.dirtyLocals.add(r);
    }
    for (const { scope, key } of pol.namedRefs) scope.named.get(key)!.users--;
    for (const s of pol.scopeRefs) s.users--;
    for (const { set } of pol.nets) this.releaseSet(set);
  }

  // --- node ----------------------------------------------------------------------------------

  private setNodeIps(ips: readonly string[]): void {
    if (ips.length === this.nodeIps.length && ips.every((x, i) => x === this.nodeIps[i])) return;
    this.nodeIps = [...ips];
    const errs: PolicyError[] = [];
    const { v4, v6 } = nodeAddresses(ips, errs);
    this.setErrors('node', errs);
    for (const [set, want] of [[this.nodeSets.v4, v4], [this.nodeSets.v6, v6]] as const) {
      const keep = new Set(want);
      for (const e of [...set.counts.keys()]) if (!keep.has(e)) set.remove(e, this.dirtySets);
      for (const e of keep) if (!set.counts.has(e)) set.add(e, this.dirtySets);
    }
  }

  // --- publishing ----------------------------------------------------------------------------

  /** Chains and errors of one local endpoint, from the policies selecting it. */
  private recompute(ref: string): void {
    const l = this.locals.get(ref);
    const ep = l?.ep;
    const isLocal = ep !== undefined && this.epOf(ref) === ep && ep.node === this.nodeName;
    const errs: PolicyError[] = [];
    let out: DesiredEndpoint | null = null;
    if (isLocal && ep) {
      const pols = [...l!.selectedBy].sort((a, b) => byString(a.ref, b.ref));
      if (!ep.iface) {
        for (const p of pols) errs.push({ code: 'no-interface', policy: p.ref, endpoint: ref, message: 'selected endpoint has no interfaceName; its traffic cannot be filtered' });
      } else {
        const owner = this.claims.get(ep.iface)![0]!;
        if (owner !== ref) errs.push({ code: 'duplicate-interface', endpoint: ref, message: `interface ${ep.iface} is already used by ${owner}` });
        else out = this.chainsOf(ep, pols);
      }
    }
    this.setErrors(`loc:${ref}`, errs);

    const prev = this.published.get(ref) ?? null;
    const key = out ? JSON.stringify(out) : '';
    if (!isLocal) this.locals.delete(ref);
    if (prev === null && out === null) return;
    if (prev !== null && l && key === l.outKey) return;
    for (const n of setNamesOf(prev)) this.sets.get(n)!.uses--;
    for (const n of setNamesOf(out)) this.sets.get(n)!.uses++;
    this.setListChanged ||= setNamesOf(prev).join() !== setNamesOf(out).join();
    this.endpointListChanged = true;
    if (out) this.published.set(ref, out);
    else this.published.delete(ref);
    if (l) {
      l.out = out;
      l.outKey = key;
    }
  }

  private chainsOf(ep: Ep, pols: Pol[]): DesiredEndpoint | null {
    let ingress: Map<string, DesiredRule> | null = null;
    let egress: Map<string, DesiredRule> | null = null;
    const add = (m: Map<string, DesiredRule>, r: Rule, policy: string): void => {
      const x = m.get(r.key);
      if (!x) m.set(r.key, { peer: r.peer, port: r.port, policies: [policy] });
      else if (!x.policies.includes(policy)) x.policies.push(policy);
    };
    for (const p of pols) {
      if (p.wantIn) ingress ??= new Map();
      if (p.wantEg) egress ??= new Map();
      if (p.failed) continue;
      if (p.wantIn) {
        for (const r of p.ingress) {
          if (r.fixed) {
            for (const x of r.fixed) add(ingress!, x, p.ref);
            continue;
          }
          // Named ports resolve against the receiving (local) pod.
          const ports = portMatches(r.ports, (name, proto) => namedPort(ep.ports, name, proto)).fixed;
          for (const peer of r.peers) for (const port of ports) add(ingress!, { peer, port, key: ruleKey(peer, port) }, p.ref);
        }
      }
      if (p.wantEg) for (const x of p.egress) add(egress!, x, p.ref);
    }
    if (ingress === null && egress === null) return null;
    const finish = (m: Map<string, DesiredRule> | null): DesiredRule[] | null =>
      m === null ? null : [...m.entries()].sort((a, b) => byString(a[0], b[0])).map(([, r]) => ({ ...r, policies: r.policies.sort(byString) }));
    return { iface: ep.iface!, endpoint: ep.ref, ingress: finish(ingress), egress: finish(egress) };
  }

  /** The first active policy's description of each used ipBlock set (as calculate() adds them). */
  private settleNetComments(): void {
    const active = (p: Pol): boolean => {
      for (const r of p.selects) {
        const e = this.locals.get(r)?.ep;
        if (e?.iface && this.claims.get(e.iface)![0] === r) return true;
      }
      return false;
    };
    const best = new Map<OutSet, { ref: string; describe: string }>();
    for (const p of this.pols.values()) {
      if (p.nets.length === 0) continue;
      let isActive: boolean | undefined;
      for (const { set, describe } of p.nets) {
        if (set.uses === 0) continue;
        const b = best.get(set);
        if (b && b.ref <= p.ref) continue;
        isActive ??= active(p);
        if (!isActive) break;
        best.set(set, { ref: p.ref, describe });
      }
    }
    for (const [set, b] of best) {
      if (set.comment === b.describe) continue;
      set.comment = b.describe;
      set.published = null;
    }
  }

  /** The desired state for everything recorded so far; unchanged parts keep their objects. */
  state(): DesiredState {
    if (!this.dirtyFlag) return this.current;
    this.dirtyFlag = false;
    const localsChanged = this.dirtyLocals.size > 0;
    for (const r of this.dirtyLocals) this.recompute(r);
    this.dirtyLocals.clear();
    for (const s of this.dirtySets) s.settle();
    this.dirtySets.clear();
    if (this.netsChanged || localsChanged) this.settleNetComments();
    this.netsChanged = false;

    // Scopes and sets no policy references any more. (Iterating values, not [key, value]
    // entries: an entry array per scope and set per state() was most of an update's garbage.)
    for (const s of this.scopes.values()) {
      if (s.users > 0) {
        for (const [nk, np] of s.named) {
          if (np.users > 0) continue;
          this.releaseSet(np.v4);
          this.releaseSet(np.v6);
          s.named.delete(nk);
        }
        continue;
      }
      this.scopes.delete(s.def.key);
      if (s.sel) {
        this.releaseSet(s.sel.v4);
        this.releaseSet(s.sel.v6);
      }
      for (const np of s.named.values()) {
        this.releaseSet(np.v4);
        this.releaseSet(np.v6);
      }
      if (s.def.namespace !== null) {
        const l = this.scopesByNs.get(s.def.namespace);
        l?.delete(s);
        if (l?.size === 0) this.scopesByNs.delete(s.def.namespace);
      } else this.nsSelScopes.delete(s);
    }
    for (const s of this.sets.values()) if (s.owners <= 0 && s.uses <= 0 && s !== this.nodeSets.v4 && s !== this.nodeSets.v6) this.sets.delete(s.name);

    let { sets, endpoints, errors } = this.current;
    if (this.setListChanged) {
      this.setNames = [...this.sets.values()].filter((s) => s.uses > 0).map((s) => s.name).sort(byString);
      this.setListChanged = false;
    }
    const nextSets = this.setNames.map((n) => this.sets.get(n)!.desired());
    if (nextSets.length !== sets.length || nextSets.some((s, i) => s !== sets[i])) sets = nextSets;
    if (this.endpointListChanged) {
      endpoints = [...this.published.values()].sort((a, b) => byString(a.iface, b.iface));
      this.endpointListChanged = false;
    }
    if (this.errorsChanged) {
      errors = [...this.errCounts.entries()].sort((a, b) => byString(a[0], b[0])).map(([, c]) => c.err);
      this.errorsChanged = false;
    }
    if (sets !== this.current.sets || endpoints !== this.current.endpoints || errors !== this.current.errors) this.current = { sets, endpoints, errors };
    return this.current;
  }
}
