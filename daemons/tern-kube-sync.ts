#!/usr/bin/env node
// tern-kube-sync: mirrors Kubernetes Namespaces, Services, EndpointSlices, NetworkPolicies and
// pod labels into etcd. Entry point only; the controller is src/kubesync.
import { z } from 'zod';
import { connectEtcd } from '../src/datastore/client.js';
import { Keys } from '../src/datastore/keys.js';
import { Store } from '../src/datastore/store.js';
import { daemonConfig, runDaemon } from '../src/daemon/run.js';
import { KubeSync } from '../src/kubesync/controller.js';
import { kubeApi, loadKubeConfig } from '../src/kubesync/kubeapi.js';

const KubernetesConfig = z
  .object({
    /** Path of a kubeconfig; default $KUBECONFIG, else the in-cluster service account. */
    kubeconfig: z.string().min(1).optional(),
    /** Objects per list page. */
    pageSize: z.number().int().min(1).max(10_000).default(500),
    /** First retry delay after an API or etcd failure (doubles up to 30 s). */
    retryDelayMs: z.number().int().positive().default(500),
  })
  .strict();

await runDaemon({
  name: 'tern-kube-sync',
  description: 'Tern Kubernetes sync: mirrors Namespaces, Services, EndpointSlices, NetworkPolicies and pod labels into etcd',
  schema: daemonConfig('tern-kube-sync', '0.0.0.0:9182', { kubernetes: KubernetesConfig.default(KubernetesConfig.parse({})) }),
  async start(cfg, ctx) {
    const kc = loadKubeConfig({ kubeconfig: cfg.kubernetes.kubeconfig ?? (process.env.KUBECONFIG || undefined) });
    const etcd = connectEtcd(cfg.etcd);
    const api = kubeApi(kc);
    const sync = new KubeSync({
      api,
      store: new Store(etcd, new Keys(cfg.etcd.prefix)),
      log: ctx.log.child({ component: 'kubesync' }),
      registry: ctx.registry,
      pageSize: cfg.kubernetes.pageSize,
      retryDelayMs: cfg.kubernetes.retryDelayMs,
    });
    // Ready once the first list of every kind is in etcd; until then the daemon is alive but
    // not ready, and start() keeps retrying the API and etcd in the background.
    void sync.start().then(() => ctx.setReady(true));
    return {
      async stop() {
        await sync.stop();
        api.close();
        etcd.close();
      },
    };
  },
});
