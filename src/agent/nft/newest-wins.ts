// One transaction at a time, newest desired state wins: what the policy and proxy dataplanes
// need, since each call carries a whole desired state and the ones queued behind a running
// transaction need never reach the kernel.

interface Waiter<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class NewestWins<S, R extends { coalesced?: number }> {
  private queued: { state: S; waiters: Waiter<R>[] } | undefined;
  private draining: Promise<void> | undefined;

  /**
   * `run` applies one state. `merge` folds a newer state into one still queued (default: the
   * newer replaces it). `delayMs` > 0 waits that long before the first run of a burst, so more
   * of it is coalesced.
   */
  constructor(
    private readonly run: (state: S) => Promise<R>,
    private readonly opts: { merge?: (queued: S, next: S) => S; delayMs?: number } = {},
  ) {}

  /**
   * Queues `state`. Calls are serialised; calls that arrive while one runs are coalesced: only
   * the newest (merged) state is applied and every waiting caller gets that report, with
   * `coalesced` set to how many calls it answered when more than one.
   */
  submit(state: S): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const q = this.queued;
      if (q) {
        q.state = this.opts.merge ? this.opts.merge(q.state, state) : state;
        q.waiters.push({ resolve, reject });
      } else {
        this.queued = { state, waiters: [{ resolve, reject }] };
      }
      if (!this.draining) void this.drain();
    });
  }

  /** Resolves once nothing runs or waits. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private drain(): Promise<void> {
    this.draining = (async () => {
      try {
        const delay = this.opts.delayMs ?? 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        while (this.queued) {
          const job = this.queued;
          this.queued = undefined;
          try {
            const r = await this.run(job.state);
            if (job.waiters.length > 1) r.coalesced = job.waiters.length;
            for (const w of job.waiters) w.resolve(r);
          } catch (e) {
            for (const w of job.waiters) w.reject(e);
          }
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }
}
