// Original file: proto/tern/bgp/v1/bgp.proto

import type { Path as _tern_bgp_v1_Path, Path__Output as _tern_bgp_v1_Path__Output } from '../../../tern/bgp/v1/Path.js';

export interface AddPathRequest {
  'path'?: (_tern_bgp_v1_Path | null);
}

export interface AddPathRequest__Output {
  'path': (_tern_bgp_v1_Path__Output | null);
}
