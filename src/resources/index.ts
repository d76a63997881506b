// Public API of the typed resources: schemas, types, the kind registry and the codecs.
export * from './registry.js';
export { ValidationError, formatPath, issueText, type Issue } from './issues.js';
export { parseSelector, matchSelector, type Selector } from './selector.js';
export { LabelSelector, LabelSelectorRequirement, matchLabelSelector } from './meta.js';
export { NamespaceSchema, type Namespace } from './kinds/namespace.js';
export { ServiceSchema, ServicePort, type Service } from './kinds/service.js';
export { EndpointSliceSchema, SERVICE_NAME_LABEL, type EndpointSlice } from './kinds/endpointslice.js';
export {
  NetworkPolicySchema,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  IPBlock,
  PolicyType,
  type NetworkPolicy,
} from './kinds/networkpolicy.js';
export { NodeSchema, type Node } from './kinds/node.js';
export { IPPoolSchema, BLOCK_SIZE, type IPPool } from './kinds/ippool.js';
export { WorkloadEndpointSchema, type WorkloadEndpoint } from './kinds/workloadendpoint.js';
export { BGPConfigurationSchema, BGPPeerSchema, communityError, type BGPConfiguration, type BGPPeer } from './kinds/bgp.js';
export { PodSchema, podToWorkloadEndpoint, type Pod } from './kinds/pod.js';
