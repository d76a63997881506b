// Pods of the lab, made as a container runtime makes them: an empty network namespace, the
// real tern-cni exec'd inside the node's namespace with the CNI_* environment and the network
// configuration on stdin (tern-agentd then assigns the address, wires the veth and writes the
// WorkloadEndpoint), a resolv.conf pointing at the cluster DNS, and the echo server started
// inside. EndpointSlices are written from the pods here: the lab is its own endpoints
// controller, as nothing else in the project computes them from pods.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { Store } from '../datastore/store.js';
import { Keys } from '../datastore/keys.js';
import { TernError } from '../errors/index.js';
import { matchLabelSelector } from '../resources/meta.js';
import { runIn } from './exec.js';
import { binPath, CNI_NETWORK, echoScript, type LabRun, type PodRecord } from './cluster.js';

export interface PodSpec {
  name: string;
  namespace: string;
  node: string;
  labels: Record<string, string>;
}

export interface CniRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

export function cniConf(agentSocket: string): string {
  return JSON.stringify({ cniVersion: '1.1.0', name: CNI_NETWORK, type: 'tern-cni', agentSocket });
}

/**
 * Execs a CNI plugin inside the node's namespace as a runtime does: CNI_* variables in the
 * environment, the network configuration on stdin, the result (or error object) on stdout.
 */
export async function execPlugin(nodeNetns: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: string, timeoutMs = 60_000): Promise<CniRun> {
  const r = await runIn(nodeNetns, cmd, args, { input: stdin, env, timeoutMs, allowFail: true });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, json };
}

/** Execs tern-cni inside the node's namespace as a runtime would. */
export function execCni(nodeNetns: string, env: Record<string, string>, stdin: string, timeoutMs = 60_000): Promise<CniRun> {
  const e = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: '/usr/lib/cni', ...env };
  return execPlugin(nodeNetns, process.execPath, [binPath('tern-cni')], e, stdin, timeoutMs);
}

const podNsLocal = (name: string): string => `p-${name}`;

/** CNI ADD for a new pod, then its echo server; returns the recorded pod. */
export async function createPod(lab: LabRun, spec: PodSpec, opts: { echo?: boolean } = {}): Promise<PodRecord> {
  const node = lab.node(spec.node);
  const netns = await lab.addNamespace(podNsLocal(spec.name));
  lab.writeResolvConf(netns, spec.namespace);
  const containerId = `lab-${spec.namespace}-${spec.name}`;
  const r = await execCni(
    node.netns,
    {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: containerId,
      CNI_NETNS: join('/run/netns', netns),
      CNI_IFNAME: 'eth0',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${spec.namespace};K8S_POD_NAME=${spec.name};K8S_POD_LABELS=${JSON.stringify(spec.labels)}`,
    },
    cniConf(node.agentSocket),
  );
  if (r.code !== 0 || !r.json) throw new TernError('TERN_ERR_LAB', `CNI ADD ${spec.namespace}/${spec.name} on ${spec.node} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  const ips = (r.json.ips as Array<{ address: string }> | undefined) ?? [];
  const v4 = ips.map((i) => i.address.split('/')[0]!).find((a) => a.includes('.'));
  if (!v4) throw new TernError('TERN_ERR_LAB', `CNI ADD ${spec.name}: no IPv4 address in ${r.stdout}`);
  const ifs = (r.json.interfaces as Array<{ name: string; sandbox?: string }> | undefined) ?? [];
  const hostIface = ifs.find((i) => !i.sandbox)?.name ?? '';
  const pod: PodRecord = { ...spec, netns, ip: v4, hostIface, containerId };
  lab.updateCluster((c) => {
    c.pods = c.pods.filter((p) => p.name !== spec.name);
    c.pods.push(pod);
  });
  if (opts.echo !== false) {
    lab.spawn({ id: `pod-${spec.name}`, kind: 'echo', host: spec.name, netns, cmd: process.execPath, args: [echoScript(), 'serve', spec.name] });
  }
  return pod;
}

/** CNI DEL, then the pod's namespace, server and resolv.conf go. */
export async function deletePod(lab: LabRun, name: string): Promise<void> {
  const pod = lab.pod(name);
  await lab.forget(`pod-${name}`);
  const node = lab.cluster.nodes.find((n) => n.name === pod.node);
  if (node) {
    await execCni(
      node.netns,
      { CNI_COMMAND: 'DEL', CNI_CONTAINERID: pod.containerId, CNI_NETNS: join('/run/netns', pod.netns), CNI_IFNAME: 'eth0', CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name}` },
      cniConf(node.agentSocket),
    );
  }
  await lab.removeNamespace(pod.netns);
  rmSync(join('/etc/netns', pod.netns), { recursive: true, force: true });
  lab.updateCluster((c) => {
    c.pods = c.pods.filter((p) => p.name !== name);
  });
}

/** The EndpointSlice of a selector Service, from the lab's pods (ready, one per pod). */
export function endpointSliceFor(
  svc: { metadata: { name: string; namespace?: string | undefined }; spec: { selector?: Record<string, string> | undefined; ports?: Array<{ name?: string | undefined; protocol: string; port: number; targetPort?: number | string | undefined }> | undefined } },
  pods: readonly PodRecord[],
): Record<string, unknown> | undefined {
  const sel = svc.spec.selector;
  if (!sel) return undefined;
  const ns = svc.metadata.namespace ?? 'default';
  const members = pods
    .filter((p) => p.namespace === ns && matchLabelSelector({ matchLabels: sel }, p.labels))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc.metadata.name}-lab`, namespace: ns, labels: { 'kubernetes.io/service-name': svc.metadata.name } },
    addressType: 'IPv4',
    endpoints: members.map((p) => ({
      addresses: [p.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: p.node,
      targetRef: { kind: 'Pod', name: p.name, namespace: p.namespace },
    })),
    ports: (svc.spec.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      protocol: p.protocol,
      port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
    })),
  };
}

/** Writes every selector Service's EndpointSlice from the recorded pods. */
export async function syncEndpointSlices(client: Etcd3, pods: readonly PodRecord[], keys = new Keys()): Promise<number> {
  const store = new Store(client, keys);
  const { items } = await store.list('Service');
  let n = 0;
  for (const svc of items) {
    const slice = endpointSliceFor(svc as never, pods);
    if (!slice) continue;
    await store.apply(slice);
    n++;
  }
  return n;
}
