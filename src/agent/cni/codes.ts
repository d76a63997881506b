// CNI error codes the agent answers with: the well-known ones of the CNI 1.1.0 spec (§"Error")
// and Tern's own from 100 up (the spec leaves 100+ to plugins). README.md lists them.
import { CniCode } from '../../cni/plugin.js';
import { isTernError } from '../../errors/index.js';

export { CniCode };

export const TernCniCode = {
  /** No pool the request may use has a free address. */
  IPAM_EXHAUSTED: 100,
  /** The veth, its addresses, routes or sysctls could not be set up in the kernel. */
  VETH_SETUP_FAILED: 101,
  /** IPAM refused the request: no pool selects the node, a named pool is unknown or disabled, the handle belongs to another node. */
  IPAM_REFUSED: 102,
  /** The WorkloadEndpoint could not be written (it failed validation). */
  ENDPOINT_REJECTED: 103,
  /** CHECK: the container's network differs from what ADD set up. */
  CHECK_MISMATCH: 104,
  /** A bug: an unexpected exception inside the agent. */
  INTERNAL: 199,
} as const;

/** An error as the CNI spec shapes it; the handler turns it into the response's `error`. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }
}

export interface CniErrorValue {
  code: number;
  msg: string;
  details?: string;
}

/** Maps an error from IPAM, the store or etcd to the CNI code a runtime acts on. */
export function toCniError(e: unknown, what: string): CniError {
  if (e instanceof CniError) return e;
  if (isTernError(e)) {
    const msg = `${what}: ${e.message}`;
    switch (e.code) {
      case 'TERN_ERR_IPAM_EXHAUSTED':
        return new CniError(TernCniCode.IPAM_EXHAUSTED, msg, e.code);
      case 'TERN_ERR_IPAM':
        return new CniError(TernCniCode.IPAM_REFUSED, msg, e.code);
      // The runtime retries code 11; a lost race or an etcd outage is worth a retry.
      case 'TERN_ERR_DATASTORE':
      case 'TERN_ERR_CONFLICT':
        return new CniError(CniCode.TRY_AGAIN_LATER, msg, e.code);
      case 'TERN_ERR_VALIDATION':
        return new CniError(TernCniCode.ENDPOINT_REJECTED, msg, e.code);
      default:
        return new CniError(TernCniCode.INTERNAL, msg, e.code);
    }
  }
  return new CniError(TernCniCode.INTERNAL, `${what}: ${(e as Error)?.message ?? String(e)}`, (e as Error)?.stack ?? '');
}
