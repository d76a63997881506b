// Original file: proto/tern/bgp/v1/bgp.proto


export interface ReloadRequest {
}

export interface ReloadRequest__Output {
}
