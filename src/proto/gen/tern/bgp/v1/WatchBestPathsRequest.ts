// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';

export interface WatchBestPathsRequest {
  'family'?: (_tern_bgp_v1_Family);
}

export interface WatchBestPathsRequest__Output {
  'family': (_tern_bgp_v1_Family__Output);
}
