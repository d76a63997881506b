// `tern get KIND [NAME...] [-n NS | -A] [-o yaml|json|wide]`.
import { TernError } from '../errors/index.js';
import { describeRef, KINDS, kindNames, lookupKind, type Kind, type Resource } from '../resources/registry.js';
import type { CliContext } from './context.js';
import { usageError, type CliIO } from './io.js';
import { renderObjects, renderTable } from './output.js';

export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
}

export function resolveKind(word: string): Kind {
  const k = lookupKind(word);
  if (!k) throw usageError(`unknown resource type "${word}"; one of: ${kindNames().join(', ')}`);
  return k;
}

export async function runGet(kindWord: string, names: readonly string[], opts: GetOptions, io: CliIO, getContext: () => Promise<CliContext>): Promise<void> {
  const kind = resolveKind(kindWord);
  const format = opts.output ?? 'table';
  if (!['table', 'wide', 'yaml', 'json'].includes(format)) throw usageError(`unknown output format "${format}"; one of: yaml, json, wide`);
  if (opts.allNamespaces && opts.namespace !== undefined) throw usageError('-n and -A cannot be used together');
  if (opts.allNamespaces && names.length) throw usageError('a name cannot be combined with -A');
  const namespaced = KINDS[kind].namespaced;
  const ns = namespaced ? (opts.allNamespaces ? undefined : (opts.namespace ?? 'default')) : undefined;
  const { store } = await getContext();

  let items: Resource[];
  let revision: string | undefined;
  if (names.length) {
    items = [];
    for (const name of names) {
      const obj = await store.get(kind, name, ns);
      if (!obj) throw new TernError('TERN_ERR_NOT_FOUND', `${describeRef({ kind, name, namespace: ns })} not found`);
      items.push(obj);
    }
  } else {
    ({ items, revision } = await store.list(kind, ns));
  }

  if (format === 'yaml' || format === 'json') {
    io.stdout.write(renderObjects(items, format, names.length === 1, revision));
    return;
  }
  if (!items.length) {
    io.stderr.write(namespaced && ns !== undefined ? `No resources found in ${ns} namespace.\n` : 'No resources found.\n');
    return;
  }
  io.stdout.write(renderTable(kind, items, { wide: format === 'wide', allNamespaces: ns === undefined }));
}
