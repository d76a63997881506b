// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';
import type { AsPathSegment as _tern_bgp_v1_AsPathSegment, AsPathSegment__Output as _tern_bgp_v1_AsPathSegment__Output } from '../../../tern/bgp/v1/AsPathSegment.js';

export interface Path {
  'prefix'?: (string);
  'family'?: (_tern_bgp_v1_Family);
  'nextHop'?: (string);
  'asPath'?: (_tern_bgp_v1_AsPathSegment)[];
  'origin'?: (string);
  'med'?: (number);
  'localPref'?: (number);
  'communities'?: (string)[];
  'largeCommunities'?: (string)[];
  'extendedCommunities'?: (string)[];
  'originatorId'?: (string);
  'clusterList'?: (string)[];
  'peerAddress'?: (string);
  'pathId'?: (number);
  'stale'?: (boolean);
  'ageSeconds'?: (number | string);
  'atomicAggregate'?: (boolean);
  '_med'?: "med";
  '_localPref'?: "localPref";
}

export interface Path__Output {
  'prefix': (string);
  'family': (_tern_bgp_v1_Family__Output);
  'nextHop': (string);
  'asPath': (_tern_bgp_v1_AsPathSegment__Output)[];
  'origin': (string);
  'med'?: (number);
  'localPref'?: (number);
  'communities': (string)[];
  'largeCommunities': (string)[];
  'extendedCommunities': (string)[];
  'originatorId': (string);
  'clusterList': (string)[];
  'peerAddress': (string);
  'pathId': (number);
  'stale': (boolean);
  'ageSeconds': (number);
  'atomicAggregate': (boolean);
  '_med'?: "med";
  '_localPref'?: "localPref";
}
