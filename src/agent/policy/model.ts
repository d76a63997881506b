// The desired-state model of the node's NetworkPolicy dataplane: what calc.ts produces and
// render.ts turns into nftables. Plain data, sorted, so two equal models are deep-equal and
// render to the same bytes whatever order the inputs arrived in.

export const Protocols = ['TCP', 'UDP', 'SCTP'] as const;
export type Protocol = (typeof Protocols)[number];

export type Direction = 'ingress' | 'egress';

/** Where a rule's remote address must lie. `any`: every address of both families. */
export type PeerMatch =
  | { kind: 'any' }
  /** Named sets; a family without a set matches nothing in that family (an IPv4 ipBlock). */
  | { kind: 'sets'; v4?: string; v6?: string };

export type PortMatch =
  | { kind: 'any' }
  /** Every port of one protocol (a NetworkPolicyPort without `port`). */
  | { kind: 'proto'; proto: Protocol }
  /** Inclusive ranges, merged and sorted; [p, p] for a single port. */
  | { kind: 'ports'; proto: Protocol; ranges: Array<[number, number]> }
  /** Egress to a named port: the destination's (address . port) must be in these sets. */
  | { kind: 'named'; proto: Protocol; v4: string; v6: string };

export interface DesiredRule {
  peer: PeerMatch;
  port: PortMatch;
  /** "namespace/name" of every policy that contributes this rule, sorted. */
  policies: string[];
}

export type SetKind =
  /** Single addresses (pods selected by a selector, the node's own addresses). */
  | 'addr'
  /** Prefixes (ipBlock minus except): `flags interval`. */
  | 'interval'
  /** address . port pairs for named ports. */
  | 'addr-port';

export interface DesiredSet {
  name: string;
  family: 4 | 6;
  kind: SetKind;
  /** Canonical text, sorted: "10.0.0.1", "10.0.0.0/24", "10.0.0.1 . 80". */
  elements: string[];
  /** What the set stands for, for people reading `nft list`. */
  comment: string;
}

export interface DesiredEndpoint {
  /** Host-side interface (WorkloadEndpoint spec.interfaceName): the verdict-map key. */
  iface: string;
  /** "namespace/name" of the WorkloadEndpoint. */
  endpoint: string;
  /** null: not isolated in that direction (no chain, no map element). [] : deny all. */
  ingress: DesiredRule[] | null;
  egress: DesiredRule[] | null;
}

export const PolicyErrorCodes = {
  'invalid-policy': 'a policy field cannot be turned into a rule; the policy isolates its pods but allows nothing',
  'invalid-selector': "a policy's podSelector cannot be evaluated; the policy is ignored",
  'no-interface': 'an endpoint selected by a policy has no usable interfaceName, so it cannot be programmed',
  'duplicate-interface': 'two local endpoints claim the same interfaceName; the later one is ignored',
  'bad-address': 'an endpoint address or node address is not a single IP',
} as const;
export type PolicyErrorCode = keyof typeof PolicyErrorCodes;

export interface PolicyError {
  code: PolicyErrorCode;
  /** "namespace/name" of the policy, when one is at fault. */
  policy?: string;
  /** "namespace/name" of the endpoint, when one is at fault. */
  endpoint?: string;
  message: string;
}

export interface DesiredState {
  sets: DesiredSet[];
  endpoints: DesiredEndpoint[];
  errors: PolicyError[];
}
