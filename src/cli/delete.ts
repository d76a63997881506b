// `tern delete KIND NAME... [-n NS]` and `tern delete -f FILE`. Deleting a Node also frees its
// IPAM blocks and addresses, which would otherwise leak (a recurring Calico complaint).
import { isTernError } from '../errors/index.js';
import { KINDS, lookupKind, refString, type ObjectRef } from '../resources/registry.js';
import type { CliContext, NodeReleaser } from './context.js';
import { locate, readDocuments } from './documents.js';
import { resolveKind } from './get.js';
import { usageError, type CliIO } from './io.js';
import type { RunState } from './apply.js';
import { TernError } from '../errors/index.js';

export interface DeleteOptions {
  filename?: string[];
  namespace?: string;
}

/** Kind and name of each document; only what deletion needs is read, so stale manifests still work. */
async function refsFromFiles(files: readonly string[], io: CliIO): Promise<{ ref: ObjectRef; where: string }[]> {
  const out: { ref: ObjectRef; where: string }[] = [];
  const problems: string[] = [];
  for (const d of await readDocuments(files, io)) {
    if (d.yamlError !== undefined) {
      problems.push(`${locate(d)}: ${d.yamlError}`);
      continue;
    }
    const doc = d.doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    const kind = typeof doc?.kind === 'string' ? lookupKind(doc.kind) : undefined;
    const name = doc?.metadata?.name;
    if (!kind) problems.push(`${locate(d)}: kind: ${typeof doc?.kind === 'string' ? `unknown kind "${doc.kind}"` : 'required'}`);
    else if (typeof name !== 'string' || !name) problems.push(`${locate(d)}: metadata.name: required`);
    else {
      const namespace = KINDS[kind].namespaced ? (typeof doc?.metadata?.namespace === 'string' ? doc.metadata.namespace : 'default') : undefined;
      out.push({ ref: namespace === undefined ? { kind, name } : { kind, name, namespace }, where: `${locate(d)}: ` });
    }
  }
  if (problems.length) throw new TernError('TERN_ERR_VALIDATION', problems.join('\n'));
  return out;
}

export async function runDelete(
  args: readonly string[],
  opts: DeleteOptions,
  io: CliIO,
  getContext: () => Promise<CliContext>,
  releaseNode: NodeReleaser,
  state: RunState,
): Promise<void> {
  const files = opts.filename ?? [];
  let targets: { ref: ObjectRef; where: string }[];
  if (files.length) {
    if (args.length) throw usageError('give either -f FILE or KIND NAME, not both');
    targets = await refsFromFiles(files, io);
  } else {
    const [kindWord, ...names] = args;
    if (!kindWord) throw usageError('delete needs KIND NAME... or -f FILE');
    const kind = resolveKind(kindWord);
    if (!names.length) throw usageError(`delete needs the name of the ${kind} to delete`);
    const namespace = KINDS[kind].namespaced ? (opts.namespace ?? 'default') : undefined;
    targets = names.map((name) => ({ ref: namespace === undefined ? { kind, name } : { kind, name, namespace }, where: '' }));
  }
  const ctx = await getContext();
  for (const { ref, where } of targets) {
    try {
      await ctx.store.delete(ref.kind, ref.name, ref.namespace);
      let note = '';
      if (ref.kind === 'Node') {
        const r = await releaseNode(ctx.client, ctx.keys, ref.name);
        note = ` (released ${r.blocks} IPAM block${r.blocks === 1 ? '' : 's'}, ${r.addresses} address${r.addresses === 1 ? '' : 'es'})`;
      }
      io.stdout.write(`${refString(ref)} deleted${note}\n`);
    } catch (e) {
      if (!isTernError(e) || e.code === 'TERN_ERR_DATASTORE') throw e;
      state.failed = true;
      io.stderr.write(`error: ${where}${e.message}\n`);
    }
  }
}
