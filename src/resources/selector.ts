// Label selector expressions, as Calico writes them in IPPool.nodeSelector and
// BGPPeer.nodeSelector/peerSelector: `all()`, `has(k)`, `k == 'v'`, `k != 'v'`, `k in {'a','b'}`,
// `k not in {...}`, `k contains|starts with|ends with 's'`, `!`, `&&`, `||` and parentheses.
// Parsing returns a value (never throws) so validation can report the problem in place.

export type Selector =
  | { op: 'all' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne' | 'contains' | 'startswith' | 'endswith'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'not'; expr: Selector }
  | { op: 'and' | 'or'; exprs: Selector[] };

type Tok = { t: 'id' | 'str' | 'sym'; v: string; at: number };

const SYMBOLS = ['==', '!=', '&&', '||', '!', '(', ')', '{', '}', ','] as const;

function tokenize(s: string): Tok[] | string {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) return `unterminated string at column ${i + 1}`;
      out.push({ t: 'str', v: s.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const sym = SYMBOLS.find((x) => s.startsWith(x, i));
    if (sym) { out.push({ t: 'sym', v: sym, at: i }); i += sym.length; continue; }
    const m = /^[A-Za-z0-9_./-]+/.exec(s.slice(i));
    if (!m) return `unexpected "${c}" at column ${i + 1}`;
    out.push({ t: 'id', v: m[0], at: i });
    i += m[0].length;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok | undefined { return this.toks[this.i]; }
  private next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new SyntaxError('unexpected end of selector');
    return t;
  }
  private expect(t: Tok['t'], v?: string): Tok {
    const tok = this.next();
    if (tok.t !== t || (v !== undefined && tok.v !== v)) throw new SyntaxError(`expected ${v ? `"${v}"` : t === 'str' ? 'a quoted string' : 'a label key'} at column ${tok.at + 1}, found "${tok.v}"`);
    return tok;
  }
  private isSym(v: string): boolean { const t = this.peek(); return t?.t === 'sym' && t.v === v; }
  private isId(v: string): boolean { const t = this.peek(); return t?.t === 'id' && t.v === v; }

  parse(): Selector {
    const e = this.or();
    const rest = this.peek();
    if (rest) throw new SyntaxError(`unexpected "${rest.v}" at column ${rest.at + 1}`);
    return e;
  }
  private or(): Selector {
    const exprs = [this.and()];
    while (this.isSym('||')) { this.next(); exprs.push(this.and()); }
    return exprs.length === 1 ? exprs[0]! : { op: 'or', exprs };
  }
  private and(): Selector {
    const exprs = [this.unary()];
    while (this.isSym('&&')) { this.next(); exprs.push(this.unary()); }
    return exprs.length === 1 ? exprs[0]! : { op: 'and', exprs };
  }
  private unary(): Selector {
    if (this.isSym('!')) { this.next(); return { op: 'not', expr: this.unary() }; }
    if (this.isSym('(')) { this.next(); const e = this.or(); this.expect('sym', ')'); return e; }
    const key = this.expect('id').v;
    if ((key === 'all' || key === 'global') && this.isSym('(')) {
      this.next(); this.expect('sym', ')');
      return { op: 'all' };
    }
    if (key === 'has' && this.isSym('(')) {
      this.next(); const k = this.expect('id').v; this.expect('sym', ')');
      return { op: 'has', key: k };
    }
    if (this.isSym('==') || this.isSym('!=')) {
      const op = this.next().v === '==' ? 'eq' : 'ne';
      return { op, key, value: this.expect('str').v };
    }
    if (this.isId('in')) { this.next(); return { op: 'in', key, values: this.set() }; }
    if (this.isId('not')) { this.next(); this.expect('id', 'in'); return { op: 'notin', key, values: this.set() }; }
    if (this.isId('contains')) { this.next(); return { op: 'contains', key, value: this.expect('str').v }; }
    if (this.isId('starts') || this.isId('ends')) {
      const op = this.next().v === 'starts' ? 'startswith' : 'endswith';
      this.expect('id', 'with');
      return { op, key, value: this.expect('str').v };
    }
    const t = this.peek();
    throw new SyntaxError(t ? `expected an operator after "${key}" at column ${t.at + 1}, found "${t.v}"` : `expected an operator after "${key}"`);
  }
  private set(): string[] {
    this.expect('sym', '{');
    const values: string[] = [];
    if (this.isSym('}')) { this.next(); return values; }
    for (;;) {
      values.push(this.expect('str').v);
      if (this.isSym(',')) { this.next(); continue; }
      this.expect('sym', '}');
      return values;
    }
  }
}

/** Parses a selector; the empty string selects everything, like `all()`. */
export function parseSelector(s: string): { ok: true; value: Selector } | { ok: false; error: string } {
  if (s.trim() === '') return { ok: true, value: { op: 'all' } };
  const toks = tokenize(s);
  if (typeof toks === 'string') return { ok: false, error: toks };
  try {
    return { ok: true, value: new Parser(toks).parse() };
  } catch (e) {
    if (e instanceof SyntaxError) return { ok: false, error: e.message };
    throw e;
  }
}

/** Evaluates a selector against a label map. `!=` and `not in` also match when the label is absent. */
export function matchSelector(sel: Selector, labels: Readonly<Record<string, string>>): boolean {
  const v = (k: string): string | undefined => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  switch (sel.op) {
    case 'all': return true;
    case 'has': return v(sel.key) !== undefined;
    case 'eq': return v(sel.key) === sel.value;
    case 'ne': return v(sel.key) !== sel.value;
    case 'in': { const x = v(sel.key); return x !== undefined && sel.values.includes(x); }
    case 'notin': { const x = v(sel.key); return x === undefined || !sel.values.includes(x); }
    case 'contains': return v(sel.key)?.includes(sel.value) ?? false;
    case 'startswith': return v(sel.key)?.startsWith(sel.value) ?? false;
    case 'endswith': return v(sel.key)?.endsWith(sel.value) ?? false;
    case 'not': return !matchSelector(sel.expr, labels);
    case 'and': return sel.exprs.every((e) => matchSelector(e, labels));
    case 'or': return sel.exprs.some((e) => matchSelector(e, labels));
    default: {
      const never: never = sel;
      return never;
    }
  }
}
