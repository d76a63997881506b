// The subset of Calico's label-selector language that IPPool.spec.nodeSelector needs:
//   all()            every node
//   key == "v"       label present with that value
//   key != "v"       label absent, or present with another value (Calico's meaning)
//   has(key)         label present
//   !expr            negation, so `!has(key)` and `!all()` (a pool only used when a request names it)
//   a && b, a || b   && binds tighter than ||; parentheses group
// Pure: parsing returns an error value with the offset of the problem, never throws.

export type Selector =
  | { op: 'all' }
  | { op: 'has'; key: string }
  | { op: 'eq' | 'ne'; key: string; value: string }
  | { op: 'not'; arg: Selector }
  | { op: 'and' | 'or'; args: Selector[] };

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; error: string; offset: number };

// Kubernetes label keys: an optional DNS-subdomain prefix and "/", then a name of
// alphanumerics, "-", "_", ".".
const KEY = /[A-Za-z0-9][A-Za-z0-9._/-]*/y;

class Parser {
  pos = 0;
  constructor(private readonly src: string) {}

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  private eat(token: string): boolean {
    this.ws();
    if (this.src.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }

  private fail(msg: string): never {
    throw new SelectorSyntaxError(msg, this.pos);
  }

  private key(): string {
    this.ws();
    KEY.lastIndex = this.pos;
    const m = KEY.exec(this.src);
    if (!m) this.fail('expected a label key');
    this.pos += m[0].length;
    return m[0];
  }

  private str(): string {
    this.ws();
    const q = this.src[this.pos];
    if (q !== '"' && q !== "'") this.fail('expected a quoted string');
    const end = this.src.indexOf(q, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const v = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return v;
  }

  parse(): Selector {
    const s = this.or();
    this.ws();
    if (this.pos !== this.src.length) this.fail(`unexpected "${this.src.slice(this.pos, this.pos + 10)}"`);
    return s;
  }

  private or(): Selector {
    const args = [this.and()];
    while (this.eat('||')) args.push(this.and());
    return args.length === 1 ? args[0]! : { op: 'or', args };
  }

  private and(): Selector {
    const args = [this.unary()];
    while (this.eat('&&')) args.push(this.unary());
    return args.length === 1 ? args[0]! : { op: 'and', args };
  }

  private unary(): Selector {
    // "!=" never starts a term, so a lone "!" here is always negation.
    if (this.eat('!')) return { op: 'not', arg: this.unary() };
    if (this.eat('(')) {
      const s = this.or();
      if (!this.eat(')')) this.fail('expected ")"');
      return s;
    }
    if (this.eat('all()')) return { op: 'all' };
    this.ws();
    const save = this.pos;
    if (this.eat('has(')) {
      const key = this.key();
      if (!this.eat(')')) this.fail('expected ")" after has(key');
      return { op: 'has', key };
    }
    this.pos = save;
    const key = this.key();
    if (this.eat('==')) return { op: 'eq', key, value: this.str() };
    if (this.eat('!=')) return { op: 'ne', key, value: this.str() };
    return this.fail(`expected == or != after "${key}"`);
  }
}

class SelectorSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export function parseSelector(src: string): SelectorResult {
  const text = src.trim() === '' ? 'all()' : src;
  try {
    return { ok: true, selector: new Parser(text).parse() };
  } catch (e) {
    if (e instanceof SelectorSyntaxError) return { ok: false, error: `selector "${src}": ${e.message} at offset ${e.offset}`, offset: e.offset };
    throw e;
  }
}

export function matches(sel: Selector, labels: Readonly<Record<string, string>>): boolean {
  switch (sel.op) {
    case 'all':
      return true;
    case 'has':
      return Object.hasOwn(labels, sel.key);
    case 'eq':
      return Object.hasOwn(labels, sel.key) && labels[sel.key] === sel.value;
    case 'ne':
      return !Object.hasOwn(labels, sel.key) || labels[sel.key] !== sel.value;
    case 'not':
      return !matches(sel.arg, labels);
    case 'and':
      return sel.args.every((a) => matches(a, labels));
    case 'or':
      return sel.args.some((a) => matches(a, labels));
    default: {
      const never: never = sel;
      return never;
    }
  }
}
