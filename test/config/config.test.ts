import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommonConfig, loadConfig } from '../../src/config/index.js';
import { isTernError } from '../../src/errors/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tern-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isTernError(e, 'TERN_ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('configuration layering', () => {
  it('applies defaults', () => {
    const c = loadConfig(CommonConfig, { env: {} });
    expect(c.etcd.endpoints).toEqual(['http://127.0.0.1:2379']);
    expect(c.etcd.prefix).toBe('/tern/');
    expect(c.logLevel).toBe('info');
  });

  it('file < env < flags', () => {
    const f = file('a.yaml', 'nodeName: from-file\nlogLevel: debug\netcd:\n  endpoints: [http://10.0.0.1:2379]\n');
    const env = { TERN_NODE_NAME: 'from-env', TERN_ETCD_ENDPOINTS: 'http://127.0.0.1:1,http://127.0.0.1:2' };
    const c = loadConfig(CommonConfig, { file: f, env, flags: { nodeName: 'from-flag' } });
    expect(c.nodeName).toBe('from-flag');
    expect(c.logLevel).toBe('debug');
    expect(c.etcd.endpoints).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
    expect(loadConfig(CommonConfig, { file: f, env }).nodeName).toBe('from-env');
  });

  it('names the bad field and its source', () => {
    const f = file('bad.yaml', 'etcd:\n  endpoints: [not-a-url]\nnodeIP: 300.1.1.1\n');
    const msg = errorOf(() => loadConfig(CommonConfig, { file: f, env: {} }));
    expect(msg).toContain(`${f}: etcd.endpoints[0]`);
    expect(msg).toContain(`${f}: nodeIP`);
    expect(errorOf(() => loadConfig(CommonConfig, { file: file('u.yaml', 'nodname: x\n'), env: {} }))).toMatch(/nodname/);
    expect(errorOf(() => loadConfig(CommonConfig, { env: { TERN_ETCD_PREFIX: 'tern' } }))).toMatch(/etcd\.prefix/);
    expect(errorOf(() => loadConfig(CommonConfig, { file: file('y.yaml', 'a: [1,\n'), env: {} }))).toMatch(/invalid YAML/);
    expect(errorOf(() => loadConfig(CommonConfig, { file: join(dir, 'absent.yaml'), env: {} }))).toMatch(/cannot read/);
  });
});
