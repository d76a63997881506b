// Finding and loading native/sockopt (the TCP MD5 / GTSM socket addon). The addon is built
// apart from `tsc` (node-gyp, `npm run build:native`), so this module is the one place that
// knows where the binary lives, from src/ (vitest) and from dist/ (the daemons) alike.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TernError } from '../../errors/index.js';

/** One peer's RFC 2385 key: bytes as given, or the UTF-8 bytes of a string; 1..80 bytes. */
export interface Md5Key {
  address: string;
  key: string | Buffer;
}

export interface SocketOptions {
  /** Peers whose segments are signed and must be signed (TCP_MD5SIG, RFC 2385). */
  md5?: readonly Md5Key[];
  /** IP_TTL (and IPV6_UNICAST_HOPS on an IPv6 socket): 255 for GTSM (RFC 5082 §3). */
  ttl?: number;
  /** IP_MINTTL (and IPV6_MINHOPCOUNT): drop segments arriving with a lower TTL / hop limit. */
  minTtl?: number;
  /** Create the socket in this network namespace (a path such as /var/run/netns/NAME). */
  netns?: string;
}

export interface ConnectSocketOptions extends SocketOptions {
  localAddress?: string;
  localPort?: number;
}

export interface ListenSocketOptions extends SocketOptions {
  /** Default: the wildcard of the family. */
  address?: string;
  port: number;
  backlog?: number;
  v6only?: boolean;
}

/** What the kernel reports for a socket (getsockopt). */
export interface SocketInfo {
  family: 4 | 6;
  stream: boolean;
  reuseAddr: boolean;
  listening: boolean;
  ttl: number;
  minTtl: number;
  hopLimit?: number;
  minHopCount?: number;
}

/** An error from the addon: `code` is the errno name (EINVAL, ENOPROTOOPT, ECONNREFUSED...). */
export interface SockoptError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
}

/** The functions native/sockopt/src/sockopt.cc exports. Every fd is non-blocking and close-on-exec. */
export interface SockoptAddon {
  /** A TCP socket (SO_REUSEADDR, keys, TTLs, optionally bound) ready for connectNonBlocking. */
  md5Socket(family: 4 | 6, options?: ConnectSocketOptions): number;
  /** A bound, listening TCP socket for `server.listen({ fd })`. */
  listenSocket(family: 4 | 6, options: ListenSocketOptions): number;
  /** Adds or replaces a peer's key; null removes it (absent keys are not an error). */
  setMd5Key(fd: number, peerAddress: string, key: string | Buffer | null): void;
  /** 1..255, or -1 for the system default. */
  setTtl(fd: number, ttl: number): void;
  /** 0 (off) .. 255; minHopCount is the IPv6 value of a dual-stack socket (default minTtl). */
  setMinTtl(fd: number, minTtl: number, minHopCount?: number): void;
  /** true when connected at once, false when the handshake is in progress (EINPROGRESS). */
  connectNonBlocking(fd: number, address: string, port: number): boolean;
  /** Calls back once with null (connected) or the connect error; on Node's loop, no worker thread. */
  waitConnect(fd: number, callback: (err: SockoptError | null) => void): void;
  /** Stops a waitConnect without calling it back; false when none was running. */
  cancelWait(fd: number): boolean;
  socketInfo(fd: number): SocketInfo;
  readonly maxKeyLength: number;
}

const ADDON_REL = join('native', 'sockopt', 'build', 'Release', 'sockopt.node');

/**
 * Where the built addon is, or null: TERN_SOCKOPT_ADDON when set, else the first
 * native/sockopt/build/Release/sockopt.node above this module (src/bgp/sockopt or
 * dist/src/bgp/sockopt).
 */
export function addonPath(): string | null {
  const env = process.env.TERN_SOCKOPT_ADDON;
  if (env) return existsSync(env) ? resolve(env) : null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, ADDON_REL);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

let loaded: SockoptAddon | undefined;

/** The addon, loaded once; TERN_ERR_NATIVE_ADDON when it is not built or does not load. */
export function loadSockopt(): SockoptAddon {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    throw new TernError('TERN_ERR_NATIVE_ADDON', `TCP MD5 and GTSM need Linux socket options; not available on ${process.platform}`);
  }
  const p = addonPath();
  if (!p) throw new TernError('TERN_ERR_NATIVE_ADDON', 'TCP MD5 needs the native addon: run npm run build:native');
  try {
    loaded = createRequire(import.meta.url)(p) as SockoptAddon;
  } catch (e) {
    throw new TernError('TERN_ERR_NATIVE_ADDON', `TCP MD5 needs the native addon: ${p} does not load (${(e as Error).message}); run npm run build:native`, { cause: e });
  }
  return loaded;
}
