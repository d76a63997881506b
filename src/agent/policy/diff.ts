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

export function renderChanges(prev: DesiredState, next: DesiredState, opts: RenderOptions = {}): DiffResult {
  const prevSets = new Map<string, DesiredSet>(prev.sets.map((s) => [s.name, s]));
  const nextSets = new Map<string, DesiredSet>(next.sets.map((s) => [s.name, s]));
  const prevEps = new Map<string, DesiredEndpoint>(prev.endpoints.map((e) => [e.iface, e]));
  const nextEps = new Map<string, DesiredEndpoint>(next.endpoints.map((e) => [e.iface, e]));
  // Both halves keep their states' (sorted) order, so renderDiff emits the same commands in
  // the same order as for the whole states: unchanged parts emit nothing there either.
  const before: DesiredState = {
    sets: prev.sets.filter((s) => nextSets.get(s.name) !== s),
    endpoints: prev.endpoints.filter((e) => nextEps.get(e.iface) !== e),
    errors: [],
  };
  const after: DesiredState = {
    sets: next.sets.filter((s) => prevSets.get(s.name) !== s),
    endpoints: next.endpoints.filter((e) => prevEps.get(e.iface) !== e),
    errors: [],
  };
  const d = renderDiff(before, after, opts);
  if (d.full) return renderDiff(prev, next, opts);
  const unrenderable = next.endpoints.filter((e) => !IFACE_RE.test(e.iface));
  const errors = unrenderable.length ? buildTable({ sets: [], endpoints: unrenderable, errors: [] }, opts).errors : [];
  return { ...d, errors };
}
