// Original file: proto/tern/agent/v1/agent.proto


export interface BlockStatus {
  'cidr'?: (string);
  'allocated'?: (number);
}

export interface BlockStatus__Output {
  'cidr': (string);
  'allocated': (number);
}
