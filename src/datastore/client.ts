// Creates the etcd3 client from the shared etcd configuration (endpoints, TLS files).
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdConfig } from '../config/index.js';

export function etcdOptions(cfg: Pick<EtcdConfig, 'endpoints' | 'caFile' | 'certFile' | 'keyFile' | 'dialTimeoutMs'>): IOptions {
  const opts: IOptions = { hosts: cfg.endpoints, dialTimeout: cfg.dialTimeoutMs };
  if (cfg.caFile || cfg.certFile || cfg.keyFile) {
    opts.credentials = {
      rootCertificate: cfg.caFile ? readFileSync(cfg.caFile) : Buffer.alloc(0),
      ...(cfg.certFile ? { certChain: readFileSync(cfg.certFile) } : {}),
      ...(cfg.keyFile ? { privateKey: readFileSync(cfg.keyFile) } : {}),
    };
  }
  return opts;
}

export function connectEtcd(cfg: Parameters<typeof etcdOptions>[0]): Etcd3 {
  return new Etcd3(etcdOptions(cfg));
}
