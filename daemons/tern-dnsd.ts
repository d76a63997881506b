#!/usr/bin/env node
// tern-dnsd: cluster DNS answering from an index of etcd state. Entry point only.
import { runDaemon } from '../src/daemon/run.js';
import { DnsdConfig, isDnsWorker, runWorker, startDnsd } from '../src/dns/daemon/index.js';

if (isDnsWorker()) {
  await runWorker();
} else {
  await runDaemon({
    name: 'tern-dnsd',
    description: 'Tern cluster DNS: Kubernetes DNS-based service discovery from etcd',
    schema: DnsdConfig,
    start: (cfg, ctx) => startDnsd(cfg, ctx),
  });
}
