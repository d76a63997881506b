// Resource records and their encoding with name compression (RFC 1035 §3.2.1, §4.1.4).
// Used off the hot path: the answer layer encodes a record set once, and the bytes are cached.
import { RRClass, RRType } from './constants.js';

export type RData =
  | { t: 'addr'; bytes: Uint8Array } // A (4 bytes) or AAAA (16 bytes)
  | { t: 'name'; name: readonly string[] } // CNAME, PTR, NS
  | { t: 'srv'; priority: number; weight: number; port: number; target: readonly string[] }
  | { t: 'txt'; strings: readonly string[] }
  | {
      t: 'soa';
      mname: readonly string[];
      rname: readonly string[];
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

export interface RR {
  /** Owner name as lowercase labels. */
  name: readonly string[];
  type: number;
  ttl: number;
  data: RData;
}

const POINTER_LIMIT = 0x4000;

/**
 * Writes records into a growable buffer that will sit at absolute offset `base` of a message.
 * Knowing `base` lets names compress against each other and against the question name, whose
 * suffixes are registered up front at their offsets from 12.
 */
export class SectionWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly names = new Map<string, number>();

  constructor(private readonly base: number, question?: readonly string[]) {
    this.buf = Buffer.allocUnsafe(512);
    if (question) {
      let off = 12;
      for (let i = 0; i < question.length; i++) {
        this.names.set(question.slice(i).join('.'), off);
        off += question[i]!.length + 1;
      }
    }
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  name(labels: readonly string[]): void {
    for (let i = 0; i < labels.length; i++) {
      const suffix = i === 0 ? labels.join('.') : labels.slice(i).join('.');
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      const abs = this.base + this.pos;
      if (abs < POINTER_LIMIT) this.names.set(suffix, abs);
      const l = labels[i]!;
      this.ensure(l.length + 1);
      this.buf[this.pos++] = l.length;
      this.pos += this.buf.write(l, this.pos, 'latin1');
    }
    this.u8(0);
  }

  rr(r: RR): void {
    this.name(r.name);
    this.u16(r.type);
    this.u16(RRClass.IN);
    this.u32(r.ttl);
    const lenAt = this.pos;
    this.u16(0);
    const d = r.data;
    switch (d.t) {
      case 'addr':
        this.bytes(d.bytes);
        break;
      case 'name':
        this.name(d.name);
        break;
      case 'srv':
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        // RFC 2782 forbids compressing the target, but RFC 3597 §4 notes decoders accept it;
        // we keep it uncompressed to stay strictly conformant.
        this.plainName(d.target);
        break;
      case 'txt':
        for (const s of d.strings) {
          const n = Buffer.byteLength(s, 'utf8');
          this.u8(n);
          this.ensure(n);
          this.pos += this.buf.write(s, this.pos, 'utf8');
        }
        break;
      case 'soa':
        this.name(d.mname);
        this.name(d.rname);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        break;
      default: {
        const never: never = d;
        throw new Error(`unknown rdata ${String(never)}`);
      }
    }
    this.buf.writeUInt16BE(this.pos - lenAt - 2, lenAt);
  }

  /** A name written without compression, still registered so later names may point at it. */
  plainName(labels: readonly string[]): void {
    for (let i = 0; i < labels.length; i++) {
      const abs = this.base + this.pos;
      const suffix = labels.slice(i).join('.');
      if (abs < POINTER_LIMIT && !this.names.has(suffix)) this.names.set(suffix, abs);
      const l = labels[i]!;
      this.ensure(l.length + 1);
      this.buf[this.pos++] = l.length;
      this.pos += this.buf.write(l, this.pos, 'latin1');
    }
    this.u8(0);
  }

  /** A copy of the bytes written so far, sized exactly. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export const addrType = (bytes: Uint8Array): number => (bytes.length === 4 ? RRType.A : RRType.AAAA);
