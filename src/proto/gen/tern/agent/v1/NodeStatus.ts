// Original file: proto/tern/agent/v1/agent.proto

import type { BlockStatus as _tern_agent_v1_BlockStatus, BlockStatus__Output as _tern_agent_v1_BlockStatus__Output } from '../../../tern/agent/v1/BlockStatus.js';
import type { ProxyStatus as _tern_agent_v1_ProxyStatus, ProxyStatus__Output as _tern_agent_v1_ProxyStatus__Output } from '../../../tern/agent/v1/ProxyStatus.js';

export interface NodeStatus {
  'node'?: (string);
  'blocks'?: (string)[];
  'localEndpoints'?: (number);
  'routesOwned'?: (number);
  'policies'?: (number);
  'nftRules'?: (number);
  'lastSync'?: (string);
  'ready'?: (boolean);
  'bgpdConnected'?: (boolean);
  'remoteRoutes'?: (number);
  'staleRemoteRoutes'?: (number);
  'peersDesired'?: (number);
  'pathsOriginated'?: (number);
  'routeFailures'?: (number);
  'problems'?: (string)[];
  'nodeIps'?: (string)[];
  'blockStatus'?: (_tern_agent_v1_BlockStatus)[];
  'bgpdSocket'?: (string);
  'proxy'?: (_tern_agent_v1_ProxyStatus | null);
  'policyDriftRepairs'?: (number);
}

export interface NodeStatus__Output {
  'node': (string);
  'blocks': (string)[];
  'localEndpoints': (number);
  'routesOwned': (number);
  'policies': (number);
  'nftRules': (number);
  'lastSync': (string);
  'ready': (boolean);
  'bgpdConnected': (boolean);
  'remoteRoutes': (number);
  'staleRemoteRoutes': (number);
  'peersDesired': (number);
  'pathsOriginated': (number);
  'routeFailures': (number);
  'problems': (string)[];
  'nodeIps': (string)[];
  'blockStatus': (_tern_agent_v1_BlockStatus__Output)[];
  'bgpdSocket': (string);
  'proxy': (_tern_agent_v1_ProxyStatus__Output | null);
  'policyDriftRepairs': (number);
}
