// Original file: proto/tern/bgp/v1/bgp.proto


export interface ListPeersRequest {
  'address'?: (string);
}

export interface ListPeersRequest__Output {
  'address': (string);
}
