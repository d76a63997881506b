// Public API of the agent's calculation graph and wiring (see README.md).
export { Agent, type AgentOptions, type AgentStatus } from './agent.js';
export { AgentState, updateKey, assertNever, type AgentUpdate, type BlockSummary, type Dirty } from './updates.js';
export { desiredRoutes, bgpDesired, nodeIps, routeText, type NodeIps, type BgpDesired } from './calc.js';
export { AgentConfigShape, SERVICE_PROXY_MODES } from './config.js';
export { startWatchers, decodeBlock, type Watchers, type WatchOptions } from './watch.js';
export { nodeStatusHandler, nodeStatusMessage } from './grpc.js';
export { agentMetrics, type AgentMetrics } from './metrics.js';
export { serviceProxyHook, ServiceProxy, type ServiceProxyHook, type ServiceProxyOptions, type ServiceProxyStatus } from './proxy-hook.js';
