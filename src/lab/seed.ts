// Sample cluster state for `npm start`: the BGP configuration, an IPv4 and an IPv6 pool, one
// Node per node namespace, and a few pod addresses assigned through IPAM, so that a fresh lab
// shows blocks, affinities and allocations in `tern ipam show` before any daemon runs.
// Everything goes through the Store (validation, the documented key layout) and Ipam (etcd
// transactions): the lab writes no key by hand.
import { Keys } from '../datastore/keys.js';
import { Store } from '../datastore/store.js';
import { connectEtcd } from '../datastore/client.js';
import { Ipam, formatReport } from '../ipam/index.js';

export interface SeedNode {
  name: string;
  fabricIp: string;
  /** Fabric address with prefix length, e.g. 10.99.0.21/24. */
  fabricCidr: string;
  ipv6?: string;
}

export interface SeedContext {
  /** An etcd endpoint reachable from this process (the lab's unix socket). */
  etcdEndpoint: string;
  nodes: SeedNode[];
  /** etcd key prefix; /tern/ by default. */
  prefix?: string;
  asNumber?: number;
  ipv4Pool?: string;
  ipv6Pool?: string;
  /** Pod addresses to assign per node. */
  podsPerNode?: number;
  out?: (line: string) => void;
}

export interface SeedResult {
  applied: Array<{ kind: string; name: string; action: string }>;
  assigned: Array<{ handle: string; node: string; ipv4?: string; ipv6?: string }>;
  /** `ipam.show()` as the table `tern ipam show` prints. */
  report: string;
}

export const SAMPLE_HANDLE_PREFIX = 'lab-sample-';

export async function seedCluster(ctx: SeedContext): Promise<SeedResult> {
  const out = ctx.out ?? (() => undefined);
  const client = connectEtcd({ endpoints: [ctx.etcdEndpoint], dialTimeoutMs: 5000 });
  try {
    const keys = new Keys(ctx.prefix);
    const store = new Store(client, keys);
    const ipam = new Ipam(client, keys);
    const docs: unknown[] = [
      { apiVersion: 'tern.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: ctx.asNumber ?? 64512, nodeToNodeMeshEnabled: false } },
      { apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'default-ipv4' }, spec: { cidr: ctx.ipv4Pool ?? '10.244.0.0/16', blockSize: 26 } },
      { apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'default-ipv6' }, spec: { cidr: ctx.ipv6Pool ?? 'fd00:244::/48', blockSize: 122 } },
      ...ctx.nodes.map((n) => ({
        apiVersion: 'tern.dev/v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
        spec: {
          bgp: { ipv4Address: n.fabricCidr, ...(n.ipv6 ? { ipv6Address: `${n.ipv6}/64` } : {}) },
          addresses: [{ address: n.fabricIp, type: 'InternalIP' }],
        },
      })),
    ];
    const applied: SeedResult['applied'] = [];
    for (const d of docs) {
      const r = await store.apply(d);
      const meta = (d as { kind: string; metadata: { name: string } });
      applied.push({ kind: meta.kind, name: meta.metadata.name, action: r.action });
      out(`  ${r.action.padEnd(9)} ${meta.kind}/${meta.metadata.name}`);
    }
    const assigned: SeedResult['assigned'] = [];
    for (const n of ctx.nodes) {
      for (let i = 1; i <= (ctx.podsPerNode ?? 2); i++) {
        const handle = `${SAMPLE_HANDLE_PREFIX}${n.name}-${i}.eth0`;
        const r = await ipam.assign({ handle, node: n.name, ipv4: true, ipv6: true, attrs: { namespace: 'default', pod: `sample-${n.name}-${i}` } });
        assigned.push({ handle, node: n.name, ...(r.ipv4 ? { ipv4: r.ipv4 } : {}), ...(r.ipv6 ? { ipv6: r.ipv6 } : {}) });
      }
    }
    const report = formatReport(await ipam.show());
    return { applied, assigned, report };
  } finally {
    client.close();
  }
}
