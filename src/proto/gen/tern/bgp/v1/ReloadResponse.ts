// Original file: proto/tern/bgp/v1/bgp.proto


export interface ReloadResponse {
  'changedPeers'?: (string)[];
  'addedPeers'?: (string)[];
  'deletedPeers'?: (string)[];
  'resetPeers'?: (string)[];
}

export interface ReloadResponse__Output {
  'changedPeers': (string)[];
  'addedPeers': (string)[];
  'deletedPeers': (string)[];
  'resetPeers': (string)[];
}
