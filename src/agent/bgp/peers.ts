// Which BGP sessions this node's bgpd should have, computed from etcd's Nodes, BGPConfiguration
// "default" and BGPPeers (pure: no I/O; the secret resolver is injected). The model is
// Calico's: a full node-to-node mesh by default; with the mesh off, explicit BGPPeers selected
// for this node, where a peerSelector turns other Tern nodes (route reflectors, typically)
// into peers.
import type { BGPConfiguration, BGPPeer, Node } from '../../resources/index.js';
import { matchSelector, parseSelector } from '../../resources/index.js';
import type { PeerConfig } from '../../proto/gen/tern/bgp/v1/PeerConfig.js';

export const DEFAULT_AS = 64512;
/** RFC 4724 restart time offered to every peer: bgpd's restart keeps our routes on them. */
export const GRACEFUL_RESTART_SECONDS = 120;

/** One desired session, in the shape bgpd's AddPeer takes. `address` is the key. */
export type DesiredPeer = Required<Pick<PeerConfig, 'address' | 'peerAs' | 'localAs' | 'description'>> &
  Pick<PeerConfig, 'holdTimeSeconds' | 'keepaliveSeconds' | 'password' | 'maxPrefixes' | 'routeReflectorClient' | 'sourceAddress' | 'ttlSecurityHops' | 'gracefulRestart' | 'families'>;

export interface PeerProblem {
  /** The BGPPeer (or node) the problem comes from. */
  source: string;
  message: string;
}

export interface PeerInput {
  nodeName: string;
  /** Every Node, this one included. */
  nodes: ReadonlyMap<string, Node>;
  /** BGPConfiguration "default", when present. */
  config: BGPConfiguration | undefined;
  peers: ReadonlyMap<string, BGPPeer>;
  /** Resolves a secretKeyRef; undefined when the secret or key does not exist. */
  secret: (name: string, key: string) => string | undefined;
}

export interface PeerSet {
  peers: Map<string, DesiredPeer>;
  problems: PeerProblem[];
  /** The AS this node speaks as. */
  localAs: number;
}

const stripLen = (a: string | undefined): string | undefined => (a === undefined ? undefined : a.split('/')[0]);

/** The node's BGP addresses without prefix length. */
export function nodeAddresses(n: Node | undefined): { v4?: string; v6?: string } {
  const out: { v4?: string; v6?: string } = {};
  const v4 = stripLen(n?.spec.bgp?.ipv4Address);
  const v6 = stripLen(n?.spec.bgp?.ipv6Address);
  if (v4) out.v4 = v4;
  if (v6) out.v6 = v6;
  return out;
}

export function nodeAs(n: Node | undefined, config: BGPConfiguration | undefined): number {
  return n?.spec.bgp?.asNumber ?? config?.spec.asNumber ?? DEFAULT_AS;
}

function timers(hold: number | undefined, keepalive: number | undefined): Partial<DesiredPeer> {
  const t: Partial<DesiredPeer> = {};
  if (hold !== undefined) t.holdTimeSeconds = hold;
  if (keepalive !== undefined) t.keepaliveSeconds = keepalive;
  return t;
}

/** Sessions to another Tern node: one per address family both nodes have. */
function nodeSessions(self: Node | undefined, other: Node, localAs: number, config: BGPConfiguration | undefined, description: string): DesiredPeer[] {
  const mine = nodeAddresses(self);
  const theirs = nodeAddresses(other);
  const out: DesiredPeer[] = [];
  const peerAs = nodeAs(other, config);
  // A route reflector (routeReflectorClusterID set) treats non-reflector nodes as clients
  // (RFC 4456 §6); two reflectors of one cluster are plain iBGP peers.
  const myCluster = self?.spec.bgp?.routeReflectorClusterID;
  const rrClient = myCluster !== undefined && other.spec.bgp?.routeReflectorClusterID !== myCluster;
  for (const [fam, a] of [['IPV4_UNICAST', theirs.v4], ['IPV6_UNICAST', theirs.v6]] as const) {
    if (!a || !(fam === 'IPV4_UNICAST' ? mine.v4 : mine.v6)) continue;
    out.push({
      address: a,
      peerAs,
      localAs,
      description,
      families: [fam],
      gracefulRestart: { enabled: true, restartTimeSeconds: GRACEFUL_RESTART_SECONDS },
      ...timers(config?.spec.holdTime, config?.spec.keepaliveTime),
      ...(rrClient ? { routeReflectorClient: true } : {}),
    });
  }
  return out;
}

/** True when a BGPPeer applies to this node: spec.node names it, nodeSelector matches, or neither is set. */
export function peerSelectsNode(p: BGPPeer, nodeName: string, labels: Readonly<Record<string, string>>): boolean | { error: string } {
  if (p.spec.node !== undefined) return p.spec.node === nodeName;
  if (p.spec.nodeSelector !== undefined) {
    const s = parseSelector(p.spec.nodeSelector);
    if (!s.ok) return { error: `nodeSelector: ${s.error}` };
    return matchSelector(s.value, labels);
  }
  return true;
}

export function calculatePeers(input: PeerInput): PeerSet {
  const self = input.nodes.get(input.nodeName);
  const localAs = nodeAs(self, input.config);
  const peers = new Map<string, DesiredPeer>();
  const problems: PeerProblem[] = [];
  const add = (p: DesiredPeer, source: string): void => {
    const prev = peers.get(p.address);
    // Two sources for one address: the one sorting first wins, so the result does not
    // depend on the order resources arrived in.
    if (prev && prev.description <= p.description) {
      problems.push({ source, message: `peer ${p.address} is also configured by ${prev.description}; ignored` });
      return;
    }
    if (prev) problems.push({ source: prev.description, message: `peer ${p.address} is also configured by ${p.description}; ignored` });
    peers.set(p.address, p);
  };
  const sortedNodes = [...input.nodes.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));

  const mesh = input.config?.spec.nodeToNodeMeshEnabled ?? true;
  if (mesh) {
    for (const n of sortedNodes) {
      if (n.metadata.name === input.nodeName) continue;
      for (const p of nodeSessions(self, n, localAs, input.config, `node ${n.metadata.name}`)) add(p, `node ${n.metadata.name}`);
    }
  }

  const labels = self?.metadata.labels ?? {};
  const sortedPeers = [...input.peers.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const bp of sortedPeers) {
    const src = `bgppeer ${bp.metadata.name}`;
    const sel = peerSelectsNode(bp, input.nodeName, labels);
    if (typeof sel === 'object') {
      problems.push({ source: src, message: sel.error });
      continue;
    }
    if (!sel) continue;
    let password: string | undefined;
    if (bp.spec.password) {
      const { name, key } = bp.spec.password.secretKeyRef;
      password = input.secret(name, key);
      if (password === undefined) {
        // Without its password the session cannot come up; configuring it anyway would only
        // produce a stream of MD5 failures on the peer.
        problems.push({ source: src, message: `secret ${name} key ${key} not found; peer not configured` });
        continue;
      }
    }
    const extra: Partial<DesiredPeer> = {
      ...timers(bp.spec.holdTime ?? input.config?.spec.holdTime, bp.spec.keepaliveTime ?? input.config?.spec.keepaliveTime),
      ...(password !== undefined ? { password } : {}),
      ...(bp.spec.maxPrefixes !== undefined ? { maxPrefixes: bp.spec.maxPrefixes } : {}),
      ...(bp.spec.routeReflectorClient ? { routeReflectorClient: true } : {}),
      ...(bp.spec.ttlSecurity !== undefined ? { ttlSecurityHops: bp.spec.ttlSecurity } : {}),
    };
    const source = (peer: string): Partial<DesiredPeer> => {
      const s = bp.spec.sourceAddress;
      if (s === undefined || s === 'None') return {};
      if (s === 'UseNodeIP') {
        const a = nodeAddresses(self);
        const addr = peer.includes(':') ? a.v6 : a.v4;
        return addr ? { sourceAddress: addr } : {};
      }
      return { sourceAddress: s };
    };
    if (bp.spec.peerSelector !== undefined) {
      const s = parseSelector(bp.spec.peerSelector);
      if (!s.ok) {
        problems.push({ source: src, message: `peerSelector: ${s.error}` });
        continue;
      }
      for (const n of sortedNodes) {
        if (n.metadata.name === input.nodeName || !matchSelector(s.value, n.metadata.labels ?? {})) continue;
        for (const p of nodeSessions(self, n, localAs, input.config, `${src} node ${n.metadata.name}`)) {
          add({ ...p, ...extra, ...source(p.address), description: `${src} node ${n.metadata.name}` }, src);
        }
      }
      continue;
    }
    const addr = bp.spec.peerIP!;
    add({ address: addr, peerAs: bp.spec.asNumber!, localAs, description: src, gracefulRestart: { enabled: true, restartTimeSeconds: GRACEFUL_RESTART_SECONDS }, ...extra, ...source(addr) }, src);
  }
  return { peers, problems, localAs };
}

/** Canonical form for comparing peers: key order and absent-vs-default do not matter. */
export function peerFingerprint(p: DesiredPeer): string {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(p).sort()) {
    const v = (p as Record<string, unknown>)[k];
    if (v === undefined || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    o[k] = v;
  }
  return JSON.stringify(o);
}

export interface PeerDiff {
  add: DesiredPeer[];
  update: DesiredPeer[];
  delete: string[];
}

/** The calls that turn session set `prev` into `next`: nothing for peers that did not change. */
export function diffPeers(prev: ReadonlyMap<string, DesiredPeer>, next: ReadonlyMap<string, DesiredPeer>): PeerDiff {
  const d: PeerDiff = { add: [], update: [], delete: [] };
  for (const [a, p] of next) {
    const old = prev.get(a);
    if (!old) d.add.push(p);
    else if (peerFingerprint(old) !== peerFingerprint(p)) d.update.push(p);
  }
  for (const a of prev.keys()) if (!next.has(a)) d.delete.push(a);
  const by = (x: { address: string }, y: { address: string }): number => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0);
  d.add.sort(by);
  d.update.sort(by);
  d.delete.sort();
  return d;
}
