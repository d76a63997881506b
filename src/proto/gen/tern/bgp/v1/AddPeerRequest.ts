// Original file: proto/tern/bgp/v1/bgp.proto

import type { PeerConfig as _tern_bgp_v1_PeerConfig, PeerConfig__Output as _tern_bgp_v1_PeerConfig__Output } from '../../../tern/bgp/v1/PeerConfig.js';

export interface AddPeerRequest {
  'peer'?: (_tern_bgp_v1_PeerConfig | null);
}

export interface AddPeerRequest__Output {
  'peer': (_tern_bgp_v1_PeerConfig__Output | null);
}
