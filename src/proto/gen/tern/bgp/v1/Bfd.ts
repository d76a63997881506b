// Original file: proto/tern/bgp/v1/bgp.proto


export interface Bfd {
  'enabled'?: (boolean);
  'minTxMs'?: (number);
  'minRxMs'?: (number);
  'multiplier'?: (number);
}

export interface Bfd__Output {
  'enabled': (boolean);
  'minTxMs': (number);
  'minRxMs': (number);
  'multiplier': (number);
}
