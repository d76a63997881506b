// Kubernetes API objects → the documents Tern stores (shapes in src/resources). Pure: no I/O.
//
// Only the fields Tern's schemas know are copied, field by field, so what the API server adds
// (managedFields, ownerReferences, generation, status, fields of newer Kubernetes versions)
// never reaches etcd and never fails Tern's strict schemas. CoreDNS's kubernetes plugin keeps
// stripped objects for the same reason: at cluster scale every extra field costs memory in
// every watcher.
import { isIp, parseIp } from '../net/ip.js';

/** The annotation on every object kube-sync wrote: only those are deleted when they vanish. */
export const SYNCED_FROM_ANNOTATION = 'tern.dev/synced-from';
export const SYNCED_FROM_VALUE = 'kubernetes';

/** Annotations not copied: kubectl's copy of the whole manifest is large and of no use here. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** The Kubernetes kinds kube-sync follows. */
export const KUBE_KINDS = ['Namespace', 'Service', 'EndpointSlice', 'NetworkPolicy', 'Pod'] as const;
export type KubeKind = (typeof KUBE_KINDS)[number];

/** The kinds kube-sync owns in etcd (writes, marks and sweeps); Pods only update WEPs. */
export type MirroredKind = Exclude<KubeKind, 'Pod'>;
export const MIRRORED_KINDS: readonly MirroredKind[] = ['Namespace', 'Service', 'EndpointSlice', 'NetworkPolicy'];

/** Where each kind is listed and watched (all namespaces), and its apiVersion. */
export const KUBE_RESOURCES: Record<KubeKind, { apiVersion: string; path: string; namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', path: '/api/v1/namespaces', namespaced: false },
  Service: { apiVersion: 'v1', path: '/api/v1/services', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', path: '/apis/discovery.k8s.io/v1/endpointslices', namespaced: true },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', path: '/apis/networking.k8s.io/v1/networkpolicies', namespaced: true },
  Pod: { apiVersion: 'v1', path: '/api/v1/pods', namespaced: true },
};

type Obj = Record<string, unknown>;

/** A Kubernetes object as it arrives from the API (JSON), typed only as far as it is read. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export type Translation = { ok: true; doc: Obj } | { ok: false; error: string };

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Copies the listed keys that are present and not null (the API writes null for empty lists). */
function pick(src: unknown, keys: readonly string[]): Obj {
  const out: Obj = {};
  if (!isObj(src)) return out;
  for (const k of keys) if (src[k] !== undefined && src[k] !== null) out[k] = src[k];
  return out;
}

function nonEmpty(m: Record<string, string> | null | undefined): Record<string, string> | undefined {
  return m && Object.keys(m).length ? { ...m } : undefined;
}

/** "namespace/name" or "name", for logs and error messages. */
export function objectKey(o: KubeObject): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? '?'}` : (m.name ?? '?');
}

/** Tern metadata: name, namespace, labels, annotations (+ the synced-from mark), uid, creationTimestamp. */
function meta(o: KubeObject, namespaced: boolean, mark: boolean): Obj {
  const m = o.metadata ?? {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.annotations ?? {})) if (!DROPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  if (mark) annotations[SYNCED_FROM_ANNOTATION] = SYNCED_FROM_VALUE;
  const labels = nonEmpty(m.labels);
  return {
    name: m.name,
    ...(namespaced ? { namespace: m.namespace } : {}),
    ...(labels ? { labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.creationTimestamp ? { creationTimestamp: m.creationTimestamp } : {}),
  };
}

const SERVICE_SPEC_FIELDS = [
  'type', 'clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'selector', 'externalTrafficPolicy',
  'internalTrafficPolicy', 'externalIPs', 'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass',
  'allocateLoadBalancerNodePorts', 'healthCheckNodePort', 'externalName', 'publishNotReadyAddresses',
  'sessionAffinity', 'sessionAffinityConfig',
] as const;
const SERVICE_PORT_FIELDS = ['name', 'protocol', 'port', 'targetPort', 'nodePort', 'appProtocol'] as const;

function service(o: KubeObject): Obj {
  const spec = isObj(o.spec) ? o.spec : {};
  const out: Obj = pick(spec, SERVICE_SPEC_FIELDS);
  if (Array.isArray(spec.ports)) out.ports = spec.ports.map((p) => pick(p, SERVICE_PORT_FIELDS));
  // An empty selector map means "no selector" to Kubernetes; Tern spells that as absent.
  if (isObj(out.selector) && Object.keys(out.selector).length === 0) delete out.selector;
  const doc: Obj = { apiVersion: 'v1', kind: 'Service', metadata: meta(o, true, true), spec: out };
  // status.loadBalancer is the one piece of status Tern uses: BGP advertises the ingress IPs.
  const lb = isObj(o.status) && isObj(o.status.loadBalancer) ? o.status.loadBalancer : undefined;
  const ingress = Array.isArray(lb?.ingress) ? lb.ingress.map((i) => pick(i, ['ip', 'hostname'])).filter((i) => Object.keys(i).length) : [];
  if (ingress.length) doc.status = { loadBalancer: { ingress } };
  return doc;
}

const ENDPOINT_FIELDS = ['addresses', 'hostname', 'nodeName', 'zone'] as const;

function endpointSlice(o: KubeObject): Obj {
  const endpoints = Array.isArray(o.endpoints)
    ? o.endpoints.map((e) => {
        const out = pick(e, ENDPOINT_FIELDS);
        if (isObj(e) && isObj(e.conditions)) out.conditions = pick(e.conditions, ['ready', 'serving', 'terminating']);
        if (isObj(e) && isObj(e.targetRef)) out.targetRef = pick(e.targetRef, ['kind', 'name', 'namespace', 'uid']);
        return out;
      })
    : [];
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: meta(o, true, true),
    addressType: o.addressType,
    endpoints,
    ...(Array.isArray(o.ports) ? { ports: o.ports.map((p) => pick(p, ['name', 'protocol', 'port', 'appProtocol'])) } : {}),
  };
}

/** Deep copy without the null values the API writes for absent optional fields. */
function dropNulls(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(dropNulls);
  if (!isObj(x)) return x;
  const out: Obj = {};
  for (const [k, v] of Object.entries(x)) if (v !== null && v !== undefined) out[k] = dropNulls(v);
  return out;
}

/**
 * The document to store for a Namespace, Service, EndpointSlice or NetworkPolicy, marked with
 * SYNCED_FROM_ANNOTATION. Validation is left to Store.apply (the one place that validates).
 */
export function translate(kind: MirroredKind, o: KubeObject): Translation {
  if (!o.metadata?.name) return { ok: false, error: 'metadata.name: required' };
  if (KUBE_RESOURCES[kind].namespaced && !o.metadata.namespace) return { ok: false, error: 'metadata.namespace: required' };
  switch (kind) {
    case 'Namespace':
      return { ok: true, doc: { apiVersion: 'v1', kind: 'Namespace', metadata: meta(o, false, true) } };
    case 'Service':
      return { ok: true, doc: service(o) };
    case 'EndpointSlice':
      return { ok: true, doc: endpointSlice(o) };
    case 'NetworkPolicy':
      return { ok: true, doc: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(o, true, true), spec: dropNulls(o.spec ?? {}) } };
    default: {
      const never: never = kind;
      return { ok: false, error: `unsupported kind ${String(never)}` };
    }
  }
}

/** Whether a stored object was written by kube-sync (and so may be deleted by it). */
export function isSynced(obj: { metadata: { annotations?: Record<string, string> } }): boolean {
  return obj.metadata.annotations?.[SYNCED_FROM_ANNOTATION] === SYNCED_FROM_VALUE;
}

/** The WorkloadEndpoint fields kube-sync merges from a pod; the rest belongs to agentd. */
export interface WepLike {
  apiVersion: 'tern.dev/v1';
  kind: 'WorkloadEndpoint';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; creationTimestamp?: string; resourceVersion?: string };
  spec: { node: string; ipNetworks: string[]; ports?: { name: string; port: number; protocol: string }[]; hostname?: string; subdomain?: string; serviceAccountName?: string; [k: string]: unknown };
}

export type PodMerge =
  | { action: 'merge'; doc: WepLike }
  | { action: 'skip'; reason: 'other-node' | 'host-network' | 'no-name' };

/**
 * Merges a pod's labels, named container ports, hostname, subdomain, service account and (only
 * when the endpoint has none) pod IPs into the WorkloadEndpoint tern-cni/agentd created for it.
 * The node, veth, MAC, container ID and assigned IPs stay agentd's: it is their only writer.
 * The result carries the endpoint's resourceVersion so the write is a compare-and-swap.
 */
export function mergePodIntoWep(pod: KubeObject, wep: WepLike): PodMerge {
  const m = pod.metadata ?? {};
  if (!m.name) return { action: 'skip', reason: 'no-name' };
  const spec = isObj(pod.spec) ? pod.spec : {};
  if (spec.hostNetwork === true) return { action: 'skip', reason: 'host-network' };
  // A WEP on another node is a different incarnation (a pod of the same name rescheduled
  // before agentd removed the old endpoint): leave it to agentd.
  if (typeof spec.nodeName === 'string' && spec.nodeName !== wep.spec.node) return { action: 'skip', reason: 'other-node' };

  const labels = nonEmpty(m.labels);
  const ports: { name: string; port: number; protocol: string }[] = [];
  const seen = new Set<string>();
  for (const c of [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])]) {
    if (!isObj(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      if (!isObj(p) || typeof p.name !== 'string' || p.name === '' || seen.has(p.name)) continue;
      seen.add(p.name);
      ports.push({ name: p.name, port: Number(p.containerPort), protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP' });
    }
  }
  const status = isObj(pod.status) ? pod.status : {};
  const podIPs = (Array.isArray(status.podIPs) ? status.podIPs.map((p) => (isObj(p) ? p.ip : undefined)) : [status.podIP]).filter(
    (ip): ip is string => typeof ip === 'string' && isIp(ip),
  );

  const doc: WepLike = structuredClone(wep);
  if (labels) doc.metadata.labels = labels;
  else delete doc.metadata.labels;
  if (ports.length) doc.spec.ports = ports;
  else delete doc.spec.ports;
  for (const f of ['hostname', 'subdomain', 'serviceAccountName'] as const) {
    const v = spec[f];
    if (typeof v === 'string' && v !== '') doc.spec[f] = v;
    else delete doc.spec[f];
  }
  if (doc.spec.ipNetworks.length === 0 && podIPs.length) {
    doc.spec.ipNetworks = podIPs.map((ip) => `${ip}/${parseIp(ip).family === 4 ? 32 : 128}`);
  }
  return { action: 'merge', doc };
}
