// The GetStatus RPC every daemon serves, built from the daemon context.
import type * as grpc from '@grpc/grpc-js';
import type { DaemonStatus } from '../proto/gen/tern/common/v1/DaemonStatus.js';
import { VERSION, type DaemonContext } from './run.js';

export function statusHandler(
  daemon: string,
  node: string | undefined,
  ctx: DaemonContext,
  state: () => { ready: boolean; details?: Record<string, string> },
): grpc.handleUnaryCall<unknown, DaemonStatus> {
  return (_call, cb) => {
    const s = state();
    cb(null, {
      daemon,
      version: VERSION,
      node: node ?? '',
      uptimeSeconds: (Date.now() - ctx.startedAt) / 1000,
      ready: s.ready,
      details: s.details ?? {},
    });
  };
}
