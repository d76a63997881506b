// Domain names: text <-> labels <-> wire (RFC 1035 §3.1), and the lowercased wire key the
// answer cache is indexed by.
import { MAX_LABEL, MAX_NAME_WIRE } from './constants.js';

/** "Foo.Bar." -> ["foo", "bar"]; "" and "." -> []. Lowercases ASCII only (RFC 4343). */
export function toLabels(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return [];
  return n.toLowerCase().split('.');
}

export function fromLabels(labels: readonly string[]): string {
  return labels.length === 0 ? '.' : `${labels.join('.')}.`;
}

/** True when the labels form a name that fits the wire limits. */
export function isEncodable(labels: readonly string[]): boolean {
  let n = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > MAX_LABEL) return false;
    n += l.length + 1;
  }
  return n <= MAX_NAME_WIRE;
}

/** Uncompressed wire form, as a latin1 string (the cache key format, see `wireKey`). */
export function labelsToWireKey(labels: readonly string[]): string {
  let s = '';
  for (const l of labels) s += String.fromCharCode(l.length) + l;
  return `${s}\0`;
}

/**
 * Splits a wire key (uncompressed name bytes as latin1, lowercased) into labels. The key came
 * from a question that `parseQuery` validated, so it is well formed.
 */
export function wireKeyToLabels(key: string): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < key.length) {
    const l = key.charCodeAt(p);
    if (l === 0) break;
    out.push(key.substr(p + 1, l));
    p += l + 1;
  }
  return out;
}

/**
 * The cache key of the question name at b[12..end): its wire bytes as latin1, lowercased.
 * Length octets are at most 63 so `toLowerCase` cannot alter them; non-ASCII label bytes may
 * fold (latin1 letters), which can only merge names that do not exist in any zone.
 */
export function wireKey(b: Buffer, start: number, end: number): string {
  return b.toString('latin1', start, end).toLowerCase();
}
