// The etcd connection behind every command that needs one, made on first use from the global
// flags, TERN_* environment variables and the --config file (src/config layering).
import type { Etcd3 } from 'etcd3';
import { CommonConfig, loadConfig } from '../config/index.js';
import { connectEtcd } from '../datastore/client.js';
import { Keys } from '../datastore/keys.js';
import { Store } from '../datastore/store.js';
import { Ipam } from '../ipam/index.js';
import { initLogger } from '../log/index.js';
import type { CliIO } from './io.js';

export interface GlobalOptions {
  etcdEndpoints?: string;
  etcdPrefix?: string;
  config?: string;
}

export interface CliContext {
  client: Etcd3;
  keys: Keys;
  store: Store;
}

/** What deleting a Node must do to IPAM: free its blocks, affinities and addresses. */
export type NodeReleaser = (client: Etcd3, keys: Keys, node: string) => Promise<{ blocks: number; addresses: number }>;

export const releaseNodeAddresses: NodeReleaser = (client, keys, node) => new Ipam(client, keys).releaseNode(node);

export class ContextHolder {
  private ctx: Promise<CliContext> | undefined;

  constructor(
    private readonly io: CliIO,
    private readonly globals: () => GlobalOptions,
  ) {}

  get = (): Promise<CliContext> => {
    this.ctx ??= (async () => {
      const g = this.globals();
      const etcd: Record<string, unknown> = {};
      if (g.etcdEndpoints !== undefined) etcd.endpoints = g.etcdEndpoints.split(',').map((s) => s.trim()).filter(Boolean);
      if (g.etcdPrefix !== undefined) etcd.prefix = g.etcdPrefix;
      const cfg = loadConfig(CommonConfig, { file: g.config, env: this.io.env, flags: Object.keys(etcd).length ? { etcd } : {} });
      // Logs are for diagnosis and go to stderr, so stdout stays parseable (-o json).
      initLogger({ name: 'tern', level: this.io.env.TERN_LOG_LEVEL ?? 'warn', destination: this.io.stderr as NodeJS.WritableStream });
      const client = connectEtcd(cfg.etcd);
      const keys = new Keys(cfg.etcd.prefix);
      return { client, keys, store: new Store(client, keys) };
    })();
    return this.ctx;
  };

  /** Closes the etcd client if one was made. */
  async close(): Promise<void> {
    if (!this.ctx) return;
    try {
      (await this.ctx).client.close();
    } catch {
      // The context failed to build: nothing to close.
    }
  }
}
