// Original file: proto/tern/bgp/v1/bgp.proto

import type { Long } from '@grpc/proto-loader';

export interface Stats {
  'peers'?: (number);
  'peersEstablished'?: (number);
  'locRibPrefixes'?: (number | string | Long);
  'locRibPaths'?: (number | string | Long);
  'attributeSets'?: (number | string | Long);
  'bestPathChanges'?: (number | string | Long);
  'rssBytes'?: (number | string);
}

export interface Stats__Output {
  'peers': (number);
  'peersEstablished': (number);
  'locRibPrefixes': (number);
  'locRibPaths': (number);
  'attributeSets': (number);
  'bestPathChanges': (number);
  'rssBytes': (number);
}
