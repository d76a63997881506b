// The agent's etcd inputs: one PrefixWatcher per prefix (each lists, then watches, and
// re-lists on compaction with mark-and-sweep), every event turned into an AgentUpdate.
// "Synced" once every prefix has delivered its first list.
import type { Etcd3 } from 'etcd3';
import { keyToCidr, type Keys, type StoredKind } from '../../datastore/keys.js';
import { PrefixWatcher, type WatchEvent } from '../../datastore/watch.js';
import type { Logger } from '../../log/index.js';
import { storedDecoder, type Resource } from '../../resources/index.js';
import { Interner, stripEndpoint, stripStoredEndpoint } from './strip.js';
import type { AgentUpdate, BlockSummary } from './updates.js';

export interface Watchers {
  /** Resolves when every prefix has been listed once (etcd down: keeps waiting). */
  listed: Promise<void>;
  stop(): Promise<void>;
  stats(): Record<string, unknown>;
}

export interface WatchOptions {
  client: Etcd3;
  keys: Keys;
  nodeName: string;
  log: Logger;
  onUpdates(us: AgentUpdate[]): void;
  /** Called once every prefix has been listed (and again after any re-list). */
  onSynced(): void;
}

/** The IPAM block record fields the agent reads (src/ipam/block.ts owns the format). */
export function decodeBlock(value: Buffer): { ok: true; value: BlockSummary } | { ok: false; error: string } {
  try {
    const o = JSON.parse(value.toString()) as { cidr?: unknown; affinity?: unknown; allocations?: unknown };
    if (typeof o.cidr !== 'string') return { ok: false, error: 'block without cidr' };
    const allocated = o.allocations && typeof o.allocations === 'object' ? Object.keys(o.allocations).length : 0;
    return { ok: true, value: { cidr: o.cidr, affinity: typeof o.affinity === 'string' ? o.affinity : null, allocated } };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

type Converter<T> = (ev: Extract<WatchEvent<T>, { type: 'put' | 'delete' }>) => AgentUpdate | undefined;

/**
 * A WorkloadEndpoint decoder that keeps only what the agent reads (strip.ts): the watcher's
 * view holds this one object, and every consumer downstream shares it. A value of a
 * WorkloadEndpoint key that the field check of strip.ts accepts is not run through the schema
 * (`dec`); everything else is, and `dec`'s answer (or error) is the result.
 */
export function decodeEndpoint(
  dec: (key: string, value: Buffer) => { ok: true; value: Resource } | { ok: false; error: string },
  pool: Interner,
  key: string,
  value: Buffer,
  isEndpointKey: (key: string) => boolean = () => false,
): { ok: true; value: Resource } | { ok: false; error: string } {
  if (isEndpointKey(key)) {
    let doc: unknown;
    try {
      doc = JSON.parse(value.toString('utf8'));
    } catch {
      doc = undefined;
    }
    const w = stripStoredEndpoint(doc, pool);
    if (w) return { ok: true, value: w };
  }
  const r = dec(key, value);
  if (!r.ok || r.value.kind !== 'WorkloadEndpoint') return r;
  return { ok: true, value: stripEndpoint(r.value, pool) };
}

export function startWatchers(o: WatchOptions): Watchers {
  const { keys, client } = o;
  const pool = new Interner();
  const list: PrefixWatcher<unknown>[] = [];
  const pending = new Set<string>();

  const idOf = (key: string): string => {
    const r = keys.parseResource(key);
    return r ? (r.namespace ? `${r.namespace}/${r.name}` : r.name) : key;
  };
  const resourceConverter = (kind: StoredKind): Converter<Resource> => (ev) => {
    const v = ev.type === 'put' ? ev.value : null;
    const id = idOf(ev.key);
    switch (kind) {
      case 'Node': return { kind: 'node', name: id, node: v as Extract<Resource, { kind: 'Node' }> | null };
      case 'WorkloadEndpoint': return { kind: 'endpoint', id, endpoint: v as Extract<Resource, { kind: 'WorkloadEndpoint' }> | null };
      case 'Namespace': return { kind: 'namespace', name: id, namespace: v as Extract<Resource, { kind: 'Namespace' }> | null };
      case 'NetworkPolicy': return { kind: 'policy', id, policy: v as Extract<Resource, { kind: 'NetworkPolicy' }> | null };
      case 'Service': return { kind: 'service', id, service: v as Extract<Resource, { kind: 'Service' }> | null };
      case 'EndpointSlice': return { kind: 'slice', id, slice: v as Extract<Resource, { kind: 'EndpointSlice' }> | null };
      case 'BGPConfiguration': return { kind: 'bgp-config', name: id, config: v as Extract<Resource, { kind: 'BGPConfiguration' }> | null };
      case 'BGPPeer': return { kind: 'bgp-peer', name: id, peer: v as Extract<Resource, { kind: 'BGPPeer' }> | null };
      case 'IPPool': return { kind: 'ippool', name: id, pool: v as Extract<Resource, { kind: 'IPPool' }> | null };
      default: {
        const never: never = kind;
        return never;
      }
    }
  };

  const add = <T>(name: string, prefix: string, decode: ((key: string, value: Buffer) => { ok: true; value: T } | { ok: false; error: string }) | undefined, conv: Converter<T>): void => {
    const w = new PrefixWatcher<T>(client, prefix, { ...(decode ? { decode } : {}), logger: o.log.child({ watch: name }), name });
    pending.add(name);
    w.onBatch((events) => {
      const us: AgentUpdate[] = [];
      let synced = false;
      for (const ev of events) {
        if (ev.type === 'synced') {
          synced = true;
          continue;
        }
        const u = conv(ev);
        if (u) us.push(u);
      }
      if (us.length > 0) o.onUpdates(us);
      if (synced) {
        pending.delete(name);
        if (pending.size === 0) o.onSynced();
      }
    });
    list.push(w as PrefixWatcher<unknown>);
  };

  for (const kind of ['Node', 'WorkloadEndpoint', 'Namespace', 'NetworkPolicy', 'Service', 'EndpointSlice', 'BGPConfiguration', 'BGPPeer', 'IPPool'] as const) {
    const dec = storedDecoder(keys, kind);
    const isEndpointKey = (k: string): boolean => keys.parseResource(k)?.kind === 'WorkloadEndpoint';
    add<Resource>(kind, keys.kindPrefix(kind), kind === 'WorkloadEndpoint' ? (k, v) => decodeEndpoint(dec, pool, k, v, isEndpointKey) : dec, resourceConverter(kind));
  }
  add<true>('affinity', keys.nodeAffinityPrefix(o.nodeName), () => ({ ok: true, value: true }), (ev) => {
    const seg = ev.key.slice(keys.nodeAffinityPrefix(o.nodeName).length);
    return { kind: 'affinity', cidr: keyToCidr(seg), present: ev.type === 'put' };
  });
  add<BlockSummary>('blocks', keys.blocksPrefix, (_k, v) => decodeBlock(v), (ev) => ({
    kind: 'block',
    cidr: keyToCidr(ev.key.slice(keys.blocksPrefix.length)),
    block: ev.type === 'put' ? ev.value : null,
  }));

  const listed = Promise.all(list.map((w) => w.start())).then(() => undefined);
  // A stop() before the first list rejects start(); that is not an error here.
  listed.catch(() => undefined);
  return {
    listed,
    stop: async () => {
      await Promise.all(list.map((w) => w.stop()));
    },
    stats: () => Object.fromEntries(list.map((w, i) => [String(i), w.stats()])),
  };
}
