import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from './tern/common/v1/DaemonStatus.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from './tern/common/v1/GetStatusRequest.js';

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
  }
}

