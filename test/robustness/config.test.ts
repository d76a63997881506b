// YAML configuration under bad input: random documents, deploy/config files with values
// swapped for values of other types, text-level damage and YAML's sharp edges (aliases, tags,
// merge keys, __proto__). In-process through each daemon's own schema (many runs), then the
// compiled binaries with --check-config (fewer: each is a process). Outcome: the config loads,
// or a TERN_ERR_CONFIG naming the file and a field (or the YAML position); exit 0 or 2; never a
// stack trace.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigShape } from '../../src/agent/daemon/index.js';
import { bgpDaemonSchema } from '../../src/bgp/speaker/daemon.js';
import { loadConfig } from '../../src/config/index.js';
import { daemonConfig } from '../../src/daemon/run.js';
import { DnsdConfig } from '../../src/dns/daemon/index.js';
import { isTernError } from '../../src/errors/index.js';
import { bin, removeDir, tempDir, type DaemonName } from './harness.js';

const seed = Number(process.env.TERN_FUZZ_SEED ?? Date.now() % 0x7fffffff);
const dir = tempDir('config');
// The yaml library reports unresolved tags (`!js/function`) as process warnings: expected here,
// and hundreds of them would bury the test output.
const emitWarning = process.emitWarning;
process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
  if ((typeof w === 'string' ? w : w.name) === 'YAMLWarning' || (w instanceof Error && w.name === 'YAMLWarning')) return;
  (emitWarning as (...a: unknown[]) => void).call(process, w, ...rest);
}) as typeof process.emitWarning;
afterAll(() => {
  process.emitWarning = emitWarning;
  removeDir(dir);
});

const SCHEMAS: Record<DaemonName, z.ZodType> = {
  'tern-bgpd': bgpDaemonSchema({ name: 'tern-bgpd', description: '', opsListen: '0.0.0.0:9180', role: 'speaker' }),
  'tern-rrd': bgpDaemonSchema({ name: 'tern-rrd', description: '', opsListen: '0.0.0.0:9181', role: 'reflector' }),
  'tern-agentd': daemonConfig('tern-agentd', '0.0.0.0:9091', AgentConfigShape),
  'tern-dnsd': DnsdConfig,
};
const DAEMONS = Object.keys(SCHEMAS) as DaemonName[];
const deployText = (d: DaemonName): string => readFileSync(join('deploy/config', `${d}.yaml`), 'utf8');

/** Every path to a value in a parsed document. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [h, ...rest] = path;
  const copy = (Array.isArray(doc) ? [...doc] : { ...(doc as object) }) as Record<string | number, unknown>;
  copy[h!] = setAt(copy[h!], rest, value);
  return copy;
}

const SHARP_EDGES = [
  'a: &a [*a]\n',
  'x: &x {k: 1}\nbgp: *x\n',
  `lol: &l0 [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 6 }, (_, i) => `l${i + 1}: &l${i + 1} [*l${i}, *l${i}, *l${i}, *l${i}, *l${i}, *l${i}, *l${i}, *l${i}]`).join('\n')}\n`,
  'bgp: !!binary aGVsbG8=\n',
  'bgp: !!set {a, b}\n',
  'bgp: !!omap [a: 1]\n',
  'bgp: !js/function "function(){}"\n',
  'bgp: !!timestamp 2001-12-14\n',
  '__proto__: {polluted: true}\n',
  'bgp:\n  __proto__: {asNumber: 1}\n',
  'dns:\n  <<: {zones: [a]}\n',
  'etcd:\n  endpoints: [1e999]\n',
  `bgp:\n${'  '.repeat(1)}peers: ${'['.repeat(2000)}${']'.repeat(2000)}\n`,
  '%YAML 9.9\n---\nbgp: {}\n',
  '--- a\n--- b\n',
  '\ufeff\u0000\u0007bgp: 1\n',
  'bgp: {asNumber: 0x10000000000000000}\n',
  'logLevel: [info]\n',
  'grpc: {socket: 1, tcp: {a: b}}\n',
  'ops: {listen: null}\n',
  '? [a, b]\n: c\n',
  'bgp: {peers: [{address: 10.0.0.2, asNumber: 65001, timers: {hold: 1}}]}\n',
  'dns: {listen: ["[::1]:99999"], workers: 1000}\n',
];

/** A document: random YAML, a deploy file with a value swapped, text damage, or a sharp edge. */
function docArb(d: DaemonName): fc.Arbitrary<string> {
  const base = parseYaml(deployText(d)) as unknown;
  const ps = paths(base);
  return fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => toYaml(v)),
    fc.dictionary(fc.constantFrom('bgp', 'dns', 'etcd', 'grpc', 'ops', 'logLevel', 'nodeName', 'nodeIP', 'policy', 'proxy', 'serviceProxy', 'x'), fc.jsonValue({ maxDepth: 3 })).map((v) => toYaml(v)),
    fc.tuple(fc.constantFrom(...ps), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 2 ** 53, 1.5, '', 'x'.repeat(10_000), null, true, [], {}))).map(([p, v]) => toYaml(setAt(base, p, v))),
    fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 8 })).map(([a, b, s]) => {
      const t = deployText(d);
      const i = a % (t.length + 1);
      const j = Math.min(t.length, i + (b % 20));
      return t.slice(0, i) + s + t.slice(j);
    }),
    fc.constantFrom(...SHARP_EDGES),
  );
}

type Outcome = { ok: true } | { ok: false; message: string };

function loadInProcess(d: DaemonName, text: string, file: string): Outcome {
  writeFileSync(file, text);
  try {
    loadConfig(SCHEMAS[d], { file, env: {}, flags: { nodeName: 'node1' } });
    return { ok: true };
  } catch (e) {
    if (!isTernError(e) || e.code !== 'TERN_ERR_CONFIG') throw new Error(`${d}: not a configuration error for ${JSON.stringify(text.slice(0, 300))}: ${(e as Error)?.stack ?? String(e)}`);
    return { ok: false, message: e.message };
  }
}

/** Every line names the file; the first names a field path, the top level or the YAML position. */
function expectClearError(message: string, file: string, text: string): void {
  const lines = message.split('\n');
  const what = `${JSON.stringify(text.slice(0, 300))} → ${message.slice(0, 500)}`;
  expect(lines[0]!.startsWith(`${file}: `), what).toBe(true);
  expect(lines[0]!.slice(file.length + 2), what).toMatch(/^(invalid YAML: .+|top level must be a mapping|\(top level\): |[A-Za-z_$][\w$]*(\.[\w$]+|\[\d+\])*: )/);
  expect(message, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('YAML configuration robustness', () => {
  it.each(DAEMONS)('%s: random and damaged documents load or fail naming the field (in process)', (d) => {
    const file = join(dir, `${d}-inproc.yaml`);
    let failures = 0;
    fc.assert(
      fc.property(docArb(d), (text) => {
        const r = loadInProcess(d, text, file);
        if (!r.ok) {
          failures++;
          expectClearError(r.message, file, text);
        }
      }),
      { numRuns: 400, seed },
    );
    expect(failures).toBeGreaterThan(0);
  });

  it.each(DAEMONS)('%s --check-config: exit 0 or 2 with a clear message, never a stack trace', (d) => {
    const file = join(dir, `${d}-bin.yaml`);
    const samples = fc.sample(docArb(d), { numRuns: 10, seed: seed + 1 });
    for (const text of [...samples, ...SHARP_EDGES.slice(0, 4)]) {
      writeFileSync(file, text);
      const r = spawnSync(process.execPath, [bin(d), '--config', file, '--check-config', '--node-name', 'node1'], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });
      const what = `${JSON.stringify(text.slice(0, 200))}: exit ${r.status} stderr ${r.stderr.slice(0, 500)}`;
      expect([0, 2], what).toContain(r.status);
      expect(`${r.stdout}\n${r.stderr}`, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      if (r.status === 0) expect(() => JSON.parse(r.stdout) as unknown, what).not.toThrow();
      else {
        // The error itself, after any warning the yaml library printed on its own.
        const at = r.stderr.indexOf(`${d}: ${file}: `);
        expect(at, what).toBeGreaterThanOrEqual(0);
        expectClearError(r.stderr.slice(at + d.length + 2).trimEnd(), file, text);
      }
    }
  });
});
