import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from './tern/common/v1/DaemonStatus.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from './tern/common/v1/GetStatusRequest.js';
import type { DnsClient as _tern_dns_v1_DnsClient, DnsDefinition as _tern_dns_v1_DnsDefinition } from './tern/dns/v1/Dns.js';
import type { GetStatsRequest as _tern_dns_v1_GetStatsRequest, GetStatsRequest__Output as _tern_dns_v1_GetStatsRequest__Output } from './tern/dns/v1/GetStatsRequest.js';
import type { LookupRequest as _tern_dns_v1_LookupRequest, LookupRequest__Output as _tern_dns_v1_LookupRequest__Output } from './tern/dns/v1/LookupRequest.js';
import type { LookupResponse as _tern_dns_v1_LookupResponse, LookupResponse__Output as _tern_dns_v1_LookupResponse__Output } from './tern/dns/v1/LookupResponse.js';
import type { Stats as _tern_dns_v1_Stats, Stats__Output as _tern_dns_v1_Stats__Output } from './tern/dns/v1/Stats.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tern: {
    common: {
      v1: {
        DaemonStatus: MessageTypeDefinition<_tern_common_v1_DaemonStatus, _tern_common_v1_DaemonStatus__Output>
        GetStatusRequest: MessageTypeDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_GetStatusRequest__Output>
      }
    }
    dns: {
      v1: {
        Dns: SubtypeConstructor<typeof grpc.Client, _tern_dns_v1_DnsClient> & { service: _tern_dns_v1_DnsDefinition }
        GetStatsRequest: MessageTypeDefinition<_tern_dns_v1_GetStatsRequest, _tern_dns_v1_GetStatsRequest__Output>
        LookupRequest: MessageTypeDefinition<_tern_dns_v1_LookupRequest, _tern_dns_v1_LookupRequest__Output>
        LookupResponse: MessageTypeDefinition<_tern_dns_v1_LookupResponse, _tern_dns_v1_LookupResponse__Output>
        Stats: MessageTypeDefinition<_tern_dns_v1_Stats, _tern_dns_v1_Stats__Output>
      }
    }
  }
}

