// Original file: proto/tern/bgp/v1/bgp.proto


export interface DeletePathResponse {
}

export interface DeletePathResponse__Output {
}
