// The CNI 1.1.0 plugin protocol (containernetworking/cni SPEC.md): read CNI_* environment and
// the network configuration on stdin, forward the operation to tern-agentd over its unix
// socket, print the result or an error object. Nothing here touches the kernel.
// The runtime execs this once per pod, so its imports are kept to node:http2 and two small
// files (transport.ts, wire.ts): no gRPC library, no .proto parsing at run time.
import type { CniRequest } from '../proto/gen/tern/agent/v1/CniRequest.js';
import type { CniResponse__Output } from '../proto/gen/tern/agent/v1/CniResponse.js';
import { unaryCall } from './transport.js';
import { decodeResponse, frameRequest, GrpcStatus } from './wire.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const DEFAULT_AGENT_SOCKET = '/run/tern/agentd.sock';

/** CNI SPEC §"Error": well-known error codes. */
export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_NETWORK_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  PLUGIN_NOT_AVAILABLE_LIMITED: 51,
} as const;

const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
type Command = (typeof COMMANDS)[number];

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

export class CniFailure extends Error {
  constructor(readonly code: number, msg: string, readonly details = '') {
    super(msg);
  }
}

function errorOutput(cniVersion: string, e: CniFailure): PluginOutput {
  const body: Record<string, unknown> = { cniVersion, code: e.code, msg: e.message };
  if (e.details) body.details = e.details;
  return { stdout: `${JSON.stringify(body)}\n`, exitCode: 1 };
}

/** The environment variables each command requires (SPEC §"Parameters"). */
const REQUIRED_ENV: Record<Command, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  VERSION: [],
  GC: [],
  STATUS: [],
};

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  agentSocket?: string;
  [k: string]: unknown;
}

export function parseNetConf(stdin: string): NetConf {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin);
  } catch (e) {
    throw new CniFailure(CniCode.DECODE_FAILURE, 'cannot decode network configuration on stdin', (e as Error).message);
  }
  if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
    throw new CniFailure(CniCode.DECODE_FAILURE, 'network configuration must be a JSON object');
  }
  const c = conf as Record<string, unknown>;
  for (const f of ['cniVersion', 'name', 'type'] as const) {
    if (typeof c[f] !== 'string' || c[f] === '') throw new CniFailure(CniCode.INVALID_NETWORK_CONFIG, `network configuration: "${f}" must be a non-empty string`);
  }
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(c.cniVersion as string)) {
    throw new CniFailure(CniCode.INCOMPATIBLE_VERSION, `incompatible CNI version ${String(c.cniVersion)}`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (c.agentSocket !== undefined && typeof c.agentSocket !== 'string') {
    throw new CniFailure(CniCode.INVALID_NETWORK_CONFIG, 'network configuration: "agentSocket" must be a string');
  }
  return c as NetConf;
}

/**
 * Sends one request to the agent; connection failures become CNI code 11 (try again later).
 * `trace` hears when the socket connected and when the response headers came (TERN_CNI_TRACE).
 */
export type AgentCall = (
  socket: string,
  method: 'CniAdd' | 'CniDel' | 'CniCheck' | 'CniGc' | 'CniStatus',
  req: CniRequest,
  trace?: (event: 'connected' | 'headers') => void,
) => Promise<CniResponse__Output>;

/** The agent's gRPC service (package tern.agent.v1 in proto/tern/agent/v1/agent.proto). */
export const AGENT_SERVICE = '/tern.agent.v1.Agent/';
export const CALL_TIMEOUT_MS = 60_000;

export const callAgent: AgentCall = async (socket, method, req, trace) => {
  const r = await unaryCall(socket, AGENT_SERVICE + method, frameRequest(req), CALL_TIMEOUT_MS, trace);
  if (r.status === GrpcStatus.UNAVAILABLE || r.status === GrpcStatus.DEADLINE_EXCEEDED) {
    throw new CniFailure(CniCode.TRY_AGAIN_LATER, `tern-agentd is not reachable at ${socket}`, r.details);
  }
  if (r.status !== GrpcStatus.OK) throw new CniFailure(CniCode.IO_FAILURE, `tern-agentd: ${r.details}`, `gRPC status ${r.status}`);
  const d = decodeResponse(r.message ?? Buffer.alloc(0));
  if (!d.ok) throw new CniFailure(CniCode.IO_FAILURE, 'tern-agentd sent a response that does not decode', d.error);
  return d.value;
};

export async function runPlugin(env: NodeJS.ProcessEnv, stdin: string, call: AgentCall = callAgent): Promise<PluginOutput> {
  const command = env.CNI_COMMAND as Command | undefined;
  if (command === 'VERSION') {
    return { stdout: `${JSON.stringify({ cniVersion: '1.1.0', supportedVersions: SUPPORTED_VERSIONS })}\n`, exitCode: 0 };
  }
  let version = '1.1.0';
  try {
    if (!command || !(COMMANDS as readonly string[]).includes(command)) {
      throw new CniFailure(CniCode.INVALID_ENV, `CNI_COMMAND must be one of ${COMMANDS.join(', ')}`, `got ${JSON.stringify(command ?? '')}`);
    }
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    const missing = REQUIRED_ENV[command].filter((v) => !env[v]);
    if (missing.length) throw new CniFailure(CniCode.INVALID_ENV, `missing environment variables: ${missing.join(', ')}`);
    const method = ({ ADD: 'CniAdd', DEL: 'CniDel', CHECK: 'CniCheck', GC: 'CniGc', STATUS: 'CniStatus' } as const)[command];
    const res = await call(conf.agentSocket ?? DEFAULT_AGENT_SOCKET, method, {
      containerId: env.CNI_CONTAINERID ?? '',
      netns: env.CNI_NETNS ?? '',
      ifname: env.CNI_IFNAME ?? '',
      args: env.CNI_ARGS ?? '',
      path: env.CNI_PATH ?? '',
      networkConfig: Buffer.from(stdin),
    });
    if (res.error && res.error.code) throw new CniFailure(res.error.code, res.error.msg, res.error.details);
    // DEL, GC and STATUS print nothing on success (SPEC §"Success").
    const out = res.result.length ? res.result.toString('utf8') : '';
    return { stdout: out && !out.endsWith('\n') ? `${out}\n` : out, exitCode: 0 };
  } catch (e) {
    const f = e instanceof CniFailure ? e : new CniFailure(CniCode.IO_FAILURE, (e as Error).message);
    return errorOutput(version, f);
  }
}
