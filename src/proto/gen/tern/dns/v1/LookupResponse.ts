// Original file: proto/tern/dns/v1/dns.proto


export interface LookupResponse {
  'rcode'?: (string);
  'answers'?: (string)[];
  'authority'?: (string)[];
  'additional'?: (string)[];
  'explanation'?: (string);
}

export interface LookupResponse__Output {
  'rcode': (string);
  'answers': (string)[];
  'authority': (string)[];
  'additional': (string)[];
  'explanation': (string);
}
