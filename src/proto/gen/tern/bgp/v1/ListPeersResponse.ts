// Original file: proto/tern/bgp/v1/bgp.proto

import type { PeerState as _tern_bgp_v1_PeerState, PeerState__Output as _tern_bgp_v1_PeerState__Output } from '../../../tern/bgp/v1/PeerState.js';

export interface ListPeersResponse {
  'peers'?: (_tern_bgp_v1_PeerState)[];
}

export interface ListPeersResponse__Output {
  'peers': (_tern_bgp_v1_PeerState__Output)[];
}
