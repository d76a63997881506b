// Original file: proto/tern/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CniRequest as _tern_agent_v1_CniRequest, CniRequest__Output as _tern_agent_v1_CniRequest__Output } from '../../../tern/agent/v1/CniRequest.js';
import type { CniResponse as _tern_agent_v1_CniResponse, CniResponse__Output as _tern_agent_v1_CniResponse__Output } from '../../../tern/agent/v1/CniResponse.js';
import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from '../../../tern/common/v1/DaemonStatus.js';
import type { GetNodeStatusRequest as _tern_agent_v1_GetNodeStatusRequest, GetNodeStatusRequest__Output as _tern_agent_v1_GetNodeStatusRequest__Output } from '../../../tern/agent/v1/GetNodeStatusRequest.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from '../../../tern/common/v1/GetStatusRequest.js';
import type { NodeStatus as _tern_agent_v1_NodeStatus, NodeStatus__Output as _tern_agent_v1_NodeStatus__Output } from '../../../tern/agent/v1/NodeStatus.js';

export interface AgentClient extends grpc.Client {
  CniAdd(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniAdd(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniAdd(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniAdd(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniAdd(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniAdd(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniAdd(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniAdd(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  
  CniCheck(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniCheck(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniCheck(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniCheck(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniCheck(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniCheck(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniCheck(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniCheck(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  
  CniDel(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniDel(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniDel(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniDel(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniDel(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniDel(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniDel(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniDel(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  
  CniGc(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniGc(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniGc(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniGc(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniGc(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniGc(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniGc(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniGc(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  
  CniStatus(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniStatus(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniStatus(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  CniStatus(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniStatus(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniStatus(argument: _tern_agent_v1_CniRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniStatus(argument: _tern_agent_v1_CniRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  cniStatus(argument: _tern_agent_v1_CniRequest, callback: grpc.requestCallback<_tern_agent_v1_CniResponse__Output>): grpc.ClientUnaryCall;
  
  GetNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  GetNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  GetNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  GetNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  getNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  getNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  getNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  getNodeStatus(argument: _tern_agent_v1_GetNodeStatusRequest, callback: grpc.requestCallback<_tern_agent_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  CniAdd: grpc.handleUnaryCall<_tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse>;
  
  CniCheck: grpc.handleUnaryCall<_tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse>;
  
  CniDel: grpc.handleUnaryCall<_tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse>;
  
  CniGc: grpc.handleUnaryCall<_tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse>;
  
  CniStatus: grpc.handleUnaryCall<_tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse>;
  
  GetNodeStatus: grpc.handleUnaryCall<_tern_agent_v1_GetNodeStatusRequest__Output, _tern_agent_v1_NodeStatus>;
  
  GetStatus: grpc.handleUnaryCall<_tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  CniAdd: MethodDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniResponse, _tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse__Output>
  CniCheck: MethodDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniResponse, _tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse__Output>
  CniDel: MethodDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniResponse, _tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse__Output>
  CniGc: MethodDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniResponse, _tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse__Output>
  CniStatus: MethodDefinition<_tern_agent_v1_CniRequest, _tern_agent_v1_CniResponse, _tern_agent_v1_CniRequest__Output, _tern_agent_v1_CniResponse__Output>
  GetNodeStatus: MethodDefinition<_tern_agent_v1_GetNodeStatusRequest, _tern_agent_v1_NodeStatus, _tern_agent_v1_GetNodeStatusRequest__Output, _tern_agent_v1_NodeStatus__Output>
  GetStatus: MethodDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_DaemonStatus, _tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus__Output>
}
