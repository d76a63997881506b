// A direct interpreter of the desired-state model: would this packet pass? Lets calculation
// tests state Kubernetes semantics as truth tables ("x/b → x/a TCP 80: allowed") without
// depending on set names or rule order, and independently of the nftables renderer.
import { cidrContainsIp, parseCidr, parseIp } from '../../../src/net/ip.js';
import type { DesiredRule, DesiredSet, DesiredState } from '../../../src/agent/policy/model.js';

export interface Packet {
  src: string;
  dst: string;
  proto: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** Host-side interfaces of source and destination when they are local pods. */
  srcIface?: string;
  dstIface?: string;
}

function inSet(s: DesiredSet | undefined, ip: string, port?: number): boolean {
  if (!s) return false;
  const a = parseIp(ip);
  if (a.family !== s.family) return false;
  switch (s.kind) {
    case 'addr':
      return s.elements.some((e) => parseIp(e).value === a.value);
    case 'interval':
      return s.elements.some((e) => cidrContainsIp(parseCidr(e), a));
    case 'addr-port':
      return s.elements.some((e) => {
        const [ipText, p] = e.split(' . ');
        return parseIp(ipText!).value === a.value && Number(p) === port;
      });
  }
}

function ruleMatches(state: DesiredState, r: DesiredRule, remote: string, pkt: Packet): boolean {
  const sets = new Map(state.sets.map((s) => [s.name, s]));
  const fam = parseIp(remote).family;
  if (r.peer.kind === 'sets') {
    const name = fam === 4 ? r.peer.v4 : r.peer.v6;
    if (!name || !inSet(sets.get(name), remote)) return false;
  }
  switch (r.port.kind) {
    case 'any':
      return true;
    case 'proto':
      return r.port.proto === pkt.proto;
    case 'ports':
      return r.port.proto === pkt.proto && r.port.ranges.some(([lo, hi]) => pkt.port >= lo && pkt.port <= hi);
    case 'named':
      return r.port.proto === pkt.proto && inSet(sets.get(fam === 4 ? r.port.v4 : r.port.v6), pkt.dst, pkt.port);
  }
}

export function allowed(state: DesiredState, pkt: Packet): boolean {
  const sets = new Map(state.sets.map((s) => [s.name, s]));
  const src = pkt.srcIface ? state.endpoints.find((e) => e.iface === pkt.srcIface) : undefined;
  if (src?.egress && !src.egress.some((r) => ruleMatches(state, r, pkt.dst, pkt))) return false;
  const dst = pkt.dstIface ? state.endpoints.find((e) => e.iface === pkt.dstIface) : undefined;
  if (dst?.ingress) {
    const fam = parseIp(pkt.src).family;
    if (inSet(sets.get(fam === 4 ? 'node-4' : 'node-6'), pkt.src)) return true;
    if (!dst.ingress.some((r) => ruleMatches(state, r, pkt.src, pkt))) return false;
  }
  return true;
}
