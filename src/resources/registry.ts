// The table of kinds: one row per kind with its apiVersion, scope, CLI names, schema and table
// columns. Everything that handles resources generically (store, CLI, watchers) goes through it.
import type { z } from 'zod';
import { TernError } from '../errors/index.js';
import { KIND_PATHS, type StoredKind } from '../datastore/keys.js';
import { errorMap, fromZod, ValidationError, type Issue } from './issues.js';
import { BGPConfigurationSchema, BGPPeerSchema, type BGPConfiguration, type BGPPeer } from './kinds/bgp.js';
import { EndpointSliceSchema, type EndpointSlice } from './kinds/endpointslice.js';
import { IPPoolSchema, type IPPool } from './kinds/ippool.js';
import { NamespaceSchema, type Namespace } from './kinds/namespace.js';
import { NetworkPolicySchema, type NetworkPolicy } from './kinds/networkpolicy.js';
import { NodeSchema, type Node } from './kinds/node.js';
import { PodSchema, podToWorkloadEndpoint } from './kinds/pod.js';
import { ServiceSchema, type Service } from './kinds/service.js';
import { WorkloadEndpointSchema, type WorkloadEndpoint } from './kinds/workloadendpoint.js';

export type Kind = StoredKind;

/** The typed object of each kind, as validated and defaulted. */
export interface ResourceMap {
  Namespace: Namespace;
  Service: Service;
  EndpointSlice: EndpointSlice;
  NetworkPolicy: NetworkPolicy;
  Node: Node;
  IPPool: IPPool;
  WorkloadEndpoint: WorkloadEndpoint;
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
}
export type ResourceOf<K extends Kind> = ResourceMap[K];
export type Resource = ResourceMap[Kind];

export interface Column<T> {
  header: string;
  value: (obj: T) => string;
  /** Shown only with `-o wide`. */
  wide?: boolean;
}

export interface KindInfo<K extends Kind = Kind> {
  kind: K;
  apiVersion: string;
  namespaced: boolean;
  /** Lower-case plural, as in `tern get services`. */
  plural: string;
  shortNames: readonly string[];
  /** Further names the CLI accepts for the kind. */
  aliases?: readonly string[];
  schema: z.ZodType<ResourceMap[K]>;
  /** Table columns after NAMESPACE and NAME, before AGE. */
  columns: readonly Column<ResourceMap[K]>[];
}

const list = (xs: readonly string[] | undefined): string => (xs?.length ? xs.join(',') : '<none>');
const orNone = (s: string | number | boolean | undefined): string => (s === undefined || s === '' ? '<none>' : String(s));
const labelsText = (m: Record<string, string> | undefined): string => (m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');

type Table = { [K in Kind]: KindInfo<K> };

export const KINDS: Table = {
  Namespace: {
    kind: 'Namespace', apiVersion: 'v1', namespaced: false, plural: 'namespaces', shortNames: ['ns'],
    schema: NamespaceSchema,
    columns: [{ header: 'LABELS', value: (o) => labelsText(o.metadata.labels), wide: true }],
  },
  Service: {
    kind: 'Service', apiVersion: 'v1', namespaced: true, plural: 'services', shortNames: ['svc'],
    schema: ServiceSchema,
    columns: [
      { header: 'TYPE', value: (o) => o.spec.type },
      { header: 'CLUSTER-IP', value: (o) => (o.spec.type === 'ExternalName' ? '<none>' : orNone(o.spec.clusterIPs?.join(',') ?? o.spec.clusterIP)) },
      {
        header: 'EXTERNAL-IP',
        value: (o) => {
          if (o.spec.type === 'ExternalName') return orNone(o.spec.externalName);
          const ips = [...(o.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? ''), ...(o.spec.externalIPs ?? [])].filter(Boolean);
          return ips.length ? ips.join(',') : o.spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
        },
      },
      { header: 'PORT(S)', value: (o) => list(o.spec.ports?.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`)) },
      { header: 'SELECTOR', value: (o) => labelsText(o.spec.selector), wide: true },
    ],
  },
  EndpointSlice: {
    kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true, plural: 'endpointslices', shortNames: ['eps'], aliases: ['endpointslice'],
    schema: EndpointSliceSchema,
    columns: [
      { header: 'ADDRESSTYPE', value: (o) => o.addressType },
      { header: 'PORTS', value: (o) => list(o.ports?.map((p) => (p.port === undefined ? '*' : String(p.port)))) },
      { header: 'ENDPOINTS', value: (o) => list(o.endpoints.flatMap((e) => e.addresses)) },
      { header: 'SERVICE', value: (o) => orNone(o.metadata.labels?.['kubernetes.io/service-name']), wide: true },
    ],
  },
  NetworkPolicy: {
    kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', namespaced: true, plural: 'networkpolicies', shortNames: ['netpol'],
    schema: NetworkPolicySchema,
    columns: [
      {
        header: 'POD-SELECTOR',
        value: (o) => {
          const s = o.spec.podSelector;
          const parts = [
            ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
            ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`),
          ];
          return parts.length ? parts.join(',') : '<none>';
        },
      },
      { header: 'POLICY-TYPES', value: (o) => o.spec.policyTypes.join(','), wide: true },
    ],
  },
  Node: {
    kind: 'Node', apiVersion: 'tern.dev/v1', namespaced: false, plural: 'nodes', shortNames: ['no'],
    schema: NodeSchema,
    columns: [
      { header: 'IPV4', value: (o) => orNone(o.spec.bgp?.ipv4Address) },
      { header: 'IPV6', value: (o) => orNone(o.spec.bgp?.ipv6Address) },
      { header: 'ASN', value: (o) => (o.spec.bgp?.asNumber === undefined ? '(global)' : String(o.spec.bgp.asNumber)) },
      { header: 'RR-CLUSTER-ID', value: (o) => orNone(o.spec.bgp?.routeReflectorClusterID), wide: true },
      { header: 'ADDRESSES', value: (o) => list(o.spec.addresses?.map((a) => `${a.type}=${a.address}`)), wide: true },
    ],
  },
  IPPool: {
    kind: 'IPPool', apiVersion: 'tern.dev/v1', namespaced: false, plural: 'ippools', shortNames: ['pool', 'pools', 'ipp'],
    schema: IPPoolSchema,
    columns: [
      { header: 'CIDR', value: (o) => o.spec.cidr },
      { header: 'BLOCKSIZE', value: (o) => String(o.spec.blockSize) },
      { header: 'DISABLED', value: (o) => String(o.spec.disabled) },
      { header: 'NAT', value: (o) => String(o.spec.natOutgoing ?? false), wide: true },
      { header: 'STRICT-AFFINITY', value: (o) => String(o.spec.strictAffinity), wide: true },
      { header: 'SELECTOR', value: (o) => o.spec.nodeSelector, wide: true },
    ],
  },
  WorkloadEndpoint: {
    kind: 'WorkloadEndpoint', apiVersion: 'tern.dev/v1', namespaced: true, plural: 'workloadendpoints', shortNames: ['wep', 'weps'],
    aliases: ['pod', 'pods', 'po'],
    schema: WorkloadEndpointSchema,
    columns: [
      { header: 'NODE', value: (o) => o.spec.node },
      { header: 'NETWORKS', value: (o) => list(o.spec.ipNetworks) },
      { header: 'INTERFACE', value: (o) => orNone(o.spec.interfaceName) },
      { header: 'MAC', value: (o) => orNone(o.spec.mac), wide: true },
      { header: 'PORTS', value: (o) => list(o.spec.ports?.map((p) => `${p.name}:${p.port}/${p.protocol}`)), wide: true },
      { header: 'LABELS', value: (o) => labelsText(o.metadata.labels), wide: true },
    ],
  },
  BGPConfiguration: {
    kind: 'BGPConfiguration', apiVersion: 'tern.dev/v1', namespaced: false, plural: 'bgpconfigurations', shortNames: ['bgpconfig', 'bgpconfigs'],
    schema: BGPConfigurationSchema,
    columns: [
      { header: 'ASN', value: (o) => String(o.spec.asNumber) },
      { header: 'MESH', value: (o) => String(o.spec.nodeToNodeMeshEnabled) },
      { header: 'LISTEN-PORT', value: (o) => String(o.spec.listenPort) },
      { header: 'SERVICE-CLUSTER-IPS', value: (o) => list(o.spec.serviceClusterIPs?.map((c) => c.cidr)), wide: true },
      { header: 'SERVICE-EXTERNAL-IPS', value: (o) => list(o.spec.serviceExternalIPs?.map((c) => c.cidr)), wide: true },
      { header: 'SERVICE-LB-IPS', value: (o) => list(o.spec.serviceLoadBalancerIPs?.map((c) => c.cidr)), wide: true },
    ],
  },
  BGPPeer: {
    kind: 'BGPPeer', apiVersion: 'tern.dev/v1', namespaced: false, plural: 'bgppeers', shortNames: ['bgppeer'],
    schema: BGPPeerSchema,
    columns: [
      { header: 'PEER', value: (o) => o.spec.peerIP ?? `selector: ${o.spec.peerSelector ?? ''}` },
      { header: 'ASN', value: (o) => (o.spec.asNumber === undefined ? '(node)' : String(o.spec.asNumber)) },
      { header: 'NODES', value: (o) => (o.spec.node ? o.spec.node : o.spec.nodeSelector ?? '(all)') },
      { header: 'RR-CLIENT', value: (o) => String(o.spec.routeReflectorClient ?? false), wide: true },
      { header: 'HOLD', value: (o) => orNone(o.spec.holdTime), wide: true },
      { header: 'KEEPALIVE', value: (o) => orNone(o.spec.keepaliveTime), wide: true },
    ],
  },
};

export const ALL_KINDS = Object.keys(KINDS) as Kind[];

// keys.ts owns the key layout; the two tables must agree on which kinds are namespaced.
for (const k of ALL_KINDS) {
  if (KIND_PATHS[k].namespaced !== KINDS[k].namespaced) throw new Error(`registry and key layout disagree on ${k}`);
}

export function kindInfo<K extends Kind>(kind: K): KindInfo<K> {
  return KINDS[kind] as unknown as KindInfo<K>;
}

/** Resolves a CLI kind word: kind name, plural, short name or alias, any letter case. */
export function lookupKind(word: string): Kind | undefined {
  const w = word.toLowerCase();
  for (const k of ALL_KINDS) {
    const i = KINDS[k];
    if (k.toLowerCase() === w || i.plural === w || i.shortNames.includes(w) || i.aliases?.includes(w)) return k;
  }
  return undefined;
}

/** Every name the CLI accepts, for help and error messages. */
export function kindNames(): string[] {
  return ALL_KINDS.map((k) => [KINDS[k].plural, ...KINDS[k].shortNames].join('|'));
}

export type Result<T, E = ValidationError> = { ok: true; value: T } | { ok: false; error: E };

export interface ObjectRef {
  kind: Kind;
  name: string;
  namespace?: string;
}

export function refOf(obj: Resource): ObjectRef {
  const namespace = KINDS[obj.kind].namespaced ? (obj.metadata as { namespace?: string }).namespace : undefined;
  return namespace === undefined ? { kind: obj.kind, name: obj.metadata.name } : { kind: obj.kind, name: obj.metadata.name, namespace };
}

/** `service/default/web`, `ippool/pool-v4`: the CLI's way of naming an object. */
export function refString(r: ObjectRef): string {
  return `${r.kind.toLowerCase()}/${r.namespace !== undefined ? `${r.namespace}/` : ''}${r.name}`;
}

/** `Service default/web`, `IPPool pool-v4`: for error messages. */
export function describeRef(r: ObjectRef): string {
  return `${r.kind} ${r.namespace !== undefined ? `${r.namespace}/` : ''}${r.name}`;
}

/** What a raw document says it is, for messages about documents that fail validation. */
export function describeDocument(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof d.kind !== 'string') return undefined;
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : undefined;
  if (name === undefined) return d.kind;
  const known = lookupKind(d.kind);
  const namespaced = d.kind === 'Pod' || (known !== undefined && KINDS[known].namespaced && known.toLowerCase() === d.kind.toLowerCase());
  const ns = namespaced ? (typeof d.metadata?.namespace === 'string' ? d.metadata.namespace : 'default') : undefined;
  return `${d.kind} ${ns !== undefined ? `${ns}/` : ''}${name}`;
}

function parseWith<K extends Kind>(kind: K, doc: unknown): Result<ResourceMap[K]> {
  const r = KINDS[kind].schema.safeParse(doc, { error: errorMap });
  return r.success ? { ok: true, value: r.data as ResourceMap[K] } : { ok: false, error: new ValidationError(fromZod(r.error)) };
}

const fail = (issues: Issue[]): { ok: false; error: ValidationError } => ({ ok: false, error: new ValidationError(issues) });

/**
 * Validates and defaults a user document (as parsed from YAML/JSON). `v1 Pod` is converted to
 * the WorkloadEndpoint it implies. Never throws for bad input.
 */
export function validateResource(doc: unknown): Result<Resource> & { convertedFrom?: 'Pod' } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail([{ path: '', message: 'a resource must be a mapping' }]);
  const d = doc as { apiVersion?: unknown; kind?: unknown };
  if (typeof d.kind !== 'string') return fail([{ path: 'kind', message: d.kind === undefined ? 'required' : 'must be a string' }]);
  if (d.kind === 'Pod') {
    if (d.apiVersion !== 'v1') return fail([{ path: 'apiVersion', message: 'must be "v1" for kind Pod' }]);
    const p = PodSchema.safeParse(doc, { error: errorMap });
    if (!p.success) return { ok: false, error: new ValidationError(fromZod(p.error)) };
    return { ...parseWith('WorkloadEndpoint', podToWorkloadEndpoint(p.data)), convertedFrom: 'Pod' };
  }
  const kind = d.kind as Kind;
  if (!Object.hasOwn(KINDS, kind)) {
    return fail([{ path: 'kind', message: `unknown kind "${d.kind}" (known: ${[...ALL_KINDS, 'Pod'].join(', ')})` }]);
  }
  if (d.apiVersion !== KINDS[kind].apiVersion) {
    return fail([{ path: 'apiVersion', message: `must be "${KINDS[kind].apiVersion}" for kind ${kind}${d.apiVersion === undefined ? '' : ` (got ${JSON.stringify(d.apiVersion)})`}` }]);
  }
  return parseWith(kind, doc);
}

/**
 * Decodes a value stored in etcd for `kind` (a JSON string or bytes, or an already parsed
 * object), validates it and returns the typed object; with `resourceVersion` (the key's
 * mod_revision) it is set in metadata. Never throws: a bad value is an error value.
 */
export function decodeStored<K extends Kind>(kind: K, json: string | Uint8Array | object, resourceVersion?: string | number): Result<ResourceMap[K], TernError> {
  let doc: unknown = json;
  if (typeof json === 'string' || json instanceof Uint8Array) {
    try {
      doc = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
    } catch (e) {
      return { ok: false, error: new TernError('TERN_ERR_VALIDATION', `stored ${kind} is not JSON: ${(e as Error).message}`) };
    }
  }
  if (typeof doc !== 'object' || doc === null || (doc as { kind?: unknown }).kind !== kind) {
    return { ok: false, error: new TernError('TERN_ERR_VALIDATION', `stored value is not a ${kind}`, { field: 'kind' }) };
  }
  const r = parseWith(kind, doc);
  if (r.ok && resourceVersion !== undefined) r.value.metadata.resourceVersion = String(resourceVersion);
  return r;
}

/** The JSON stored for an object: everything but metadata.resourceVersion. */
export function encodeStored(obj: Resource): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

/**
 * A decoder for watchers of resource keys (src/datastore/watch.ts `decode` option): resolves the
 * kind from the key, validates the value, and reports a bad value or a foreign key as a string.
 * With `kind`, keys of any other kind are rejected too.
 */
export function storedDecoder(keys: { parseResource(key: string): { kind: Kind } | undefined }, kind?: Kind) {
  return (key: string, value: Uint8Array): { ok: true; value: Resource } | { ok: false; error: string } => {
    const ref = keys.parseResource(key);
    if (!ref || (kind !== undefined && ref.kind !== kind)) return { ok: false, error: `${key} is not a ${kind ?? 'resource'} key` };
    const r = decodeStored(ref.kind, value);
    return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.message };
  };
}
