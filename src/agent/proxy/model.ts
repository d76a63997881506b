// The desired state of the service proxy: what the calculation produces and the renderer
// consumes. Pure data, no I/O. One ServiceModel per Service; the renderer caches its output
// per ServiceModel object, so an unchanged service keeps the same object across updates.
import type { Family } from '../../net/ip.js';

export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type Proto = (typeof PROTOCOLS)[number];

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** On this node (EndpointSlice endpoint nodeName equals the local node's name). */
  local: boolean;
}

/** One (service port, IP family): everything the dataplane needs to forward it. */
export interface ServicePortModel {
  /** `ns/name/proto/portName-or-number`, unique within the cluster. */
  id: string;
  family: Family;
  proto: Proto;
  port: number;
  clusterIp?: string;
  /** externalIPs and load-balancer ingress IPs of this family. */
  externalIps: string[];
  nodePort?: number;
  /** Endpoints traffic may use (ready ones; serving ones when none is ready), sorted. */
  endpoints: ProxyEndpoint[];
  /** Of those, the ones on this node, chosen separately (ready, else serving). */
  localEndpoints: ProxyEndpoint[];
  /** internalTrafficPolicy Local: the cluster IP uses local endpoints only. */
  internalLocal: boolean;
  /** externalTrafficPolicy Local: node ports, external and LB IPs use local endpoints only. */
  externalLocal: boolean;
  /** sessionAffinity ClientIP: seconds a client stays on the endpoint it got. */
  affinitySeconds?: number;
}

export interface HealthCheck {
  /** `ns/name` */
  service: string;
  nodePort: number;
  localEndpoints: number;
}

export interface ServiceModel {
  /** `ns/name` */
  key: string;
  ports: ServicePortModel[];
  healthCheck?: HealthCheck;
  errors: ProxyError[];
}

export interface ProxyError {
  code: 'unresolved-port' | 'bad-address' | 'no-cluster-ip';
  service: string;
  message: string;
}

/** Node-wide facts that shape every service's rules. */
export interface ProxyContext {
  nodeName: string;
  /** Pod CIDRs: traffic to a cluster IP from outside them is masqueraded (kube-proxy's clusterCIDR). */
  clusterCidrs: string[];
}

export interface ProxyState {
  context: ProxyContext;
  /** By `ns/name`, sorted by key when iterated through `services()`. */
  services: ReadonlyMap<string, ServiceModel>;
}
