// One trace end to end: read etcd and the agents, resolve the request, read exactly the
// kernel and bgpd facts the explanation needs, explain.
import type { Store } from '../datastore/store.js';
import type { Ipam } from '../ipam/index.js';
import { explain, needs, resolve } from './explain.js';
import { readCluster, readDataplane } from './gather.js';
import type { TraceRequest, TraceResult } from './model.js';
import type { AccessMap } from './nodes.js';

export interface TraceOptions {
  store: Store;
  ipam: Ipam;
  access: AccessMap;
}

export async function trace(req: TraceRequest, o: TraceOptions): Promise<TraceResult> {
  const cluster = await readCluster(o.store, o.ipam, o.access);
  const resolved = resolve(cluster.facts, req);
  const dp = await readDataplane(needs(cluster.facts, resolved), o.access, cluster.agents, cluster.errors);
  return explain(cluster.facts, resolved, dp);
}
