// The pure half of the persistent runner: scripts to one interactive line, stderr cut at
// sentinels, errors pointed back at script lines.
import { describe, expect, it } from 'vitest';
import { mapErrors, SentinelSplitter, toOneLine, type OneLine } from '../../../src/agent/nft/script.js';

const line = (script: string): string => {
  const r = toOneLine(script);
  if (!('line' in r)) throw new Error(`refused: ${r.error}`);
  return r.line;
};

describe('toOneLine', () => {
  it.each([
    ['commands', 'add element inet t s { 1.2.3.4 }\nflush chain inet t c\n', 'add element inet t s { 1.2.3.4 }; flush chain inet t c'],
    ['blank lines and indentation', '\n\tadd chain inet t c\n\n  add rule inet t c counter\n', 'add chain inet t c; add rule inet t c counter'],
    ['one-line set block', 'add set inet t s { type ipv4_addr; flags interval; }\n', 'add set inet t s { type ipv4_addr; flags interval; }'],
    ['table block', 'table inet t {\n\tchain c {\n\t\tcounter\n\t}\n}\n', 'table inet t {; chain c {; counter; }; }'],
    ['multi-line element list: spaces, not separators', 'table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t1.2.3.4,\n\t\t\t5.6.7.8\n\t\t}\n\t}\n}', 'table inet t {; set s {; type ipv4_addr; elements = { 1.2.3.4, 5.6.7.8 }; }; }'],
    ['map elements with verdicts', 'map m {\n\ttype ifname : verdict\n\telements = {\n\t\t"a" : goto c,\n\t\t"b" : drop\n\t}\n}', 'map m {; type ifname : verdict; elements = { "a" : goto c, "b" : drop }; }'],
    ['comments dropped, quoted # and ; kept', 'add rule inet t c counter comment "x # y; z" # why\n# whole line\n', 'add rule inet t c counter comment "x # y; z"'],
    ['anonymous set in a rule', 'add rule inet t c tcp dport { 80, 443 } accept', 'add rule inet t c tcp dport { 80, 443 } accept'],
  ])('%s', (_, script, want) => {
    expect(line(script)).toBe(want);
  });

  it.each([
    ['define', 'define x = 1\nadd rule inet t c tcp dport $x', 'directive'],
    ['include', 'include "/etc/x.nft"', 'directive'],
    ['continuation', 'add rule inet t c \\\n counter', 'continuation'],
    ['unbalanced', 'table inet t {\n', 'unbalanced'],
    ['unterminated string', 'add rule inet t c comment "a\nb"', 'unterminated-string'],
  ])('refuses %s', (_, script, error) => {
    expect(toOneLine(script)).toEqual({ error });
  });

  it('records where each script line starts', () => {
    const r = toOneLine('add table inet t\n\n  add chain inet t c\n') as OneLine;
    expect(r.line.slice(r.starts[0]!)).toMatch(/^add table/);
    expect(r.line.slice(r.starts[2]!)).toMatch(/^add chain/);
  });
});

describe('SentinelSplitter', () => {
  const stream =
    'Error: syntax error, unexpected newline, expecting string\nternsync1\n         ^\n' +
    'Error: No such file or directory\nadd element inet t nosuch { 1.2.3.4 }\n                   ^^^^^^\n' +
    'Error: syntax error, unexpected newline, expecting string\nternsync2\n         ^\n' +
    'Error: syntax error, unexpected newline, expecting string\nternsync3\n         ^\n';

  it('gives each transaction the stderr before its sentinel, whatever the chunking', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const s = new SentinelSplitter();
      const got: Array<string | undefined> = [];
      let seq = 1;
      for (const part of [stream.slice(0, cut), stream.slice(cut)]) {
        s.push(part);
        for (let r = s.take(seq); r !== undefined; r = s.take(seq)) {
          got.push(r);
          seq++;
        }
      }
      expect(got).toEqual(['', 'Error: No such file or directory\nadd element inet t nosuch { 1.2.3.4 }\n                   ^^^^^^\n', '']);
    }
  });

  it('waits for the caret line of the sentinel', () => {
    const s = new SentinelSplitter();
    s.push('Error: syntax error, unexpected newline, expecting string\nternsync1\n');
    expect(s.take(1)).toBeUndefined();
    s.push('         ^\n');
    expect(s.take(1)).toBe('');
  });

  it('does not take a later sentinel for an earlier one', () => {
    const s = new SentinelSplitter();
    s.push('Error: x\nternsync12\n ^\n');
    expect(s.take(1)).toBeUndefined();
    expect(s.take(12)).toBe('');
  });
});

describe('mapErrors', () => {
  it('quotes the script line an error points into', () => {
    const script = 'add element inet t s { 1.2.3.4 }\n\tdelete element inet t s { 5.6.7.8 }\n';
    const one = toOneLine(script) as OneLine;
    const col = one.line.indexOf('5.6.7.8');
    const stderr = `Error: Could not process rule: No such file or directory\n${one.line}\n${' '.repeat(col)}^^^^^^^\n`;
    const [head, src, carets] = mapErrors(stderr, one, script).split('\n');
    // 1-based column in the script line, as `nft -f` counts it (the tab is one character).
    expect(head).toBe('-:2:28: Error: Could not process rule: No such file or directory');
    expect(src).toBe('\tdelete element inet t s { 5.6.7.8 }');
    expect(carets!.indexOf('^')).toBe(src!.indexOf('5.6.7.8'));
    expect(carets!.trim()).toBe('^^^^^^^');
  });

  it('leaves other text alone', () => {
    const one = toOneLine('flush chain inet t c') as OneLine;
    expect(mapErrors('Warning: something\n', one, 'flush chain inet t c')).toBe('Warning: something\n');
  });
});
