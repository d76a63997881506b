// Original file: proto/tern/agent/v1/agent.proto


export interface CniRequest {
  'containerId'?: (string);
  'netns'?: (string);
  'ifname'?: (string);
  'args'?: (string);
  'path'?: (string);
  'networkConfig'?: (Buffer | Uint8Array | string);
}

export interface CniRequest__Output {
  'containerId': (string);
  'netns': (string);
  'ifname': (string);
  'args': (string);
  'path': (string);
  'networkConfig': (Buffer);
}
