// Original file: proto/tern/bgp/v1/bgp.proto


export interface GracefulRestart {
  'enabled'?: (boolean);
  'restartTimeSeconds'?: (number);
  'staleTimeSeconds'?: (number);
  'notification'?: (boolean);
  'longLivedStaleSeconds'?: (number);
}

export interface GracefulRestart__Output {
  'enabled': (boolean);
  'restartTimeSeconds': (number);
  'staleTimeSeconds': (number);
  'notification': (boolean);
  'longLivedStaleSeconds': (number);
}
