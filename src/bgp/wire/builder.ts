// Outgoing UPDATE packing: many prefixes under one attribute set into as few messages as the
// session's maximum length allows (BIRD's bucket flush), and withdrawals likewise.
import { AttrFlag, AttrType, MsgType } from './constants.js';
import type { WireContext } from './context.js';
import { familyKey, maxMessageLength } from './context.js';
import { w16 } from './bytes.js';
import type { PathAttribute } from './attributes.js';
import { attributesLength, encodeAttributes } from './attributes.js';
import type { Prefix } from './prefix.js';
import { encodeIpv4Prefix, encodePrefix, ipBytes, prefixLength } from './prefix.js';
import { writeHeader } from './header.js';

export interface UpdateBuilderOptions {
  /** The send-direction context (ADD-PATH tx, 4-octet AS, extended messages). */
  ctx: WireContext;
  afi: number;
  safi?: number;
  /**
   * The shared path attributes, without MP_REACH_NLRI / MP_UNREACH_NLRI: decoded objects, or
   * an attribute block already in wire form (e.g. an interned one).
   */
  attributes: readonly PathAttribute[] | Uint8Array;
  /**
   * For MP_REACH_NLRI: IPv6 next hop (with optional link-local, RFC 2545), or for IPv4 NLRI an
   * IPv6 next hop under RFC 8950. Absent for IPv4: the classic NLRI field with NEXT_HOP.
   */
  nextHop?: { nextHop: string; linkLocal?: string };
}

abstract class Packer {
  protected readonly max: number;
  protected readonly addPath: boolean;
  private readonly out: Buffer[] = [];
  protected cur: Buffer | null = null;
  protected pos = 0;
  /** Where prefixes start in each message, and how far they may go. */
  protected nlriStart = 0;
  protected limit = 0;

  constructor(ctx: WireContext, afi: number, safi: number) {
    this.max = maxMessageLength(ctx);
    this.addPath = ctx.addPath.has(familyKey(afi, safi));
  }

  /** Writes everything before the prefixes; returns where prefixes start. */
  protected abstract open(b: Buffer): number;
  /** Writes everything after the prefixes and fills the length fields; returns the message length. */
  protected abstract close(b: Buffer, nlriEnd: number): number;
  /** Octets needed after the prefixes. */
  protected abstract trailer(): number;

  protected room(n: number): number {
    if (this.cur !== null && this.pos + n <= this.limit) return this.pos;
    this.flush();
    const b = Buffer.allocUnsafe(this.max);
    this.cur = b;
    this.nlriStart = this.pos = this.open(b);
    this.limit = this.max - this.trailer();
    if (this.pos + n > this.limit) throw new RangeError('path attributes leave no room for a prefix in one message');
    return this.pos;
  }

  add(p: Prefix): void {
    const n = prefixLength(p, this.addPath);
    const o = this.room(n);
    this.pos = o + encodePrefix(p, this.cur!, o, this.addPath);
  }

  /** Hot path: an IPv4 prefix as a 32-bit number, no object needed. */
  addIpv4(addr: number, len: number, pathId = 0): void {
    const o = this.room((this.addPath ? 5 : 1) + ((len + 7) >> 3));
    this.pos = o + encodeIpv4Prefix(addr, len, pathId, this.cur!, o, this.addPath);
  }

  /** Closes the message being filled (if any). */
  flush(): void {
    const b = this.cur;
    if (b === null) return;
    this.cur = null;
    if (this.pos === this.nlriStart) return;
    const len = this.close(b, this.pos);
    writeHeader(b, 0, len, MsgType.UPDATE);
    this.out.push(b.subarray(0, len));
  }

  /** Flushes and hands over the finished messages. */
  take(): Buffer[] {
    this.flush();
    return this.out.splice(0, this.out.length);
  }
}

function mpNextHop(nh: { nextHop: string; linkLocal?: string }): Uint8Array {
  const g = ipBytes(nh.nextHop);
  if (nh.linkLocal === undefined) return g;
  const out = new Uint8Array(g.length + 16);
  out.set(g);
  out.set(ipBytes(nh.linkLocal), g.length);
  return out;
}

/** Packs announcements. Classic IPv4 NLRI field, or MP_REACH_NLRI as the first attribute (RFC 7606 §5.1). */
export class UpdateBuilder extends Packer {
  private readonly attrs: Uint8Array;
  private readonly mp: Uint8Array | null;

  constructor(o: UpdateBuilderOptions) {
    const safi = o.safi ?? 1;
    super(o.ctx, o.afi, safi);
    if (o.attributes instanceof Uint8Array) this.attrs = o.attributes;
    else {
      const a = new Uint8Array(attributesLength(o.attributes, o.ctx));
      encodeAttributes(o.attributes, a, 0, o.ctx);
      this.attrs = a;
    }
    if (o.afi === 1 && o.nextHop === undefined) this.mp = null;
    else {
      if (o.nextHop === undefined) throw new RangeError(`AFI ${o.afi} needs a next hop for MP_REACH_NLRI`);
      const nh = mpNextHop(o.nextHop);
      // Extended Length always: the NLRI make it large and the length is only known at the end.
      const mp = new Uint8Array(4 + 4 + nh.length + 1);
      mp[0] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
      mp[1] = AttrType.MP_REACH_NLRI;
      w16(mp, 4, o.afi);
      mp[6] = safi;
      mp[7] = nh.length;
      mp.set(nh, 8);
      mp[8 + nh.length] = 0;
      this.mp = mp;
    }
  }

  protected open(b: Buffer): number {
    b[19] = 0;
    b[20] = 0;
    if (this.mp === null) {
      b.set(this.attrs, 23);
      return 23 + this.attrs.length;
    }
    b.set(this.mp, 23);
    return 23 + this.mp.length;
  }

  protected trailer(): number {
    return this.mp === null ? 0 : this.attrs.length;
  }

  protected close(b: Buffer, end: number): number {
    if (this.mp === null) {
      w16(b, 21, this.attrs.length);
      return end;
    }
    w16(b, 23 + 2, end - 23 - 4);
    b.set(this.attrs, end);
    w16(b, 21, end + this.attrs.length - 23);
    return end + this.attrs.length;
  }
}

/**
 * Packs withdrawals: the classic Withdrawn Routes field for IPv4 unicast, MP_UNREACH_NLRI
 * otherwise. `mp` forces MP_UNREACH_NLRI for IPv4 unicast too: a session that carries IPv4
 * routes in MP_REACH_NLRI (RFC 8950 extended next hop) withdraws them the same way.
 */
export class WithdrawBuilder extends Packer {
  private readonly afi: number;
  private readonly safi: number;
  private readonly classic: boolean;

  constructor(o: { ctx: WireContext; afi: number; safi?: number; mp?: boolean }) {
    const safi = o.safi ?? 1;
    super(o.ctx, o.afi, safi);
    this.afi = o.afi;
    this.safi = safi;
    this.classic = o.afi === 1 && safi === 1 && o.mp !== true;
  }

  protected open(b: Buffer): number {
    if (this.classic) return 21;
    b[19] = 0;
    b[20] = 0;
    b[23] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
    b[24] = AttrType.MP_UNREACH_NLRI;
    w16(b, 27, this.afi);
    b[29] = this.safi;
    return 30;
  }

  protected trailer(): number {
    return this.classic ? 2 : 0;
  }

  protected close(b: Buffer, end: number): number {
    if (this.classic) {
      w16(b, 19, end - 21);
      w16(b, end, 0);
      return end + 2;
    }
    w16(b, 25, end - 27);
    w16(b, 21, end - 23);
    return end;
  }
}

export function buildUpdates(o: UpdateBuilderOptions, prefixes: Iterable<Prefix>): Buffer[] {
  const b = new UpdateBuilder(o);
  for (const p of prefixes) b.add(p);
  return b.take();
}

export function buildWithdraws(o: { ctx: WireContext; afi: number; safi?: number; mp?: boolean }, prefixes: Iterable<Prefix>): Buffer[] {
  const b = new WithdrawBuilder(o);
  for (const p of prefixes) b.add(p);
  return b.take();
}

/** RFC 4724 §2: an empty UPDATE for IPv4 unicast, an UPDATE with an empty MP_UNREACH_NLRI otherwise. */
export function endOfRibMessage(afi: number, safi = 1): Buffer {
  if (afi === 1 && safi === 1) {
    const b = Buffer.alloc(23);
    writeHeader(b, 0, 23, MsgType.UPDATE);
    return b;
  }
  const b = Buffer.alloc(29);
  writeHeader(b, 0, 29, MsgType.UPDATE);
  w16(b, 21, 6);
  b[23] = AttrFlag.OPTIONAL;
  b[24] = AttrType.MP_UNREACH_NLRI;
  b[25] = 3;
  w16(b, 26, afi);
  b[28] = safi;
  return b;
}
