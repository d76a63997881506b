// The plugin binary's protocol, run as a runtime runs it: exec with CNI_* env and stdin.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CniCode, runPlugin } from '../../src/cni/plugin.js';

const BIN = join(process.cwd(), 'dist/daemons/tern-cni.js');
const conf = (extra: object = {}) => JSON.stringify({ cniVersion: '1.1.0', name: 'tern', type: 'tern-cni', ...extra });

function exec(env: Record<string, string>, stdin: string) {
  const r = spawnSync(process.execPath, [BIN], { env: { PATH: process.env.PATH, ...env }, input: stdin, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, json: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
}

describe('tern-cni plugin protocol', () => {
  it('VERSION reports 1.1.0 and the versions it speaks', () => {
    const r = exec({ CNI_COMMAND: 'VERSION' }, '');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ cniVersion: '1.1.0' });
    expect(r.json!.supportedVersions).toContain('0.4.0');
  });

  it('answers code 11 (try again later) when the agent is not running', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-cni-'));
    try {
      const r = exec(
        { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0' },
        conf({ agentSocket: join(dir, 'absent.sock') }),
      );
      expect(r.code).not.toBe(0);
      expect(r.json).toMatchObject({ cniVersion: '1.1.0', code: CniCode.TRY_AGAIN_LATER });
      expect(String(r.json!.msg)).toMatch(/not reachable/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['unknown command', { CNI_COMMAND: 'FOO' }, conf(), CniCode.INVALID_ENV],
    ['no command', {}, conf(), CniCode.INVALID_ENV],
    ['missing CNI_NETNS on ADD', { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, conf(), CniCode.INVALID_ENV],
    ['stdin not JSON', { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, '{not json', CniCode.DECODE_FAILURE],
    ['stdin an array', { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, '[]', CniCode.DECODE_FAILURE],
    ['name missing', { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, JSON.stringify({ cniVersion: '1.1.0', type: 't' }), CniCode.INVALID_NETWORK_CONFIG],
    ['version unsupported', { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0' }, conf({ cniVersion: '9.9.9' }), CniCode.INCOMPATIBLE_VERSION],
  ])('%s → error code %i', async (_name, env, stdin, code) => {
    const calls: string[] = [];
    const out = await runPlugin(env, stdin, async (_s, m) => {
      calls.push(m);
      return { result: Buffer.alloc(0), error: null };
    });
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ code });
    expect(calls).toEqual([]);
  });

  it('forwards the runtime request to the agent and relays its result and errors', async () => {
    const seen: unknown[] = [];
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/var/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAME=a' };
    const ok = await runPlugin(env, conf({ agentSocket: '/s' }), async (socket, method, req) => {
      seen.push({ socket, method, id: req.containerId, args: req.args });
      return { result: Buffer.from('{"cniVersion":"1.1.0","ips":[]}'), error: null };
    });
    expect(ok).toEqual({ stdout: '{"cniVersion":"1.1.0","ips":[]}\n', exitCode: 0 });
    expect(seen).toEqual([{ socket: '/s', method: 'CniAdd', id: 'abc', args: 'K8S_POD_NAME=a' }]);
    const bad = await runPlugin(env, conf(), async () => ({ result: Buffer.alloc(0), error: { code: 7, msg: 'no pool', details: '' } }));
    expect(bad.exitCode).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ cniVersion: '1.1.0', code: 7, msg: 'no pool' });
  });
});
