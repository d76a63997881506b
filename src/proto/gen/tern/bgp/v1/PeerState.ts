// Original file: proto/tern/bgp/v1/bgp.proto

import type { PeerConfig as _tern_bgp_v1_PeerConfig, PeerConfig__Output as _tern_bgp_v1_PeerConfig__Output } from '../../../tern/bgp/v1/PeerConfig.js';
import type { Long } from '@grpc/proto-loader';

export interface PeerState {
  'config'?: (_tern_bgp_v1_PeerConfig | null);
  'state'?: (string);
  'uptimeSeconds'?: (number | string);
  'remoteRouterId'?: (string);
  'lastError'?: (string);
  'prefixesReceived'?: (number);
  'prefixesAccepted'?: (number);
  'prefixesAdvertised'?: (number);
  'capabilities'?: (string)[];
  'updatesIn'?: (number | string | Long);
  'updatesOut'?: (number | string | Long);
  'flaps'?: (number);
  'source'?: (string);
  'established'?: (number);
  'localAddress'?: (string);
  'lastTransitionReason'?: (string);
  'bfdState'?: (string);
}

export interface PeerState__Output {
  'config': (_tern_bgp_v1_PeerConfig__Output | null);
  'state': (string);
  'uptimeSeconds': (number);
  'remoteRouterId': (string);
  'lastError': (string);
  'prefixesReceived': (number);
  'prefixesAccepted': (number);
  'prefixesAdvertised': (number);
  'capabilities': (string)[];
  'updatesIn': (number);
  'updatesOut': (number);
  'flaps': (number);
  'source': (string);
  'established': (number);
  'localAddress': (string);
  'lastTransitionReason': (string);
  'bfdState': (string);
}
