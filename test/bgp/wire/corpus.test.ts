import { describe, expect, it } from 'vitest';
import { decode, makeContext, scanUpdate, type UpdateMessage, type WireContext } from '../../../src/bgp/wire/index.js';
import { CORPUS, type CtxName } from './corpus/cases.js';

const CTX: Record<CtxName, WireContext> = {
  as2: makeContext({ as4: false }),
  as4: makeContext({ as4: true }),
  'as4-ext': makeContext({ as4: true, extendedMessage: true }),
};

describe('malformed message corpus', () => {
  it('has at least 40 cases with distinct names', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ctx = CTX[c.ctx];
    const r = decode(c.bytes, 0, ctx);
    if (c.expect.outcome === 'fail') {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect({ code: r.error.code, subcode: r.error.subcode, action: r.error.action }).toEqual({
        code: c.expect.code, subcode: c.expect.subcode, action: 'session-reset',
      });
      return;
    }
    expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
    if (!r.ok) return;
    const m = r.value as UpdateMessage;
    expect(m.type).toBe('UPDATE');
    expect(m.action).toBe(c.expect.outcome);
    expect(m.errors!.map((e) => [e.code, e.subcode])).toContainEqual([c.expect.code, c.expect.subcode]);
    for (const e of m.errors!) expect(e.action).not.toBe('session-reset');
    if (c.expect.outcome === 'treat-as-withdraw') {
      // RFC 7606 §2: nothing is announced; every NLRI became a withdrawal.
      expect(m.treatAsWithdraw).toBe(true);
      expect(m.nlri).toEqual([]);
      expect(m.attributes.some((a) => a.type === 'MP_REACH_NLRI')).toBe(false);
      const s = scanUpdate(c.bytes, 0, ctx);
      expect(s.ok && s.value.attrKey).toBe('');
    }
    if (c.expect.outcome === 'afisafi-disable') {
      const e = m.errors!.find((x) => x.action === 'afisafi-disable')!;
      expect(typeof e.afi).toBe('number');
      expect(typeof e.safi).toBe('number');
    }
    if (c.expect.outcome === 'attribute-discard') {
      // The discarded attribute is gone; the rest of the UPDATE is still used.
      expect(m.treatAsWithdraw).toBeUndefined();
      const e = m.errors!.find((x) => x.action === 'attribute-discard')!;
      const kept = m.attributes.filter((a) => (a.type === 'UNKNOWN' ? a.code : -1) === e.attrType);
      expect(kept.length).toBeLessThanOrEqual(1);
    }
  });

  it('a duplicate keeps the first occurrence', () => {
    const c = CORPUS.find((x) => x.name === 'duplicate ORIGIN')!;
    const r = decode(c.bytes, 0, CTX.as4);
    expect(r.ok && (r.value as UpdateMessage).attributes.filter((a) => a.type === 'ORIGIN')).toEqual([{ type: 'ORIGIN', flags: 0x40, origin: 0 }]);
  });

  it('errors carry the offending attribute as NOTIFICATION data (RFC 4271 §6.3)', () => {
    const c = CORPUS.find((x) => x.name === 'ORIGIN value 3')!;
    const r = decode(c.bytes, 0, CTX.as4);
    expect(r.ok && Buffer.from((r.value as UpdateMessage).errors![0]!.data).toString('hex')).toBe('40010103');
  });
});
