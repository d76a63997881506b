// A complete, strict message decoder (RFC 1035 §4.1) for tests, tools and slow paths. The
// server never needs it: requests go through `parseQuery`. Errors are values.
import { MAX_NAME_WIRE, RRType } from './constants.js';

export interface DecodedQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DecodedRR {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Per type: A/AAAA "address"; CNAME/PTR/NS "target"; SRV; TXT "strings"; SOA; raw otherwise. */
  address?: string;
  target?: string;
  priority?: number;
  weight?: number;
  port?: number;
  strings?: string[];
  soa?: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
  raw: Buffer;
}

export interface DecodedMessage {
  id: number;
  flags: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  cd: boolean;
  /** Full rcode: header nibble plus OPT extended bits. */
  rcode: number;
  questions: DecodedQuestion[];
  answers: DecodedRR[];
  authorities: DecodedRR[];
  additionals: DecodedRR[];
  opt?: { udpSize: number; extRcode: number; version: number; do: boolean; flags: number; options: { code: number; data: Buffer }[] };
}

export type DecodeResult = { ok: true; msg: DecodedMessage } | { ok: false; error: string; offset: number };

class Fail {
  constructor(readonly error: string, readonly offset: number) {}
}

function readName(b: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let p = start;
  let end = -1;
  let wire = 1;
  for (let hops = 0; ; hops++) {
    if (hops > 127) throw new Fail('pointer loop', start);
    if (p >= b.length) throw new Fail('name runs past end', p);
    const l = b[p]!;
    if (l === 0) {
      if (end < 0) end = p + 1;
      break;
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= b.length) throw new Fail('truncated pointer', p);
      const target = ((l & 0x3f) << 8) | b[p + 1]!;
      if (end < 0) end = p + 2;
      if (target >= p) throw new Fail('forward pointer', p);
      p = target;
      continue;
    }
    if (l & 0xc0) throw new Fail('reserved label type', p);
    if (p + 1 + l > b.length) throw new Fail('label runs past end', p);
    wire += l + 1;
    if (wire > MAX_NAME_WIRE) throw new Fail('name too long', p);
    labels.push(b.toString('latin1', p + 1, p + 1 + l));
    p += l + 1;
  }
  return [labels.length ? `${labels.join('.')}.` : '.', end];
}

function ipString(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // RFC 5952 zero compression of the longest run.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

function readRR(b: Buffer, p: number): [DecodedRR, number] {
  const [name, q] = readName(b, p);
  if (q + 10 > b.length) throw new Fail('record header runs past end', q);
  const type = b.readUInt16BE(q);
  const cls = b.readUInt16BE(q + 2);
  const ttl = b.readUInt32BE(q + 4);
  const rdlen = b.readUInt16BE(q + 8);
  const rd = q + 10;
  const end = rd + rdlen;
  if (end > b.length) throw new Fail('rdata runs past end', rd);
  const rr: DecodedRR = { name, type, class: cls, ttl, raw: b.subarray(rd, end) };
  switch (type) {
    case RRType.A:
    case RRType.AAAA:
      if (rdlen !== (type === RRType.A ? 4 : 16)) throw new Fail('bad address length', rd);
      rr.address = ipString(b.subarray(rd, end));
      break;
    case RRType.CNAME:
    case RRType.PTR:
    case RRType.NS: {
      const [t, e] = readName(b, rd);
      if (e !== end) throw new Fail('name rdata length mismatch', rd);
      rr.target = t;
      break;
    }
    case RRType.SRV: {
      if (rdlen < 7) throw new Fail('short SRV', rd);
      rr.priority = b.readUInt16BE(rd);
      rr.weight = b.readUInt16BE(rd + 2);
      rr.port = b.readUInt16BE(rd + 4);
      const [t, e] = readName(b, rd + 6);
      if (e !== end) throw new Fail('SRV rdata length mismatch', rd);
      rr.target = t;
      break;
    }
    case RRType.TXT: {
      const out: string[] = [];
      let o = rd;
      while (o < end) {
        const l = b[o]!;
        if (o + 1 + l > end) throw new Fail('TXT string runs past rdata', o);
        out.push(b.toString('utf8', o + 1, o + 1 + l));
        o += 1 + l;
      }
      rr.strings = out;
      break;
    }
    case RRType.SOA: {
      const [mname, a] = readName(b, rd);
      const [rname, c] = readName(b, a);
      if (c + 20 !== end) throw new Fail('SOA rdata length mismatch', rd);
      rr.soa = {
        mname, rname, serial: b.readUInt32BE(c), refresh: b.readUInt32BE(c + 4), retry: b.readUInt32BE(c + 8),
        expire: b.readUInt32BE(c + 12), minimum: b.readUInt32BE(c + 16),
      };
      break;
    }
    default:
      break;
  }
  return [rr, end];
}

export function decodeMessage(b: Buffer): DecodeResult {
  try {
    if (b.length < 12) throw new Fail('short header', 0);
    const flags = b.readUInt16BE(2);
    const counts = [b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8), b.readUInt16BE(10)] as const;
    const msg: DecodedMessage = {
      id: b.readUInt16BE(0), flags, qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf,
      aa: (flags & 0x0400) !== 0, tc: (flags & 0x0200) !== 0, rd: (flags & 0x0100) !== 0,
      ra: (flags & 0x0080) !== 0, cd: (flags & 0x0010) !== 0, rcode: flags & 0xf,
      questions: [], answers: [], authorities: [], additionals: [],
    };
    let p = 12;
    for (let i = 0; i < counts[0]; i++) {
      const [name, q] = readName(b, p);
      if (q + 4 > b.length) throw new Fail('question runs past end', q);
      msg.questions.push({ name, type: b.readUInt16BE(q), class: b.readUInt16BE(q + 2) });
      p = q + 4;
    }
    const sections = [msg.answers, msg.authorities, msg.additionals] as const;
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < counts[s + 1]!; i++) {
        const [rr, e] = readRR(b, p);
        p = e;
        if (rr.type === RRType.OPT) {
          if (s !== 2 || rr.name !== '.' || msg.opt) throw new Fail('misplaced or repeated OPT', p);
          const options: { code: number; data: Buffer }[] = [];
          let o = 0;
          while (o < rr.raw.length) {
            if (o + 4 > rr.raw.length) throw new Fail('OPT option header past rdata', p);
            const len = rr.raw.readUInt16BE(o + 2);
            if (o + 4 + len > rr.raw.length) throw new Fail('OPT option past rdata', p);
            options.push({ code: rr.raw.readUInt16BE(o), data: rr.raw.subarray(o + 4, o + 4 + len) });
            o += 4 + len;
          }
          msg.opt = {
            udpSize: rr.class, extRcode: rr.ttl >>> 24, version: (rr.ttl >>> 16) & 0xff,
            do: (rr.ttl & 0x8000) !== 0, flags: rr.ttl & 0xffff, options,
          };
          msg.rcode |= msg.opt.extRcode << 4;
        }
        sections[s]!.push(rr);
      }
    }
    if (p !== b.length) throw new Fail('trailing bytes', p);
    return { ok: true, msg };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: e.error, offset: e.offset };
    throw e;
  }
}

/** Builds a query message, for tests and tools. */
export function encodeQuery(
  name: string,
  type: number,
  opts: { id?: number; rd?: boolean; edns?: { udpSize?: number; version?: number; do?: boolean; options?: { code: number; data: Uint8Array }[] } } = {},
): Buffer {
  const labels = name === '.' || name === '' ? [] : (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x1234, 0);
  h.writeUInt16BE(opts.rd === false ? 0 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.edns ? 1 : 0, 10);
  parts.push(h);
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0, type >> 8, type & 255, 0, 1]));
  if (opts.edns) {
    const optsBuf = Buffer.concat(
      (opts.edns.options ?? []).map((o) => {
        const x = Buffer.alloc(4 + o.data.length);
        x.writeUInt16BE(o.code, 0);
        x.writeUInt16BE(o.data.length, 2);
        x.set(o.data, 4);
        return x;
      }),
    );
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(RRType.OPT, 1);
    opt.writeUInt16BE(opts.edns.udpSize ?? 1232, 3);
    opt.writeUInt32BE((((opts.edns.version ?? 0) & 0xff) << 16) | (opts.edns.do ? 0x8000 : 0), 5);
    opt.writeUInt16BE(optsBuf.length, 9);
    parts.push(opt, optsBuf);
  }
  return Buffer.concat(parts);
}
