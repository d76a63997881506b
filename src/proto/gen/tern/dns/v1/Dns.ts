// Original file: proto/tern/dns/v1/dns.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from '../../../tern/common/v1/DaemonStatus.js';
import type { GetStatsRequest as _tern_dns_v1_GetStatsRequest, GetStatsRequest__Output as _tern_dns_v1_GetStatsRequest__Output } from '../../../tern/dns/v1/GetStatsRequest.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from '../../../tern/common/v1/GetStatusRequest.js';
import type { LookupRequest as _tern_dns_v1_LookupRequest, LookupRequest__Output as _tern_dns_v1_LookupRequest__Output } from '../../../tern/dns/v1/LookupRequest.js';
import type { LookupResponse as _tern_dns_v1_LookupResponse, LookupResponse__Output as _tern_dns_v1_LookupResponse__Output } from '../../../tern/dns/v1/LookupResponse.js';
import type { Stats as _tern_dns_v1_Stats, Stats__Output as _tern_dns_v1_Stats__Output } from '../../../tern/dns/v1/Stats.js';

export interface DnsClient extends grpc.Client {
  GetStats(argument: _tern_dns_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_dns_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_dns_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_dns_v1_GetStatsRequest, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_dns_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_dns_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_dns_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_dns_v1_GetStatsRequest, callback: grpc.requestCallback<_tern_dns_v1_Stats__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  
  Lookup(argument: _tern_dns_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _tern_dns_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _tern_dns_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _tern_dns_v1_LookupRequest, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _tern_dns_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _tern_dns_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _tern_dns_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _tern_dns_v1_LookupRequest, callback: grpc.requestCallback<_tern_dns_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface DnsHandlers extends grpc.UntypedServiceImplementation {
  GetStats: grpc.handleUnaryCall<_tern_dns_v1_GetStatsRequest__Output, _tern_dns_v1_Stats>;
  
  GetStatus: grpc.handleUnaryCall<_tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus>;
  
  Lookup: grpc.handleUnaryCall<_tern_dns_v1_LookupRequest__Output, _tern_dns_v1_LookupResponse>;
  
}

export interface DnsDefinition extends grpc.ServiceDefinition {
  GetStats: MethodDefinition<_tern_dns_v1_GetStatsRequest, _tern_dns_v1_Stats, _tern_dns_v1_GetStatsRequest__Output, _tern_dns_v1_Stats__Output>
  GetStatus: MethodDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_DaemonStatus, _tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus__Output>
  Lookup: MethodDefinition<_tern_dns_v1_LookupRequest, _tern_dns_v1_LookupResponse, _tern_dns_v1_LookupRequest__Output, _tern_dns_v1_LookupResponse__Output>
}
