// Original file: proto/tern/dns/v1/dns.proto

import type { Long } from '@grpc/proto-loader';

export interface Stats {
  'queries'?: (number | string | Long);
  'responsesByRcode'?: ({[key: string]: number | string | Long});
  'services'?: (number);
  'endpoints'?: (number);
  'pods'?: (number);
  'cacheHits'?: (number | string | Long);
  'cacheMisses'?: (number | string | Long);
  'synced'?: (boolean);
}

export interface Stats__Output {
  'queries': (number);
  'responsesByRcode': ({[key: string]: number});
  'services': (number);
  'endpoints': (number);
  'pods': (number);
  'cacheHits': (number);
  'cacheMisses': (number);
  'synced': (boolean);
}
