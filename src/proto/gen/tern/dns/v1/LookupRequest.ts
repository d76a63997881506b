// Original file: proto/tern/dns/v1/dns.proto


export interface LookupRequest {
  'name'?: (string);
  'type'?: (string);
}

export interface LookupRequest__Output {
  'name': (string);
  'type': (string);
}
