// The answer cache keyed by wire bytes: case folding, per-type entries, hash chains, tag
// invalidation and the size bound, checked against a plain Map model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerCache, questionHash } from '../../src/dns/answer/cache.js';

/** Wire form of a dotted name (labels only, root included), placed at offset 12 like a question. */
function wire(name: string): { b: Uint8Array; start: number; end: number } {
  const parts = name.split('.').filter(Boolean);
  const bytes: number[] = new Array(12).fill(0);
  for (const p of parts) bytes.push(p.length, ...Buffer.from(p, 'latin1'));
  bytes.push(0);
  return { b: Uint8Array.from(bytes), start: 12, end: bytes.length };
}

function get(c: AnswerCache<string>, name: string, qtype: number, hash?: number): string | undefined {
  const w = wire(name);
  return c.get(w.b, w.start, w.end, qtype, hash ?? questionHash(w.b, w.start, w.end, qtype));
}

function set(c: AnswerCache<string>, name: string, qtype: number, v: string, tags: string[], hash?: number): void {
  const w = wire(name);
  c.set(w.b, w.start, w.end, qtype, hash ?? questionHash(w.b, w.start, w.end, qtype), v, tags);
}

describe('AnswerCache', () => {
  it('folds ASCII case only (RFC 4343) and keeps types apart', () => {
    const c = new AnswerCache<string>(100);
    set(c, 'svc.ns.svc.cluster.local', 1, 'a', ['svc:ns/svc']);
    expect(get(c, 'SVC.Ns.svc.CLUSTER.local', 1)).toBe('a');
    expect(get(c, 'svc.ns.svc.cluster.local', 28)).toBeUndefined();
    expect(get(c, 'svd.ns.svc.cluster.local', 1)).toBeUndefined();
    // Latin-1 letters are not folded: \u00c0 and \u00e0 are different names.
    set(c, '\u00c0.x', 1, 'upper', []);
    expect(get(c, '\u00e0.x', 1)).toBeUndefined();
    expect(get(c, '\u00c0.x', 1)).toBe('upper');
    expect(questionHash(wire('A.b').b, 12, wire('A.b').end, 1)).toBe(questionHash(wire('a.B').b, 12, wire('a.B').end, 1));
  });

  it('chains names with one hash and drops exactly the tagged ones', () => {
    const c = new AnswerCache<string>(100);
    const H = 42; // every name in one bucket
    set(c, 'one.x', 1, '1', ['t1'], H);
    set(c, 'two.x', 1, '2', ['t2'], H);
    set(c, 'three.x', 1, '3', ['t1', 't3'], H);
    expect([get(c, 'one.x', 1, H), get(c, 'two.x', 1, H), get(c, 'three.x', 1, H)]).toEqual(['1', '2', '3']);
    expect(c.size).toBe(3);
    c.invalidate(['t1']);
    expect([get(c, 'one.x', 1, H), get(c, 'two.x', 1, H), get(c, 'three.x', 1, H)]).toEqual([undefined, '2', undefined]);
    expect(c.size).toBe(1);
    // An entry already dropped through t1 is not dropped twice through t3.
    c.invalidate(['t3']);
    expect(c.size).toBe(1);
    set(c, 'two.x', 1, '2b', ['t4'], H);
    expect(c.size).toBe(1);
    c.invalidate(['t4']);
    expect(get(c, 'two.x', 1, H)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('empties itself at the bound, then takes the new entry', () => {
    const c = new AnswerCache<string>(2);
    set(c, 'a.x', 1, 'a', []);
    set(c, 'b.x', 1, 'b', []);
    set(c, 'c.x', 1, 'c', []);
    expect(c.size).toBe(1);
    expect(get(c, 'a.x', 1)).toBeUndefined();
    expect(get(c, 'c.x', 1)).toBe('c');
  });

  it('agrees with a Map model under random operations, with forced hash collisions', () => {
    const name = fc.constantFrom('a.x', 'A.x', 'b.x', 'B.X', 'c.y', 'long-name.ns.svc.cluster.local');
    const op = fc.oneof(
      fc.record({ k: fc.constant('set' as const), name, qtype: fc.constantFrom(1, 28), tag: fc.constantFrom('t1', 't2', 'static') }),
      fc.record({ k: fc.constant('inv' as const), tag: fc.constantFrom('t1', 't2') }),
      fc.record({ k: fc.constant('get' as const), name, qtype: fc.constantFrom(1, 28) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, collide) => {
      const c = new AnswerCache<string>(1000);
      const model = new Map<string, { v: string; tags: Set<string> }>();
      const hash = (n: string, t: number): number | undefined => (collide ? 7 : questionHash(wire(n).b, 12, wire(n).end, t));
      ops.forEach((o, i) => {
        if (o.k === 'set') {
          const key = `${o.name.toLowerCase()}/${o.qtype}`;
          const m = model.get(key);
          model.set(key, { v: String(i), tags: new Set([...(m?.tags ?? []), o.tag]) });
          set(c, o.name, o.qtype, String(i), [o.tag], hash(o.name, o.qtype));
        } else if (o.k === 'inv') {
          for (const [key, m] of model) if (m.tags.has(o.tag)) model.delete(key);
          c.invalidate([o.tag]);
        } else {
          expect(get(c, o.name, o.qtype, hash(o.name, o.qtype))).toBe(model.get(`${o.name.toLowerCase()}/${o.qtype}`)?.v);
        }
        expect(c.size).toBe(model.size);
      });
    }));
  });
});
