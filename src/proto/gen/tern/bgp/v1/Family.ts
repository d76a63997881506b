// Original file: proto/tern/bgp/v1/bgp.proto

export const Family = {
  FAMILY_UNSPECIFIED: 'FAMILY_UNSPECIFIED',
  IPV4_UNICAST: 'IPV4_UNICAST',
  IPV6_UNICAST: 'IPV6_UNICAST',
} as const;

export type Family =
  | 'FAMILY_UNSPECIFIED'
  | 0
  | 'IPV4_UNICAST'
  | 1
  | 'IPV6_UNICAST'
  | 2

export type Family__Output = typeof Family[keyof typeof Family]
