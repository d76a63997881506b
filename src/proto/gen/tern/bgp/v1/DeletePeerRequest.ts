// Original file: proto/tern/bgp/v1/bgp.proto


export interface DeletePeerRequest {
  'address'?: (string);
  'shutdownMessage'?: (string);
}

export interface DeletePeerRequest__Output {
  'address': (string);
  'shutdownMessage': (string);
}
