// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';
import type { Path as _tern_bgp_v1_Path, Path__Output as _tern_bgp_v1_Path__Output } from '../../../tern/bgp/v1/Path.js';

export interface Route {
  'prefix'?: (string);
  'family'?: (_tern_bgp_v1_Family);
  'paths'?: (_tern_bgp_v1_Path)[];
  'bestReason'?: (string);
  'multipath'?: (number);
}

export interface Route__Output {
  'prefix': (string);
  'family': (_tern_bgp_v1_Family__Output);
  'paths': (_tern_bgp_v1_Path__Output)[];
  'bestReason': (string);
  'multipath': (number);
}
