// `tern apply -f FILE|DIR|-`: validate every document first, write nothing if any is invalid,
// then create or update each object in file order.
import { cidrOverlaps, parseCidr } from '../net/ip.js';
import { isTernError, TernError } from '../errors/index.js';
import { issueText } from '../resources/issues.js';
import { refOf, refString, validateResource, type Resource } from '../resources/registry.js';
import type { IPPool } from '../resources/kinds/ippool.js';
import type { CliContext } from './context.js';
import { locate, readDocuments, type SourceDocument } from './documents.js';
import { usageError, type CliIO } from './io.js';

export interface RunState {
  /** Set when some object failed but the command carried on with the rest. */
  failed: boolean;
}

const WORDS = { created: 'created', updated: 'configured', unchanged: 'unchanged' } as const;

/** Validates every document; returns the objects or throws one error listing every problem. */
export function validateDocuments(docs: readonly SourceDocument[]): { src: SourceDocument; obj: Resource }[] {
  const problems: string[] = [];
  const out: { src: SourceDocument; obj: Resource }[] = [];
  for (const d of docs) {
    if (d.yamlError !== undefined) {
      problems.push(`${locate(d)}: ${d.yamlError}`);
      continue;
    }
    const r = validateResource(d.doc);
    if (r.ok) out.push({ src: d, obj: r.value });
    else for (const i of r.error.issues) problems.push(`${locate(d)}: ${issueText(i)}`);
  }
  if (problems.length) throw new TernError('TERN_ERR_VALIDATION', problems.join('\n'));
  return out;
}

/**
 * Pools in one apply must not overlap each other or stored pools they do not replace. The store
 * checks again inside its transaction; this check only lets the whole apply fail before any write.
 */
async function checkPools(objs: { src: SourceDocument; obj: Resource }[], ctx: CliContext): Promise<void> {
  const batch = objs.filter((o): o is { src: SourceDocument; obj: IPPool } => o.obj.kind === 'IPPool');
  if (!batch.length) return;
  const names = new Set(batch.map((p) => p.obj.metadata.name));
  const stored = (await ctx.store.list('IPPool')).items.filter((p) => !names.has(p.metadata.name));
  const problems: string[] = [];
  batch.forEach((a, i) => {
    const ca = parseCidr(a.obj.spec.cidr);
    const others = [...batch.slice(0, i).map((b) => b.obj).filter((b) => b.metadata.name !== a.obj.metadata.name), ...stored];
    for (const b of others) {
      if (cidrOverlaps(ca, parseCidr(b.spec.cidr))) {
        problems.push(`${locate(a.src)}: spec.cidr: IPPool ${a.obj.metadata.name} (${a.obj.spec.cidr}) overlaps IPPool ${b.metadata.name} (${b.spec.cidr})`);
      }
    }
  });
  if (problems.length) throw new TernError('TERN_ERR_POOL_OVERLAP', problems.join('\n'));
}

export async function runApply(files: readonly string[], io: CliIO, getContext: () => Promise<CliContext>, state: RunState): Promise<void> {
  if (!files.length) throw usageError('apply needs -f FILE (a file, a directory or "-" for stdin)');
  const docs = await readDocuments(files, io);
  if (!docs.length) throw new TernError('TERN_ERR_VALIDATION', `no objects in ${files.join(', ')}`);
  const objs = validateDocuments(docs);
  const ctx = await getContext();
  await checkPools(objs, ctx);
  for (const { src, obj } of objs) {
    try {
      const r = await ctx.store.apply(obj);
      io.stdout.write(`${refString(refOf(obj))} ${WORDS[r.action]}\n`);
    } catch (e) {
      // etcd being down fails the whole command; a conflict on one object does not stop the rest.
      if (!isTernError(e) || e.code === 'TERN_ERR_DATASTORE') throw e;
      state.failed = true;
      for (const line of e.message.split('\n')) io.stderr.write(`error: ${locate(src)}: ${line}\n`);
    }
  }
}
