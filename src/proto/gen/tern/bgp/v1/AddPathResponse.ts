// Original file: proto/tern/bgp/v1/bgp.proto


export interface AddPathResponse {
}

export interface AddPathResponse__Output {
}
