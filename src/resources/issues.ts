// Validation problems as values: a field path in Kubernetes notation (`spec.ports[1].port`) and
// a message. Codecs return these; only the edges (store, CLI) turn them into TernErrors.
import type { z } from 'zod';
import { TernError } from '../errors/index.js';

export interface Issue {
  /** `spec.ports[1].port`; empty for a problem with the whole document. */
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

export function issueText(i: Issue): string {
  return i.path ? `${i.path}: ${i.message}` : i.message;
}

const KIND_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/**
 * Per-parse zod error map: short messages in the style of Kubernetes' field errors
 * ("required", "must be a list") instead of zod's generic wording.
 */
export const errorMap = (iss: z.core.$ZodRawIssue): string | undefined => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'required';
      return `must be ${KIND_WORDS[String(iss.expected)] ?? String(iss.expected)}`;
    }
    case 'invalid_value':
      return `must be one of ${(iss.values as readonly unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
};

/** Flattens zod issues into field issues; unknown keys become one issue per key. */
export function fromZod(error: z.ZodError): Issue[] {
  const out: Issue[] = [];
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: formatPath([...i.path, k]), message: 'unknown field' });
    } else if (i.code === 'invalid_union') {
      // A union of int-or-string (or similar): report the alternatives once rather than each branch.
      out.push({ path: formatPath(i.path), message: i.message === 'Invalid input' ? 'has an invalid type' : i.message });
    } else {
      out.push({ path: formatPath(i.path), message: i.message });
    }
  }
  return out;
}

/**
 * A TernError(TERN_ERR_VALIDATION) carrying every issue; the message is one line per issue, each
 * prefixed with `prefix` (e.g. `svc.yaml: document 2 (Service default/web)`) when given, and
 * `field` is the first issue's location.
 */
export class ValidationError extends TernError {
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[], prefix?: string) {
    const located = (i: Issue): string => [prefix, i.path].filter(Boolean).join(': ');
    const [first, ...rest] = issues.length ? issues : [{ path: '', message: 'invalid' }];
    const tail = rest.map((i) => `\n${located(i) ? `${located(i)}: ` : ''}${i.message}`).join('');
    super('TERN_ERR_VALIDATION', `${first!.message}${tail}`, { field: located(first!) || undefined });
    this.name = 'ValidationError';
    this.issues = issues;
  }
}
