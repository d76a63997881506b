// Decoders never throw: they return Result values. A BgpError says what NOTIFICATION the session
// would send (code, subcode, data) and which RFC 7606 §2 approach applies; only the session acts on it.

/**
 * RFC 7606 §2 error-handling approaches, strongest first. Errors outside UPDATE messages are
 * always 'session-reset'.
 */
export type ErrorAction = 'session-reset' | 'afisafi-disable' | 'treat-as-withdraw' | 'attribute-discard';

const RANK: Record<ErrorAction, number> = {
  'session-reset': 4,
  'afisafi-disable': 3,
  'treat-as-withdraw': 2,
  'attribute-discard': 1,
};

export interface BgpError {
  code: number;
  subcode: number;
  /** NOTIFICATION Data field (RFC 4271 §6), a view into the received bytes or a small copy. */
  data: Uint8Array;
  action: ErrorAction;
  message: string;
  /** The attribute type the error concerns, when it concerns one. */
  attrType?: number;
  /** AFI/SAFI to disable when action is 'afisafi-disable'. */
  afi?: number;
  safi?: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: BgpError };

const EMPTY = new Uint8Array(0);

export function bgpError(
  code: number,
  subcode: number,
  action: ErrorAction,
  message: string,
  data: Uint8Array = EMPTY,
  extra?: { attrType?: number; afi?: number; safi?: number },
): BgpError {
  const e: BgpError = { code, subcode, data, action, message };
  if (extra?.attrType !== undefined) e.attrType = extra.attrType;
  if (extra?.afi !== undefined) e.afi = extra.afi;
  if (extra?.safi !== undefined) e.safi = extra.safi;
  return e;
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: BgpError): Result<T> => ({ ok: false, error });

/** RFC 7606 §3 (h): with several errors, the strongest approach wins. */
export function strongerAction(a: ErrorAction | undefined, b: ErrorAction): ErrorAction {
  return a === undefined || RANK[b] > RANK[a] ? b : a;
}

export function actionRank(a: ErrorAction | undefined): number {
  return a === undefined ? 0 : RANK[a];
}
