// What one CNI invocation asks for, decoded from the runtime's environment (forwarded in the
// CniRequest) and the network configuration on stdin. Pure: bad input comes back as an error
// value with the CNI code the runtime should see (4 for the environment, 7 for the
// configuration), never as an exception.
import { dns1123LabelError, dns1123SubdomainError, labelKeyError, labelValueError } from '../../resources/validators.js';
import { CniCode, type CniErrorValue } from './codes.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: CniErrorValue };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const invalidEnv = (msg: string, details?: string): Parsed<never> => ({ ok: false, error: { code: CniCode.INVALID_ENV, msg, ...(details ? { details } : {}) } });
const invalidConf = (msg: string, details?: string): Parsed<never> => ({ ok: false, error: { code: CniCode.INVALID_NETWORK_CONFIG, msg, ...(details ? { details } : {}) } });

/**
 * The MTU of both veth ends when the configuration names none. Pods are routed, not
 * encapsulated, so the fabric's own MTU fits; the lab's links are 1500. A cluster with an
 * overlay or a smaller fabric MTU sets `mtu` in the network configuration.
 */
export const DEFAULT_MTU = 1500;

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Attachment {
  containerID: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: string;
  /** The network name (CNI `name`); recorded on every veth and endpoint this network makes. */
  name: string;
  mtu: number;
  ipv4: boolean;
  ipv6: boolean;
  /** IPPool names to assign from; empty = every pool that selects the node. */
  pools: string[];
  dns?: Dns;
  /** runtimeConfig.labels: the pod's labels when the runtime passes them. */
  labels?: Record<string, string>;
  /** The previous plugin's result in a chain (ADD, CHECK, DEL). */
  prevResult?: unknown;
  /** GC: `cni.dev/valid-attachments`. */
  validAttachments?: Attachment[];
}

export interface PodIdentity {
  namespace: string;
  name: string;
  /** K8S_POD_LABELS (JSON object); merged under runtimeConfig.labels. */
  labels?: Record<string, string>;
  infraContainerId?: string;
  /** True when both K8S_POD_NAMESPACE and K8S_POD_NAME were given. */
  fromArgs: boolean;
}

/** CNI SPEC §"Parameters": container IDs are alphanumeric plus underscore, period and hyphen. */
export function containerIdError(id: string): string | undefined {
  if (!id) return 'CNI_CONTAINERID is empty';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) return `CNI_CONTAINERID "${id}" must be alphanumeric plus "_", "." and "-"`;
  return undefined;
}

/** CNI SPEC §"Parameters": a Linux interface name (IFNAMSIZ 16 with the NUL). */
export function ifnameError(n: string): string | undefined {
  if (!n) return 'CNI_IFNAME is empty';
  if (n.length > 15 || n === '.' || n === '..' || /[/:\s]/.test(n)) return `CNI_IFNAME "${n}" is not a valid interface name (1-15 characters, no "/", ":" or blanks, not "." or "..")`;
  return undefined;
}

/**
 * CNI_ARGS: `K1=V1;K2=V2`. A value holds everything after the first "=", so a JSON value may
 * contain "=", but not ";" (the separator has no escape in the spec).
 */
export function parseCniArgs(s: string): Parsed<Map<string, string>> {
  const m = new Map<string, string>();
  for (const part of s.split(';')) {
    if (part.trim() === '') continue;
    const i = part.indexOf('=');
    if (i <= 0) return invalidEnv(`CNI_ARGS: "${part}" is not KEY=VALUE`);
    m.set(part.slice(0, i).trim(), part.slice(i + 1));
  }
  return ok(m);
}

function labelsError(labels: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(labels)) {
    const e = labelKeyError(k) ?? (typeof v === 'string' ? labelValueError(v) : `value of "${k}" must be a string`);
    if (e) return e;
  }
  return undefined;
}

function stringMap(x: unknown): Record<string, string> | undefined {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(x)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}

/**
 * A name for endpoints of runtimes that pass no Kubernetes arguments (podman, cnitool): the
 * container ID folded into a DNS label in the "default" namespace.
 */
export function fallbackPodName(containerId: string): string {
  const s = `ctr-${containerId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
  return s.replace(/[^a-z0-9]+$/, '');
}

/** The pod this invocation is for, from CNI_ARGS. */
export function podIdentity(args: Map<string, string>, containerId: string): Parsed<PodIdentity> {
  const namespace = args.get('K8S_POD_NAMESPACE');
  const name = args.get('K8S_POD_NAME');
  if ((namespace === undefined) !== (name === undefined)) return invalidEnv('CNI_ARGS: K8S_POD_NAMESPACE and K8S_POD_NAME must be given together');
  const id: PodIdentity = { namespace: namespace ?? 'default', name: name ?? fallbackPodName(containerId), fromArgs: namespace !== undefined };
  const nsErr = dns1123LabelError(id.namespace);
  if (nsErr) return invalidEnv(`CNI_ARGS: K8S_POD_NAMESPACE "${id.namespace}" ${nsErr}`);
  const nameErr = dns1123SubdomainError(id.name);
  if (nameErr) return invalidEnv(`CNI_ARGS: K8S_POD_NAME "${id.name}" ${nameErr}`);
  const infra = args.get('K8S_POD_INFRA_CONTAINER_ID');
  if (infra) id.infraContainerId = infra;
  const rawLabels = args.get('K8S_POD_LABELS');
  if (rawLabels !== undefined && rawLabels !== '') {
    let j: unknown;
    try {
      j = JSON.parse(rawLabels);
    } catch (e) {
      return invalidEnv('CNI_ARGS: K8S_POD_LABELS is not JSON', (e as Error).message);
    }
    const labels = stringMap(j);
    if (!labels) return invalidEnv('CNI_ARGS: K8S_POD_LABELS must be a JSON object of strings');
    const le = labelsError(labels);
    if (le) return invalidEnv(`CNI_ARGS: K8S_POD_LABELS: ${le}`);
    id.labels = labels;
  }
  return ok(id);
}

/** Calico writes "true"/"false" strings in its ipam section; booleans are accepted too. */
function flag(x: unknown, field: string): Parsed<boolean | undefined> {
  if (x === undefined) return ok(undefined);
  if (typeof x === 'boolean') return ok(x);
  if (x === 'true' || x === 'false') return ok(x === 'true');
  return invalidConf(`network configuration: "${field}" must be true or false`);
}

function stringList(x: unknown, field: string): Parsed<string[] | undefined> {
  if (x === undefined) return ok(undefined);
  if (!Array.isArray(x) || x.some((s) => typeof s !== 'string' || s === '')) return invalidConf(`network configuration: "${field}" must be a list of non-empty strings`);
  return ok(x as string[]);
}

function parseDns(x: unknown): Parsed<Dns | undefined> {
  if (x === undefined) return ok(undefined);
  if (!x || typeof x !== 'object' || Array.isArray(x)) return invalidConf('network configuration: "dns" must be an object');
  const d = x as Record<string, unknown>;
  const out: Dns = {};
  for (const f of ['nameservers', 'search', 'options'] as const) {
    const l = stringList(d[f], `dns.${f}`);
    if (!l.ok) return l;
    if (l.value) out[f] = l.value;
  }
  if (d.domain !== undefined) {
    if (typeof d.domain !== 'string') return invalidConf('network configuration: "dns.domain" must be a string');
    out.domain = d.domain;
  }
  return ok(Object.keys(out).length ? out : undefined);
}

function parseAttachments(x: unknown): Parsed<Attachment[] | undefined> {
  if (x === undefined) return ok(undefined);
  if (!Array.isArray(x)) return invalidConf('network configuration: "cni.dev/valid-attachments" must be a list');
  const out: Attachment[] = [];
  for (const [i, a] of x.entries()) {
    const o = (a && typeof a === 'object' ? a : {}) as Record<string, unknown>;
    if (typeof o.containerID !== 'string' || typeof o.ifname !== 'string') {
      return invalidConf(`network configuration: "cni.dev/valid-attachments"[${i}] needs string "containerID" and "ifname"`);
    }
    out.push({ containerID: o.containerID, ifname: o.ifname });
  }
  return ok(out);
}

/**
 * The network configuration. Fields Tern does not know are ignored (other plugins of a chain
 * read the same document). IP families: top-level `ipv4`/`ipv6`, or Calico's
 * `ipam: {assign_ipv4, assign_ipv6, ipv4_pools, ipv6_pools}`, or `ipam.pools`; IPv4 only by default.
 */
export function parseNetConf(bytes: Buffer | string): Parsed<NetConf> {
  let j: unknown;
  try {
    j = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    return { ok: false, error: { code: CniCode.DECODE_FAILURE, msg: 'cannot decode the network configuration', details: (e as Error).message } };
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) return { ok: false, error: { code: CniCode.DECODE_FAILURE, msg: 'the network configuration must be a JSON object' } };
  const c = j as Record<string, unknown>;
  if (typeof c.cniVersion !== 'string' || c.cniVersion === '') return invalidConf('network configuration: "cniVersion" must be a non-empty string');
  if (typeof c.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(c.name)) return invalidConf('network configuration: "name" must be alphanumeric plus "_", "." and "-"');

  let mtu = DEFAULT_MTU;
  if (c.mtu !== undefined) {
    // 68: RFC 791's minimum datagram every host must take; 1280 for IPv6 is checked below.
    if (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) return invalidConf('network configuration: "mtu" must be an integer 68-65535');
    mtu = c.mtu;
  }

  const ipam = (c.ipam && typeof c.ipam === 'object' && !Array.isArray(c.ipam) ? c.ipam : {}) as Record<string, unknown>;
  if (c.ipam !== undefined && (typeof c.ipam !== 'object' || c.ipam === null || Array.isArray(c.ipam))) return invalidConf('network configuration: "ipam" must be an object');
  const v4Top = flag(c.ipv4, 'ipv4');
  const v6Top = flag(c.ipv6, 'ipv6');
  const v4Ipam = flag(ipam.assign_ipv4, 'ipam.assign_ipv4');
  const v6Ipam = flag(ipam.assign_ipv6, 'ipam.assign_ipv6');
  for (const r of [v4Top, v6Top, v4Ipam, v6Ipam]) if (!r.ok) return r;
  const ipv4 = (v4Top.ok && v4Top.value) ?? (v4Ipam.ok && v4Ipam.value) ?? true;
  const ipv6 = (v6Top.ok && v6Top.value) ?? (v6Ipam.ok && v6Ipam.value) ?? false;
  if (!ipv4 && !ipv6) return invalidConf('network configuration: neither IPv4 nor IPv6 is enabled');
  if (ipv6 && mtu < 1280) return invalidConf('network configuration: "mtu" must be at least 1280 with IPv6 (RFC 8200 §5)');

  const pools: string[] = [];
  for (const f of ['pools', 'ipv4_pools', 'ipv6_pools'] as const) {
    const l = stringList(ipam[f], `ipam.${f}`);
    if (!l.ok) return l;
    for (const p of l.value ?? []) if (!pools.includes(p)) pools.push(p);
  }

  const dns = parseDns(c.dns);
  if (!dns.ok) return dns;

  let labels: Record<string, string> | undefined;
  const rc = c.runtimeConfig;
  if (rc !== undefined && rc !== null && typeof rc === 'object' && !Array.isArray(rc) && (rc as Record<string, unknown>).labels !== undefined) {
    labels = stringMap((rc as Record<string, unknown>).labels);
    if (!labels) return invalidConf('network configuration: "runtimeConfig.labels" must be an object of strings');
    const le = labelsError(labels);
    if (le) return invalidConf(`network configuration: runtimeConfig.labels: ${le}`);
  }

  const att = parseAttachments(c['cni.dev/valid-attachments']);
  if (!att.ok) return att;

  const conf: NetConf = { cniVersion: c.cniVersion, name: c.name, mtu, ipv4, ipv6, pools };
  if (dns.value) conf.dns = dns.value;
  if (labels) conf.labels = labels;
  if (c.prevResult !== undefined && c.prevResult !== null) conf.prevResult = c.prevResult;
  if (att.value) conf.validAttachments = att.value;
  return ok(conf);
}

/** The environment a command needs, checked: container ID, interface name, netns path. */
export function checkEnv(req: { containerId: string; ifname: string; netns: string }, needNetns: boolean): CniErrorValue | undefined {
  const e = containerIdError(req.containerId) ?? ifnameError(req.ifname);
  if (e) return { code: CniCode.INVALID_ENV, msg: e };
  if (needNetns && (!req.netns.startsWith('/') || /[\s"'\\#]/.test(req.netns))) {
    return { code: CniCode.INVALID_ENV, msg: `CNI_NETNS must be an absolute path without blanks or quotes, got "${req.netns}"` };
  }
  return undefined;
}
