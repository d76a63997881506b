// Desired routes against the kernel's: which writes make them equal, which foreign routes stand
// in the way. Pure.
import type { RouteOp } from './codec.js';
import { TERN_ROUTE_PROTOCOL, dstKey, routeKey, satisfies, type KernelRoute, type NormalRoute, type RouteKey } from './model.js';

/** The kernel's routes in the managed tables, split into Tern's and everyone else's. */
export interface KernelView {
  ours: Map<RouteKey, KernelRoute>;
  /** Foreign routes by table and destination (any metric). */
  foreign: Map<string, KernelRoute[]>;
}

export function buildView(routes: Iterable<KernelRoute>, tables: ReadonlySet<number>): KernelView {
  const view: KernelView = { ours: new Map(), foreign: new Map() };
  for (const r of routes) {
    if (!tables.has(r.table)) continue;
    if (r.protocol === TERN_ROUTE_PROTOCOL) {
      view.ours.set(routeKey(r), r);
    } else {
      const k = dstKey(r);
      const list = view.foreign.get(k);
      if (list) list.push(r);
      else view.foreign.set(k, [r]);
    }
  }
  return view;
}

export interface Conflict {
  desired: NormalRoute;
  foreign: KernelRoute;
  /**
   * true: the foreign route holds the same table, prefix and metric, so Tern's route is not
   * installed. false: a different metric; both are installed and the lower metric wins.
   */
  blocking: boolean;
}

export interface Plan {
  /** Adds and replaces first, deletes last: a prefix moving between keys is never absent. */
  ops: RouteOp[];
  conflicts: Map<RouteKey, Conflict[]>;
  /** Keys whose kernel route already satisfies the desired one (adopted as they are). */
  unchanged: number;
}

export interface PlanInput {
  desired: ReadonlyMap<RouteKey, NormalRoute>;
  view: KernelView;
  keys: Iterable<RouteKey>;
  /** Whether a Tern route at a key that is not desired may be removed. */
  mayDelete: (key: RouteKey) => boolean;
}

export function planRoutes(input: PlanInput): Plan {
  const writes: RouteOp[] = [];
  const deletes: RouteOp[] = [];
  const conflicts = new Map<RouteKey, Conflict[]>();
  let unchanged = 0;
  for (const key of input.keys) {
    const want = input.desired.get(key);
    const have = input.view.ours.get(key);
    if (want) {
      const foreign = input.view.foreign.get(dstKey(want)) ?? [];
      if (foreign.length > 0) {
        conflicts.set(key, foreign.map((f) => ({ desired: want, foreign: f, blocking: f.metric === want.metric })));
      }
      if (foreign.some((f) => f.metric === want.metric)) continue;
      if (!have) writes.push({ op: 'add', route: want });
      else if (!satisfies(want, have)) writes.push({ op: 'replace', route: want });
      else unchanged++;
    } else if (have && input.mayDelete(key)) {
      deletes.push({ op: 'delete', route: have });
    }
  }
  return { ops: [...writes, ...deletes], conflicts, unchanged };
}
