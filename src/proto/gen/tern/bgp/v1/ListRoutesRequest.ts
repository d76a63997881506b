// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';

// Original file: proto/tern/bgp/v1/bgp.proto

export const _tern_bgp_v1_ListRoutesRequest_Table = {
  LOC_RIB: 'LOC_RIB',
  ADJ_RIB_IN: 'ADJ_RIB_IN',
  ADJ_RIB_OUT: 'ADJ_RIB_OUT',
} as const;

export type _tern_bgp_v1_ListRoutesRequest_Table =
  | 'LOC_RIB'
  | 0
  | 'ADJ_RIB_IN'
  | 1
  | 'ADJ_RIB_OUT'
  | 2

export type _tern_bgp_v1_ListRoutesRequest_Table__Output = typeof _tern_bgp_v1_ListRoutesRequest_Table[keyof typeof _tern_bgp_v1_ListRoutesRequest_Table]

export interface ListRoutesRequest {
  'table'?: (_tern_bgp_v1_ListRoutesRequest_Table);
  'peer'?: (string);
  'family'?: (_tern_bgp_v1_Family);
  'prefix'?: (string);
  'limit'?: (number);
}

export interface ListRoutesRequest__Output {
  'table': (_tern_bgp_v1_ListRoutesRequest_Table__Output);
  'peer': (string);
  'family': (_tern_bgp_v1_Family__Output);
  'prefix': (string);
  'limit': (number);
}
