// Remote routes learned from bgpd, with the rule that keeps packets flowing across restarts:
// a route is only removed when bgpd says so (WITHDRAW), or when it is stale — left over from
// before a (re)connect, or read from the kernel at agent start — and bgpd's view has
// converged without it. Converged means: the snapshot ended (SNAPSHOT_END) and bgpd's
// sessions are back (the agent decides that and calls sweepStale()). A freshly restarted
// bgpd sends an empty snapshot before its sessions re-establish; dropping stale routes at
// SNAPSHOT_END alone would black-hole traffic for the whole session setup (RFC 4724 §4.1's
// reason for keeping forwarding state while the control plane restarts).
import type { BestPathUpdate } from './client.js';

export interface RemoteRouteState {
  nextHops: readonly string[];
  stale: boolean;
}

export class RemoteRoutes {
  private readonly table = new Map<string, RemoteRouteState>();
  private snapshotEnded = false;
  /** Bumped on every change of the routes (not of staleness alone). */
  version = 0;

  /** A route found in the kernel at start: kept (stale) until bgpd confirms or converges without it. */
  seed(prefix: string, nextHops: readonly string[]): void {
    if (this.table.has(prefix)) return;
    this.table.set(prefix, { nextHops: [...nextHops].sort(), stale: true });
    this.version++;
  }

  apply(u: BestPathUpdate): void {
    switch (u.type) {
      case 'connected':
      case 'disconnected':
        // Whatever the next snapshot does not repeat is stale.
        this.snapshotEnded = false;
        for (const r of this.table.values()) r.stale = true;
        return;
      case 'upsert': {
        const nh = [...new Set(u.nextHops)].sort();
        const old = this.table.get(u.prefix);
        if (!old || old.nextHops.join() !== nh.join()) this.version++;
        this.table.set(u.prefix, { nextHops: nh, stale: false });
        return;
      }
      case 'withdraw':
        if (this.table.delete(u.prefix)) this.version++;
        return;
      case 'snapshot-end':
        this.snapshotEnded = true;
        return;
      default: {
        const never: never = u;
        throw new Error(`unhandled best-path update ${JSON.stringify(never)}`);
      }
    }
  }

  get snapshotComplete(): boolean {
    return this.snapshotEnded;
  }

  get staleCount(): number {
    let n = 0;
    for (const r of this.table.values()) if (r.stale) n++;
    return n;
  }

  /** Drops the stale routes; only after the snapshot ended. Returns their prefixes. */
  sweepStale(): string[] {
    if (!this.snapshotEnded) return [];
    const gone: string[] = [];
    for (const [p, r] of this.table) if (r.stale) {
      this.table.delete(p);
      gone.push(p);
    }
    if (gone.length > 0) this.version++;
    return gone;
  }

  entries(): IterableIterator<[string, RemoteRouteState]> {
    return this.table.entries();
  }

  get size(): number {
    return this.table.size;
  }
}
