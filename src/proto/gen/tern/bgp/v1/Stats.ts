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
  'locRibIpv4Prefixes'?: (number | string | Long);
  'locRibIpv6Prefixes'?: (number | string | Long);
  'updatesReceived'?: (number | string | Long);
  'updatesSent'?: (number | string | Long);
  'prefixesReceived'?: (number | string | Long);
}

export interface Stats__Output {
  'peers': (number);
  'peersEstablished': (number);
  'locRibPrefixes': (number);
  'locRibPaths': (number);
  'attributeSets': (number);
  'bestPathChanges': (number);
  'rssBytes': (number);
  'locRibIpv4Prefixes': (number);
  'locRibIpv6Prefixes': (number);
  'updatesReceived': (number);
  'updatesSent': (number);
  'prefixesReceived': (number);
}
