// Public API of the service proxy.
export type { HealthCheck, Proto, ProxyContext, ProxyEndpoint, ProxyError, ProxyState, ServiceModel, ServicePortModel } from './model.js';
export { calculate, calculateService, podPortLookup, sliceService, type NamedPortLookup, type ProxyInput } from './calc.js';
export { ProxyInputs, type ProxyUpdate } from './inputs.js';
export { ProxyTable, renderService, renderBase, chainNames, shardOf, shardTable, proxyTables, DEFAULT_TABLE, DEFAULT_MASQUERADE_MARK, DEFAULT_EXTERNAL_MARK, DEFAULT_SHARDS, MAX_SHARDS, type Plan, type DiffStats, type ExpectedTable, type ProxyRenderOptions } from './render.js';
export { ProxyDataplane, type ProxyApplyReport, type ProxyDataplaneOptions } from './dataplane.js';
export { staleUdp, conntrackArgs, runConntrack, type ConntrackFlush } from './conntrack.js';
export { HealthCheckServer, healthChecks, healthResponse } from './health.js';
export { ProxyConfigSchema, type ProxyConfig } from './config.js';
