// Original file: proto/tern/bgp/v1/bgp.proto

import type { Long } from '@grpc/proto-loader';

export interface AddPathsResponse {
  'count'?: (number | string | Long);
}

export interface AddPathsResponse__Output {
  'count': (number);
}
