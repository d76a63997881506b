// Original file: proto/tern/bgp/v1/bgp.proto


export interface GetStatsRequest {
}

export interface GetStatsRequest__Output {
}
