// BFD Control packet codec (RFC 5880 §4.1, §4.2–§4.4) and the packet-level reception checks of
// §6.8.6. Pure: no sockets, no timers, no session state. `decode` never throws: every way a
// datagram can be wrong comes back as a value with a kebab-case reason, because a BFD receiver
// discards bad packets silently and only counts them.

/** RFC 5880 §4.1 "Sta". */
export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];
export type BfdStateName = keyof typeof BfdState;

const STATE_NAMES: readonly BfdStateName[] = ['AdminDown', 'Down', 'Init', 'Up'];
export function stateName(s: BfdStateValue): BfdStateName {
  return STATE_NAMES[s]!;
}

/** RFC 5880 §4.1 "Diag". Values 9–31 are reserved and decode as their number. */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;
export type BfdDiagValue = (typeof BfdDiag)[keyof typeof BfdDiag];

const DIAG_NAMES = [
  'none',
  'control-detection-time-expired',
  'echo-function-failed',
  'neighbor-signaled-down',
  'forwarding-plane-reset',
  'path-down',
  'concatenated-path-down',
  'administratively-down',
  'reverse-concatenated-path-down',
] as const;
export function diagName(d: number): string {
  return DIAG_NAMES[d] ?? `reserved-${d}`;
}

/** RFC 5880 §4.1 "Auth Type". */
export const BfdAuthType = {
  SimplePassword: 1,
  KeyedMd5: 2,
  MeticulousKeyedMd5: 3,
  KeyedSha1: 4,
  MeticulousKeyedSha1: 5,
} as const;

/**
 * The optional authentication section. It is carried and checked for shape only: the digest is
 * not computed or verified here (a session that does not use authentication discards any packet
 * with the A bit set, RFC 5880 §6.8.6).
 */
export type BfdAuth =
  /** RFC 5880 §4.2: Auth Len = 3 + password length (1–16 octets). */
  | { type: 'simple-password'; keyId: number; password: Buffer }
  /** RFC 5880 §4.3: Auth Len 24, 16-octet digest. */
  | { type: 'keyed-md5' | 'meticulous-keyed-md5'; keyId: number; sequence: number; digest: Buffer }
  /** RFC 5880 §4.4: Auth Len 28, 20-octet hash. */
  | { type: 'keyed-sha1' | 'meticulous-keyed-sha1'; keyId: number; sequence: number; digest: Buffer };

export interface ControlPacket {
  diag: number;
  state: BfdStateValue;
  poll: boolean;
  final: boolean;
  /** C: the implementation does not share fate with the control plane. */
  controlPlaneIndependent: boolean;
  demand: boolean;
  /** M: reserved for multipoint, always discarded on receipt when set. */
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Intervals are carried in microseconds on the wire (RFC 5880 §4.1); kept in µs here too. */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  requiredMinEchoRxUs: number;
  /** Present exactly when the A bit is set. */
  auth?: BfdAuth;
}

/** Why a received datagram is discarded before it reaches a session (RFC 5880 §6.8.6). */
export type BfdDecodeReason =
  | 'truncated'
  | 'bad-version'
  | 'bad-length'
  | 'zero-detect-mult'
  | 'multipoint'
  | 'zero-my-discriminator'
  | 'zero-your-discriminator'
  | 'bad-auth';

export interface BfdDecodeError {
  reason: BfdDecodeReason;
  message: string;
}

export type DecodeResult = { ok: true; value: ControlPacket; bytes: number } | { ok: false; error: BfdDecodeError };

export const BFD_VERSION = 1;
/** Mandatory section length (RFC 5880 §4.1). */
export const HEADER_LENGTH = 24;

const AUTH_TYPE_CODE: Record<BfdAuth['type'], number> = {
  'simple-password': BfdAuthType.SimplePassword,
  'keyed-md5': BfdAuthType.KeyedMd5,
  'meticulous-keyed-md5': BfdAuthType.MeticulousKeyedMd5,
  'keyed-sha1': BfdAuthType.KeyedSha1,
  'meticulous-keyed-sha1': BfdAuthType.MeticulousKeyedSha1,
};

// Auth Len per type for the digest types: type, key id, reserved, sequence (4), digest.
const DIGEST_LENGTH = { md5: 16, sha1: 20 } as const;

function authLength(a: BfdAuth): number {
  switch (a.type) {
    case 'simple-password':
      return 3 + a.password.length;
    case 'keyed-md5':
    case 'meticulous-keyed-md5':
      return 8 + DIGEST_LENGTH.md5;
    case 'keyed-sha1':
    case 'meticulous-keyed-sha1':
      return 8 + DIGEST_LENGTH.sha1;
  }
}

export function encodingLength(p: ControlPacket): number {
  return HEADER_LENGTH + (p.auth ? authLength(p.auth) : 0);
}

/**
 * Writes `p` at `offset` and returns the number of bytes written. Throws only on a caller bug
 * (buffer too small, field out of range), never on anything received from the network.
 */
export function encode(p: ControlPacket, buf: Buffer, offset = 0): number {
  const len = encodingLength(p);
  if (len > 255) throw new RangeError(`BFD packet length ${len} exceeds 255`);
  if (buf.length - offset < len) throw new RangeError(`buffer too small: need ${len} bytes at offset ${offset}`);
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > 31) throw new RangeError(`diag ${p.diag} out of range 0-31`);
  if (!Number.isInteger(p.detectMult) || p.detectMult < 0 || p.detectMult > 255) {
    throw new RangeError(`detect mult ${p.detectMult} out of range 0-255`);
  }
  buf[offset] = (BFD_VERSION << 5) | p.diag;
  buf[offset + 1] =
    (p.state << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.controlPlaneIndependent ? 0x08 : 0) |
    (p.auth ? 0x04 : 0) |
    (p.demand ? 0x02 : 0) |
    (p.multipoint ? 0x01 : 0);
  buf[offset + 2] = p.detectMult;
  buf[offset + 3] = len;
  buf.writeUInt32BE(p.myDiscriminator >>> 0, offset + 4);
  buf.writeUInt32BE(p.yourDiscriminator >>> 0, offset + 8);
  buf.writeUInt32BE(p.desiredMinTxUs, offset + 12);
  buf.writeUInt32BE(p.requiredMinRxUs, offset + 16);
  buf.writeUInt32BE(p.requiredMinEchoRxUs, offset + 20);
  if (p.auth) encodeAuth(p.auth, buf, offset + HEADER_LENGTH);
  return len;
}

function encodeAuth(a: BfdAuth, buf: Buffer, at: number): void {
  const alen = authLength(a);
  buf[at] = AUTH_TYPE_CODE[a.type];
  buf[at + 1] = alen;
  buf[at + 2] = a.keyId;
  if (a.type === 'simple-password') {
    if (a.password.length < 1 || a.password.length > 16) throw new RangeError('password must be 1-16 octets');
    a.password.copy(buf, at + 3);
    return;
  }
  const want = a.type === 'keyed-sha1' || a.type === 'meticulous-keyed-sha1' ? DIGEST_LENGTH.sha1 : DIGEST_LENGTH.md5;
  if (a.digest.length !== want) throw new RangeError(`${a.type} digest must be ${want} octets`);
  buf[at + 3] = 0;
  buf.writeUInt32BE(a.sequence >>> 0, at + 4);
  a.digest.copy(buf, at + 8);
}

function fail(reason: BfdDecodeReason, message: string): DecodeResult {
  return { ok: false, error: { reason, message } };
}

/**
 * Decodes one Control packet from `buf` at `offset`, applying the checks of RFC 5880 §6.8.6 that
 * need no session: version, length, detect mult, multipoint, My Discriminator, and the
 * Your Discriminator zero rule. Selecting the session by Your Discriminator is the caller's job.
 * Octets after Length are ignored (the encapsulation may pad).
 */
export function decode(buf: Buffer, offset = 0): DecodeResult {
  const avail = buf.length - offset;
  if (offset < 0 || avail < 4) return fail('truncated', `${Math.max(avail, 0)} octets, need at least ${HEADER_LENGTH}`);
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  const version = b0 >> 5;
  if (version !== BFD_VERSION) return fail('bad-version', `version ${version}, expected ${BFD_VERSION}`);
  const authBit = (b1 & 0x04) !== 0;
  const length = buf[offset + 3]!;
  const minLength = authBit ? HEADER_LENGTH + 2 : HEADER_LENGTH;
  if (length < minLength) return fail('bad-length', `Length ${length} below minimum ${minLength}`);
  // "If the Length field is greater than the payload of the encapsulating protocol" (§6.8.6).
  if (length > avail) return fail('truncated', `Length ${length} exceeds the ${avail} octets received`);
  const detectMult = buf[offset + 2]!;
  if (detectMult === 0) return fail('zero-detect-mult', 'Detect Mult is zero');
  const multipoint = (b1 & 0x01) !== 0;
  if (multipoint) return fail('multipoint', 'Multipoint (M) bit is set');
  const myDiscriminator = buf.readUInt32BE(offset + 4);
  if (myDiscriminator === 0) return fail('zero-my-discriminator', 'My Discriminator is zero');
  const yourDiscriminator = buf.readUInt32BE(offset + 8);
  const state = (b1 >> 6) as BfdStateValue;
  if (yourDiscriminator === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) {
    return fail('zero-your-discriminator', `Your Discriminator is zero in state ${stateName(state)}`);
  }
  const value: ControlPacket = {
    diag: b0 & 0x1f,
    state,
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    controlPlaneIndependent: (b1 & 0x08) !== 0,
    demand: (b1 & 0x02) !== 0,
    multipoint,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxUs: buf.readUInt32BE(offset + 12),
    requiredMinRxUs: buf.readUInt32BE(offset + 16),
    requiredMinEchoRxUs: buf.readUInt32BE(offset + 20),
  };
  if (authBit) {
    const a = decodeAuth(buf, offset + HEADER_LENGTH, length - HEADER_LENGTH);
    if (!a.ok) return a;
    value.auth = a.value;
  } else if (length !== HEADER_LENGTH) {
    return fail('bad-length', `Length ${length} without an authentication section`);
  }
  return { ok: true, value, bytes: length };
}

function decodeAuth(
  buf: Buffer,
  at: number,
  room: number,
): { ok: true; value: BfdAuth } | { ok: false; error: BfdDecodeError } {
  const type = buf[at]!;
  const alen = buf[at + 1]!;
  // The section must fill exactly what Length leaves after the mandatory part.
  if (alen !== room) return { ok: false, error: { reason: 'bad-auth', message: `Auth Len ${alen}, Length leaves ${room}` } };
  const keyId = buf[at + 2] ?? 0;
  switch (type) {
    case BfdAuthType.SimplePassword:
      if (alen < 4 || alen > 19) return { ok: false, error: { reason: 'bad-auth', message: `simple password Auth Len ${alen} not in 4-19` } };
      return { ok: true, value: { type: 'simple-password', keyId, password: Buffer.from(buf.subarray(at + 3, at + alen)) } };
    case BfdAuthType.KeyedMd5:
    case BfdAuthType.MeticulousKeyedMd5:
    case BfdAuthType.KeyedSha1:
    case BfdAuthType.MeticulousKeyedSha1: {
      const sha = type === BfdAuthType.KeyedSha1 || type === BfdAuthType.MeticulousKeyedSha1;
      const want = 8 + (sha ? DIGEST_LENGTH.sha1 : DIGEST_LENGTH.md5);
      if (alen !== want) return { ok: false, error: { reason: 'bad-auth', message: `auth type ${type} needs Auth Len ${want}, got ${alen}` } };
      const meticulous = type === BfdAuthType.MeticulousKeyedMd5 || type === BfdAuthType.MeticulousKeyedSha1;
      const name = sha
        ? meticulous ? 'meticulous-keyed-sha1' : 'keyed-sha1'
        : meticulous ? 'meticulous-keyed-md5' : 'keyed-md5';
      return {
        ok: true,
        value: {
          type: name,
          keyId,
          sequence: buf.readUInt32BE(at + 4),
          digest: Buffer.from(buf.subarray(at + 8, at + alen)),
        } as BfdAuth,
      };
    }
    default:
      return { ok: false, error: { reason: 'bad-auth', message: `unknown auth type ${type}` } };
  }
}
