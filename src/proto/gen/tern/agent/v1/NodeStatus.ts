// Original file: proto/tern/agent/v1/agent.proto


export interface NodeStatus {
  'node'?: (string);
  'blocks'?: (string)[];
  'localEndpoints'?: (number);
  'routesOwned'?: (number);
  'policies'?: (number);
  'nftRules'?: (number);
  'lastSync'?: (string);
}

export interface NodeStatus__Output {
  'node': (string);
  'blocks': (string)[];
  'localEndpoints': (number);
  'routesOwned': (number);
  'policies': (number);
  'nftRules': (number);
  'lastSync': (string);
}
