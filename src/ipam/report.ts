// What `Ipam.show()` returns and how the CLI prints it. Pure: no etcd here.
import type { Family } from '../net/ip.js';

export interface BlockReport {
  cidr: string;
  /** The affine node; null for a block whose node was released but which still holds borrowed addresses. */
  node: string | null;
  used: number;
  total: number;
  /** Allocations held by nodes other than the affine one. */
  borrowed: number;
  /** Allocation count per holding node. */
  byNode: Record<string, number>;
}

export interface PoolReport {
  name: string;
  cidr: string;
  family: Family;
  blockSize: number;
  strictAffinity: boolean;
  disabled: boolean;
  nodeSelector: string;
  blocks: BlockReport[];
  totals: {
    blocks: number;
    used: number;
    /** Addresses inside the pool's claimed blocks. */
    capacity: number;
    /** Addresses in the whole pool, as a decimal string (an IPv6 pool exceeds 2^53). */
    size: string;
  };
}

export interface IpamReport {
  pools: PoolReport[];
  /** Blocks that lie in no current pool (their pool was deleted while addresses were in use). */
  unpooled: BlockReport[];
  /** Pools that could not be read, with the reason. */
  invalid: string[];
  /** Blocks whose stored record is corrupt, with the reason. */
  corrupt: string[];
}

/** Keeps only blocks affine to the node or holding addresses of it; pools without such blocks stay listed with their totals recomputed. */
export function filterReport(r: IpamReport, node: string): IpamReport {
  const keep = (b: BlockReport): boolean => b.node === node || (b.byNode[node] ?? 0) > 0;
  return {
    ...r,
    pools: r.pools.map((p) => {
      const blocks = p.blocks.filter(keep);
      return {
        ...p,
        blocks,
        totals: {
          blocks: blocks.length,
          used: blocks.reduce((s, b) => s + b.used, 0),
          capacity: blocks.reduce((s, b) => s + b.total, 0),
          size: p.totals.size,
        },
      };
    }),
    unpooled: r.unpooled.filter(keep),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/**
 * The human output of `tern ipam show`: one row per pool with its totals, then one row per
 * block. USED/CAPACITY counts addresses in the pool's claimed blocks; SIZE is the whole pool.
 */
export function formatReport(r: IpamReport): string {
  const pools: string[][] = [['POOL', 'CIDR', 'BLOCK SIZE', 'BLOCKS', 'USED/CAPACITY', 'SIZE', 'FLAGS']];
  for (const p of r.pools) {
    const flags = [p.disabled ? 'disabled' : '', p.strictAffinity ? 'strictAffinity' : '', p.nodeSelector !== 'all()' ? `nodeSelector=${p.nodeSelector}` : '']
      .filter(Boolean)
      .join(',');
    pools.push([p.name, p.cidr, `/${p.blockSize}`, String(p.totals.blocks), `${p.totals.used}/${p.totals.capacity}`, p.totals.size, flags]);
  }
  const blocks: string[][] = [['POOL', 'BLOCK', 'NODE', 'USED/TOTAL', 'BORROWED']];
  const row = (pool: string, b: BlockReport): string[] => [pool, b.cidr, b.node ?? '(none)', `${b.used}/${b.total}`, b.borrowed ? String(b.borrowed) : ''];
  for (const p of r.pools) for (const b of p.blocks) blocks.push(row(p.name, b));
  for (const b of r.unpooled) blocks.push(row('(no pool)', b));
  const out = [table(pools), '', blocks.length > 1 ? table(blocks) : 'no blocks'];
  for (const i of r.invalid) out.push(`warning: ${i}`);
  for (const c of r.corrupt) out.push(`warning: ${c}`);
  return `${out.join('\n')}\n`;
}
