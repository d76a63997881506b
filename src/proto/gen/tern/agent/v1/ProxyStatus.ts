// Original file: proto/tern/agent/v1/agent.proto


export interface ProxyStatus {
  'table'?: (string);
  'ready'?: (boolean);
  'services'?: (number);
  'servicePorts'?: (number);
  'endpoints'?: (number);
  'healthCheckPorts'?: (number)[];
  'driftRepairs'?: (number);
  'lastApply'?: (string);
}

export interface ProxyStatus__Output {
  'table': (string);
  'ready': (boolean);
  'services': (number);
  'servicePorts': (number);
  'endpoints': (number);
  'healthCheckPorts': (number)[];
  'driftRepairs': (number);
  'lastApply': (string);
}
