// Services + EndpointSlices (+ WorkloadEndpoints for named ports) → ServiceModel. Pure and
// order-independent: inputs are sorted and deduplicated before anything is derived from them.
//
// Endpoint choice follows kube-proxy (pkg/proxy/topology.go CategorizeEndpoints): ready
// endpoints; when none is ready, serving ones (terminating endpoints still answering, so a
// rolling update does not black-hole traffic). Local and cluster sets fall back separately.
// publishNotReadyAddresses makes every listed endpoint count as ready, as the EndpointSlice
// controller would have published it.
import { isIp, parseIp, formatIp, type Family } from '../../net/ip.js';
import type { EndpointSlice, Service, WorkloadEndpoint } from '../../resources/index.js';
import type { HealthCheck, Proto, ProxyContext, ProxyEndpoint, ProxyError, ProxyState, ServiceModel, ServicePortModel } from './model.js';

/** IP (canonical) → the named container ports of the pod owning it. */
export type NamedPortLookup = (ip: string, name: string, proto: Proto) => number | undefined;

export interface ProxyInput {
  context: ProxyContext;
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  pods?: readonly WorkloadEndpoint[];
}

const canon = (ip: string): string => formatIp(parseIp(ip));
const famOf = (ip: string): Family => parseIp(ip).family;
const byEndpoint = (a: ProxyEndpoint, b: ProxyEndpoint): number => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1);

/** The Service a slice belongs to, as `ns/name`, or undefined when it names none. */
export function sliceService(s: EndpointSlice): string | undefined {
  const name = s.metadata.labels?.['kubernetes.io/service-name'];
  return name ? `${s.metadata.namespace}/${name}` : undefined;
}

export function podPortLookup(pods: readonly WorkloadEndpoint[]): NamedPortLookup {
  const m = new Map<string, Map<string, number>>();
  for (const p of pods) {
    for (const net of p.spec.ipNetworks) {
      const ip = canon(net.split('/')[0]!);
      const ports = m.get(ip) ?? new Map<string, number>();
      for (const port of p.spec.ports ?? []) ports.set(`${port.name}/${(port.protocol ?? 'TCP').toLowerCase()}`, port.port);
      m.set(ip, ports);
    }
  }
  return (ip, name, proto) => m.get(ip)?.get(`${name}/${proto}`);
}

interface Candidate extends ProxyEndpoint {
  ready: boolean;
  serving: boolean;
}

function choose(c: Candidate[]): ProxyEndpoint[] {
  const ready = c.filter((e) => e.ready);
  const use = ready.length ? ready : c.filter((e) => e.serving);
  const seen = new Set<string>();
  const out: ProxyEndpoint[] = [];
  for (const e of use) {
    const k = `${e.ip}|${e.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ ip: e.ip, port: e.port, local: e.local });
  }
  return out.sort(byEndpoint);
}

/**
 * One service's model. `slices` are this service's slices (any order); `namedPort` resolves
 * a name for an endpoint whose slice carries no number for the port (see README).
 */
export function calculateService(svc: Service, slices: readonly EndpointSlice[], ctx: ProxyContext, namedPort: NamedPortLookup = () => undefined): ServiceModel | undefined {
  const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return undefined;
  const clusterIps = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(isIp).map(canon);
  const errors: ProxyError[] = [];
  const headless = spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None';
  if (headless) return undefined;
  const externals = [...(spec.externalIPs ?? []), ...(spec.type === 'LoadBalancer' ? [spec.loadBalancerIP, ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)] : [])]
    .filter((x): x is string => typeof x === 'string' && isIp(x))
    .map(canon);
  const families = new Set<Family>([...clusterIps.map(famOf), ...externals.map(famOf)]);
  if (families.size === 0) {
    errors.push({ code: 'no-cluster-ip', service: key, message: 'service has no cluster IP and no external IP yet' });
    return { key, ports: [], errors };
  }
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const externalLocal = spec.externalTrafficPolicy === 'Local' && (nodePorts || externals.length > 0);
  const sortedSlices = [...slices].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const ports: ServicePortModel[] = [];
  let healthLocal = 0;
  for (const sp of spec.ports ?? []) {
    const proto = sp.protocol.toLowerCase() as Proto;
    const target = sp.targetPort ?? sp.port;
    for (const family of [...families].sort()) {
      const cands: Candidate[] = [];
      for (const sl of sortedSlices) {
        if (sl.addressType !== (family === 4 ? 'IPv4' : 'IPv6')) continue;
        // Kubernetes: the slice port with the service port's name (both empty for a single
        // unnamed port) carries the number the endpoints of this slice listen on.
        const slicePort = sl.ports?.find((p) => (p.name ?? '') === (sp.name ?? '') && p.protocol.toLowerCase() === proto);
        if (sl.ports && sl.ports.length > 0 && !slicePort) continue;
        for (const ep of sl.endpoints) {
          const c = ep.conditions ?? {};
          const ready = svc.spec.publishNotReadyAddresses === true || (c.ready ?? true);
          const serving = c.serving ?? ready;
          const local = ep.nodeName === ctx.nodeName;
          for (const raw of ep.addresses) {
            if (!isIp(raw) || famOf(raw) !== family) {
              errors.push({ code: 'bad-address', service: key, message: `endpoint address ${raw} is not an IPv${family} address` });
              continue;
            }
            const ip = canon(raw);
            let port = slicePort?.port;
            if (port === undefined) port = typeof target === 'number' ? target : namedPort(ip, target, proto);
            if (port === undefined) {
              errors.push({ code: 'unresolved-port', service: key, message: `endpoint ${ip} has no port named "${String(target)}" (${proto})` });
              continue;
            }
            cands.push({ ip, port, local, ready, serving });
          }
        }
      }
      const endpoints = choose(cands);
      const localEndpoints = choose(cands.filter((c) => c.local));
      healthLocal = Math.max(healthLocal, localEndpoints.length);
      const clusterIp = clusterIps.find((ip) => famOf(ip) === family);
      ports.push({
        id: `${key}/${proto}/${sp.name || sp.port}`,
        family,
        proto,
        port: sp.port,
        ...(clusterIp ? { clusterIp } : {}),
        externalIps: [...new Set(externals.filter((ip) => famOf(ip) === family))].sort(),
        ...(nodePorts && sp.nodePort ? { nodePort: sp.nodePort } : {}),
        endpoints,
        localEndpoints,
        internalLocal: spec.internalTrafficPolicy === 'Local',
        externalLocal,
        ...(spec.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
      });
    }
  }
  let healthCheck: HealthCheck | undefined;
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' && spec.healthCheckNodePort) {
    healthCheck = { service: key, nodePort: spec.healthCheckNodePort, localEndpoints: healthLocal };
  }
  return { key, ports, ...(healthCheck ? { healthCheck } : {}), errors };
}

/** The whole state from scratch (ProxyInputs does the same incrementally). */
export function calculate(input: ProxyInput): ProxyState {
  const bySvc = new Map<string, EndpointSlice[]>();
  for (const s of input.slices) {
    const k = sliceService(s);
    if (!k) continue;
    const l = bySvc.get(k) ?? [];
    l.push(s);
    bySvc.set(k, l);
  }
  const lookup = podPortLookup(input.pods ?? []);
  const services = new Map<string, ServiceModel>();
  for (const svc of input.services) {
    const k = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const m = calculateService(svc, bySvc.get(k) ?? [], input.context, lookup);
    if (m) services.set(k, m);
  }
  return { context: input.context, services };
}
