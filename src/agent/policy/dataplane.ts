// The one writer of Tern's nftables table. apply() takes a desired state and makes the
// kernel match it: a full atomic replace the first time, after drift, or when the
// incremental transaction is refused; otherwise the minimal incremental transaction.
// Before each incremental step the table is read back and compared with what was last
// applied (Felix's drift detection): someone flushing a chain or deleting a set by hand is
// repaired by a full replace instead of being built upon.
import { TernError } from '../../errors/index.js';
import { logger } from '../../log/index.js';
import type { DesiredState, PolicyError } from './model.js';
import { nftApply, nftListTable, type NftTarget } from './nft.js';
import { compareViews, DEFAULT_TABLE, desiredView, renderFull, viewFromJson, type TableView } from './render.js';
import { renderChanges } from './diff.js';
import { NewestWins } from '../nft/newest-wins.js';
import { nftRunner } from '../nft/runner.js';

const log = logger('policy');

export interface DataplaneOptions extends NftTarget {
  table?: string;
  /** Read the table back before incremental steps (default true). */
  verify?: boolean;
}

export interface ApplyReport {
  mode: 'full' | 'incremental' | 'noop';
  /** Why a full replace was chosen. */
  reason?: 'first' | 'drift' | 'incremental-failed' | 'not-incremental';
  /** Differences found between the kernel and the last applied state. */
  drift: string[];
  /** Policies and endpoints that could not be rendered (the rest was applied). */
  errors: PolicyError[];
  /** Length of the transaction sent to nft, in bytes. */
  scriptBytes: number;
  /** apply() calls this one transaction answered, when more than one (a burst coalesced). */
  coalesced?: number;
}

export class PolicyDataplane {
  readonly table: string;
  private readonly target: NftTarget;
  private readonly verify: boolean;
  private applied: DesiredState | undefined;

  constructor(opts: DataplaneOptions = {}) {
    this.table = opts.table ?? DEFAULT_TABLE;
    this.target = { ...(opts.netns ? { netns: opts.netns } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
    this.verify = opts.verify ?? true;
  }

  /** The state the kernel was last brought to by this instance. */
  get current(): DesiredState | undefined {
    return this.applied;
  }

  /**
   * Makes the kernel match `next`. Calls are serialised; calls that arrive while one runs are
   * coalesced: only the newest desired state is applied and every waiting caller gets that
   * report.
   */
  apply(next: DesiredState): Promise<ApplyReport> {
    return this.queue.submit(next);
  }

  private readonly queue = new NewestWins<DesiredState, ApplyReport>((next) => this.applyNow(next));

  private async applyNow(next: DesiredState): Promise<ApplyReport> {
    const opts = { table: this.table };
    let drift: string[] = [];
    if (this.applied !== undefined) {
      if (this.verify) {
        const actual = await this.readView();
        drift = actual ? compareViews(actual, desiredView(this.applied, opts)) : ['table missing'];
      }
      if (drift.length === 0) {
        // Only endpoints and sets whose objects changed are rendered (the engine keeps the identity
        // of unchanged ones); the output equals renderDiff's, which compares whole tables.
        const d = renderChanges(this.applied, next, opts);
        if (d.script === '') {
          this.applied = next;
          return { mode: 'noop', drift, errors: d.errors, scriptBytes: 0 };
        }
        const r = await nftApply(d.script, this.target);
        if (r.ok) {
          this.applied = next;
          return { mode: d.full ? 'full' : 'incremental', ...(d.full ? { reason: 'not-incremental' as const } : {}), drift, errors: d.errors, scriptBytes: d.script.length };
        }
        log.warn({ table: this.table, err: r.stderr.trim() }, 'incremental nft transaction refused; replacing the table');
        return await this.full(next, 'incremental-failed', drift);
      }
      log.warn({ table: this.table, drift }, 'nftables table drifted from the applied state; replacing it');
      return await this.full(next, 'drift', drift);
    }
    return await this.full(next, 'first', drift);
  }

  private async full(next: DesiredState, reason: ApplyReport['reason'], drift: string[]): Promise<ApplyReport> {
    const { script, errors } = renderFull(next, { table: this.table });
    const r = await nftApply(script, this.target);
    if (!r.ok) {
      // The transaction was refused as a whole: the kernel still holds the previous table.
      throw new TernError('TERN_ERR_POLICY', `nft refused the ruleset for table inet ${this.table}: ${r.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
    }
    this.applied = next;
    // A full load goes to a spawned `nft -f`; the incremental steps after it go to the
    // namespace's persistent process, started now rather than by the next pod.
    nftRunner(this.target.netns).warm();
    return { mode: 'full', reason, drift, errors, scriptBytes: script.length };
  }

  /** The kernel's copy of the table in normal form, or null when it does not exist. */
  async readView(): Promise<TableView | null> {
    const json = await nftListTable(this.table, this.target);
    return json === null ? null : viewFromJson(json, this.table);
  }

  /** Differences between the kernel and the desired state (empty: in sync). */
  async check(desired: DesiredState): Promise<string[]> {
    const actual = await this.readView();
    return actual ? compareViews(actual, desiredView(desired, { table: this.table })) : ['table missing'];
  }

  /** Deletes the table (agent shutdown with policy disabled); absent is fine. */
  async remove(): Promise<void> {
    await this.queue.idle();
    await nftApply(`table inet ${this.table} {}\ndelete table inet ${this.table}\n`, this.target);
    this.applied = undefined;
  }
}
