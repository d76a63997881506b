// The one writer of the proxy's nftables tables (the main table and its shards, render.ts).
// apply() takes a desired state and brings the kernel to it in one nft transaction (through
// the namespace's persistent runner, src/agent/nft; one transaction may span tables): a full
// atomic replace of every proxy table the first time (or after a refused transaction),
// otherwise only what the changed services need, which for one service is its shard and at
// most the main table's plain sets. Then stale UDP conntrack entries are deleted. check()
// reads the tables back and compares them with what was applied (drift); the agent calls it
// periodically and replaces the tables when they differ.
import { TernError } from '../../errors/index.js';
import { logger } from '../../log/index.js';
import { nftApply, nftListTable, runNft, type NftTarget } from '../policy/nft.js';
import { NewestWins } from '../nft/newest-wins.js';
import { runConntrack, staleUdp, type ConntrackFlush } from './conntrack.js';
import type { ProxyError, ProxyState, ServiceModel } from './model.js';
import { isProxyTable, ProxyTable, sharedContainers, type DiffStats, type ProxyRenderOptions } from './render.js';

const SHARED = new Set(sharedContainers().map(([n]) => n));

const log = logger('proxy');

export interface ProxyDataplaneOptions extends NftTarget, ProxyRenderOptions {
  /** Path of the conntrack tool; false: never flush (entries then age out on their own). */
  conntrack?: string | false;
  /** Wait this long after the first of a burst of apply() calls before applying; 0 (default): apply at once, coalesce only what arrives meanwhile. */
  coalesceMs?: number;
}

export interface ProxyApplyReport {
  mode: 'full' | 'incremental' | 'noop';
  reason?: 'first' | 'incremental-failed' | 'base-changed' | 'forced';
  stats: DiffStats;
  scriptBytes: number;
  /** Conntrack deletions run (and how many entries they removed). */
  conntrack: { runs: number; deleted: number; failed: number };
  errors: ProxyError[];
  /** Wall time of the nft transaction(s), ms. */
  nftMs?: number;
  /** Tables the transaction wrote (an endpoint change: one shard, at most plus the main table). */
  tables: string[];
  /** apply() calls this one transaction answered, when more than one (a burst coalesced). */
  coalesced?: number;
}

export class ProxyDataplane {
  readonly table: string;
  private readonly target: NftTarget;
  private readonly conntrack: string | false;
  private readonly queue: NewestWins<{ state: ProxyState; full: boolean }, ProxyApplyReport>;
  private plan: ProxyTable;
  private applied: ReadonlyMap<string, ServiceModel> | undefined;
  private warnedMissing = false;
  /** The last transaction sent to nft (for inspection and tests). */
  lastScript = '';

  constructor(opts: ProxyDataplaneOptions = {}) {
    this.plan = new ProxyTable(opts);
    this.table = this.plan.opts.table;
    this.target = { ...(opts.netns ? { netns: opts.netns } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
    this.conntrack = opts.conntrack ?? 'conntrack';
    this.queue = new NewestWins((job) => this.applyNow(job.state, { full: job.full }), {
      // A full resync asked for by any call of a burst is kept.
      merge: (queued, next) => ({ state: next.state, full: queued.full || next.full }),
      delayMs: opts.coalesceMs ?? 0,
    });
    this.opts = opts;
  }
  private readonly opts: ProxyDataplaneOptions;

  /** The main table and every shard table. */
  get tables(): string[] {
    return this.plan.tables;
  }

  /** The shard table holding a service's chains (`ns/name`). */
  tableOf(serviceKey: string): string {
    return this.plan.tableOf(serviceKey);
  }

  get current(): ReadonlyMap<string, ServiceModel> | undefined {
    return this.applied;
  }

  /**
   * Brings the kernel to `state`. Calls are serialised; calls that arrive while one runs are
   * coalesced: only the newest state is applied (each is a whole desired state, so the ones
   * in between need not reach the kernel) and every waiting caller gets that report.
   */
  apply(state: ProxyState, opts: { full?: boolean } = {}): Promise<ProxyApplyReport> {
    return this.queue.submit({ state, full: opts.full === true });
  }

  private async applyNow(state: ProxyState, opts: { full?: boolean } = {}): Promise<ProxyApplyReport> {
    const errors = [...state.services.values()].flatMap((s) => s.errors);
    const flushes = this.staleEntries(state);
    let report: ProxyApplyReport;
    if (this.applied === undefined || opts.full) {
      report = await this.full(state, this.applied === undefined ? 'first' : 'forced', errors);
    } else {
      const p = this.plan.next(state);
      if (p.script === '') {
        this.applied = state.services;
        report = { mode: 'noop', stats: p.stats, scriptBytes: 0, conntrack: { runs: 0, deleted: 0, failed: 0 }, errors, tables: [] };
      } else {
        this.lastScript = p.script;
        const t0 = performance.now();
        const r = await nftApply(p.script, this.target);
        const nftMs = performance.now() - t0;
        if (r.ok) {
          this.applied = state.services;
          report = { mode: p.full ? 'full' : 'incremental', ...(p.full ? { reason: 'base-changed' as const } : {}), stats: p.stats, scriptBytes: p.script.length, conntrack: { runs: 0, deleted: 0, failed: 0 }, errors, nftMs, tables: p.tables };
        } else {
          log.warn({ table: this.table, err: r.stderr.trim().split('\n').slice(0, 4).join(' | ') }, 'incremental nft transaction refused; replacing the table');
          report = await this.full(state, 'incremental-failed', errors);
        }
      }
    }
    report.conntrack = await this.flush(flushes);
    return report;
  }

  private async full(state: ProxyState, reason: ProxyApplyReport['reason'], errors: ProxyError[]): Promise<ProxyApplyReport> {
    this.plan = new ProxyTable(this.opts);
    // Shards left by a larger shard count (configuration changed) go in the same transaction.
    const p = this.plan.full(state, { stale: await this.ownTables() });
    this.lastScript = p.script;
    const t0 = performance.now();
    const r = await nftApply(p.script, this.target);
    const nftMs = performance.now() - t0;
    if (!r.ok) {
      this.applied = undefined;
      throw new TernError('TERN_ERR_PROXY', `nft refused the ruleset for tables inet ${this.table}[-0..${this.plan.opts.shards - 1}]: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
    }
    this.applied = state.services;
    return { mode: 'full', reason, stats: p.stats, scriptBytes: p.script.length, conntrack: { runs: 0, deleted: 0, failed: 0 }, errors, nftMs, tables: p.tables };
  }

  /** Tables in the kernel that are this proxy's: the main one and `<main>-<n>` for any n. */
  private async ownTables(): Promise<string[]> {
    const r = await runNft(['-j', 'list', 'tables', 'inet'], undefined, this.target);
    if (!r.ok) throw new TernError('TERN_ERR_PROXY', `nft list tables failed: ${r.stderr.trim()}`);
    const json = JSON.parse(r.stdout) as { nftables: Array<{ table?: { name?: unknown } }> };
    return json.nftables.map((o) => String(o.table?.name ?? '')).filter((n) => isProxyTable(this.table, n));
  }

  private staleEntries(state: ProxyState): ConntrackFlush[] {
    const prev = this.applied;
    if (!prev || this.conntrack === false) return [];
    const out: ConntrackFlush[] = [];
    for (const [k, m] of state.services) if (prev.get(k) !== m) out.push(...staleUdp(prev.get(k), m));
    for (const [k, m] of prev) if (!state.services.has(k)) out.push(...staleUdp(m, undefined));
    return out;
  }

  private async flush(list: ConntrackFlush[]): Promise<ProxyApplyReport['conntrack']> {
    const res = { runs: 0, deleted: 0, failed: 0 };
    if (this.conntrack === false || list.length === 0) return res;
    const tool = this.conntrack;
    let i = 0;
    const worker = async () => {
      while (i < list.length) {
        const f = list[i++]!;
        const r = await runConntrack(f, { tool, ...(this.target.netns ? { netns: this.target.netns } : {}) });
        res.runs++;
        res.deleted += r.deleted;
        if (r.missing) {
          res.failed++;
          if (!this.warnedMissing) log.warn({ tool }, 'conntrack tool not found: stale UDP conntrack entries are not flushed (install the conntrack package)');
          this.warnedMissing = true;
        } else if (!r.ok) {
          res.failed++;
          log.warn({ flush: f, err: r.stderr.trim() }, 'conntrack -D failed');
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return res;
  }

  /** Differences between the kernel's tables and the last applied state ([] = in sync). */
  async check(): Promise<string[]> {
    if (!this.applied) return ['nothing applied yet'];
    const want = this.plan.expected();
    const out: string[] = [];
    // One read per table: `nft list table` dumps only that table, and each is a fraction of the whole.
    const listed = await Promise.all([...want.keys()].map(async (t) => [t, await nftListTable(t, this.target)] as const));
    for (const [table, got] of listed) {
      const json = got as { nftables: Array<Record<string, Record<string, unknown>>> } | null;
      if (!json) {
        out.push(`table ${table} missing`);
        continue;
      }
      const w = want.get(table)!;
      const chains = new Map<string, number>();
      const elements = new Map<string, number>();
      const sets = new Set<string>();
      for (const o of json.nftables) {
        if (o.chain) chains.set(String(o.chain.name), 0);
        else if (o.rule) chains.set(String(o.rule.chain), (chains.get(String(o.rule.chain)) ?? 0) + 1);
        else if (o.map || o.set) {
          const s = (o.map ?? o.set)!;
          const name = String(s.name);
          if (SHARED.has(name)) elements.set(name, Array.isArray(s.elem) ? s.elem.length : 0);
          else if (name.startsWith('aff-')) sets.add(name);
        }
      }
      const where = table === this.table ? '' : ` in ${table}`;
      for (const [c, n] of w.chains) {
        const have = chains.get(c);
        if (have === undefined) out.push(`chain ${c}${where} missing`);
        else if (have !== n) out.push(`chain ${c}${where}: ${have} rules, want ${n}`);
      }
      for (const c of chains.keys()) if (!w.chains.has(c)) out.push(`chain ${c}${where} unexpected`);
      for (const [c, n] of w.elements) if ((elements.get(c) ?? -1) !== n) out.push(`${c}${where}: ${elements.get(c) ?? 'missing'} elements, want ${n}`);
      for (const c of elements.keys()) if (!w.elements.has(c)) out.push(`${c}${where} unexpected`);
      for (const s of w.sets) if (!sets.has(s)) out.push(`set ${s}${where} missing`);
      for (const s of sets) if (!w.sets.has(s)) out.push(`set ${s}${where} unexpected`);
    }
    return out;
  }

  /** Deletes every proxy table (proxy disabled), shards of any count included; absent is fine. */
  async remove(): Promise<void> {
    await this.queue.idle();
    const tables = [...new Set([...this.plan.tables, ...(await this.ownTables().catch(() => []))])];
    await nftApply(tables.map((t) => `add table inet ${t}\ndelete table inet ${t}\n`).join(''), this.target);
    this.applied = undefined;
  }
}
