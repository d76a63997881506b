// nftables rendering of the desired policy state. Pure: text in, text out.
//
// Layout of the one table Tern owns (`table inet tern`, both families in one ruleset):
//
//   set node-4/node-6         the node's addresses (ingress from them is always allowed)
//   set sel-<h>-4/-6          pods a peer selector matches        (type ipv4_addr / ipv6_addr)
//   set net-<h>-4|6           ipBlock minus except                 (flags interval)
//   set np-<h>-4/-6           address . port of a named port       (ipv4_addr . inet_service)
//   map ep-from / ep-to       interface name → jump from-<if> / to-<if>
//   chain from-<if>, to-<if>  one endpoint's egress / ingress allows, then drop
//   chain forward             hook forward: ct established,related accept;
//                             iifname vmap @ep-from; oifname vmap @ep-to
//
// One verdict-map lookup per direction per packet, whatever the number of pods (as
// kube-proxy's nftables mode does); pod churn changes set elements, never rules. Egress
// allows `return` rather than accept, so a packet that leaves one isolated pod still meets
// the ingress chain of the pod it goes to.
//
// Every rule carries `comment "tern <digest> <policies>"`; the digest (of the rule's text)
// lets a read-back of the kernel's table be compared with the desired one without parsing
// nft's expression JSON (drift detection).
import { createHash } from 'node:crypto';
import { formatIp, parseIp, parseCidr, bitsOf, type Family } from '../../net/ip.js';
import type { DesiredEndpoint, DesiredRule, DesiredSet, DesiredState, PolicyError, PortMatch } from './model.js';

export interface RenderOptions {
  /** Table name in family inet; "tern" by default (tests use others). */
  table?: string;
}

export const DEFAULT_TABLE = 'tern';
export const FROM_MAP = 'ep-from';
export const TO_MAP = 'ep-to';
const BASE_CHAIN = 'forward';
const OWNER = 'tern-agentd network policy: do not edit';

/** Interface names that are safe as nft strings and inside chain names. */
const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const TABLE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
// NFT_USERDATA_MAXLEN allows 256 bytes of user data; a comment's TLV must fit in it.
const COMMENT_MAX = 120;

interface RRule {
  text: string;
  comment: string;
}
interface RChain {
  name: string;
  /** Base-chain declaration line, for hook chains only. */
  hook?: string;
  rules: RRule[];
}
interface RSet {
  name: string;
  type: string;
  interval: boolean;
  comment: string;
  elements: string[];
}
interface RMap {
  name: string;
  /** [interface, chain] sorted by interface. */
  elements: Array<[string, string]>;
}
/** The table as a structure: what the full script, the diff and the view are all made from. */
export interface RenderedTable {
  table: string;
  sets: RSet[];
  maps: RMap[];
  chains: RChain[];
  errors: PolicyError[];
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);
const clean = (s: string): string => s.replace(/["\\\n\r]/g, "'");

function comment(text: string, what: string): string {
  const c = clean(`tern ${digest(text)} ${what}`);
  return Buffer.byteLength(c) <= COMMENT_MAX ? c : Buffer.from(c).subarray(0, COMMENT_MAX).toString().replace(/\uFFFD$/, '');
}

function tableName(opts: RenderOptions): string {
  const t = opts.table ?? DEFAULT_TABLE;
  if (!TABLE_RE.test(t)) throw new Error(`invalid nftables table name "${t}"`);
  return t;
}

export const ingressChain = (iface: string): string => `to-${iface}`;
export const egressChain = (iface: string): string => `from-${iface}`;

function setType(s: DesiredSet): string {
  const addr = s.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return s.kind === 'addr-port' ? `${addr} . inet_service` : addr;
}

function portText(p: PortMatch, fam: Family | null): string[] {
  switch (p.kind) {
    case 'any':
      return [];
    case 'proto':
      return [`meta l4proto ${p.proto.toLowerCase()}`];
    case 'ports': {
      const items = p.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`));
      return [`meta l4proto ${p.proto.toLowerCase()}`, `th dport ${items.length === 1 ? items[0] : `{ ${items.join(', ')} }`}`];
    }
    case 'named': {
      const ip = fam === 6 ? 'ip6' : 'ip';
      return [`meta l4proto ${p.proto.toLowerCase()}`, `${ip} daddr . th dport @${fam === 6 ? p.v6 : p.v4}`];
    }
    default: {
      const never: never = p;
      throw new Error(`unknown port match ${JSON.stringify(never)}`);
    }
  }
}

/** One desired rule as nft rule texts: one for both families, or one per family when sets are involved. */
export function ruleTexts(r: DesiredRule, dir: 'ingress' | 'egress'): string[] {
  const addr = dir === 'ingress' ? 'saddr' : 'daddr';
  const verdict = dir === 'ingress' ? 'accept' : 'return';
  const perFamily = r.peer.kind === 'sets' || r.port.kind === 'named';
  const fams: Array<Family | null> = perFamily ? [4, 6] : [null];
  const out: string[] = [];
  for (const fam of fams) {
    const parts: string[] = [];
    if (r.peer.kind === 'sets') {
      const set = fam === 4 ? r.peer.v4 : r.peer.v6;
      if (!set) continue;
      parts.push(`${fam === 4 ? 'ip' : 'ip6'} ${addr} @${set}`);
    }
    parts.push(...portText(r.port, fam), verdict);
    out.push(parts.join(' '));
  }
  return out;
}

function endpointChains(e: DesiredEndpoint): RChain[] {
  const chains: RChain[] = [];
  const rules = (list: DesiredRule[], dir: 'ingress' | 'egress'): RRule[] => {
    const seen = new Set<string>();
    const out: RRule[] = [];
    for (const r of list) {
      for (const text of ruleTexts(r, dir)) {
        if (seen.has(text)) continue;
        seen.add(text);
        out.push({ text, comment: comment(text, r.policies.join(',')) });
      }
    }
    return out;
  };
  if (e.ingress !== null) {
    const head: RRule[] = [
      // The pod's own node (kubelet probes, host-network clients) is always let in.
      { text: 'ip saddr @node-4 accept', comment: comment('ip saddr @node-4 accept', 'from this node') },
      { text: 'ip6 saddr @node-6 accept', comment: comment('ip6 saddr @node-6 accept', 'from this node') },
    ];
    chains.push({
      name: ingressChain(e.iface),
      rules: [...head, ...rules(e.ingress, 'ingress'), { text: 'drop', comment: comment('drop', `ingress of ${e.endpoint} isolated`) }],
    });
  }
  if (e.egress !== null) {
    chains.push({
      name: egressChain(e.iface),
      rules: [...rules(e.egress, 'egress'), { text: 'drop', comment: comment('drop', `egress of ${e.endpoint} isolated`) }],
    });
  }
  return chains;
}

/** The table as a structure; endpoints whose interface name nft cannot carry are left out and reported. */
export function buildTable(state: DesiredState, opts: RenderOptions = {}): RenderedTable {
  const table = tableName(opts);
  const errors: PolicyError[] = [];
  const sets: RSet[] = state.sets.map((s) => ({ name: s.name, type: setType(s), interval: s.kind === 'interval', comment: clean(s.comment).slice(0, COMMENT_MAX), elements: s.elements }));
  const from: Array<[string, string]> = [];
  const to: Array<[string, string]> = [];
  const chains: RChain[] = [];
  for (const e of state.endpoints) {
    if (!IFACE_RE.test(e.iface)) {
      errors.push({ code: 'no-interface', endpoint: e.endpoint, message: `interface name ${JSON.stringify(e.iface)} cannot be used in nftables (want [A-Za-z0-9_.-], 1-15 characters)` });
      continue;
    }
    if (e.egress !== null) from.push([e.iface, egressChain(e.iface)]);
    if (e.ingress !== null) to.push([e.iface, ingressChain(e.iface)]);
    chains.push(...endpointChains(e));
  }
  chains.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const base = (text: string, what: string): RRule => ({ text, comment: comment(text, what) });
  chains.push({
    name: BASE_CHAIN,
    hook: 'type filter hook forward priority filter; policy accept;',
    rules: [
      // Replies of allowed connections (Kubernetes allows return traffic implicitly).
      base('ct state established,related accept', 'replies of allowed connections'),
      base(`iifname vmap @${FROM_MAP}`, 'egress of isolated pods'),
      base(`oifname vmap @${TO_MAP}`, 'ingress of isolated pods'),
    ],
  });
  return { table, sets, maps: [{ name: FROM_MAP, elements: from }, { name: TO_MAP, elements: to }], chains, errors };
}

const ELEMS_PER_LINE = 8;
const ELEMS_PER_COMMAND = 2000;

function elementBlock(elems: readonly string[], indent: string): string {
  const lines: string[] = [];
  for (let i = 0; i < elems.length; i += ELEMS_PER_LINE) lines.push(indent + elems.slice(i, i + ELEMS_PER_LINE).join(', '));
  return lines.join(',\n');
}

const mapElem = ([iface, chain]: [string, string]): string => `"${iface}" : jump ${chain}`;
const ruleLine = (r: RRule): string => `${r.text} comment "${r.comment}"`;

function setDecl(s: RSet): string[] {
  return [`type ${s.type}`, ...(s.interval ? ['flags interval'] : []), `comment "${s.comment}"`];
}

/**
 * The whole table for `nft -f`: create-if-missing, delete, define, in one transaction, so
 * the old table is replaced atomically (or left untouched when anything fails).
 */
export function renderFull(state: DesiredState, opts: RenderOptions = {}): { script: string; errors: PolicyError[] } {
  const t = buildTable(state, opts);
  return { script: scriptOf(t), errors: t.errors };
}

function scriptOf(t: RenderedTable): string {
  const out: string[] = [`table inet ${t.table} {}`, `delete table inet ${t.table}`, `table inet ${t.table} {`, `\tcomment "${OWNER}"`];
  for (const s of t.sets) {
    out.push(`\tset ${s.name} {`, ...setDecl(s).map((l) => `\t\t${l}`));
    if (s.elements.length) out.push(`\t\telements = {`, elementBlock(s.elements, '\t\t\t'), `\t\t}`);
    out.push(`\t}`);
  }
  for (const m of t.maps) {
    out.push(`\tmap ${m.name} {`, `\t\ttype ifname : verdict`, `\t\tcomment "${OWNER}"`);
    if (m.elements.length) out.push(`\t\telements = {`, elementBlock(m.elements.map(mapElem), '\t\t\t'), `\t\t}`);
    out.push(`\t}`);
  }
  for (const c of t.chains) {
    out.push(`\tchain ${c.name} {`);
    if (c.hook) out.push(`\t\t${c.hook}`);
    for (const r of c.rules) out.push(`\t\t${ruleLine(r)}`);
    out.push(`\t}`);
  }
  out.push('}', '');
  return out.join('\n');
}

/**
 * Elements of `prev` missing from `next` and the other way, each in its list's order. Set
 * elements are published sorted; then a merge walk finds them without two hash sets of every
 * element (a selector set of a few thousand pods, per pod change). Unsorted input: sets.
 */
export function elementDiff(prev: readonly string[], next: readonly string[]): { del: string[]; add: string[] } {
  const sorted = (xs: readonly string[]): boolean => {
    for (let i = 1; i < xs.length; i++) if (!(xs[i - 1]! < xs[i]!)) return false;
    return true;
  };
  if (!sorted(prev) || !sorted(next)) {
    const have = new Set(prev);
    const want = new Set(next);
    return { del: prev.filter((e) => !want.has(e)), add: next.filter((e) => !have.has(e)) };
  }
  const del: string[] = [];
  const add: string[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length && j < next.length) {
    const a = prev[i]!;
    const b = next[j]!;
    if (a === b) {
      i++;
      j++;
    } else if (a < b) {
      del.push(a);
      i++;
    } else {
      add.push(b);
      j++;
    }
  }
  while (i < prev.length) del.push(prev[i++]!);
  while (j < next.length) add.push(next[j++]!);
  return { del, add };
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const sameRules = (a: RChain, b: RChain): boolean =>
  a.hook === b.hook && a.rules.length === b.rules.length && a.rules.every((r, i) => r.text === b.rules[i]!.text && r.comment === b.rules[i]!.comment);

export interface DiffResult {
  /** The `nft -f` transaction; empty when nothing changed. */
  script: string;
  /** True when the change could not be expressed incrementally and script is a full replace. */
  full: boolean;
  errors: PolicyError[];
  /** What the transaction does, for logs and tests. */
  stats: { setsAdded: number; setsDeleted: number; elementsAdded: number; elementsDeleted: number; chainsAdded: number; chainsRefilled: number; chainsDeleted: number; mapAdds: number; mapDeletes: number };
}

/**
 * The smallest transaction taking a table holding `prev` to `next`, in dependency order:
 * new sets and set elements, new chains, refilled chains (flush + rules), verdict-map
 * changes, then removal of map elements, chains and sets nothing refers to any more.
 */
export function renderDiff(prev: DesiredState, next: DesiredState, opts: RenderOptions = {}): DiffResult {
  const P = buildTable(prev, opts);
  const N = buildTable(next, opts);
  const T = `inet ${N.table}`;
  const stats = { setsAdded: 0, setsDeleted: 0, elementsAdded: 0, elementsDeleted: 0, chainsAdded: 0, chainsRefilled: 0, chainsDeleted: 0, mapAdds: 0, mapDeletes: 0 };
  const fullResult = (): DiffResult => ({ script: scriptOf(N), full: true, errors: N.errors, stats });
  const out: string[] = [];

  const pSets = new Map(P.sets.map((s) => [s.name, s]));
  const nSets = new Map(N.sets.map((s) => [s.name, s]));
  for (const s of N.sets) {
    const p = pSets.get(s.name);
    let add = s.elements;
    if (!p) {
      out.push(`add set ${T} ${s.name} { ${setDecl(s).join('; ')}; }`);
      stats.setsAdded++;
    } else {
      // Set names are derived from what defines them, so a changed declaration means the
      // state did not come from this renderer: replace everything.
      if (p.type !== s.type || p.interval !== s.interval) return fullResult();
      const d = elementDiff(p.elements, s.elements);
      const del = d.del;
      add = d.add;
      // An interval set's elements are the ranges themselves; removing one must name it exactly,
      // which holds because content-named interval sets never change in place.
      for (const c of chunks(del, ELEMS_PER_COMMAND)) out.push(`delete element ${T} ${s.name} { ${c.join(', ')} }`);
      stats.elementsDeleted += del.length;
    }
    for (const c of chunks(add, ELEMS_PER_COMMAND)) out.push(`add element ${T} ${s.name} { ${c.join(', ')} }`);
    stats.elementsAdded += add.length;
  }

  const pChains = new Map(P.chains.map((c) => [c.name, c]));
  const nChains = new Map(N.chains.map((c) => [c.name, c]));
  for (const c of N.chains) {
    const p = pChains.get(c.name);
    if (p && sameRules(p, c)) continue;
    if (c.hook || p?.hook) return fullResult();
    if (!p) {
      out.push(`add chain ${T} ${c.name}`);
      stats.chainsAdded++;
    } else {
      out.push(`flush chain ${T} ${c.name}`);
      stats.chainsRefilled++;
    }
    for (const r of c.rules) out.push(`add rule ${T} ${c.name} ${ruleLine(r)}`);
  }

  const mapDeletes: string[] = [];
  for (const m of N.maps) {
    const pm = new Map(P.maps.find((x) => x.name === m.name)?.elements ?? []);
    const nm = new Map(m.elements);
    const del = [...pm].filter(([k, v]) => nm.get(k) !== v).map(([k]) => `"${k}"`);
    const add = m.elements.filter(([k, v]) => pm.get(k) !== v);
    // A changed target is a delete then an add of the same key.
    const changed = new Set(add.filter(([k]) => pm.has(k)).map(([k]) => `"${k}"`));
    for (const c of chunks(del.filter((k) => changed.has(k)), ELEMS_PER_COMMAND)) out.push(`delete element ${T} ${m.name} { ${c.join(', ')} }`);
    for (const c of chunks(add, ELEMS_PER_COMMAND)) out.push(`add element ${T} ${m.name} { ${c.map(mapElem).join(', ')} }`);
    for (const c of chunks(del.filter((k) => !changed.has(k)), ELEMS_PER_COMMAND)) mapDeletes.push(`delete element ${T} ${m.name} { ${c.join(', ')} }`);
    stats.mapAdds += add.length;
    stats.mapDeletes += del.length;
  }
  out.push(...mapDeletes);

  for (const c of P.chains) {
    if (nChains.has(c.name)) continue;
    if (c.hook) return fullResult();
    out.push(`flush chain ${T} ${c.name}`, `delete chain ${T} ${c.name}`);
    stats.chainsDeleted++;
  }
  for (const s of P.sets) {
    if (nSets.has(s.name)) continue;
    out.push(`delete set ${T} ${s.name}`);
    stats.setsDeleted++;
  }
  return { script: out.length ? `${out.join('\n')}\n` : '', full: false, errors: N.errors, stats };
}

// ---------------------------------------------------------------------------------------
// Views: a normal form of the table for comparing the kernel's copy with the desired one.

export interface TableView {
  /** name → "type|flags" and normalised elements. */
  sets: Record<string, { decl: string; elements: string[] }>;
  /** map name → interface → "jump chain". */
  maps: Record<string, Record<string, string>>;
  /** chain name → ["hook ..." for base chains, then each rule's comment]. */
  chains: Record<string, string[]>;
}

type Iv = [bigint, bigint];

function mergeIvs(ivs: Iv[]): Iv[] {
  const s = [...ivs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Iv[] = [];
  for (const [lo, hi] of s) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) { if (hi > last[1]) last[1] = hi; } else out.push([lo, hi]);
  }
  return out;
}

function ivOfText(e: string): [Family, Iv] {
  if (e.includes('/')) {
    const c = parseCidr(e, { strict: false });
    return [c.family, [c.base, c.base + (1n << BigInt(bitsOf(c.family) - c.prefixLen)) - 1n]];
  }
  if (e.includes('-')) {
    const [a, b] = e.split('-').map((x) => parseIp(x.trim()));
    return [a!.family, [a!.value, b!.value]];
  }
  const ip = parseIp(e);
  return [ip.family, [ip.value, ip.value]];
}

function normIntervals(elems: readonly string[]): string[] {
  let fam: Family = 4;
  const ivs: Iv[] = [];
  for (const e of elems) {
    const [f, iv] = ivOfText(e);
    fam = f;
    ivs.push(iv);
  }
  return mergeIvs(ivs).map(([lo, hi]) => `${formatIp({ family: fam, value: lo })}-${formatIp({ family: fam, value: hi })}`);
}

const canonIp = (s: string): string => formatIp(parseIp(s));
function normPlain(e: string): string {
  const parts = e.split(' . ');
  return parts.length === 2 ? `${canonIp(parts[0]!)} . ${Number(parts[1])}` : canonIp(e);
}

export function viewOf(t: RenderedTable): TableView {
  const v: TableView = { sets: {}, maps: {}, chains: {} };
  for (const s of t.sets) {
    v.sets[s.name] = { decl: `${s.type}|${s.interval ? 'interval' : ''}`, elements: s.interval ? normIntervals(s.elements) : s.elements.map(normPlain).sort() };
  }
  for (const m of t.maps) v.maps[m.name] = Object.fromEntries(m.elements.map(([k, c]) => [k, `jump ${c}`]));
  for (const c of t.chains) v.chains[c.name] = [...(c.hook ? ['hook forward 0 accept'] : []), ...c.rules.map((r) => r.comment)];
  return v;
}

export function desiredView(state: DesiredState, opts: RenderOptions = {}): TableView {
  return viewOf(buildTable(state, opts));
}

interface NftJsonObj {
  [k: string]: unknown;
}

function jsonElemText(e: unknown): string {
  if (typeof e === 'string' || typeof e === 'number') return String(e);
  const o = e as NftJsonObj;
  if (o.elem) return jsonElemText((o.elem as NftJsonObj).val);
  if (o.prefix) {
    const p = o.prefix as { addr: string; len: number };
    return `${p.addr}/${p.len}`;
  }
  if (o.range) {
    const [a, b] = o.range as [unknown, unknown];
    return `${jsonElemText(a)}-${jsonElemText(b)}`;
  }
  if (o.concat) return (o.concat as unknown[]).map(jsonElemText).join(' . ');
  return JSON.stringify(e);
}

/** The view of `nft -j list table inet <table>` output (parsed JSON). */
export function viewFromJson(json: unknown, table: string): TableView {
  const v: TableView = { sets: {}, maps: {}, chains: {} };
  const items = ((json as { nftables?: unknown[] }).nftables ?? []) as NftJsonObj[];
  for (const it of items) {
    if (it.set) {
      const s = it.set as { name: string; table: string; type: string | string[]; flags?: string[]; elem?: unknown[] };
      if (s.table !== table) continue;
      const type = Array.isArray(s.type) ? s.type.join(' . ') : s.type;
      const interval = (s.flags ?? []).includes('interval');
      const elems = (s.elem ?? []).map(jsonElemText);
      let elements: string[];
      try {
        elements = interval ? normIntervals(elems) : elems.map(normPlain).sort();
      } catch {
        elements = elems.sort();
      }
      v.sets[s.name] = { decl: `${type}|${interval ? 'interval' : ''}`, elements };
    } else if (it.map) {
      const m = it.map as { name: string; table: string; elem?: Array<[unknown, unknown]> };
      if (m.table !== table) continue;
      const out: Record<string, string> = {};
      for (const [k, val] of m.elem ?? []) {
        const vo = val as NftJsonObj;
        const verdict = Object.keys(vo)[0] ?? '?';
        const target = (vo[verdict] as { target?: string } | null)?.target;
        out[jsonElemText(k)] = target ? `${verdict} ${target}` : verdict;
      }
      v.maps[m.name] = out;
    } else if (it.chain) {
      const c = it.chain as { name: string; table: string; hook?: string; prio?: number; policy?: string };
      if (c.table !== table) continue;
      v.chains[c.name] = c.hook ? [`hook ${c.hook} ${c.prio ?? 0} ${c.policy ?? 'accept'}`] : [];
    } else if (it.rule) {
      const r = it.rule as { chain: string; table: string; comment?: string };
      if (r.table !== table) continue;
      (v.chains[r.chain] ??= []).push(r.comment ?? '(rule without comment)');
    }
  }
  return v;
}

/** Human-readable differences between two views; empty when they agree. */
export function compareViews(actual: TableView, desired: TableView): string[] {
  const out: string[] = [];
  const keys = (a: object, b: object): string[] => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys(actual.sets, desired.sets)) {
    const a = actual.sets[k];
    const d = desired.sets[k];
    if (!a) out.push(`set ${k}: missing`);
    else if (!d) out.push(`set ${k}: not desired`);
    else if (a.decl !== d.decl) out.push(`set ${k}: declared ${a.decl}, want ${d.decl}`);
    else {
      const as = new Set(a.elements);
      const ds = new Set(d.elements);
      const extra = a.elements.filter((e) => !ds.has(e));
      const missing = d.elements.filter((e) => !as.has(e));
      if (extra.length || missing.length) out.push(`set ${k}: ${missing.length} elements missing, ${extra.length} extra`);
    }
  }
  for (const k of keys(actual.maps, desired.maps)) {
    const a = actual.maps[k] ?? {};
    const d = desired.maps[k] ?? {};
    if (!actual.maps[k]) { out.push(`map ${k}: missing`); continue; }
    if (!desired.maps[k]) { out.push(`map ${k}: not desired`); continue; }
    for (const e of keys(a, d)) if (a[e] !== d[e]) out.push(`map ${k}: ${e} → ${a[e] ?? '(none)'}, want ${d[e] ?? '(none)'}`);
  }
  for (const k of keys(actual.chains, desired.chains)) {
    const a = actual.chains[k];
    const d = desired.chains[k];
    if (!a) out.push(`chain ${k}: missing`);
    else if (!d) out.push(`chain ${k}: not desired`);
    else if (a.length !== d.length || a.some((x, i) => x !== d[i])) out.push(`chain ${k}: rules differ`);
  }
  return out;
}

/** Rule count of a rendered table (endpoint chains plus the base chain). */
export function ruleCount(t: RenderedTable): number {
  return t.chains.reduce((n, c) => n + c.rules.length, 0);
}
