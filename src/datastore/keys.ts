// The etcd key space. Everything lives under one prefix (default /tern/); this file is the only
// place that spells keys, and ARCHITECTURE.md documents the same layout.
//
//   <prefix>nodes/<name>                          Node
//   <prefix>ippools/<name>                        IPPool
//   <prefix>ipam/blocks/<cidr>                    IPAM block (cidr with "/" as "-": 10.244.0.0-26)
//   <prefix>ipam/affinity/<node>/<cidr>           block affinity of a node
//   <prefix>ipam/handles/<handle>                 IPAM handle (container id + interface)
//   <prefix>namespaces/<name>                     Namespace
//   <prefix>services/<ns>/<name>                  Service
//   <prefix>endpointslices/<ns>/<name>            EndpointSlice
//   <prefix>workloadendpoints/<ns>/<name>         WorkloadEndpoint (a pod's network identity)
//   <prefix>networkpolicies/<ns>/<name>           NetworkPolicy
//   <prefix>bgpconfigurations/<name>              BGPConfiguration ("default" is the global one)
//   <prefix>bgppeers/<name>                       BGPPeer

export const DEFAULT_PREFIX = '/tern/';

/** The collection segment of each kind's keys, and whether its names are namespaced. */
export const KIND_PATHS = {
  Node: { segment: 'nodes', namespaced: false },
  IPPool: { segment: 'ippools', namespaced: false },
  Namespace: { segment: 'namespaces', namespaced: false },
  Service: { segment: 'services', namespaced: true },
  EndpointSlice: { segment: 'endpointslices', namespaced: true },
  WorkloadEndpoint: { segment: 'workloadendpoints', namespaced: true },
  NetworkPolicy: { segment: 'networkpolicies', namespaced: true },
  BGPConfiguration: { segment: 'bgpconfigurations', namespaced: false },
  BGPPeer: { segment: 'bgppeers', namespaced: false },
} as const;

export type StoredKind = keyof typeof KIND_PATHS;

export function isStoredKind(k: string): k is StoredKind {
  return Object.hasOwn(KIND_PATHS, k);
}

/** "10.244.0.0/26" -> "10.244.0.0-26"; IPv6 colons are legal in etcd keys and stay. */
export function cidrToKey(cidr: string): string {
  return cidr.replace('/', '-');
}

export function keyToCidr(k: string): string {
  const i = k.lastIndexOf('-');
  return i < 0 ? k : `${k.slice(0, i)}/${k.slice(i + 1)}`;
}

export class Keys {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new Error(`etcd prefix must start and end with "/": ${prefix}`);
    }
  }

  /** Prefix of every key of a kind (all namespaces). */
  kindPrefix(kind: StoredKind): string {
    return `${this.prefix}${KIND_PATHS[kind].segment}/`;
  }

  /** Prefix of a namespaced kind within one namespace. */
  namespacePrefix(kind: StoredKind, namespace: string): string {
    return `${this.kindPrefix(kind)}${namespace}/`;
  }

  resource(kind: StoredKind, name: string, namespace?: string): string {
    if (KIND_PATHS[kind].namespaced) {
      if (!namespace) throw new Error(`${kind} is namespaced: a namespace is required`);
      return `${this.kindPrefix(kind)}${namespace}/${name}`;
    }
    return `${this.kindPrefix(kind)}${name}`;
  }

  /** Parses a resource key back into kind, namespace and name; undefined for other keys. */
  parseResource(key: string): { kind: StoredKind; namespace?: string; name: string } | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const parts = key.slice(this.prefix.length).split('/');
    for (const [kind, p] of Object.entries(KIND_PATHS) as [StoredKind, (typeof KIND_PATHS)[StoredKind]][]) {
      if (parts[0] !== p.segment) continue;
      if (p.namespaced && parts.length === 3) return { kind, namespace: parts[1]!, name: parts[2]! };
      if (!p.namespaced && parts.length === 2) return { kind, name: parts[1]! };
    }
    return undefined;
  }

  get ipamPrefix(): string {
    return `${this.prefix}ipam/`;
  }
  get blocksPrefix(): string {
    return `${this.prefix}ipam/blocks/`;
  }
  block(cidr: string): string {
    return `${this.blocksPrefix}${cidrToKey(cidr)}`;
  }
  get affinityPrefix(): string {
    return `${this.prefix}ipam/affinity/`;
  }
  nodeAffinityPrefix(node: string): string {
    return `${this.affinityPrefix}${node}/`;
  }
  affinity(node: string, cidr: string): string {
    return `${this.nodeAffinityPrefix(node)}${cidrToKey(cidr)}`;
  }
  get handlesPrefix(): string {
    return `${this.prefix}ipam/handles/`;
  }
  handle(handle: string): string {
    return `${this.handlesPrefix}${handle}`;
  }
}
