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
import { parseCidr } from '../../net/ip.js';
import type { WorkloadEndpoint } from '../../resources/index.js';
import { cidrError, dns1123LabelError, dns1123SubdomainError, ianaSvcNameError, labelKeyError, labelValueError } from '../../resources/validators.js';

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

// --- decoding without the schema library ------------------------------------------------------
//
// Validating a WorkloadEndpoint through its zod schema costs 15–30 µs per pod, and its garbage
// lands in old space: 11,000 decodes promoted ~10 MB even with every result dropped at once
// (V8 pretenures allocation sites whose objects the cold list keeps), and those pages stay
// committed after the next full GC. JSON.parse plus this check: ~7 µs, ~2.5 MB promoted
// (test harness, Node 20). The check below applies the same field rules as
// src/resources/kinds/workloadendpoint.ts with the same predicates (validators.ts) to what
// JSON.parse returned. It only ever answers "valid, here is the stripped object" or "not sure":
// anything it does not recognise goes through the schema, which then gives the usual error.

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const optStr = (x: unknown, ok: (s: string) => boolean = () => true): boolean => x === undefined || (typeof x === 'string' && ok(x));
const isSubdomain = (s: string): boolean => dns1123SubdomainError(s) === undefined;
const isLabel = (s: string): boolean => dns1123LabelError(s) === undefined;
const IFACE = /^[^\s/:]{1,15}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const REVISION = /^\d+$/;
const META_KEYS = new Set(['name', 'namespace', 'labels', 'annotations', 'uid', 'creationTimestamp', 'resourceVersion']);
const SPEC_KEYS = new Set(['node', 'pod', 'containerID', 'interfaceName', 'mac', 'ipNetworks', 'ports', 'hostname', 'subdomain', 'serviceAccountName']);
const PORT_KEYS = new Set(['name', 'port', 'protocol']);
const DOC_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

function validLabels(m: unknown, values: boolean): boolean {
  if (m === undefined) return true;
  if (!isObj(m)) return false;
  for (const k in m) {
    const v = m[k];
    if (typeof v !== 'string' || labelKeyError(k) !== undefined || (values && labelValueError(v) !== undefined)) return false;
  }
  return true;
}

/**
 * The stripped WorkloadEndpoint for a parsed stored document the schema would accept, or
 * undefined when that is not certain (invalid, or a form this check does not cover).
 */
export function stripStoredEndpoint(doc: unknown, pool: Interner): WorkloadEndpoint | undefined {
  if (!isObj(doc) || !onlyKeys(doc, DOC_KEYS) || doc.apiVersion !== 'tern.dev/v1' || doc.kind !== 'WorkloadEndpoint') return undefined;
  const m = doc.metadata;
  const s = doc.spec;
  if (!isObj(m) || !isObj(s) || !onlyKeys(m, META_KEYS) || !onlyKeys(s, SPEC_KEYS)) return undefined;
  if (typeof m.name !== 'string' || !isSubdomain(m.name) || !optStr(m.namespace, isLabel)) return undefined;
  if (!validLabels(m.labels, true) || !validLabels(m.annotations, false)) return undefined;
  if (!optStr(m.uid) || !optStr(m.creationTimestamp) || !optStr(m.resourceVersion, (x) => REVISION.test(x))) return undefined;
  if (typeof s.node !== 'string' || !isSubdomain(s.node) || !optStr(s.pod, isSubdomain)) return undefined;
  if (!optStr(s.containerID, (x) => x.length > 0) || !optStr(s.interfaceName, (x) => IFACE.test(x)) || !optStr(s.mac, (x) => MAC.test(x))) return undefined;
  if (!optStr(s.hostname, isLabel) || !optStr(s.subdomain, isLabel) || !optStr(s.serviceAccountName, isSubdomain)) return undefined;
  // The schema's default applies to an absent field only; null is an error there.
  const nets = s.ipNetworks === undefined ? [] : s.ipNetworks;
  if (!Array.isArray(nets) || nets.length > 2) return undefined;
  const fams: number[] = [];
  for (const n of nets) {
    if (typeof n !== 'string' || cidrError(n) !== undefined) return undefined;
    const f = parseCidr(n).family;
    if (fams.includes(f)) return undefined;
    fams.push(f);
  }
  let ports: NonNullable<WorkloadEndpoint['spec']['ports']> | undefined;
  if (s.ports !== undefined) {
    if (!Array.isArray(s.ports)) return undefined;
    const names = new Set<string>();
    ports = [];
    for (const p of s.ports as unknown[]) {
      if (!isObj(p) || !onlyKeys(p, PORT_KEYS)) return undefined;
      const { name, port, protocol } = p;
      if (typeof name !== 'string' || ianaSvcNameError(name) !== undefined || names.has(name)) return undefined;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
      if (protocol !== undefined && !(typeof protocol === 'string' && PROTOCOLS.has(protocol))) return undefined;
      names.add(name);
      ports.push({ name, port, protocol: (protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP' });
    }
  }
  const name = m.name;
  return stripEndpoint(
    {
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name, namespace: (m.namespace as string | undefined) ?? 'default', ...(m.labels !== undefined ? { labels: m.labels as Record<string, string> } : {}) },
      spec: {
        node: s.node,
        pod: (s.pod as string | undefined) ?? name,
        ...(s.interfaceName !== undefined ? { interfaceName: s.interfaceName as string } : {}),
        // JSON.parse's array, exactly as long as its contents (a pushed-to copy would reserve 17 slots).
        ipNetworks: nets as string[],
        ...(ports ? { ports } : {}),
      },
    },
    pool,
  );
}
