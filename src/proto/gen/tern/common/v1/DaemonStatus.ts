// Original file: proto/tern/common/v1/common.proto


export interface DaemonStatus {
  'daemon'?: (string);
  'version'?: (string);
  'node'?: (string);
  'uptimeSeconds'?: (number | string);
  'ready'?: (boolean);
  'details'?: ({[key: string]: string});
}

export interface DaemonStatus__Output {
  'daemon': (string);
  'version': (string);
  'node': (string);
  'uptimeSeconds': (number);
  'ready': (boolean);
  'details': ({[key: string]: string});
}
