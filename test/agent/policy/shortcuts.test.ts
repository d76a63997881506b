// The policy calculation's allocation-free shortcuts against the general code they replace:
// - compileSelector (engine.ts) against matchLabelSelector (src/resources/meta.ts);
// - endpointAddresses' canonical-IPv4 path against parsing and formatting the prefix;
// - elementDiff's merge walk (render.ts) against hash sets, on sorted and unsorted lists;
// - renderChanges' merge walk (diff.ts) against renderDiff when the lists are not sorted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointAddresses } from '../../../src/agent/policy/calc.js';
import { renderChanges } from '../../../src/agent/policy/diff.js';
import { compileSelector, PolicyEngine } from '../../../src/agent/policy/engine.js';
import type { DesiredState, PolicyError } from '../../../src/agent/policy/model.js';
import { elementDiff, renderDiff } from '../../../src/agent/policy/render.js';
import { formatIp, parseCidr } from '../../../src/net/ip.js';
import { matchLabelSelector, type LabelSelector } from '../../../src/resources/index.js';
import { NODE, netpol, pod } from './fixtures.js';

describe('compileSelector', () => {
  it('matches exactly what matchLabelSelector matches', () => {
    const key = fc.constantFrom('app', 'tier', 'env', 'constructor', 'toString');
    const val = fc.constantFrom('x', 'y', '');
    const selector: fc.Arbitrary<LabelSelector> = fc.record(
      {
        matchLabels: fc.dictionary(key, val, { maxKeys: 2 }),
        matchExpressions: fc.array(
          fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const), values: fc.option(fc.array(val, { maxLength: 2 }), { nil: undefined }) }, { requiredKeys: ['key', 'operator'] }),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(selector, fc.array(fc.dictionary(key, val, { maxKeys: 3 }), { minLength: 1, maxLength: 5 }), (sel, labelSets) => {
        const m = compileSelector(sel);
        for (const l of labelSets) expect(m(l)).toBe(matchLabelSelector(sel, l));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('endpointAddresses', () => {
  it('gives the parsed-and-formatted address for every form, canonical or not', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('00', '01', '010', '256', '999', ''));
    const prefix = fc.constantFrom('/32', '/31', '/24', '', '/032');
    const v4 = fc.tuple(octet, octet, octet, octet, prefix).map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}${p}`);
    const v6 = fc.constantFrom('fd00::1/128', 'FD00:0::1/128', 'fd00::/64', '::ffff:10.0.0.1/128');
    fc.assert(
      fc.property(fc.array(fc.oneof(v4, v6), { maxLength: 3 }), (nets) => {
        const errs: PolicyError[] = [];
        const got = endpointAddresses(nets, 'x/p', errs);
        const want = { v4: [] as string[], v6: [] as string[] };
        let wantErrs = 0;
        for (const n of nets) {
          try {
            const c = parseCidr(n, { strict: false });
            if (c.prefixLen !== (c.family === 4 ? 32 : 128)) throw new Error('not a single address');
            (c.family === 4 ? want.v4 : want.v6).push(formatIp({ family: c.family, value: c.base }));
          } catch {
            wantErrs++;
          }
        }
        expect(got).toEqual(want);
        expect(errs.length).toBe(wantErrs);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe('elementDiff', () => {
  it('equals the hash-set difference, in each list order, sorted or not', () => {
    const elem = fc.constantFrom('10.0.0.1', '10.0.0.10', '10.0.0.2', '10.0.0.1 . 80', 'fd00::1', 'a', 'b');
    fc.assert(
      fc.property(fc.array(elem, { maxLength: 7 }), fc.array(elem, { maxLength: 7 }), fc.boolean(), (a, b, sort) => {
        const prev = sort ? [...new Set(a)].sort() : a;
        const next = sort ? [...new Set(b)].sort() : b;
        const have = new Set(prev);
        const want = new Set(next);
        expect(elementDiff(prev, next)).toEqual({ del: prev.filter((e) => !want.has(e)), add: next.filter((e) => !have.has(e)) });
      }),
      { numRuns: 3000, seed: 13 },
    );
  });
});

describe('renderChanges', () => {
  it('gives renderDiff\'s transaction when the states\' lists are not in order', () => {
    const eng = new PolicyEngine(NODE);
    const apply = (n: number, app: string): void => eng.apply({ kind: 'endpoint-upsert', endpoint: pod({ ns: 'x', name: `p${n}`, ip: `10.244.1.${n}`, labels: { app } }) });
    for (let i = 1; i <= 6; i++) apply(i, i % 2 ? 'a' : 'b');
    eng.apply({ kind: 'policy-upsert', policy: netpol('x', 'q', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'b' } } }] }] }) });
    const before = eng.state();
    apply(7, 'b');
    apply(2, 'a');
    const after = eng.state();
    const reversed = (s: DesiredState): DesiredState => ({ sets: [...s.sets].reverse(), endpoints: [...s.endpoints].reverse(), errors: s.errors });
    const want = renderDiff(reversed(before), reversed(after)).script;
    expect(want).not.toBe('');
    expect(renderChanges(reversed(before), reversed(after)).script).toBe(want);
    // And the sorted lists (the merge walk) give the sorted states' transaction.
    expect(renderChanges(before, after).script).toBe(renderDiff(before, after).script);
  });
});
