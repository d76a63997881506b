// Every error a user can see carries a stable code (TERN_ERR_*), listed here once, so a user
// can grep for it and a test can check that each one is documented.
export const ErrorCodes = {
  TERN_ERR_CONFIG: 'configuration file, flag or environment variable is invalid',
  TERN_ERR_VALIDATION: 'a resource failed validation',
  TERN_ERR_NOT_FOUND: 'a resource does not exist',
  TERN_ERR_CONFLICT: 'a write lost a race or violates a uniqueness rule',
  TERN_ERR_POOL_OVERLAP: 'an IP pool overlaps an existing pool',
  TERN_ERR_IPAM_EXHAUSTED: 'no free address is left in the pools a request may use',
  TERN_ERR_IPAM: 'an IPAM request is invalid or could not be carried out',
  TERN_ERR_DATASTORE: 'etcd could not be reached or answered with an error',
  TERN_ERR_EXEC: 'an external command (ip, nft, conntrack, ...) failed',
  TERN_ERR_USAGE: 'a command was called with bad arguments',
  TERN_ERR_LAB: 'the network-namespace lab could not be built or torn down',
  TERN_ERR_BFD: 'a BFD peer is misconfigured or its sockets could not be opened',
  TERN_ERR_BGP_SESSION: 'a BGP peer is misconfigured, or its listener could not be opened',
  TERN_ERR_ROUTE: 'a kernel route is invalid, conflicts with a route Tern does not own, or could not be programmed',
  TERN_ERR_POLICY: 'a network policy could not be calculated or programmed into nftables',
  TERN_ERR_PROXY: 'the service proxy could not program its nftables table',
  TERN_ERR_NATIVE_ADDON: 'the native socket-option addon (TCP MD5, GTSM) is not built or does not load: npm run build:native',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class TernError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is, e.g. `spec.blockSize` or `file.yaml: document 2: spec.cidr`. */
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { field?: string; cause?: unknown } = {}) {
    super(opts.field ? `${opts.field}: ${message}` : message, { cause: opts.cause });
    this.name = 'TernError';
    this.code = code;
    this.field = opts.field;
  }
}

export function isTernError(e: unknown, code?: ErrorCode): e is TernError {
  return e instanceof TernError && (code === undefined || e.code === code);
}
