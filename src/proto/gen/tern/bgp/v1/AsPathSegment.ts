// Original file: proto/tern/bgp/v1/bgp.proto


export interface AsPathSegment {
  'set'?: (boolean);
  'asns'?: (number)[];
}

export interface AsPathSegment__Output {
  'set': (boolean);
  'asns': (number)[];
}
