// Original file: proto/tern/bgp/v1/bgp.proto

import type { PeerState as _tern_bgp_v1_PeerState, PeerState__Output as _tern_bgp_v1_PeerState__Output } from '../../../tern/bgp/v1/PeerState.js';

export interface PeerResponse {
  'peer'?: (_tern_bgp_v1_PeerState | null);
}

export interface PeerResponse__Output {
  'peer': (_tern_bgp_v1_PeerState__Output | null);
}
