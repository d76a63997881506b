// The agent's Prometheus metrics (names follow Felix's where one exists).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface AgentMetrics {
  programming: Histogram<'dataplane'>;
  resyncs: Counter<'dataplane'>;
  failures: Counter<'dataplane'>;
  driftRepairs: Counter<'dataplane'>;
  routesOwned: Gauge;
  remoteRoutes: Gauge;
  localEndpoints: Gauge;
  bgpdConnected: Gauge;
  bgpPeers: Gauge;
  pathsOriginated: Gauge;
  updates: Counter<'kind'>;
}

export function agentMetrics(registry: Registry): AgentMetrics {
  const r = [registry];
  return {
    programming: new Histogram({ name: 'tern_agent_programming_seconds', help: 'Time to program one batch of changes into the kernel, by dataplane (routes, policy)', labelNames: ['dataplane'], buckets: LATENCY_BUCKETS, registers: r }),
    resyncs: new Counter({ name: 'tern_agent_resyncs_total', help: 'Full reads of kernel state compared with the desired state', labelNames: ['dataplane'], registers: r }),
    failures: new Counter({ name: 'tern_agent_programming_failures_total', help: 'Batches (or single routes) the kernel refused', labelNames: ['dataplane'], registers: r }),
    driftRepairs: new Counter({ name: 'tern_agent_drift_repairs_total', help: 'Kernel state found changed by someone else and replaced, by dataplane', labelNames: ['dataplane'], registers: r }),
    routesOwned: new Gauge({ name: 'tern_agent_routes_owned', help: 'Routes with protocol 44 the agent wants in the kernel', registers: r }),
    remoteRoutes: new Gauge({ name: 'tern_agent_remote_routes', help: 'Routes learned from bgpd best paths (stale ones included)', registers: r }),
    localEndpoints: new Gauge({ name: 'tern_agent_local_endpoints', help: 'WorkloadEndpoints on this node', registers: r }),
    bgpdConnected: new Gauge({ name: 'tern_agent_bgpd_connected', help: '1 while the gRPC connection to tern-bgpd is up', registers: r }),
    bgpPeers: new Gauge({ name: 'tern_agent_bgp_peers_desired', help: 'BGP sessions the cluster configuration asks for on this node', registers: r }),
    pathsOriginated: new Gauge({ name: 'tern_agent_bgp_paths_originated', help: 'Prefixes this node asks bgpd to originate', registers: r }),
    updates: new Counter({ name: 'tern_agent_updates_total', help: 'Datastore and bgpd updates recorded, by kind', labelNames: ['kind'], registers: r }),
  };
}
