// Reading `-f` arguments: files, directories (their *.yaml, *.yml and *.json files, sorted) and
// "-" (stdin), each holding one or more YAML documents; `kind: List` expands into its items.
// Every document keeps its origin so errors can say `svc.yaml: document 2 (Service default/web)`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TernError } from '../errors/index.js';
import { describeDocument } from '../resources/registry.js';
import { readAll, type CliIO } from './io.js';

export interface SourceDocument {
  /** File name as given (or `<stdin>`). */
  source: string;
  /** 1-based position in the file; `item` is the 1-based index inside a `kind: List`. */
  index: number;
  item?: number;
  doc: unknown;
  /** Set when the document is not valid YAML; `doc` is then undefined. */
  yamlError?: string;
}

/** A problem in one document, as one line: `file: document 2 (Service default/web): message`. */
export function locate(d: Pick<SourceDocument, 'source' | 'index' | 'item' | 'doc'>, withDescription = true): string {
  const what = withDescription ? describeDocument(d.doc) : undefined;
  return `${d.source}: document ${d.index}${d.item !== undefined ? ` item ${d.item}` : ''}${what ? ` (${what})` : ''}`;
}

const MANIFEST = /\.(ya?ml|json)$/i;

function expandPaths(arg: string, cwd: string): string[] {
  const abs = resolve(cwd, arg);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    throw new TernError('TERN_ERR_NOT_FOUND', `cannot read ${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isDirectory()) return [arg];
  return readdirSync(abs)
    .filter((n) => MANIFEST.test(n))
    .sort()
    .map((n) => join(arg, n));
}

/**
 * Reads every document of every `-f` argument. A document that is not valid YAML is returned
 * with `yamlError` set, so callers report it in order with their other problems.
 */
export async function readDocuments(args: readonly string[], io: CliIO): Promise<SourceDocument[]> {
  const cwd = io.cwd ?? process.cwd();
  const out: SourceDocument[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    const files = arg === '-' ? ['-'] : expandPaths(arg, cwd);
    for (const file of files) {
      let text: string;
      if (file === '-') {
        if (stdinUsed) continue;
        stdinUsed = true;
        text = await readAll(io.stdin);
      } else {
        try {
          text = readFileSync(resolve(cwd, file), 'utf8');
        } catch (e) {
          throw new TernError('TERN_ERR_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`);
        }
      }
      const source = file === '-' ? '<stdin>' : file;
      parseAllDocuments(text).forEach((d, i) => {
        const index = i + 1;
        if (d.errors.length) {
          out.push({ source, index, doc: undefined, yamlError: `invalid YAML: ${d.errors.map((e) => e.message.split('\n')[0]).join('; ')}` });
          return;
        }
        const doc: unknown = d.toJS();
        if (doc === null || doc === undefined) return;
        const list = doc as { kind?: unknown; items?: unknown };
        if (typeof doc === 'object' && list.kind === 'List' && Array.isArray(list.items)) {
          list.items.forEach((item: unknown, j) => out.push({ source, index, item: j + 1, doc: item }));
        } else {
          out.push({ source, index, doc });
        }
      });
    }
  }
  return out;
}
