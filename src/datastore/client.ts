// Creates the etcd3 client from the shared etcd configuration (endpoints, TLS files).
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import type { EtcdConfig } from '../config/index.js';

export function etcdOptions(cfg: Pick<EtcdConfig, 'endpoints' | 'caFile' | 'certFile' | 'keyFile' | 'dialTimeoutMs'>): IOptions {
  const opts: IOptions = {
    hosts: cfg.endpoints,
    dialTimeout: cfg.dialTimeoutMs,
    grpcOptions: {
      // A list page or watch response of a big cluster exceeds grpc-js's 4 MiB default, and
      // failing on it would make the watcher retry the same oversized read forever.
      'grpc.max_receive_message_length': 128 * 1024 * 1024,
      // Without keepalive a silently dead path to etcd (a cut link) is never noticed.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
    },
  };
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
