// Original file: proto/tern/bgp/v1/bgp.proto


export interface DeletePeerResponse {
}

export interface DeletePeerResponse__Output {
}
