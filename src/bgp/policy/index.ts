// Routing policy: named policies of ordered terms, each a match and a set of actions, as BIRD
// filters and GoBGP policy definitions. Parsed from a plain (YAML/JSON-shaped) object with a zod
// schema, compiled once, evaluated against a read-only view of a route. The RIB owns applying the
// resulting edits to attributes; this module knows nothing of wire bytes.
import { z } from 'zod';
import { isIPv4, isIPv6 } from 'node:net';
import { formatIssues } from '../../config/index.js';
import { TernError } from '../../errors/index.js';
import { parseIp } from '../../net/ip.js';

// ---- the schema ----

const WELL_KNOWN: Record<string, number> = {
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NO_PEER: 0xffffff04,
  BLACKHOLE: 0xffff029a,
  GRACEFUL_SHUTDOWN: 0xffff0000,
};

const u16 = (s: string): number | null => (/^\d{1,5}$/.test(s) && Number(s) <= 0xffff ? Number(s) : null);
const u32 = (s: string): number | null => (/^\d{1,10}$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : null);

/** 'a:b' (RFC 1997) or a well-known name such as NO_EXPORT; null when malformed. */
export function parseCommunity(s: string): number | null {
  const wk = WELL_KNOWN[s.toUpperCase()];
  if (wk !== undefined) return wk;
  const parts = s.split(':');
  if (parts.length !== 2) return null;
  const hi = u16(parts[0]!);
  const lo = u16(parts[1]!);
  return hi === null || lo === null ? null : hi * 65536 + lo;
}

export interface LargeCommunityValue {
  global: number;
  local1: number;
  local2: number;
}

/** 'g:l1:l2' (RFC 8092); null when malformed. */
export function parseLargeCommunity(s: string): LargeCommunityValue | null {
  const parts = s.split(':');
  if (parts.length !== 3) return null;
  const [g, a, b] = parts.map(u32);
  return g == null || a == null || b == null ? null : { global: g, local1: a, local2: b };
}

const Community = z.string().refine((s) => parseCommunity(s) !== null, { message: 'not a community: use "asn:value" (16 bits each) or NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED, NO_PEER, BLACKHOLE, GRACEFUL_SHUTDOWN' });
const LargeCommunity = z.string().refine((s) => parseLargeCommunity(s) !== null, { message: 'not a large community: use "global:local1:local2" (32 bits each)' });
const Asn = z.number().int().min(0).max(0xffffffff);

const PrefixEntry = z
  .object({
    prefix: z.string(),
    ge: z.number().int().min(0).max(128).optional(),
    le: z.number().int().min(0).max(128).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const slash = e.prefix.indexOf('/');
    const ip = slash < 0 ? '' : e.prefix.slice(0, slash);
    const len = Number(e.prefix.slice(slash + 1));
    const width = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : 0;
    if (width === 0 || !/^\d{1,3}$/.test(e.prefix.slice(slash + 1)) || len > width) {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: `"${e.prefix}" is not an IPv4 or IPv6 prefix (address/length)` });
      return;
    }
    // Cisco/BIRD prefix-list rule: len <= ge <= le <= width.
    const ge = e.ge ?? len;
    const le = e.le ?? (e.ge !== undefined ? width : len);
    if (e.ge !== undefined && (e.ge < len || e.ge > width))
      ctx.addIssue({ code: 'custom', path: ['ge'], message: `ge ${e.ge} must be between the prefix length ${len} and ${width}` });
    if (e.le !== undefined && (e.le < len || e.le > width))
      ctx.addIssue({ code: 'custom', path: ['le'], message: `le ${e.le} must be between the prefix length ${len} and ${width}` });
    if (ge > le) ctx.addIssue({ code: 'custom', path: ['le'], message: `le ${le} is below ge ${ge}` });
  });

const CommunityMatch = z
  .object({ any: z.array(Community).min(1).optional(), all: z.array(Community).min(1).optional() })
  .strict()
  .refine((m) => m.any !== undefined || m.all !== undefined, { message: 'give "any" or "all"' });
const LargeCommunityMatch = z
  .object({ any: z.array(LargeCommunity).min(1).optional(), all: z.array(LargeCommunity).min(1).optional() })
  .strict()
  .refine((m) => m.any !== undefined || m.all !== undefined, { message: 'give "any" or "all"' });

const Match = z
  .object({
    family: z.enum(['ipv4', 'ipv6']).optional(),
    prefixes: z.array(PrefixEntry).min(1).optional(),
    community: CommunityMatch.optional(),
    largeCommunity: LargeCommunityMatch.optional(),
    /** Any of these ASNs anywhere in AS_PATH. */
    asPathContains: z.array(Asn).min(1).optional(),
    /** The neighbouring AS (first AS of AS_PATH) is one of these. */
    neighborAs: z.array(Asn).min(1).optional(),
  })
  .strict();

const CommunityEdit = z
  .object({ set: z.array(Community).optional(), add: z.array(Community).optional(), remove: z.array(Community).optional() })
  .strict();
const LargeCommunityEdit = z
  .object({ set: z.array(LargeCommunity).optional(), add: z.array(LargeCommunity).optional(), remove: z.array(LargeCommunity).optional() })
  .strict();

const Then = z
  .object({
    localPref: z.number().int().min(0).max(0xffffffff).optional(),
    med: z.number().int().min(0).max(0xffffffff).optional(),
    communities: CommunityEdit.optional(),
    largeCommunities: LargeCommunityEdit.optional(),
    /** Prepend `as` (default: the session's local AS) `times` times. */
    prepend: z.object({ times: z.number().int().min(1).max(32), as: Asn.optional() }).strict().optional(),
    nextHop: z
      .string()
      // "unchanged" (GoBGP's set-next-hop unchanged, BIRD's `next hop keep`): a reflector that
      // forwards no traffic passes the originating node's address on, even to eBGP peers on
      // the same subnet (RFC 4271 §5.1.3 (2), third-party next hop).
      .refine((s) => s === 'self' || s === 'unchanged' || isIPv4(s) || isIPv6(s), { message: 'must be "self" or an IP address (or "unchanged")' })
      .optional(),
    /** Terminal decision; absent means "go on with the next term". */
    action: z.enum(['accept', 'reject']).optional(),
  })
  .strict();

const Term = z.object({ name: z.string().optional(), match: Match.default({}), then: Then.default({}) }).strict();

export const PolicySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only'),
    terms: z.array(Term).default([]),
    default: z.enum(['accept', 'reject']).default('reject'),
  })
  .strict();

export const PoliciesSchema = z.array(PolicySchema).superRefine((ps, ctx) => {
  const seen = new Set<string>();
  ps.forEach((p, i) => {
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `policy "${p.name}" is defined twice` });
    seen.add(p.name);
  });
});

export type PolicyConfig = z.infer<typeof PolicySchema>;

// ---- the route a policy looks at ----

/** The prefix of a route: IPv4 as an unsigned 32-bit number, IPv6 as a bigint. */
export type PolicyPrefix = { family: 4; addr: number; len: number } | { family: 6; addr: bigint; len: number };

/** What a policy reads. `prefix` is null when the caller evaluates per attribute set (see `matchesPrefix`). */
export interface RouteFacts {
  readonly family: 4 | 6;
  readonly prefix: PolicyPrefix | null;
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunityValue[];
  /** Every ASN of AS_PATH in order (sets flattened). */
  readonly asPath: readonly number[];
  readonly neighborAs: number;
}

/** What the policies changed; absent fields are unchanged. Communities are the final lists. */
export interface PolicyEdits {
  localPref?: number;
  med?: number;
  communities?: number[];
  largeCommunities?: LargeCommunityValue[];
  /** ASNs to put in front of AS_PATH, leftmost first; null stands for the session's local AS. */
  prepend?: (number | null)[];
  nextHop?: string;
}

export interface PolicyResult {
  accept: boolean;
  /** null when nothing was changed. */
  edits: PolicyEdits | null;
}

// ---- compiled form ----

interface V4Entry { addr: number; len: number; ge: number; le: number }
interface V6Entry { addr: bigint; len: number; ge: number; le: number }

interface CompiledTerm {
  family: 4 | 6 | null;
  v4: V4Entry[] | null;
  v6: V6Entry[] | null;
  commAny: number[] | null;
  commAll: number[] | null;
  lcAny: LargeCommunityValue[] | null;
  lcAll: LargeCommunityValue[] | null;
  asPathContains: number[] | null;
  neighborAs: number[] | null;
  then: {
    localPref?: number;
    med?: number;
    commSet?: number[];
    commAdd?: number[];
    commRemove?: number[];
    lcSet?: LargeCommunityValue[];
    lcAdd?: LargeCommunityValue[];
    lcRemove?: LargeCommunityValue[];
    prepend?: { times: number; as: number | null };
    nextHop?: string;
    action?: 'accept' | 'reject';
  };
}

const mask4 = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const mask6 = (len: number): bigint => (len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n));
const lcEq = (a: LargeCommunityValue, b: LargeCommunityValue): boolean => a.global === b.global && a.local1 === b.local1 && a.local2 === b.local2;

export class Policy {
  readonly name: string;
  /** True when some term matches on the prefix: results cannot be cached per attribute set. */
  readonly matchesPrefix: boolean;
  private readonly terms: CompiledTerm[];
  private readonly defaultAccept: boolean;

  constructor(cfg: PolicyConfig) {
    this.name = cfg.name;
    this.defaultAccept = cfg.default === 'accept';
    this.terms = cfg.terms.map(compileTerm);
    this.matchesPrefix = this.terms.some((t) => t.v4 !== null || t.v6 !== null);
  }

  /**
   * Runs the terms in order on `facts`, accumulating edits into `edits`. A term whose match holds
   * applies its changes; its action (if any) ends the evaluation. Returns accept/reject.
   */
  evaluate(facts: RouteFacts, edits: PolicyEdits): boolean {
    for (const t of this.terms) {
      if (!termMatches(t, facts, edits)) continue;
      applyThen(t, facts, edits);
      if (t.then.action !== undefined) return t.then.action === 'accept';
    }
    return this.defaultAccept;
  }
}

function compileTerm(t: z.infer<typeof Term>): CompiledTerm {
  const m = t.match;
  let v4: V4Entry[] | null = null;
  let v6: V6Entry[] | null = null;
  for (const e of m.prefixes ?? []) {
    const [ip, l] = e.prefix.split('/') as [string, string];
    const len = Number(l);
    const parsed = parseIp(ip);
    const width = parsed.family === 4 ? 32 : 128;
    const ge = e.ge ?? len;
    const le = e.le ?? (e.ge !== undefined ? width : len);
    if (parsed.family === 4) (v4 ??= []).push({ addr: (Number(parsed.value) & mask4(len)) >>> 0, len, ge, le });
    else (v6 ??= []).push({ addr: parsed.value & mask6(len), len, ge, le });
  }
  // A term listing only prefixes of one family never matches the other.
  if (m.prefixes !== undefined) {
    v4 ??= [];
    v6 ??= [];
  }
  const comms = (xs: string[] | undefined): number[] | undefined => xs?.map((s) => parseCommunity(s)!);
  const lcs = (xs: string[] | undefined): LargeCommunityValue[] | undefined => xs?.map((s) => parseLargeCommunity(s)!);
  const th = t.then;
  const then: CompiledTerm['then'] = {};
  if (th.localPref !== undefined) then.localPref = th.localPref;
  if (th.med !== undefined) then.med = th.med;
  if (th.communities?.set) then.commSet = comms(th.communities.set)!;
  if (th.communities?.add) then.commAdd = comms(th.communities.add)!;
  if (th.communities?.remove) then.commRemove = comms(th.communities.remove)!;
  if (th.largeCommunities?.set) then.lcSet = lcs(th.largeCommunities.set)!;
  if (th.largeCommunities?.add) then.lcAdd = lcs(th.largeCommunities.add)!;
  if (th.largeCommunities?.remove) then.lcRemove = lcs(th.largeCommunities.remove)!;
  if (th.prepend) then.prepend = { times: th.prepend.times, as: th.prepend.as ?? null };
  if (th.nextHop !== undefined) then.nextHop = th.nextHop;
  if (th.action !== undefined) then.action = th.action;
  return {
    family: m.family === 'ipv4' ? 4 : m.family === 'ipv6' ? 6 : null,
    v4,
    v6,
    commAny: comms(m.community?.any) ?? null,
    commAll: comms(m.community?.all) ?? null,
    lcAny: lcs(m.largeCommunity?.any) ?? null,
    lcAll: lcs(m.largeCommunity?.all) ?? null,
    asPathContains: m.asPathContains ?? null,
    neighborAs: m.neighborAs ?? null,
    then,
  };
}

function prefixMatches(t: CompiledTerm, p: PolicyPrefix | null): boolean {
  if (t.v4 === null && t.v6 === null) return true;
  if (p === null) throw new Error('policy matches on prefixes but was evaluated without one');
  if (p.family === 4) {
    for (const e of t.v4!) if (p.len >= e.ge && p.len <= e.le && ((p.addr & mask4(e.len)) >>> 0) === e.addr) return true;
    return false;
  }
  for (const e of t.v6!) if (p.len >= e.ge && p.len <= e.le && (p.addr & mask6(e.len)) === e.addr) return true;
  return false;
}

function termMatches(t: CompiledTerm, f: RouteFacts, edits: PolicyEdits): boolean {
  if (t.family !== null && t.family !== f.family) return false;
  if (!prefixMatches(t, f.prefix)) return false;
  // Later terms see the communities earlier terms changed (BIRD's sequential filter semantics).
  const comms = edits.communities ?? f.communities;
  if (t.commAny && !t.commAny.some((c) => comms.includes(c))) return false;
  if (t.commAll && !t.commAll.every((c) => comms.includes(c))) return false;
  const lcs = edits.largeCommunities ?? f.largeCommunities;
  if (t.lcAny && !t.lcAny.some((c) => lcs.some((x) => lcEq(x, c)))) return false;
  if (t.lcAll && !t.lcAll.every((c) => lcs.some((x) => lcEq(x, c)))) return false;
  if (t.asPathContains && !t.asPathContains.some((a) => f.asPath.includes(a))) return false;
  if (t.neighborAs && !t.neighborAs.includes(f.neighborAs)) return false;
  return true;
}

function applyThen(t: CompiledTerm, f: RouteFacts, edits: PolicyEdits): void {
  const th = t.then;
  if (th.localPref !== undefined) edits.localPref = th.localPref;
  if (th.med !== undefined) edits.med = th.med;
  if (th.commSet || th.commAdd || th.commRemove) {
    let c = th.commSet ? [...th.commSet] : [...(edits.communities ?? f.communities)];
    if (th.commRemove) c = c.filter((x) => !th.commRemove!.includes(x));
    for (const a of th.commAdd ?? []) if (!c.includes(a)) c.push(a);
    edits.communities = c;
  }
  if (th.lcSet || th.lcAdd || th.lcRemove) {
    let c = th.lcSet ? [...th.lcSet] : [...(edits.largeCommunities ?? f.largeCommunities)];
    if (th.lcRemove) c = c.filter((x) => !th.lcRemove!.some((r) => lcEq(r, x)));
    for (const a of th.lcAdd ?? []) if (!c.some((x) => lcEq(x, a))) c.push(a);
    edits.largeCommunities = c;
  }
  if (th.prepend) {
    const add = new Array<number | null>(th.prepend.times).fill(th.prepend.as);
    edits.prepend = [...add, ...(edits.prepend ?? [])];
  }
  if (th.nextHop !== undefined) edits.nextHop = th.nextHop;
}

/** A chain of policies applied in order: every one must accept; edits accumulate. */
export class PolicyChain {
  readonly key: string;
  readonly matchesPrefix: boolean;
  constructor(readonly policies: readonly Policy[]) {
    this.key = policies.map((p) => p.name).join('\u0000');
    this.matchesPrefix = policies.some((p) => p.matchesPrefix);
  }

  evaluate(facts: RouteFacts): PolicyResult {
    const edits: PolicyEdits = {};
    for (const p of this.policies) if (!p.evaluate(facts, edits)) return { accept: false, edits: null };
    return { accept: true, edits: Object.keys(edits).length === 0 ? null : edits };
  }
}

/** Policies by name. Unknown names are an error the caller reports (the RIB rejects everything then). */
export class PolicyTable {
  private readonly byName = new Map<string, Policy>();
  private readonly chains = new Map<string, PolicyChain>();

  constructor(policies: readonly PolicyConfig[] = []) {
    for (const p of policies) this.byName.set(p.name, new Policy(p));
  }

  get(name: string): Policy | undefined {
    return this.byName.get(name);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The chain for these names (cached); throws TernError naming the first unknown policy. */
  chain(names: readonly string[]): PolicyChain {
    const key = names.join('\u0000');
    let c = this.chains.get(key);
    if (c === undefined) {
      const ps = names.map((n) => {
        const p = this.byName.get(n);
        if (p === undefined) throw new TernError('TERN_ERR_CONFIG', `unknown policy "${n}"`, { field: 'policies' });
        return p;
      });
      c = new PolicyChain(ps);
      this.chains.set(key, c);
    }
    return c;
  }
}

/**
 * Validates a `policies:` list (as it appears in YAML) and compiles it. Throws TernError
 * TERN_ERR_CONFIG with one line per problem, each naming the field (`policies: [0].terms[1].match.prefixes[0].le: ...`).
 */
export function parsePolicies(input: unknown, source = 'policies'): PolicyTable {
  const r = PoliciesSchema.safeParse(input);
  if (!r.success) throw new TernError('TERN_ERR_CONFIG', formatIssues(source, r.error));
  return new PolicyTable(r.data);
}
