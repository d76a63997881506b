// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';

export interface GracefulRestart {
  'enabled'?: (boolean);
  'restartTimeSeconds'?: (number);
  'staleTimeSeconds'?: (number);
  'notification'?: (boolean);
  'longLivedStaleSeconds'?: (number);
  'forwardingFamilies'?: (_tern_bgp_v1_Family)[];
  'forwardingNone'?: (boolean);
}

export interface GracefulRestart__Output {
  'enabled': (boolean);
  'restartTimeSeconds': (number);
  'staleTimeSeconds': (number);
  'notification': (boolean);
  'longLivedStaleSeconds': (number);
  'forwardingFamilies': (_tern_bgp_v1_Family__Output)[];
  'forwardingNone': (boolean);
}
