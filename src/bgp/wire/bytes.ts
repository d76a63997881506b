// Big-endian readers and writers over plain Uint8Array views. Callers check bounds first (the
// decoders validate lengths before reading), so these never throw and never allocate.

export const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
export const u24 = (b: Uint8Array, o: number): number => (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
export const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export function w16(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
  return 2;
}
export function w24(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >>> 16) & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = v & 255;
  return 3;
}
export function w32(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
  return 4;
}

/** Dotted-quad text of 4 octets (router ids, IPv4 next hops). */
export const dotted = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Parses a dotted quad; returns -1 on anything else. */
export function parseDotted(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) return -1;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return -1;
    const n = Number(p);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

export function writeDotted(b: Uint8Array, o: number, s: string): number {
  const v = parseDotted(s);
  if (v < 0) throw new RangeError(`not an IPv4 address: "${s}"`);
  return w32(b, o, v);
}

/** Copies a view into its own small buffer, for values kept after the message buffer is reused. */
export const copyBytes = (b: Uint8Array, s: number, e: number): Uint8Array => new Uint8Array(b.subarray(s, e));
