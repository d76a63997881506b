// Bad input, generated: seeded so a failure can be replayed from the printed seed. Pure: bytes
// and strings only, no sockets (attacks.ts sends them).

/** mulberry32: small, fast, reproducible. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 129, 254, 255];

/** 1–4 edits (set, interesting value, bit flip, truncate, insert, delete) from `from` on. */
export function mutate(rng: Rng, src: Uint8Array, from = 0): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = from + rng.int(Math.max(1, b.length - from));
    switch (rng.int(6)) {
      case 0: if (at < b.length) b[at] = rng.int(256); break;
      case 1: if (at < b.length) b[at] = rng.pick(INTERESTING); break;
      case 2: if (at < b.length) b[at] = b[at]! ^ (1 << rng.int(8)); break;
      case 3: b = b.subarray(0, Math.max(from, at)); break;
      case 4: b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]); break;
      default: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------
// protobuf

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/**
 * A protobuf-shaped message with random field numbers and wire types: a string field sent as
 * a varint, a message as a fixed64, lengths that overrun, group markers, 10-octet varints.
 */
export function protobufGarbage(rng: Rng, maxFields = 8): Buffer {
  const out: number[] = [];
  const fields = 1 + rng.int(maxFields);
  for (let f = 0; f < fields; f++) {
    const field = rng.chance(0.8) ? 1 + rng.int(20) : rng.int(1 << 29);
    const wt = rng.pick([0, 1, 2, 2, 3, 4, 5, 6, 7]);
    out.push(...varint((field << 3) | wt));
    switch (wt) {
      case 0: out.push(...(rng.chance(0.2) ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : varint(rng.int(1 << 30)))); break;
      case 1: out.push(...rng.bytes(rng.chance(0.9) ? 8 : rng.int(8))); break;
      case 2: {
        const len = rng.int(40);
        out.push(...varint(rng.chance(0.15) ? len + 1 + rng.int(1000) : len), ...rng.bytes(len));
        break;
      }
      case 5: out.push(...rng.bytes(rng.chance(0.9) ? 4 : rng.int(4))); break;
      default: break; // groups (3, 4) and invalid wire types (6, 7) carry nothing
    }
  }
  return Buffer.from(out);
}

/** A string of `n` characters, sometimes with NULs, controls and unpaired surrogates. */
export function weirdString(rng: Rng, n: number): string {
  if (rng.chance(0.5)) return 'x'.repeat(n);
  const alphabet = ['a', '.', '/', ':', '\u0000', '\n', '\u00e9', '\ud800', '\u{1f600}', '%', '*', ' ', '-', '9'];
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(alphabet);
  return s;
}

// ---------------------------------------------------------------------------------------
// HTTP

/** Raw HTTP/1.x requests an ops endpoint must survive: each is written on its own connection. */
export function httpGarbage(rng: Rng): Buffer {
  const huge = (n: number): string => 'a'.repeat(n);
  const forms: (() => string | Buffer)[] = [
    () => rng.bytes(1 + rng.int(2000)),
    () => `${rng.pick(['DELETE', 'PUT', 'POST', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'FOO', 'G\u0000ET', ''])} /health HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET /${huge(1000 + rng.int(100_000))} HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET /metrics?${huge(20_000)} HTTP/1.1\r\n\r\n`,
    () => `GET /health HTTP/1.1\r\n${Array.from({ length: 200 + rng.int(2000) }, (_, i) => `X-H${i}: ${huge(50)}\r\n`).join('')}\r\n`,
    () => `GET /health HTTP/1.1\r\nX: ${huge(100_000)}\r\n\r\n`,
    () => `POST /ready HTTP/1.1\r\nContent-Length: ${rng.pick(['abc', '-1', '99999999999999999999', '5, 6'])}\r\n\r\nhello`,
    () => `POST /health HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${rng.pick(['zz', 'ffffffffffffffff', '5\r\nab'])}\r\n`,
    () => `GET /health HTTP/9.9\r\n\r\n`,
    () => `GET /health\r\n\r\n`,
    () => `GET ${rng.pick(['*', '//..//..//etc/passwd', '/%00', '/health%2f..', 'http://x/ready', '/\u00ff'])} HTTP/1.1\r\n\r\n`,
    () => `GET /health HTTP/1.1\r\nHost: x\r\n`, // never finished
    () => `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`.repeat(50), // pipelined
    () => `\r\n\r\n\r\n`,
    () => `GET /health HTTP/1.1\nHost: x\n\n`,
    () => Buffer.concat([Buffer.from('GET /health HTTP/1.1\r\nHost: '), rng.bytes(200), Buffer.from('\r\n\r\n')]),
  ];
  const f = rng.pick(forms)();
  return typeof f === 'string' ? Buffer.from(f, 'latin1') : f;
}

// ---------------------------------------------------------------------------------------
// DNS

/** A DNS message on TCP: a length prefix that lies (0, short, long, 65535), then bytes. */
export function dnsTcpGarbage(rng: Rng, valid: Buffer): Buffer {
  const body = rng.chance(0.5) ? mutate(rng, valid) : rng.bytes(rng.int(600));
  const prefix = Buffer.alloc(2);
  switch (rng.int(5)) {
    case 0: prefix.writeUInt16BE(0); break;
    case 1: prefix.writeUInt16BE(Math.max(0, body.length - 1 - rng.int(10))); break;
    case 2: prefix.writeUInt16BE(Math.min(65535, body.length + 1 + rng.int(1000))); break;
    case 3: prefix.writeUInt16BE(65535); break;
    default: prefix.writeUInt16BE(body.length);
  }
  const parts = [prefix, body];
  if (rng.chance(0.3)) parts.push(rng.bytes(1 + rng.int(3))); // a stray partial length
  return Buffer.concat(parts);
}
