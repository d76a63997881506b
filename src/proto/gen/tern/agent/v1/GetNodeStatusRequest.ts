// Original file: proto/tern/agent/v1/agent.proto


export interface GetNodeStatusRequest {
}

export interface GetNodeStatusRequest__Output {
}
