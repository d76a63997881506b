// A test double of RibPort that records every call. The real RIB (src/bgp/rib) is tested on its
// own; this one only remembers what a session handed it and hands back what a test queued.
import type { PeerDescriptor, RibPort } from '../../../src/bgp/peer.js';
import { familyKey, formatIpBytes, formatIpv4, type UpdateScan, visitNlri } from '../../../src/bgp/wire/index.js';

export interface RecordedUpdate {
  peerId: number;
  announced: string[];
  withdrawn: string[];
  attrKey: string;
  treatAsWithdraw: boolean;
  action: string | null;
  /** The attribute block, copied (the scan's buffer is only valid during the call). */
  attributes: Buffer;
  mpNextHop: string | null;
}

export type RibCall =
  | { fn: 'peerUp'; peer: PeerDescriptor }
  | { fn: 'peerDown'; peerId: number; keepStale: boolean; staleTimeMs: number }
  | { fn: 'update'; peerId: number }
  | { fn: 'endOfRib'; peerId: number; family: number }
  | { fn: 'routeRefresh'; peerId: number; family: number; enhanced: boolean }
  | { fn: 'refreshBegin'; peerId: number; family: number }
  | { fn: 'refreshEnd'; peerId: number; family: number };

export class RecordingRib implements RibPort {
  readonly calls: RibCall[] = [];
  readonly updates: RecordedUpdate[] = [];
  readonly wakes = new Map<number, () => void>();
  private readonly outbox = new Map<number, Uint8Array[]>();
  /** Announced prefixes held per peer, to report max-prefix violations as the RIB would. */
  private readonly held = new Map<number, Set<string>>();
  private readonly limits = new Map<number, number>();
  drainCalls = 0;

  peerUp(peer: PeerDescriptor, wake: () => void): void {
    this.calls.push({ fn: 'peerUp', peer });
    this.wakes.set(peer.id, wake);
    this.limits.set(peer.id, peer.maxPrefixes);
    this.held.set(peer.id, new Set());
    // The real RIB starts the initial dump here; a test queues what it wants sent.
    if ((this.outbox.get(peer.id)?.length ?? 0) > 0) queueMicrotask(wake);
  }

  peerDown(peerId: number, opts: { keepStale: boolean; staleTimeMs: number }): void {
    this.calls.push({ fn: 'peerDown', peerId, ...opts });
    this.wakes.delete(peerId);
  }

  update(peerId: number, scan: UpdateScan): { maxPrefixExceeded: boolean } {
    this.calls.push({ fn: 'update', peerId });
    const announced: string[] = [];
    const withdrawn: string[] = [];
    visitNlri(scan, {
      ipv4: (addr, len, _id, w) => (w ? withdrawn : announced).push(`${formatIpv4(addr)}/${len}`),
      ipv6: (buf, off, len, _id, w) => {
        const a = new Uint8Array(16);
        a.set(buf.subarray(off, off + ((len + 7) >> 3)));
        (w ? withdrawn : announced).push(`${formatIpBytes(a)}/${len}`);
      },
    });
    const mp = scan.mpReach;
    this.updates.push({
      peerId,
      announced,
      withdrawn,
      attrKey: scan.attrKey,
      treatAsWithdraw: scan.treatAsWithdraw,
      action: scan.action,
      attributes: Buffer.from(scan.attributes),
      mpNextHop: mp ? formatIpBytes(new Uint8Array(mp.nextHop.subarray(0, mp.nextHop.length >= 16 ? 16 : 4))) : null,
    });
    const held = this.held.get(peerId) ?? new Set<string>();
    for (const p of withdrawn) held.delete(p);
    for (const p of announced) held.add(p);
    const limit = this.limits.get(peerId) ?? 0;
    return { maxPrefixExceeded: limit > 0 && held.size > limit };
  }

  endOfRib(peerId: number, family: number): void {
    this.calls.push({ fn: 'endOfRib', peerId, family });
  }

  routeRefresh(peerId: number, family: number, enhanced: boolean): void {
    this.calls.push({ fn: 'routeRefresh', peerId, family, enhanced });
  }

  refreshBegin(peerId: number, family: number): void {
    this.calls.push({ fn: 'refreshBegin', peerId, family });
  }

  refreshEnd(peerId: number, family: number): void {
    this.calls.push({ fn: 'refreshEnd', peerId, family });
  }

  drainOut(peerId: number, maxBytes: number): Uint8Array[] {
    this.drainCalls++;
    const q = this.outbox.get(peerId);
    if (!q || q.length === 0) return [];
    const out: Uint8Array[] = [];
    let n = 0;
    while (q.length && (out.length === 0 || n + q[0]!.length <= maxBytes)) {
      const m = q.shift()!;
      n += m.length;
      out.push(m);
    }
    return out;
  }

  /** Queues encoded messages for a peer and wakes its session if it is up. */
  queue(peerId: number, msgs: Uint8Array[]): void {
    const q = this.outbox.get(peerId) ?? [];
    q.push(...msgs);
    this.outbox.set(peerId, q);
    this.wakes.get(peerId)?.();
  }

  queued(peerId: number): number {
    return this.outbox.get(peerId)?.length ?? 0;
  }

  of<F extends RibCall['fn']>(fn: F): Extract<RibCall, { fn: F }>[] {
    return this.calls.filter((c): c is Extract<RibCall, { fn: F }> => c.fn === fn);
  }

  announced(peerId?: number): string[] {
    return this.updates.filter((u) => peerId === undefined || u.peerId === peerId).flatMap((u) => u.announced);
  }
}

export { familyKey };
