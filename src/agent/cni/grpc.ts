// The Cni* methods of the tern.agent.v1.Agent service, answered by a CniHandler. A CNI failure
// is a CniResponse with `error` set, never a gRPC error: tern-cni prints it as the runtime expects.
import type * as grpc from '@grpc/grpc-js';
import type { AgentHandlers } from '../../proto/gen/tern/agent/v1/Agent.js';
import type { CniRequest__Output } from '../../proto/gen/tern/agent/v1/CniRequest.js';
import type { CniResponse } from '../../proto/gen/tern/agent/v1/CniResponse.js';
import type { CniHandler } from './handler.js';

type CniMethods = Pick<AgentHandlers, 'CniAdd' | 'CniDel' | 'CniCheck' | 'CniGc' | 'CniStatus'>;

function unary(fn: (req: CniRequest__Output) => Promise<CniResponse>): grpc.handleUnaryCall<CniRequest__Output, CniResponse> {
  return (call, cb) => {
    fn(call.request).then(
      (res) => cb(null, res),
      // CniHandler answers every failure itself; reaching here is a bug worth a gRPC error.
      (e: unknown) => cb({ code: 13, details: (e as Error)?.message ?? String(e) } as grpc.ServiceError),
    );
  };
}

export function cniService(h: CniHandler): CniMethods {
  return {
    CniAdd: unary((r) => h.add(r)),
    CniDel: unary((r) => h.del(r)),
    CniCheck: unary((r) => h.check(r)),
    CniGc: unary((r) => h.gc(r)),
    CniStatus: unary((r) => h.status(r)),
  };
}
