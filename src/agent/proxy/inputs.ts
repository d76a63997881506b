// The keyed view that watch updates land in. snapshot() recalculates only the services whose
// Service, slices or named-port pods changed since the last snapshot and reuses the other
// ServiceModel objects as they are, so a change of one endpoint among 10,000 services costs
// one service's calculation and lets the renderer skip every unchanged service by identity.
import type { EndpointSlice, Service, WorkloadEndpoint } from '../../resources/index.js';
import { calculateService, podPortLookup, sliceService } from './calc.js';
import type { ProxyContext, ProxyState, ServiceModel } from './model.js';

export type ProxyUpdate =
  | { kind: 'service-upsert'; service: Service }
  | { kind: 'service-delete'; namespace: string; name: string }
  | { kind: 'slice-upsert'; slice: EndpointSlice }
  | { kind: 'slice-delete'; namespace: string; name: string }
  | { kind: 'pod-upsert'; pod: WorkloadEndpoint }
  | { kind: 'pod-delete'; namespace: string; name: string }
  | { kind: 'cluster-cidrs'; cidrs: string[] };

export class ProxyInputs {
  private context: ProxyContext;
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly sliceOwner = new Map<string, string>();
  private readonly slicesBySvc = new Map<string, Map<string, EndpointSlice>>();
  private readonly pods = new Map<string, WorkloadEndpoint>();
  private readonly models = new Map<string, ServiceModel>();
  private readonly dirtyKeys = new Set<string>();
  private allDirty = true;
  private lookup = podPortLookup([]);
  private podsChanged = false;

  constructor(nodeName: string, clusterCidrs: string[] = []) {
    this.context = { nodeName, clusterCidrs: [...clusterCidrs].sort() };
  }

  get dirty(): boolean {
    // A pod update can change a named target port's number: snapshot() decides which services read it.
    return this.allDirty || this.dirtyKeys.size > 0 || this.podsChanged;
  }

  apply(u: ProxyUpdate): void {
    switch (u.kind) {
      case 'service-upsert': {
        const k = `${u.service.metadata.namespace}/${u.service.metadata.name}`;
        this.services.set(k, u.service);
        this.dirtyKeys.add(k);
        return;
      }
      case 'service-delete': {
        const k = `${u.namespace}/${u.name}`;
        this.services.delete(k);
        this.dirtyKeys.add(k);
        return;
      }
      case 'slice-upsert': {
        const k = `${u.slice.metadata.namespace}/${u.slice.metadata.name}`;
        this.removeSlice(k);
        this.slices.set(k, u.slice);
        const owner = sliceService(u.slice);
        if (owner) {
          this.sliceOwner.set(k, owner);
          const m = this.slicesBySvc.get(owner) ?? new Map<string, EndpointSlice>();
          m.set(k, u.slice);
          this.slicesBySvc.set(owner, m);
          this.dirtyKeys.add(owner);
        }
        return;
      }
      case 'slice-delete':
        this.removeSlice(`${u.namespace}/${u.name}`);
        return;
      case 'pod-upsert':
        this.pods.set(`${u.pod.metadata.namespace}/${u.pod.metadata.name}`, u.pod);
        this.podsChanged = true;
        return;
      case 'pod-delete':
        this.pods.delete(`${u.namespace}/${u.name}`);
        this.podsChanged = true;
        return;
      case 'cluster-cidrs':
        this.context = { ...this.context, clusterCidrs: [...u.cidrs].sort() };
        this.allDirty = true;
        return;
      default: {
        const never: never = u;
        throw new Error(`unknown proxy update ${JSON.stringify(never)}`);
      }
    }
  }

  private removeSlice(k: string): void {
    const owner = this.sliceOwner.get(k);
    this.slices.delete(k);
    this.sliceOwner.delete(k);
    if (!owner) return;
    const m = this.slicesBySvc.get(owner);
    m?.delete(k);
    if (m && m.size === 0) this.slicesBySvc.delete(owner);
    this.dirtyKeys.add(owner);
  }

  snapshot(): ProxyState {
    if (this.podsChanged) {
      this.lookup = podPortLookup([...this.pods.values()]);
      // Only services with a named target port read pods.
      for (const [k, s] of this.services) if (s.spec.ports?.some((p) => typeof p.targetPort === 'string')) this.dirtyKeys.add(k);
      this.podsChanged = false;
    }
    const keys = this.allDirty ? new Set([...this.services.keys(), ...this.models.keys()]) : this.dirtyKeys;
    for (const k of keys) {
      const svc = this.services.get(k);
      const m = svc ? calculateService(svc, [...(this.slicesBySvc.get(k)?.values() ?? [])], this.context, this.lookup) : undefined;
      if (m) this.models.set(k, m);
      else this.models.delete(k);
    }
    this.dirtyKeys.clear();
    this.allDirty = false;
    return { context: this.context, services: new Map(this.models) };
  }
}
