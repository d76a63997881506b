// Original file: proto/tern/common/v1/common.proto


export interface GetStatusRequest {
}

export interface GetStatusRequest__Output {
}
