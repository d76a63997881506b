// Daemon configuration: a YAML file (--config), then TERN_* environment variables, then flags,
// each layer overriding the one before, validated by a zod schema. Errors name the bad field
// and where it came from.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TernError } from '../errors/index.js';

export const EtcdConfig = z
  .object({
    endpoints: z.array(z.string().url()).min(1).default(['http://127.0.0.1:2379']),
    prefix: z
      .string()
      .regex(/^\/([A-Za-z0-9._-]+\/)*$/, 'must start and end with "/", e.g. /tern/')
      .default('/tern/'),
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    dialTimeoutMs: z.number().int().positive().default(5000),
  })
  .strict();
export type EtcdConfig = z.infer<typeof EtcdConfig>;

/** Settings every daemon shares: the few a DaemonSet sets through the environment. */
export const CommonConfig = z
  .object({
    etcd: EtcdConfig.default(EtcdConfig.parse({})),
    nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name').optional(),
    nodeIP: z.union([z.ipv4(), z.ipv6()]).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();
export type CommonConfig = z.infer<typeof CommonConfig>;

type Plain = Record<string, unknown>;

/** The TERN_* variables and the config path each one sets. */
export const ENV_VARS: Record<string, { path: string[]; list?: boolean }> = {
  TERN_ETCD_ENDPOINTS: { path: ['etcd', 'endpoints'], list: true },
  TERN_ETCD_PREFIX: { path: ['etcd', 'prefix'] },
  TERN_ETCD_CA_FILE: { path: ['etcd', 'caFile'] },
  TERN_ETCD_CERT_FILE: { path: ['etcd', 'certFile'] },
  TERN_ETCD_KEY_FILE: { path: ['etcd', 'keyFile'] },
  TERN_NODE_NAME: { path: ['nodeName'] },
  TERN_NODE_IP: { path: ['nodeIP'] },
  TERN_LOG_LEVEL: { path: ['logLevel'] },
};

function setPath(obj: Plain, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Plain;
  }
  cur[path[path.length - 1]!] = value;
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Plain, v as Plain)
        : v;
  }
  return out;
}

export function envLayer(env: NodeJS.ProcessEnv): Plain {
  const layer: Plain = {};
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(layer, spec.path, spec.list ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw);
  }
  return layer;
}

/** Formats a zod error as one line per issue: `source: a.b[0]: message`. */
export function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${source}: ${path || '(top level)'}: ${i.message}`;
    })
    .join('\n');
}

export interface LoadOptions {
  /** Path of the YAML file given with --config, if any. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as a partial config tree. */
  flags?: Plain;
}

/** Loads, layers and validates a configuration; throws TernError(TERN_ERR_CONFIG) naming the field. */
export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadOptions = {}): z.infer<S> {
  let fileLayer: Plain = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new TernError('TERN_ERR_CONFIG', `cannot read config file ${opts.file}: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new TernError('TERN_ERR_CONFIG', `${opts.file}: invalid YAML: ${(e as Error).message}`);
    }
    if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
      throw new TernError('TERN_ERR_CONFIG', `${opts.file}: top level must be a mapping`);
    }
    fileLayer = (doc ?? {}) as Plain;
  }
  const merged = deepMerge(deepMerge(fileLayer, envLayer(opts.env ?? process.env)), opts.flags ?? {});
  const res = schema.safeParse(merged);
  if (!res.success) {
    throw new TernError('TERN_ERR_CONFIG', formatIssues(opts.file ?? 'config', res.error));
  }
  return res.data;
}
