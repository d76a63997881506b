import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _tern_agent_v1_AgentClient, AgentDefinition as _tern_agent_v1_AgentDefinition } from './tern/agent/v1/Agent.js';
import type { BlockStatus as _tern_agent_v1_BlockStatus, BlockStatus__Output as _tern_agent_v1_BlockStatus__Output } from './tern/agent/v1/BlockStatus.js';
import type { CniError as _tern_agent_v1_CniError, CniError__Output as _tern_agent_v1_CniError__Output } from './tern/agent/v1/CniError.js';
import type { CniRequest as _tern_agent_v1_CniRequest, CniRequest__Output as _tern_agent_v1_CniRequest__Output } from './tern/agent/v1/CniRequest.js';
import type { CniResponse as _tern_agent_v1_CniResponse, CniResponse__Output as _tern_agent_v1_CniResponse__Output } from './tern/agent/v1/CniResponse.js';
import type { GetNodeStatusRequest as _tern_agent_v1_GetNodeStatusRequest, GetNodeStatusRequest__Output as _tern_agent_v1_GetNodeStatusRequest__Output } from './tern/agent/v1/GetNodeStatusRequest.js';
import type { NodeStatus as _tern_agent_v1_NodeStatus, NodeStatus__Output as _tern_agent_v1_NodeStatus__Output } from './tern/agent/v1/NodeStatus.js';
import type { ProxyStatus as _tern_agent_v1_ProxyStatus, ProxyStatus__Output as _tern_agent_v1_ProxyStatus__Output } from './tern/agent/v1/ProxyStatus.js';
import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from './tern/common/v1/DaemonStatus.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from './tern/common/v1/GetStatusRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tern: {
    agent: {
      v1: {
        Agent: SubtypeConstructor<typeof grpc.Client, _tern_agent_v1_AgentClient> & { service: _tern_agent_v1_AgentDefinition }
        BlockStatus: MessageTypeDefinition<_tern_agent_v1_BlockStatus, _tern_agent_v1_BlockStatus__Output>
        CniError: MessageTypeDefinition<_tern_agent_v1_CniError, _tern_agent_v1_CniError__Output>
        CniRequest: MessageTypeDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniRequest__Output>
        CniResponse: MessageTypeDefinition<_tern_agent_v1_CniResponse, _tern_agent_v1_CniResponse__Output>
        GetNodeStatusRequest: MessageTypeDefinition<_tern_agent_v1_GetNodeStatusRequest, _tern_agent_v1_GetNodeStatusRequest__Output>
        NodeStatus: MessageTypeDefinition<_tern_agent_v1_NodeStatus, _tern_agent_v1_NodeStatus__Output>
        ProxyStatus: MessageTypeDefinition<_tern_agent_v1_ProxyStatus, _tern_agent_v1_ProxyStatus__Output>
      }
    }
    common: {
      v1: {
        DaemonStatus: MessageTypeDefinition<_tern_common_v1_DaemonStatus, _tern_common_v1_DaemonStatus__Output>
        GetStatusRequest: MessageTypeDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_GetStatusRequest__Output>
      }
    }
  }
}

