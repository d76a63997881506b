// Public API of the agent's CNI side (see README.md).
export { CniHandler, ANNOTATION_HANDLE, ANNOTATION_NETWORK, type CniHandlerOptions, type CniRequestLike } from './handler.js';
export { cniService } from './grpc.js';
export { CniError, CniCode, TernCniCode, toCniError, type CniErrorValue } from './codes.js';
export { parseNetConf, parseCniArgs, podIdentity, checkEnv, DEFAULT_MTU, type NetConf, type PodIdentity, type Dns, type Attachment } from './config.js';
export { buildAddResult, encodeResult, parsePrevResult, type CniResult } from './result.js';
export { Dataplane, type VethPlan, type LinkInfo, type PodNetState } from './dataplane.js';
export { Limiter, limitedRunner, type CommandRunner, type CommandResult } from './exec.js';
export { hostVethName, tmpPeerName, ipamHandle, vethAlias, parseVethAlias, randomMac, HOST_VETH_MAC, GATEWAY_V4, GATEWAY_V6, VETH_PREFIX } from './names.js';
export { TERN_ROUTE_PROTOCOL } from '../routes/model.js';
