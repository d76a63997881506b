// Formatting for `tern get`: a kubectl-like table, YAML and JSON (single object or v1 List).
import { stringify as toYaml } from 'yaml';
import { KINDS, type Kind, type Resource } from '../resources/registry.js';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json';

/** kubectl's age format: 45s, 12m, 5h, 3d, 2y. */
export function age(creationTimestamp: string | undefined, now = Date.now()): string {
  if (!creationTimestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(creationTimestamp)) / 1000));
  if (Number.isNaN(s)) return '<unknown>';
  if (s < 120) return `${s}s`;
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 365 * 2) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 365))}y`;
}

export function renderTable(kind: Kind, items: readonly Resource[], opts: { wide: boolean; allNamespaces: boolean }): string {
  const info = KINDS[kind];
  const cols = (info.columns as readonly { header: string; value: (o: Resource) => string; wide?: boolean }[]).filter((c) => opts.wide || !c.wide);
  const showNs = info.namespaced && opts.allNamespaces;
  const header = [...(showNs ? ['NAMESPACE'] : []), 'NAME', ...cols.map((c) => c.header), 'AGE'];
  const rows = items.map((o) => [
    ...(showNs ? [(o.metadata as { namespace?: string }).namespace ?? ''] : []),
    o.metadata.name,
    ...cols.map((c) => c.value(o)),
    age(o.metadata.creationTimestamp),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // kubectl separates columns by three spaces and does not pad the last one.
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ');
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** A single object as itself, several as a v1 List carrying the revision they were read at. */
export function renderObjects(items: readonly Resource[], format: 'yaml' | 'json', single: boolean, revision?: string): string {
  const doc = single && items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: revision ?? '' }, items };
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc, { lineWidth: 0 });
}
