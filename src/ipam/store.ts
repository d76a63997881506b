// The two etcd primitives IPAM is built on, over etcd's raw Txn RPC:
//   snapshot(): several reads answered at one revision, so a decision never mixes states
//               (e.g. a block list from before a claim with an affinity list from after it);
//   cas():      writes applied only if every guarded key is still at the revision that was read
//               (mod_revision ==) or still absent (create_revision == 0).
// Nothing else in IPAM talks to etcd.
import { CompareResult, CompareTarget, Range, type Etcd3, type ICompare, type IRequestOp } from 'etcd3';

export interface Kv {
  key: string;
  value: string;
  mod: string;
}

export type Read = { key: string } | { prefix: string; keysOnly?: boolean };

/** A key must still be at this mod revision, or (mod "0") must not exist. */
export interface Guard {
  key: string;
  mod: string;
}

export type Write = { put: string; value: string } | { del: string };

export async function snapshot(client: Etcd3, reads: Read[]): Promise<{ revision: string; results: Kv[][] }> {
  const success: IRequestOp[] = reads.map((r) =>
    'key' in r
      ? { request_range: { key: Buffer.from(r.key) } }
      : { request_range: { key: Buffer.from(r.prefix), range_end: Range.prefix(r.prefix).end, keys_only: r.keysOnly ?? false } },
  );
  const res = await client.kv.txn({ compare: [], success });
  const results = res.responses.map((op) =>
    (op.response_range.kvs ?? []).map((kv) => ({ key: kv.key.toString(), value: kv.value ? kv.value.toString() : '', mod: String(kv.mod_revision) })),
  );
  return { revision: String(res.header.revision), results };
}

export async function cas(client: Etcd3, guards: Guard[], writes: Write[]): Promise<boolean> {
  const compare: ICompare[] = guards.map((g) =>
    g.mod === '0'
      ? { key: Buffer.from(g.key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }
      : { key: Buffer.from(g.key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: g.mod },
  );
  const success: IRequestOp[] = writes.map((w) =>
    'put' in w ? { request_put: { key: Buffer.from(w.put), value: Buffer.from(w.value) } } : { request_delete_range: { key: Buffer.from(w.del) } },
  );
  const res = await client.kv.txn({ compare, success });
  return res.succeeded;
}
