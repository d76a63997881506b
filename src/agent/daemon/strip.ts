// What the agent keeps of a WorkloadEndpoint (CoreDNS keeps stripped objects for the same
// reason): at cluster scale every byte of a pod is paid once per pod of the cluster, and the
// agent reads only its identity, labels, node, veth, addresses and named ports. The stripped
// object is made once, at decode, and shared by the watcher's view, the keyed view and the
// policy engine's records.
//
// Strings that repeat across pods (namespace, node, label keys and values, port names and
// protocols) are interned, and so are whole label sets and port lists: the pods of one
// Deployment then share one labels object and one ports array. JSON.parse makes a new string
// for every value, so without this each pod carried its own copy of "default", "TCP", "app"...
// Shared objects are frozen: nothing downstream may change them.
import type { WorkloadEndpoint } from '../../resources/index.js';

type Labels = Readonly<Record<string, string>>;
type Ports = NonNullable<WorkloadEndpoint['spec']['ports']>;

/**
 * An interning table with a bound: values unique to one pod (a StatefulSet's pod-name label)
 * would otherwise make it grow with churn forever. When full it starts over; objects interned
 * before keep their strings, only the sharing of later ones restarts.
 */
export class Interner {
  private strings = new Map<string, string>();
  private labels = new Map<string, Labels>();
  private ports = new Map<string, Ports>();

  constructor(private readonly max = 50_000) {}

  str(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    if (this.strings.size >= this.max) this.strings = new Map();
    this.strings.set(s, s);
    return s;
  }

  labelSet(l: Readonly<Record<string, string>> | undefined): Labels | undefined {
    if (!l) return undefined;
    const keys = Object.keys(l).sort();
    // \u0000 cannot occur in label keys or values (RFC 1123 names, label value syntax).
    const k = keys.map((x) => `${x}\u0000${l[x]}`).join('\u0000');
    const hit = this.labels.get(k);
    if (hit) return hit;
    const out: Record<string, string> = {};
    for (const x of keys) out[this.str(x)] = this.str(l[x]!);
    if (this.labels.size >= this.max) this.labels = new Map();
    const frozen = Object.freeze(out);
    this.labels.set(k, frozen);
    return frozen;
  }

  portList(p: Ports | undefined): Ports | undefined {
    if (!p) return undefined;
    const k = p.map((x) => `${x.name}\u0000${x.port}\u0000${x.protocol}`).join('\u0000');
    const hit = this.ports.get(k);
    if (hit) return hit;
    const out = Object.freeze(p.map((x) => Object.freeze({ name: this.str(x.name), port: x.port, protocol: x.protocol }))) as unknown as Ports;
    if (this.ports.size >= this.max) this.ports = new Map();
    this.ports.set(k, out);
    return out;
  }

  get size(): { strings: number; labels: number; ports: number } {
    return { strings: this.strings.size, labels: this.labels.size, ports: this.ports.size };
  }
}

/**
 * The fields of a WorkloadEndpoint the agent reads (policy: namespace, name, labels, node,
 * interface, addresses, named ports; routes and BGP: node, interface, addresses; the service
 * proxy: addresses and named ports). Annotations, uid, timestamps, MAC, container ID, hostname
 * and service account are dropped.
 */
export function stripEndpoint(w: WorkloadEndpoint, pool: Interner): WorkloadEndpoint {
  const m = w.metadata;
  const s = w.spec;
  const labels = pool.labelSet(m.labels);
  const ports = pool.portList(s.ports);
  const name = m.name;
  return {
    // Literals from the code, not JSON.parse's per-object copies.
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: pool.str(m.namespace), ...(labels ? { labels } : {}) },
    spec: {
      node: pool.str(s.node),
      // The pod name is the endpoint name unless told otherwise: share that string.
      pod: s.pod === name ? name : s.pod,
      ...(s.interfaceName !== undefined ? { interfaceName: s.interfaceName } : {}),
      ipNetworks: s.ipNetworks,
      ...(ports ? { ports } : {}),
    },
  };
}
