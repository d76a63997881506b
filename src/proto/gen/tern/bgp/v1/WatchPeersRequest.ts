// Original file: proto/tern/bgp/v1/bgp.proto


export interface WatchPeersRequest {
}

export interface WatchPeersRequest__Output {
}
