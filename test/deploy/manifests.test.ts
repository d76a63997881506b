// deploy/kubernetes, checked offline: every document against the Kubernetes OpenAPI schema
// (kubernetes-models), then what the schema cannot see — probes on the right ports, exactly the
// documented capabilities, configs the daemons accept with the environment the pods give them,
// read-only RBAC that covers what kube-sync watches.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseNetConf } from '../../src/cni/plugin.js';
import { KUBE_RESOURCES } from '../../src/kubesync/translate.js';
import { checkConfig, packageBins, PENDING_BINS, ROOT } from './helpers.js';

const DIR = join(ROOT, 'deploy/kubernetes');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
interface Loaded {
  file: string;
  doc: Doc;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
};

function load(file: string): Loaded[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'));
  return docs.map((d, i) => {
    if (d.errors.length) throw new Error(`${file}: document ${i + 1}: ${d.errors[0]!.message}`);
    return { file, doc: d.toJS() as Doc };
  });
}

const kustomization = load('kustomization.yaml')[0]!.doc as unknown as { resources: string[]; namespace: string };
const manifests = kustomization.resources.flatMap(load);
const all = [...manifests, ...load('etcd-secret.example.yaml')];
const find = (kind: string, name: string): Doc => {
  const d = manifests.find((m) => m.doc.kind === kind && m.doc.metadata.name === name)?.doc;
  if (!d) throw new Error(`${kind} ${name} not found`);
  return d;
};

interface Workload {
  name: string;
  kind: string;
  pod: IPodSpec;
  podLabels: Record<string, string>;
}
const workloads: Workload[] = manifests
  .filter((m) => m.doc.kind === 'DaemonSet' || m.doc.kind === 'Deployment')
  .map((m) => {
    const t = (m.doc.spec as { template: { metadata: { labels: Record<string, string> }; spec: IPodSpec } }).template;
    return { name: m.doc.metadata.name, kind: m.doc.kind, pod: t.spec, podLabels: t.metadata.labels };
  });
const containers = workloads.flatMap((w) => w.pod.containers.map((c) => ({ w, c, init: false })));
const initContainers = workloads.flatMap((w) => (w.pod.initContainers ?? []).map((c) => ({ w, c, init: true })));

const configMap = find('ConfigMap', 'tern-config') as Doc & { data: Record<string, string> };

/** Each container: its ops ports (from the daemon's config) and the capabilities it may add. */
const EXPECTED: Record<string, { live: number; ready: number; caps: string[] }> = {
  'tern-bgpd': { live: 9180, ready: 9180, caps: ['NET_BIND_SERVICE'] },
  'tern-agentd': { live: 9091, ready: 9091, caps: ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN'] },
  'tern-rrd': { live: 9181, ready: 9181, caps: ['NET_BIND_SERVICE'] },
  'tern-dnsd': { live: 8080, ready: 8181, caps: ['NET_BIND_SERVICE'] },
  'tern-kube-sync': { live: 9182, ready: 9182, caps: [] },
  'install-cni': { live: 0, ready: 0, caps: ['NET_ADMIN'] },
};

/** The environment a container gets, with downward-API and Secret values filled in. */
function containerEnv(c: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') env[e.name] = 'worker-1';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'status.hostIP') env[e.name] = '10.0.0.21';
    else if (e.valueFrom?.secretKeyRef?.key === 'endpoints') env[e.name] = 'https://10.0.0.10:2379,https://10.0.0.11:2379';
    else throw new Error(`${c.name}: env ${e.name}: unexpected source ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** The ConfigMap key mounted at the path the container's --config names. */
function mountedConfig(w: Workload, c: IContainer): { key: string; text: string } {
  const args = c.command ?? [];
  const path = args[args.indexOf('--config') + 1];
  const m = c.volumeMounts?.find((v) => v.mountPath === path);
  expect(m, `${c.name}: --config ${path} is not mounted`).toBeDefined();
  const vol = w.pod.volumes?.find((v) => v.name === m!.name);
  expect(vol?.configMap?.name, `${c.name}: ${path} must come from ConfigMap tern-config`).toBe('tern-config');
  const key = m!.subPath!;
  expect(configMap.data[key], `${c.name}: ConfigMap key ${key}`).toBeDefined();
  return { key, text: configMap.data[key]! };
}

describe('deploy/kubernetes manifests', () => {
  it('lists every manifest in kustomization.yaml, and every document validates against its Kubernetes model', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && !f.endsWith('.example.yaml'));
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.namespace).toBe('tern-system');
    expect(all.length).toBeGreaterThanOrEqual(14);
    for (const { file, doc } of all) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${file}: no model for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
      if (doc.kind !== 'Namespace' && doc.kind !== 'ClusterRole' && doc.kind !== 'ClusterRoleBinding') expect(doc.metadata.namespace, `${file}: ${doc.kind}`).toBe('tern-system');
    }
  });

  it('the schema check catches a broken manifest', () => {
    const ds = structuredClone(find('DaemonSet', 'tern-node')) as Doc & { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    ds.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'bgp';
    expect(() => new DaemonSet(ds as never).validate()).toThrow(/containerPort/);
  });

  it('probes every long-running container on its own /health and /ready, on a declared port', () => {
    expect(containers.map(({ c }) => c.name).sort()).toEqual(['tern-agentd', 'tern-bgpd', 'tern-dnsd', 'tern-kube-sync', 'tern-rrd']);
    for (const { c } of containers) {
      const want = EXPECTED[c.name]!;
      expect(c.livenessProbe?.httpGet, `${c.name} liveness`).toMatchObject({ path: '/health', port: want.live });
      expect(c.readinessProbe?.httpGet, `${c.name} readiness`).toMatchObject({ path: '/ready', port: want.ready });
      const declared = (c.ports ?? []).map((p) => p.containerPort);
      expect(declared).toContain(want.live);
      expect(declared).toContain(want.ready);
    }
  });

  it('ops ports in the probes are the ones the daemons listen on', () => {
    for (const { w, c } of containers) {
      if (c.name === 'tern-dnsd') continue; // dnsd's :8080/:8181 are fixed, as CoreDNS's
      const { text } = mountedConfig(w, c);
      const listen = /listen:\s*\S+:(\d+)/.exec(text)?.[1];
      expect(Number(listen), `${c.name}: ops.listen`).toBe(EXPECTED[c.name]!.live);
    }
  });

  it('adds exactly the documented capabilities, drops the rest, and runs nothing privileged', () => {
    for (const { c } of [...containers, ...initContainers]) {
      const sc = c.securityContext;
      expect(sc?.privileged ?? false, `${c.name}: privileged`).toBe(false);
      expect(sc?.allowPrivilegeEscalation, `${c.name}: allowPrivilegeEscalation`).toBe(false);
      expect(sc?.capabilities?.drop, `${c.name}: drop`).toEqual(['ALL']);
      expect([...(sc?.capabilities?.add ?? [])].sort(), `${c.name}: add`).toEqual(EXPECTED[c.name]!.caps);
    }
    // The header of the DaemonSet explains every capability it grants.
    const header = readFileSync(join(DIR, 'node-daemonset.yaml'), 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
    for (const cap of ['NET_BIND_SERVICE', 'NET_ADMIN', 'NET_RAW', 'SYS_ADMIN']) expect(header).toMatch(new RegExp(`${cap}[^\\n]*\\(`));
  });

  it('sets requests and limits on every container', () => {
    for (const { c } of [...containers, ...initContainers]) {
      expect(c.resources?.requests?.cpu, c.name).toBeDefined();
      expect(c.resources?.requests?.memory, c.name).toBeDefined();
      expect(c.resources?.limits?.cpu, c.name).toBeDefined();
      expect(c.resources?.limits?.memory, c.name).toBeDefined();
    }
  });

  it('each daemon accepts its ConfigMap config with the environment its pod gives it (--check-config)', () => {
    const bins = packageBins();
    for (const { w, c } of containers) {
      const bin = c.command![0]!;
      expect(bin in bins || PENDING_BINS.has(bin), `${c.name}: ${bin} is not in package.json bin`).toBe(true);
      expect(existsSync(join(ROOT, 'daemons', `${bin}.ts`)), `daemons/${bin}.ts`).toBe(true);
      const { key, text } = mountedConfig(w, c);
      const env = containerEnv(c);
      const r = checkConfig(bin, text, env);
      expect(r.status, `${key} for ${bin}: ${r.stderr}`).toBe(0);
      const cfg = r.config as { etcd: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string }; nodeName?: string; nodeIP?: string };
      if (env.TERN_ETCD_ENDPOINTS) expect(cfg.etcd.endpoints).toEqual(env.TERN_ETCD_ENDPOINTS.split(','));
      if (env.TERN_NODE_NAME) expect(cfg.nodeName).toBe('worker-1');
      if (env.TERN_NODE_IP) expect(cfg.nodeIP).toBe('10.0.0.21');
      // TLS files named in the environment are mounted read-only from the tern-etcd Secret.
      for (const f of [cfg.etcd.caFile, cfg.etcd.certFile, cfg.etcd.keyFile].filter((x): x is string => x !== undefined)) {
        const m = c.volumeMounts?.find((v) => f.startsWith(`${v.mountPath}/`));
        expect(m?.readOnly, `${c.name}: ${f} mounted read-only`).toBe(true);
        const vol = w.pod.volumes?.find((v) => v.name === m!.name);
        expect(vol?.secret?.secretName).toBe('tern-etcd');
        expect(vol?.secret?.items?.map((i) => i.path)).toContain(f.slice(m!.mountPath.length + 1));
      }
    }
  });

  it('a config error in the ConfigMap would fail the check', () => {
    const r = checkConfig('tern-bgpd', `${configMap.data['tern-bgpd.yaml']}\nbogus: 1\n`, {});
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bogus|Unrecognized/);
  });

  it('the node DaemonSet: host network, every taint tolerated, node-critical, one node at a time, downward API, host paths', () => {
    const ds = find('DaemonSet', 'tern-node') as Doc & { spec: { updateStrategy: { type: string; rollingUpdate: { maxUnavailable: number } } } };
    const w = workloads.find((x) => x.name === 'tern-node')!;
    expect(w.pod.hostNetwork).toBe(true);
    expect(w.pod.priorityClassName).toBe('system-node-critical');
    expect(w.pod.tolerations).toContainEqual({ operator: 'Exists' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(w.pod.containers.map((c) => c.name).sort()).toEqual(['tern-agentd', 'tern-bgpd']);
    for (const c of w.pod.containers) {
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
      expect(env.TERN_NODE_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(env.TERN_NODE_IP?.valueFrom?.fieldRef?.fieldPath).toBe('status.hostIP');
      expect(env.TERN_ETCD_ENDPOINTS?.valueFrom?.secretKeyRef?.name).toBe('tern-etcd');
      // Both containers share the host's /run/tern: bgpd.sock, agentd.sock (tern-cni on the host).
      const run = c.volumeMounts?.find((m) => m.mountPath === '/run/tern');
      expect(w.pod.volumes?.find((v) => v.name === run?.name)?.hostPath?.path).toBe('/run/tern');
    }
    const hostPaths = (w.pod.volumes ?? []).map((v) => v.hostPath?.path).filter(Boolean);
    for (const p of ['/var/run/netns', '/etc/cni/net.d', '/opt/cni/bin', '/run/tern']) expect(hostPaths).toContain(p);
    const agentd = w.pod.containers.find((c) => c.name === 'tern-agentd')!;
    expect(agentd.volumeMounts?.find((m) => m.mountPath === '/var/run/netns')?.mountPropagation).toBe('HostToContainer');
    expect(w.pod.initContainers?.map((c) => c.name)).toEqual(['install-cni']);
  });

  it('the conflist chains tern-cni and portmap, and tern-cni accepts it and dials agentd\'s socket', () => {
    const list = JSON.parse(configMap.data['10-tern.conflist']!) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    expect(list.plugins.map((p) => p.type)).toEqual(['tern-cni', 'portmap']);
    // The runtime hands each plugin its entry plus the list's cniVersion and name.
    const conf = parseNetConf(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] }));
    const agentdSocket = /socket:\s*(\S+)/.exec(configMap.data['tern-agentd.yaml']!)?.[1];
    expect(conf.agentSocket).toBe(agentdSocket);
    // The init container installs the plugin and the list under those names.
    const init = workloads.find((x) => x.name === 'tern-node')!.pod.initContainers![0]!;
    const script = init.command!.join(' ');
    expect(script).toContain('/host/etc/cni/net.d/10-tern.conflist');
    expect(script).toContain('$dst/tern-cni');
    expect(script).toContain('dist/daemons/tern-cni.js');
  });

  it('tern-dnsd: two spread replicas behind the cluster DNS Service on 53/UDP, 53/TCP and 9153', () => {
    const d = find('Deployment', 'tern-dnsd') as Doc & { spec: { replicas: number } };
    expect(d.spec.replicas).toBe(2);
    const w = workloads.find((x) => x.name === 'tern-dnsd')!;
    expect(w.pod.affinity?.podAntiAffinity).toBeDefined();
    const svc = find('Service', 'tern-dns') as Doc & { spec: { clusterIP: string; selector: Record<string, string>; ports: { port: number; protocol: string; targetPort: number }[] } };
    expect(svc.spec.clusterIP).toBe('10.96.0.10');
    expect(svc.spec.ports.map((p) => `${p.port}/${p.protocol}`).sort()).toEqual(['53/TCP', '53/UDP', '9153/TCP']);
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(w.podLabels[k]).toBe(v);
    const declared = w.pod.containers[0]!.ports!.map((p) => `${p.containerPort}/${p.protocol}`);
    for (const p of svc.spec.ports) expect(declared).toContain(`${p.targetPort}/${p.protocol}`);
  });

  it('tern-rrd: two replicas on the host network, never two on one node; tern-node avoids reflector nodes', () => {
    const d = find('Deployment', 'tern-rrd') as Doc & { spec: { replicas: number } };
    expect(d.spec.replicas).toBe(2);
    const w = workloads.find((x) => x.name === 'tern-rrd')!;
    expect(w.pod.hostNetwork).toBe(true);
    const term = w.pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(term?.topologyKey).toBe('kubernetes.io/hostname');
    expect(term?.labelSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'tern-rrd' });
    const label = Object.keys(w.pod.nodeSelector ?? {})[0];
    const node = workloads.find((x) => x.name === 'tern-node')!;
    const exprs = node.pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions ?? [];
    expect(exprs).toContainEqual({ key: label, operator: 'DoesNotExist' });
  });

  it('RBAC: only kube-sync has API access, read-only, covering every kind it lists and watches', () => {
    const role = find('ClusterRole', 'tern-kube-sync') as Doc & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    for (const r of role.rules) for (const v of r.verbs) expect(['get', 'list', 'watch'], `verb ${v}`).toContain(v);
    // Every collection the informers read (src/kubesync KUBE_RESOURCES) is granted list + watch.
    for (const { path } of Object.values(KUBE_RESOURCES)) {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/([^/]+)$/.exec(path)!;
      const group = m[1] ?? '';
      const resource = m[2]!;
      const ok = role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes('list') && r.verbs.includes('watch'));
      expect(ok, `${group}/${resource}`).toBe(true);
    }
    const bindings = manifests.filter((m) => m.doc.kind === 'ClusterRoleBinding' || m.doc.kind === 'RoleBinding');
    const subjects = bindings.flatMap((b) => (b.doc.subjects as { name: string }[]).map((s) => s.name));
    expect(subjects).toEqual(['tern-kube-sync']);
    for (const w of workloads) {
      if (w.name === 'tern-kube-sync') expect(w.pod.serviceAccountName).toBe('tern-kube-sync');
      else expect(w.pod.automountServiceAccountToken, `${w.name}: no API token`).toBe(false);
    }
    const ks = find('Deployment', 'tern-kube-sync') as Doc & { spec: { replicas: number; strategy: { type: string } } };
    expect(ks.spec.replicas).toBe(1);
    expect(ks.spec.strategy.type).toBe('Recreate');
  });

  it('the README documents every TERN_* variable the manifests set and the node IP rule', () => {
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const names = new Set(containers.flatMap(({ c }) => (c.env ?? []).map((e) => e.name)));
    for (const n of names) expect(readme, n).toContain(`\`${n}\``);
    expect(readme).toMatch(/status\.hostIP/);
    expect(readme).toMatch(/10\.96\.0\.10/);
  });
});
