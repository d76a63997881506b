// Original file: proto/tern/bgp/v1/bgp.proto

import type { Family as _tern_bgp_v1_Family, Family__Output as _tern_bgp_v1_Family__Output } from '../../../tern/bgp/v1/Family.js';
import type { GracefulRestart as _tern_bgp_v1_GracefulRestart, GracefulRestart__Output as _tern_bgp_v1_GracefulRestart__Output } from '../../../tern/bgp/v1/GracefulRestart.js';
import type { Bfd as _tern_bgp_v1_Bfd, Bfd__Output as _tern_bgp_v1_Bfd__Output } from '../../../tern/bgp/v1/Bfd.js';

export interface PeerConfig {
  'address'?: (string);
  'peerAs'?: (number);
  'localAs'?: (number);
  'description'?: (string);
  'passive'?: (boolean);
  'sourceAddress'?: (string);
  'port'?: (number);
  'holdTimeSeconds'?: (number);
  'keepaliveSeconds'?: (number);
  'connectRetrySeconds'?: (number);
  'families'?: (_tern_bgp_v1_Family)[];
  'gracefulRestart'?: (_tern_bgp_v1_GracefulRestart | null);
  'importPolicies'?: (string)[];
  'exportPolicies'?: (string)[];
  'maxPrefixes'?: (number);
  'maxPrefixesRestartSeconds'?: (number);
  'password'?: (string);
  'ttlSecurityHops'?: (number);
  'routeReflectorClient'?: (boolean);
  'bfd'?: (_tern_bgp_v1_Bfd | null);
  'addPathSend'?: (boolean);
  'addPathReceive'?: (boolean);
  'nextHopSelf'?: (boolean);
  'delayOpen'?: (boolean);
  'extendedNextHop'?: (boolean);
  'noLinkLocalNextHop'?: (boolean);
}

export interface PeerConfig__Output {
  'address': (string);
  'peerAs': (number);
  'localAs': (number);
  'description': (string);
  'passive': (boolean);
  'sourceAddress': (string);
  'port': (number);
  'holdTimeSeconds': (number);
  'keepaliveSeconds': (number);
  'connectRetrySeconds': (number);
  'families': (_tern_bgp_v1_Family__Output)[];
  'gracefulRestart': (_tern_bgp_v1_GracefulRestart__Output | null);
  'importPolicies': (string)[];
  'exportPolicies': (string)[];
  'maxPrefixes': (number);
  'maxPrefixesRestartSeconds': (number);
  'password': (string);
  'ttlSecurityHops': (number);
  'routeReflectorClient': (boolean);
  'bfd': (_tern_bgp_v1_Bfd__Output | null);
  'addPathSend': (boolean);
  'addPathReceive': (boolean);
  'nextHopSelf': (boolean);
  'delayOpen': (boolean);
  'extendedNextHop': (boolean);
  'noLinkLocalNextHop': (boolean);
}
