// Pure helpers of the persistent nft runner: turning an `nft -f` script into the one line
// `nft -i` runs as one transaction, splitting the interactive process's stderr at the
// sentinel that ends each transaction, and pointing an error back at the script line it
// came from. No processes here.

/** A script turned into one interactive line. */
export interface OneLine {
  line: string;
  /** Offset in `line` where each script line (0-based) starts; script lines that vanished map to the next one. */
  starts: number[];
}

export type LineError = { error: 'directive' | 'continuation' | 'unbalanced' | 'unterminated-string' };

/**
 * Joins a script into one line. `nft -i` hands each input line to the parser as one buffer,
 * and one buffer is one netlink batch, so the line is as atomic as `nft -f`. A line break
 * becomes `; ` where nft reads it as the end of a command (top level, inside `table {`,
 * `chain {`, `set {`, `map {` blocks: `{; type ...; }` parses) and a space inside value braces
 * (`elements = {` lists split over lines, where `;` is a syntax error). `#` comments are
 * dropped (on one line they would swallow the rest of the transaction). Scripts that only
 * make sense line by line are refused: `define`/`include` (a define would outlive the
 * transaction in the long-lived process) and `\` continuations.
 */
export function toOneLine(script: string): OneLine | LineError {
  const lines = script.split('\n');
  let out = '';
  const starts: number[] = [];
  // Kind of each open brace: true = block (line break ends a command), false = value.
  const stack: boolean[] = [];
  for (const raw of lines) {
    starts.push(out.length);
    const text = stripComment(raw);
    if (text === null) return { error: 'unterminated-string' };
    const t = text.trim();
    if (t === '') continue;
    if (/^(define|undefine|redefine|include)\b/.test(t)) return { error: 'directive' };
    if (t.endsWith('\\')) return { error: 'continuation' };
    if (out !== '') {
      const inValue = stack.length > 0 && stack[stack.length - 1] === false;
      out += inValue ? ' ' : '; ';
      starts[starts.length - 1] = out.length;
    }
    const isBlockHeader = /^(?:(?:add|create)\s+)?(?:table|chain|set|map|flowtable)\b/.test(t);
    let quoted = false;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      if (c === '"') quoted = !quoted;
      if (quoted) continue;
      if (c === '{') {
        const before = t.slice(0, i).trimEnd();
        const enclosingValue = stack.length > 0 && stack[stack.length - 1] === false;
        stack.push(!enclosingValue && !before.endsWith('=') && !before.endsWith(':') && isBlockHeader);
      } else if (c === '}') {
        if (stack.length === 0) return { error: 'unbalanced' };
        stack.pop();
      }
    }
    out += t;
  }
  if (stack.length !== 0) return { error: 'unbalanced' };
  return { line: out, starts };
}

/** The line without its `#` comment; null when a quoted string does not end on it. */
function stripComment(line: string): string | null {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return line.slice(0, i);
  }
  return quoted ? null : line;
}

/** The line that ends transaction `seq`: a bare word, a syntax error nft reports without touching the kernel. */
export const sentinel = (seq: number): string => `ternsync${seq}`;

/**
 * Accumulates the interactive process's stderr and cuts it at sentinels. nft reports the
 * sentinel as three lines, `Error: syntax error...`, the echoed word, a caret line; what came
 * before them since the previous sentinel belongs to the transaction that ran before it.
 */
export class SentinelSplitter {
  private buf = '';

  push(chunk: string): void {
    this.buf += chunk;
  }

  /** The stderr of the transaction ended by `seq`, once its sentinel's report is complete; undefined until then. */
  take(seq: number): string | undefined {
    const word = `\n${sentinel(seq)}\n`;
    const probe = `\n${this.buf}`;
    const at = probe.indexOf(word);
    if (at < 0) return undefined;
    const caretEnd = probe.indexOf('\n', at + word.length);
    if (caretEnd < 0) return undefined;
    // The `Error:` line nft printed for the sentinel starts after the last newline before the echo.
    const errStart = probe.lastIndexOf('\n', at - 1);
    const mine = errStart < 0 ? '' : probe.slice(1, errStart + 1);
    this.buf = probe.slice(caretEnd + 1);
    return mine;
  }

  /** Whatever arrived after the last sentinel (output of a process that died mid-transaction). */
  rest(): string {
    const r = this.buf;
    this.buf = '';
    return r;
  }
}

/**
 * Rewrites nft's error reports about the joined line so they quote the script line they
 * concern, as `nft -f` would: `-:LINE: Error: ...`, that line, carets under the same text.
 */
export function mapErrors(stderr: string, one: OneLine, script: string): string {
  if (stderr === '') return stderr;
  const lines = script.split('\n');
  const rows = stderr.split('\n');
  const out: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const echo = rows[i + 1];
    const carets = rows[i + 2];
    if (row.startsWith('Error:') && echo === one.line && carets !== undefined && /^ *[\^~]+ *$/.test(carets)) {
      const col = carets.search(/[\^~]/);
      let n = 0;
      while (n + 1 < one.starts.length && one.starts[n + 1]! <= col) n++;
      const src = lines[n] ?? '';
      const lead = src.length - src.trimStart().length;
      const within = Math.max(0, col - one.starts[n]!);
      const width = carets.trim().length;
      out.push(`-:${n + 1}:${lead + within + 1}: ${row}`, src, `${src.slice(0, lead)}${' '.repeat(within)}${'^'.repeat(Math.max(1, Math.min(width, src.length - lead - within)))}`);
      i += 2;
    } else {
      out.push(row);
    }
  }
  return out.join('\n');
}
