// tern-cni's own gRPC client against the server tern-agentd runs: @grpc/grpc-js serving the
// Agent service from agent.proto on a unix socket. Every way a call can end is driven from
// the server side (result, CNI error, gRPC status, silence, no server at all).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CniRequest__Output } from '../../src/proto/gen/tern/agent/v1/CniRequest.js';
import type { CniResponse } from '../../src/proto/gen/tern/agent/v1/CniResponse.js';
import { callAgent, CniCode, CniFailure, runPlugin } from '../../src/cni/plugin.js';
import { connectUnix, unaryCall } from '../../src/cni/transport.js';
import { frameRequest, GrpcStatus } from '../../src/cni/wire.js';
import { agentProto } from '../../src/proto/load.js';

let dir: string;
let socket: string;
let server: grpc.Server;
const seen: { method: string; req: CniRequest__Output; deadline: number }[] = [];
/** What the server does with the next call (per test). */
let behaviour: (req: CniRequest__Output) => { res?: CniResponse; err?: Partial<grpc.ServiceError> } | 'hang' = () => ({ res: { result: Buffer.from('{}') } });
const hung: (() => void)[] = [];

function method(name: string): grpc.handleUnaryCall<CniRequest__Output, CniResponse> {
  return (call, cb) => {
    const d = call.getDeadline();
    seen.push({ method: name, req: call.request, deadline: d instanceof Date ? d.getTime() : Number(d) });
    const b = behaviour(call.request);
    if (b === 'hang') {
      hung.push(() => cb({ code: grpc.status.CANCELLED } as grpc.ServiceError));
      return;
    }
    if (b.err) cb(b.err as grpc.ServiceError);
    else cb(null, b.res!);
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tern-cni-transport-'));
  socket = join(dir, 'agentd.sock');
  server = new grpc.Server();
  server.addService(agentProto().tern.agent.v1.Agent.service, {
    CniAdd: method('CniAdd'),
    CniDel: method('CniDel'),
    CniCheck: method('CniCheck'),
    CniGc: method('CniGc'),
    CniStatus: method('CniStatus'),
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
});

afterAll(() => {
  for (const h of hung) h();
  server?.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/var/run/netns/p1', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod-ü', CNI_PATH: '/opt/cni/bin' };
const conf = () => JSON.stringify({ cniVersion: '1.0.0', name: 'tern', type: 'tern-cni', agentSocket: socket, note: 'ü'.repeat(5000) });

async function failure(p: Promise<unknown>): Promise<CniFailure> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CniFailure);
    return e as CniFailure;
  }
  throw new Error('expected the call to fail');
}

describe('tern-cni → grpc-js Agent server', () => {
  it('delivers every request field to the agent and prints its result', async () => {
    seen.length = 0;
    const result = JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/32' }] });
    behaviour = () => ({ res: { result: Buffer.from(result) } });
    const before = Date.now();
    const out = await runPlugin(env, conf());
    expect(out).toEqual({ stdout: `${result}\n`, exitCode: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('CniAdd');
    expect(seen[0]!.req).toEqual({ containerId: 'c0ffee', netns: '/var/run/netns/p1', ifname: 'eth0', args: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod-ü', path: '/opt/cni/bin', networkConfig: Buffer.from(conf()) });
    // The deadline travels as grpc-timeout: the server knows when the plugin gives up.
    expect(seen[0]!.deadline).toBeGreaterThanOrEqual(before + 59_000);
    expect(seen[0]!.deadline).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it.each([
    ['DEL', 'CniDel'],
    ['CHECK', 'CniCheck'],
    ['GC', 'CniGc'],
    ['STATUS', 'CniStatus'],
  ])('%s goes to %s and prints nothing on success', async (command, m) => {
    seen.length = 0;
    behaviour = () => ({ res: {} });
    const out = await runPlugin({ ...env, CNI_COMMAND: command }, conf());
    expect(out).toEqual({ stdout: '', exitCode: 0 });
    expect(seen.map((s) => s.method)).toEqual([m]);
  });

  it("relays the agent's CNI error with code, msg and details", async () => {
    behaviour = () => ({ res: { error: { code: 104, msg: 'CHECK: eth0 is down', details: 'eth0 is down; no route' } } });
    const out = await runPlugin(env, conf());
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', code: 104, msg: 'CHECK: eth0 is down', details: 'eth0 is down; no route' });
  });

  it('a gRPC error from the agent is an I/O failure (5) carrying its message, non-ASCII intact', async () => {
    behaviour = () => ({ err: { code: grpc.status.INTERNAL, details: 'handler crashed: ü 100%' } });
    const f = await failure(callAgent(socket, 'CniAdd', { containerId: 'x' }));
    expect(f.code).toBe(CniCode.IO_FAILURE);
    expect(f.message).toBe('tern-agentd: handler crashed: ü 100%');
  });

  it('UNAVAILABLE from the agent means try again later (11)', async () => {
    behaviour = () => ({ err: { code: grpc.status.UNAVAILABLE, details: 'etcd down' } });
    const f = await failure(callAgent(socket, 'CniAdd', { containerId: 'x' }));
    expect(f.code).toBe(CniCode.TRY_AGAIN_LATER);
    expect(f.details).toBe('etcd down');
  });

  it('an unknown method is UNIMPLEMENTED (a trailers-only response)', async () => {
    const r = await unaryCall(socket, '/tern.agent.v1.Agent/CniNope', frameRequest({}), 5000);
    expect(r.status).toBe(GrpcStatus.UNIMPLEMENTED);
    expect(r.message).toBeUndefined();
  });

  it('makes many calls over one kept connection, and reports a closed one as UNAVAILABLE', async () => {
    behaviour = () => ({ res: {} });
    const c = connectUnix(socket);
    try {
      const rs = await Promise.all([1, 2, 3].map(() => unaryCall(c, '/tern.agent.v1.Agent/CniAdd', frameRequest({ containerId: 'k' }), 5000)));
      expect(rs.map((r) => r.status)).toEqual([GrpcStatus.OK, GrpcStatus.OK, GrpcStatus.OK]);
      // Still open after them: unaryCall leaves a given connection to its owner.
      expect(c.destroyed).toBe(false);
      const again = await unaryCall(c, '/tern.agent.v1.Agent/CniNope', frameRequest({}), 5000);
      expect(again.status).toBe(GrpcStatus.UNIMPLEMENTED);
    } finally {
      c.destroy();
    }
    const closed = await unaryCall(c, '/tern.agent.v1.Agent/CniAdd', frameRequest({}), 5000);
    expect(closed.status).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('gives up at its deadline with DEADLINE_EXCEEDED', async () => {
    behaviour = () => 'hang';
    const r = await unaryCall(socket, '/tern.agent.v1.Agent/CniAdd', frameRequest({ containerId: 'slow' }), 300);
    expect(r.status).toBe(GrpcStatus.DEADLINE_EXCEEDED);
  });

  it('no socket file, or a file that is not a listening socket: 11, naming the socket', async () => {
    const absent = join(dir, 'absent.sock');
    const f1 = await failure(callAgent(absent, 'CniAdd', {}));
    expect(f1.code).toBe(CniCode.TRY_AGAIN_LATER);
    expect(f1.message).toBe(`tern-agentd is not reachable at ${absent}`);
    expect(f1.details).toMatch(/ENOENT/);
    const stale = join(dir, 'stale.sock');
    writeFileSync(stale, '');
    const f2 = await failure(callAgent(stale, 'CniAdd', {}));
    expect(f2.code).toBe(CniCode.TRY_AGAIN_LATER);
    expect(f2.details).toMatch(/ECONNREFUSED/);
  });

  it('carries a configuration and a result far beyond one HTTP/2 window (flow control)', async () => {
    seen.length = 0;
    const big = JSON.stringify({ cniVersion: '1.1.0', name: 'tern', type: 'tern-cni', agentSocket: socket, prevResult: { pad: 'x'.repeat(300_000) } });
    const result = JSON.stringify({ cniVersion: '1.1.0', pad: 'y'.repeat(500_000) });
    behaviour = () => ({ res: { result: Buffer.from(result) } });
    const out = await runPlugin(env, big);
    expect(out).toEqual({ stdout: `${result}\n`, exitCode: 0 });
    expect(seen[0]!.req.networkConfig.toString()).toBe(big);
  });

  it('an agent that goes away in the middle of a call: 11', async () => {
    const sock2 = join(dir, 'dying.sock');
    const s2 = new grpc.Server();
    let arrived!: () => void;
    const inCall = new Promise<void>((r) => (arrived = r));
    s2.addService(agentProto().tern.agent.v1.Agent.service, { CniAdd: () => arrived() });
    await new Promise<void>((resolve, reject) => s2.bindAsync(`unix:${sock2}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    const call = failure(callAgent(sock2, 'CniAdd', { containerId: 'x' }));
    await inCall;
    s2.forceShutdown();
    const f = await call;
    expect(f.code).toBe(CniCode.TRY_AGAIN_LATER);
  });

  it('100 plugin calls at once each get their own answer', async () => {
    behaviour = (req) => ({ res: { result: Buffer.from(`{"id":"${req.containerId}"}`) } });
    const outs = await Promise.all(Array.from({ length: 100 }, (_, i) => runPlugin({ ...env, CNI_CONTAINERID: `c${i}` }, conf())));
    expect(outs.map((o) => o.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `{"id":"c${i}"}\n`));
  });
});
