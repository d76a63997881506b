// The IPPool fields IPAM reads, with their defaults applied. Pure: a stored pool in, a
// normalised pool or an error value out. Only the fields named here are looked at, so the
// full resource schema can grow without touching IPAM.
import { bitsOf, formatCidr, parseCidr, type Cidr, type Family } from '../net/ip.js';
import { parseSelector, type Selector } from '../resources/selector.js';

/** The stored JSON shape, as far as IPAM cares (see the IPPool shape of the resources). */
export interface StoredPool {
  metadata?: { name?: unknown };
  spec?: {
    cidr?: unknown;
    blockSize?: unknown;
    strictAffinity?: unknown;
    disabled?: unknown;
    nodeSelector?: unknown;
  };
}

export interface Pool {
  name: string;
  cidr: Cidr;
  /** Canonical text of cidr. */
  cidrText: string;
  family: Family;
  blockSize: number;
  strictAffinity: boolean;
  disabled: boolean;
  nodeSelector: string;
  selector: Selector;
}

export const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;
/** Allowed block prefix lengths per family: at most 4096 addresses a block. */
export const BLOCK_SIZE_RANGE = { 4: [20, 32], 6: [116, 128] } as const;

export type PoolResult = { ok: true; pool: Pool } | { ok: false; error: string };

export function normalizePool(raw: unknown): PoolResult {
  const p = (typeof raw === 'object' && raw !== null ? raw : {}) as StoredPool;
  const name = p.metadata?.name;
  if (typeof name !== 'string' || name === '') return { ok: false, error: 'IPPool without metadata.name' };
  const spec = p.spec ?? {};
  if (typeof spec.cidr !== 'string') return { ok: false, error: `IPPool ${name}: spec.cidr is missing` };
  let cidr: Cidr;
  try {
    cidr = parseCidr(spec.cidr, { strict: false });
  } catch (e) {
    return { ok: false, error: `IPPool ${name}: spec.cidr: ${(e as Error).message}` };
  }
  const family = cidr.family;
  const blockSize = spec.blockSize ?? DEFAULT_BLOCK_SIZE[family];
  const [lo, hi] = BLOCK_SIZE_RANGE[family];
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < lo || blockSize > hi) {
    return { ok: false, error: `IPPool ${name}: spec.blockSize must be an integer ${lo}-${hi} for IPv${family}` };
  }
  if (blockSize < cidr.prefixLen || blockSize > bitsOf(family)) {
    return { ok: false, error: `IPPool ${name}: spec.blockSize /${blockSize} is larger than the pool ${spec.cidr}` };
  }
  const nodeSelector = spec.nodeSelector === undefined ? 'all()' : spec.nodeSelector;
  if (typeof nodeSelector !== 'string') return { ok: false, error: `IPPool ${name}: spec.nodeSelector must be a string` };
  const sel = parseSelector(nodeSelector);
  if (!sel.ok) return { ok: false, error: `IPPool ${name}: spec.nodeSelector: ${sel.error}` };
  return {
    ok: true,
    pool: {
      name,
      cidr,
      cidrText: formatCidr(cidr),
      family,
      blockSize,
      strictAffinity: spec.strictAffinity === true,
      disabled: spec.disabled === true,
      nodeSelector,
      selector: sel.value,
    },
  };
}

/** Number of blocks in a pool, as a bigint: an IPv6 pool may hold 2^100 of them. */
export function blockCount(pool: Pool): bigint {
  return 1n << BigInt(pool.blockSize - pool.cidr.prefixLen);
}
