// The queue both nftables dataplanes apply through: one run at a time, the newest state wins.
import { describe, expect, it } from 'vitest';
import { NewestWins } from '../../../src/agent/nft/newest-wins.js';

interface Report { state: string; coalesced?: number }

/** A run that waits until released, recording what it was given. */
function gated() {
  const ran: string[] = [];
  const gates: Array<() => void> = [];
  const run = async (s: string): Promise<Report> => {
    ran.push(s);
    await new Promise<void>((r) => gates.push(r));
    if (s === 'bad') throw new Error('nft said no');
    return { state: s };
  };
  const release = async (): Promise<void> => {
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 1));
    gates.shift()!();
  };
  return { ran, run, release };
}

describe('NewestWins', () => {
  it('runs one at a time; calls made meanwhile get one run of the newest state', async () => {
    const g = gated();
    const q = new NewestWins<string, Report>(g.run);
    const a = q.submit('a');
    const b = q.submit('b');
    const c = q.submit('c');
    await g.release();
    expect(await a).toEqual({ state: 'a' });
    await g.release();
    const [rb, rc] = await Promise.all([b, c]);
    expect(g.ran).toEqual(['a', 'c']);
    expect(rb).toBe(rc);
    expect(rc).toEqual({ state: 'c', coalesced: 2 });
    await q.idle();
  });

  it('merges queued states when asked, and hands a failure to every caller it answered', async () => {
    const g = gated();
    const q = new NewestWins<string, Report>(g.run, { merge: (queued, next) => (queued === 'bad' || next === 'bad' ? 'bad' : next) });
    const first = q.submit('x');
    const p1 = q.submit('bad');
    const p2 = q.submit('y');
    await g.release();
    await first;
    await g.release();
    await expect(p1).rejects.toThrow('nft said no');
    await expect(p2).rejects.toThrow('nft said no');
    expect(g.ran).toEqual(['x', 'bad']);
    // The queue goes on after a failure.
    const after = q.submit('z');
    await g.release();
    expect(await after).toEqual({ state: 'z' });
  });

  it('idle() waits for what is queued', async () => {
    const g = gated();
    const q = new NewestWins<string, Report>(g.run);
    void q.submit('a');
    void q.submit('b');
    let idle = false;
    const done = q.idle().then(() => (idle = true));
    await g.release();
    await new Promise((r) => setTimeout(r, 5));
    expect(idle).toBe(false);
    await g.release();
    await done;
    expect(g.ran).toEqual(['a', 'b']);
  });
});
