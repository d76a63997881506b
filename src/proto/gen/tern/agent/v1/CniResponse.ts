// Original file: proto/tern/agent/v1/agent.proto

import type { CniError as _tern_agent_v1_CniError, CniError__Output as _tern_agent_v1_CniError__Output } from '../../../tern/agent/v1/CniError.js';

export interface CniResponse {
  'result'?: (Buffer | Uint8Array | string);
  'error'?: (_tern_agent_v1_CniError | null);
}

export interface CniResponse__Output {
  'result': (Buffer);
  'error': (_tern_agent_v1_CniError__Output | null);
}
