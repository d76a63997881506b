// `tern trace`: explain a pod's packet hop by hop from etcd, the daemons and the kernel.
export * from './model.js';
export { resolve, needs, explain, explainBgp, parseDest, parsePodRef, coveringRoute, prefixOf, addressesOf, type Resolved, type Target, type ServiceHop, type BgpExplanation } from './explain.js';
export { policyVerdict, chainsOf, describeRule, NodeStates, POLICY_TABLE, type Flow, type FlowEnd, type PolicyVerdict, type DirectionVerdict } from './policy.js';
export { formatTrace } from './format.js';
export { accessFromLab, accessFromFile, applyFlags, combine, type AccessMap, type NodeAccess } from './nodes.js';
export { readCluster, readDataplane, agentStatus, locRib, chainFromJson, nodeIpsFromResource, type ClusterRead } from './gather.js';
export { trace, type TraceOptions } from './run.js';
