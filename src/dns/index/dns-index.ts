// The in-memory index dnsd answers from: stripped Services, EndpointSlices, WorkloadEndpoints
// and Namespaces, plus the reverse (PTR) and pod-IP maps derived from them. One writer:
// `applyBatch`. Each batch reports which answer tags went stale so caches drop only those.
import { logger } from '../../log/index.js';
import {
  SvcKind, stripNamespace, stripPod, stripService, stripSlice,
  type EndpointRec, type PodRec, type ServiceRec, type SliceRec, type Stripped,
} from './strip.js';

export type DnsKind = 'Service' | 'EndpointSlice' | 'WorkloadEndpoint' | 'Namespace';

export type IndexEvent =
  | { type: 'put'; kind: DnsKind; obj: unknown }
  | { type: 'delete'; kind: DnsKind; namespace?: string; name: string };

/**
 * Answer-cache tags. A cached answer lists the tags it was computed from; a batch that
 * touches one of them invalidates it.
 */
export const Tag = {
  service: (ns: string, name: string): string => `svc:${ns}/${name}`,
  namespace: (ns: string): string => `ns:${ns}`,
  pods: (ns: string): string => `pod:${ns}`,
  ptr: (ip: string): string => `ptr:${ip}`,
} as const;

export type ChangeListener = (tags: ReadonlySet<string>) => void;

const log = logger('dns-index');

/** A PTR map value: one owning service key, or several when addresses are shared. */
type Owners = string | string[];

export interface DnsIndexStats {
  services: number;
  slices: number;
  endpoints: number;
  pods: number;
  namespaces: number;
  ptrAddresses: number;
  rejected: number;
}

export class DnsIndex {
  private readonly services = new Map<string, ServiceRec>();
  private readonly slices = new Map<string, SliceRec>();
  private readonly slicesBySvc = new Map<string, Map<string, SliceRec>>();
  private readonly pods = new Map<string, PodRec>();
  /** namespace -> ip -> number of WorkloadEndpoints holding it. */
  private readonly podIps = new Map<string, Map<string, number>>();
  private readonly namespaces = new Set<string>();
  /** namespace -> number of services in it (a namespace with services exists for DNS). */
  private readonly svcPerNs = new Map<string, number>();
  private readonly ptr = new Map<string, Owners>();
  private readonly listeners: ChangeListener[] = [];
  private endpointCount = 0;
  private rejected = 0;
  private isSynced = false;

  get synced(): boolean {
    return this.isSynced;
  }

  /** Called once the initial listing has been applied; until then zone queries SERVFAIL. */
  markSynced(): void {
    this.isSynced = true;
  }

  onChange(l: ChangeListener): void {
    this.listeners.push(l);
  }

  applyBatch(events: readonly IndexEvent[]): void {
    const tags = new Set<string>();
    for (const ev of events) {
      try {
        this.apply(ev, tags);
      } catch (e) {
        // A bug in one object must not stop the rest of the batch or the watch.
        this.rejected++;
        log.error({ err: e, kind: ev.kind }, 'index update failed');
      }
    }
    if (tags.size) for (const l of this.listeners) l(tags);
  }

  // ---- read side --------------------------------------------------------------------------

  service(ns: string, name: string): ServiceRec | undefined {
    return this.services.get(`${ns}/${name}`);
  }

  slicesOf(ns: string, name: string): Iterable<SliceRec> {
    return this.slicesBySvc.get(`${ns}/${name}`)?.values() ?? [];
  }

  /**
   * The service's endpoints merged over its slices and deduplicated by address; ready ones
   * only unless `publishNotReadyAddresses`. A duplicate keeps the first hostname seen.
   */
  endpointsOf(svc: ServiceRec): EndpointRec[] {
    const m = this.slicesBySvc.get(`${svc.ns}/${svc.name}`);
    if (!m) return [];
    const seen = new Map<string, EndpointRec>();
    for (const s of m.values()) {
      for (const e of s.endpoints) {
        if (!e.ready && !svc.publishNotReady) continue;
        const prev = seen.get(e.ip);
        if (!prev || (!prev.hostname && e.hostname)) seen.set(e.ip, e);
      }
    }
    return [...seen.values()];
  }

  namespaceExists(ns: string): boolean {
    return this.namespaces.has(ns) || (this.svcPerNs.get(ns) ?? 0) > 0;
  }

  podHasIp(ns: string, ip: string): boolean {
    return (this.podIps.get(ns)?.get(ip) ?? 0) > 0;
  }

  /** The namespace of a pod holding `ip` (autopath's client check); O(namespaces with pods). */
  podNamespaceOf(ip: string): string | undefined {
    for (const [ns, ips] of this.podIps) if ((ips.get(ip) ?? 0) > 0) return ns;
    return undefined;
  }

  /** Service keys ("ns/name") whose cluster IPs or headless endpoints include `ip`. */
  ptrOwners(ip: string): readonly string[] {
    const o = this.ptr.get(ip);
    return o === undefined ? [] : typeof o === 'string' ? [o] : o;
  }

  serviceByKey(key: string): ServiceRec | undefined {
    return this.services.get(key);
  }

  stats(): DnsIndexStats {
    return {
      services: this.services.size, slices: this.slices.size, endpoints: this.endpointCount, pods: this.pods.size,
      namespaces: this.namespaces.size, ptrAddresses: this.ptr.size, rejected: this.rejected,
    };
  }

  // ---- write side -------------------------------------------------------------------------

  private apply(ev: IndexEvent, tags: Set<string>): void {
    switch (ev.kind) {
      case 'Service':
        return this.applyService(ev, tags);
      case 'EndpointSlice':
        return this.applySlice(ev, tags);
      case 'WorkloadEndpoint':
        return this.applyPod(ev, tags);
      case 'Namespace':
        return this.applyNamespace(ev, tags);
      default: {
        const never: never = ev.kind;
        this.rejected++;
        log.warn({ kind: String(never) }, 'unknown kind ignored');
      }
    }
  }

  /** Target of a put: the stripped record, or a delete of the object's name when invalid. */
  private target<T>(ev: IndexEvent, strip: (o: unknown) => Stripped<T>): { rec?: T; ns: string; name: string } | undefined {
    if (ev.type === 'delete') return { ns: (ev.namespace ?? '').toLowerCase(), name: ev.name.toLowerCase() };
    const r = strip(ev.obj);
    if (r.ok) {
      const m = r.rec as { ns?: string; name: string };
      return { rec: r.rec, ns: m.ns ?? '', name: m.name };
    }
    this.rejected++;
    log.warn({ kind: ev.kind, reason: r.reason, ns: r.ns, name: r.name }, 'object ignored');
    return r.name !== undefined ? { ns: r.ns ?? '', name: r.name } : undefined;
  }

  private applyService(ev: IndexEvent, tags: Set<string>): void {
    const t = this.target(ev, stripService);
    if (!t) return;
    const key = `${t.ns}/${t.name}`;
    const nsBefore = this.namespaceExists(t.ns);
    const ptrBefore = this.ptrIpsOf(key);
    const old = this.services.get(key);
    if (t.rec) {
      this.services.set(key, t.rec);
      if (!old) this.svcPerNs.set(t.ns, (this.svcPerNs.get(t.ns) ?? 0) + 1);
    } else if (old) {
      this.services.delete(key);
      const n = (this.svcPerNs.get(t.ns) ?? 1) - 1;
      if (n > 0) this.svcPerNs.set(t.ns, n);
      else this.svcPerNs.delete(t.ns);
    } else {
      return;
    }
    tags.add(Tag.service(t.ns, t.name));
    this.reindexPtr(key, ptrBefore, tags);
    if (nsBefore !== this.namespaceExists(t.ns)) this.nsChanged(t.ns, tags);
  }

  private applySlice(ev: IndexEvent, tags: Set<string>): void {
    const t = this.target(ev, stripSlice);
    if (!t) return;
    const key = `${t.ns}/${t.name}`;
    const old = this.slices.get(key);
    const owners = new Set<string>();
    if (old) owners.add(old.svc);
    if (t.rec) owners.add(t.rec.svc);
    if (owners.size === 0) return;
    const before = new Map<string, Set<string>>();
    for (const o of owners) before.set(o, this.ptrIpsOf(o));
    if (old) {
      this.endpointCount -= old.endpoints.length;
      const m = this.slicesBySvc.get(old.svc);
      m?.delete(key);
      if (m && m.size === 0) this.slicesBySvc.delete(old.svc);
      this.slices.delete(key);
    }
    if (t.rec) {
      this.endpointCount += t.rec.endpoints.length;
      this.slices.set(key, t.rec);
      let m = this.slicesBySvc.get(t.rec.svc);
      if (!m) this.slicesBySvc.set(t.rec.svc, (m = new Map()));
      m.set(key, t.rec);
    }
    for (const o of owners) {
      const slash = o.indexOf('/');
      tags.add(Tag.service(o.slice(0, slash), o.slice(slash + 1)));
      this.reindexPtr(o, before.get(o)!, tags);
    }
  }

  private applyPod(ev: IndexEvent, tags: Set<string>): void {
    const t = this.target(ev, stripPod);
    if (!t) return;
    const key = `${t.ns}/${t.name}`;
    const old = this.pods.get(key);
    if (!old && !t.rec) return;
    let m = this.podIps.get(t.ns);
    if (old && m) {
      for (const ip of old.ips) {
        const n = (m.get(ip) ?? 1) - 1;
        if (n > 0) m.set(ip, n);
        else m.delete(ip);
      }
    }
    if (t.rec) {
      this.pods.set(key, t.rec);
      if (!m) this.podIps.set(t.ns, (m = new Map()));
      for (const ip of t.rec.ips) m.set(ip, (m.get(ip) ?? 0) + 1);
    } else {
      this.pods.delete(key);
    }
    if (m && m.size === 0) this.podIps.delete(t.ns);
    tags.add(Tag.pods(t.ns));
  }

  private applyNamespace(ev: IndexEvent, tags: Set<string>): void {
    const t = this.target(ev, stripNamespace);
    if (!t) return;
    // Namespaces are cluster-scoped: the name is the namespace.
    const ns = t.name;
    const before = this.namespaceExists(ns);
    if (t.rec) this.namespaces.add(ns);
    else this.namespaces.delete(ns);
    if (before !== this.namespaceExists(ns)) this.nsChanged(ns, tags);
  }

  private nsChanged(ns: string, tags: Set<string>): void {
    tags.add(Tag.namespace(ns));
    tags.add(Tag.pods(ns));
  }

  /** Addresses a service answers PTR for: cluster IPs, and endpoints when headless. */
  private ptrIpsOf(key: string): Set<string> {
    const out = new Set<string>();
    const svc = this.services.get(key);
    if (!svc) return out;
    for (const ip of svc.ips) out.add(ip);
    if (svc.kind === SvcKind.Headless) for (const e of this.endpointsOf(svc)) out.add(e.ip);
    return out;
  }

  /**
   * Brings the PTR map in line for one service. For a headless service every address before
   * or after is tagged, not only the difference: a hostname change keeps the address but
   * changes the PTR target. A cluster IP's target is the service name, which cannot change.
   */
  private reindexPtr(key: string, before: Set<string>, tags: Set<string>): void {
    const after = this.ptrIpsOf(key);
    const all = this.services.get(key)?.kind === SvcKind.Headless;
    for (const ip of before) {
      const gone = !after.has(ip);
      if (gone || all) tags.add(Tag.ptr(ip));
      if (gone) this.ptrRemove(ip, key);
    }
    for (const ip of after) {
      const added = !before.has(ip);
      if (added || all) tags.add(Tag.ptr(ip));
      if (added) this.ptrAdd(ip, key);
    }
  }

  private ptrAdd(ip: string, key: string): void {
    const o = this.ptr.get(ip);
    if (o === undefined) this.ptr.set(ip, key);
    else if (typeof o === 'string') {
      if (o !== key) this.ptr.set(ip, [o, key]);
    } else if (!o.includes(key)) o.push(key);
  }

  private ptrRemove(ip: string, key: string): void {
    const o = this.ptr.get(ip);
    if (o === undefined) return;
    if (typeof o === 'string') {
      if (o === key) this.ptr.delete(ip);
      return;
    }
    const rest = o.filter((k) => k !== key);
    if (rest.length === 0) this.ptr.delete(ip);
    else this.ptr.set(ip, rest.length === 1 ? rest[0]! : rest);
  }
}
