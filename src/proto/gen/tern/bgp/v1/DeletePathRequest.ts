// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';

export interface DeletePathRequest {
  'prefix'?: (string);
  'family'?: (_tern_bgp_v1_Family);
}

export interface DeletePathRequest__Output {
  'prefix': (string);
  'family': (_tern_bgp_v1_Family__Output);
}
