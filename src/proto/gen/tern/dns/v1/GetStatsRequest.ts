// Original file: proto/tern/dns/v1/dns.proto


export interface GetStatsRequest {
}

export interface GetStatsRequest__Output {
}
