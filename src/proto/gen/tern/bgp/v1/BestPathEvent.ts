// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';
import type { Path as _tern_bgp_v1_Path, Path__Output as _tern_bgp_v1_Path__Output } from '../../../tern/bgp/v1/Path.js';

// Original file: proto/tern/bgp/v1/bgp.proto

export const _tern_bgp_v1_BestPathEvent_Type = {
  UPSERT: 'UPSERT',
  WITHDRAW: 'WITHDRAW',
  SNAPSHOT_END: 'SNAPSHOT_END',
} as const;

export type _tern_bgp_v1_BestPathEvent_Type =
  | 'UPSERT'
  | 0
  | 'WITHDRAW'
  | 1
  | 'SNAPSHOT_END'
  | 2

export type _tern_bgp_v1_BestPathEvent_Type__Output = typeof _tern_bgp_v1_BestPathEvent_Type[keyof typeof _tern_bgp_v1_BestPathEvent_Type]

export interface BestPathEvent {
  'type'?: (_tern_bgp_v1_BestPathEvent_Type);
  'prefix'?: (string);
  'family'?: (_tern_bgp_v1_Family);
  'nextHops'?: (string)[];
  'best'?: (_tern_bgp_v1_Path | null);
}

export interface BestPathEvent__Output {
  'type': (_tern_bgp_v1_BestPathEvent_Type__Output);
  'prefix': (string);
  'family': (_tern_bgp_v1_Family__Output);
  'nextHops': (string)[];
  'best': (_tern_bgp_v1_Path__Output | null);
}
