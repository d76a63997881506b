// The incremental transaction between two desired states that share unchanged parts by
// identity (as PolicyEngine.state() publishes them): only the endpoints and sets whose
// objects differ are rendered, so a one-pod change costs that pod's chains and the sets it
// touches instead of rendering (and hashing every rule of) both whole tables. The script,
// stats and errors are those renderDiff() gives for the whole states (test/agent/policy
// proves it); states that share nothing simply cost what renderDiff() costs.
import type { DesiredEndpoint, DesiredSet, DesiredState } from './model.js';
import { buildTable, renderDiff, type DiffResult, type RenderOptions } from './render.js';

// render.ts leaves endpoints whose interface name nft cannot carry out of the table and
// reports them; the same test finds them here without rendering every endpoint.
const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * The parts of two lists that differ by identity under the same key: prev's entries whose key
 * next lacks or holds another object, and the same the other way, each in its list's order.
 * Both lists are normally sorted by key with unique keys (PolicyEngine publishes them so),
 * which a merge walk handles without building an index; otherwise, maps.
 */
function changed<T>(prev: readonly T[], next: readonly T[], key: (x: T) => string): [T[], T[]] {
  if (strictlySorted(prev, key) && strictlySorted(next, key)) {
    const before: T[] = [];
    const after: T[] = [];
    let i = 0;
    let j = 0;
    while (i < prev.length || j < next.length) {
      const p = prev[i];
      const n = next[j];
      const c = p === undefined ? 1 : n === undefined ? -1 : key(p) < key(n) ? -1 : key(p) > key(n) ? 1 : 0;
      if (c < 0) before.push(prev[i++]!);
      else if (c > 0) after.push(next[j++]!);
      else {
        if (p !== n) {
          before.push(p!);
          after.push(n!);
        }
        i++;
        j++;
      }
    }
    return [before, after];
  }
  const prevBy = new Map<string, T>(prev.map((x) => [key(x), x]));
  const nextBy = new Map<string, T>(next.map((x) => [key(x), x]));
  return [prev.filter((x) => nextBy.get(key(x)) !== x), next.filter((x) => prevBy.get(key(x)) !== x)];
}

function strictlySorted<T>(xs: readonly T[], key: (x: T) => string): boolean {
  for (let i = 1; i < xs.length; i++) if (!(key(xs[i - 1]!) < key(xs[i]!))) return false;
  return true;
}

const setName = (s: DesiredSet): string => s.name;
const epIface = (e: DesiredEndpoint): string => e.iface;

export function renderChanges(prev: DesiredState, next: DesiredState, opts: RenderOptions = {}): DiffResult {
  // Both halves keep their states' (sorted) order, so renderDiff emits the same commands in
  // the same order as for the whole states: unchanged parts emit nothing there either.
  const [setsBefore, setsAfter] = changed(prev.sets, next.sets, setName);
  const [epsBefore, epsAfter] = changed(prev.endpoints, next.endpoints, epIface);
  const before: DesiredState = { sets: setsBefore, endpoints: epsBefore, errors: [] };
  const after: DesiredState = { sets: setsAfter, endpoints: epsAfter, errors: [] };
  const d = renderDiff(before, after, opts);
  if (d.full) return renderDiff(prev, next, opts);
  const unrenderable = next.endpoints.filter((e) => !IFACE_RE.test(e.iface));
  const errors = unrenderable.length ? buildTable({ sets: [], endpoints: unrenderable, errors: [] }, opts).errors : [];
  return { ...d, errors };
}
