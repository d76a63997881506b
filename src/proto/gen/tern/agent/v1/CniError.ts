// Original file: proto/tern/agent/v1/agent.proto


export interface CniError {
  'code'?: (number);
  'msg'?: (string);
  'details'?: (string);
}

export interface CniError__Output {
  'code': (number);
  'msg': (string);
  'details': (string);
}
