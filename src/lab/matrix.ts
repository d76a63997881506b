// The live connectivity matrix: every pod probes every other pod (HTTP to the echo server,
// which reports the source address it saw: anything but the client pod's own IP is NAT),
// every pod resolves and reaches services by DNS name, the ToR reaches every pod and the DNS
// service IP. A failed probe towards a pod that NetworkPolicies isolate is shown as denied by
// those policies' names; any other failure is a failure.
import { Keys } from '../datastore/keys.js';
import { connectEtcd } from '../datastore/client.js';
import { Store } from '../datastore/store.js';
import { matchLabelSelector } from '../resources/meta.js';
import { CLUSTER_DNS_IP, echoScript, type LabRun, type PodRecord } from './cluster.js';
import { runIn } from './exec.js';
import type { ProbeResult, ProbeSpec } from './echo.js';

export type Verdict = 'ok' | 'nat' | 'denied' | 'fail';

export interface Cell {
  from: string;
  to: string;
  verdict: Verdict;
  /** ok/nat: the client address the server saw; denied: the isolating policies. */
  detail: string;
  ms: number;
}

export interface ServiceCell {
  from: string;
  name: string;
  kind: 'dns' | 'http';
  ok: boolean;
  detail: string;
}

export interface Matrix {
  pods: Cell[];
  services: ServiceCell[];
  tor: Cell[];
  /** dig from the ToR to the DNS service IP. */
  torDns: { ok: boolean; answer: string };
}

/** Runs probes from inside a namespace with the echo script. */
export async function probeFrom(netns: string, specs: ProbeSpec[], timeoutMs = 20_000): Promise<ProbeResult[]> {
  const r = await runIn(netns, process.execPath, [echoScript(), 'probe', JSON.stringify(specs)], { allowFail: true, timeoutMs });
  try {
    return JSON.parse(r.stdout) as ProbeResult[];
  } catch {
    return specs.map(() => ({ ok: false, error: `probe failed: ${r.stderr.trim() || r.stdout.trim()}`, ms: 0 }));
  }
}

interface PolicyView {
  name: string;
  namespace: string;
  selector: Parameters<typeof matchLabelSelector>[0];
  ingress: boolean;
}

/** Ingress NetworkPolicies of the cluster, as needed to name the one isolating a pod. */
export async function loadPolicies(lab: LabRun): Promise<PolicyView[]> {
  const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
  try {
    const { items } = await new Store(client, new Keys()).list('NetworkPolicy');
    return items.map((p) => {
      const types = p.spec.policyTypes ?? ['Ingress'];
      return { name: p.metadata.name, namespace: p.metadata.namespace ?? 'default', selector: p.spec.podSelector ?? {}, ingress: types.includes('Ingress') };
    });
  } finally {
    client.close();
  }
}

/** The policies isolating pod for ingress (Kubernetes: any policy selecting it with type Ingress). */
export function isolatingPolicies(pod: PodRecord, policies: readonly PolicyView[]): string[] {
  return policies.filter((p) => p.ingress && p.namespace === pod.namespace && matchLabelSelector(p.selector, pod.labels)).map((p) => `${p.namespace}/${p.name}`);
}

function cellOf(from: string, fromIp: string | undefined, to: PodRecord, r: ProbeResult, policies: readonly PolicyView[]): Cell {
  if (r.ok) {
    const nat = fromIp !== undefined && r.client !== fromIp;
    return { from, to: to.name, verdict: nat ? 'nat' : 'ok', detail: r.client ?? '', ms: r.ms };
  }
  const iso = isolatingPolicies(to, policies);
  return { from, to: to.name, verdict: iso.length ? 'denied' : 'fail', detail: iso.length ? iso.join(',') : (r.error ?? ''), ms: r.ms };
}

/**
 * Service names each pod probes: DNS by short and full name, HTTP through the ClusterIP (port
 * 80, translated by the agents' service proxy to a pod's 8080) and through the headless name.
 */
export const SERVICE_PROBES: ReadonlyArray<{ name: string; kind: 'dns' | 'http'; port?: number }> = [
  { name: 'api.backend', kind: 'dns' },
  { name: 'web.frontend.svc.cluster.local', kind: 'dns' },
  { name: 'api.backend', kind: 'http', port: 80 },
  { name: 'api-headless.backend', kind: 'http' },
];

export async function connectivityMatrix(lab: LabRun, opts: { timeoutMs?: number } = {}): Promise<Matrix> {
  const pods = lab.cluster.pods;
  const policies = await loadPolicies(lab);
  const timeoutMs = opts.timeoutMs ?? 1500;
  const torNs = lab.hostNetns('tor');
  const rows = await Promise.all(
    pods.map(async (src) => {
      const targets = pods.filter((p) => p.name !== src.name);
      const specs: ProbeSpec[] = [
        ...targets.map((t): ProbeSpec => ({ kind: 'http', target: t.ip, timeoutMs })),
        ...SERVICE_PROBES.map((s): ProbeSpec => (s.kind === 'dns' ? { kind: 'dns', name: s.name, timeoutMs: 3000 } : { kind: 'http', target: s.name, timeoutMs: 3000, ...(s.port ? { port: s.port } : {}) })),
      ];
      const res = await probeFrom(src.netns, specs);
      const cells = targets.map((t, i) => cellOf(src.name, src.ip, t, res[i]!, policies));
      const services = SERVICE_PROBES.map((s, i): ServiceCell => {
        const r = res[targets.length + i]!;
        return { from: src.name, name: s.name, kind: s.kind, ok: r.ok, detail: r.ok ? (s.kind === 'dns' ? (r.addresses ?? []).join(',') : `${r.pod ?? ''}`) : (r.error ?? 'failed') };
      });
      return { cells, services };
    }),
  );
  const torRes = await probeFrom(torNs, pods.map((t) => ({ kind: 'http', target: t.ip, timeoutMs })));
  const tor = pods.map((t, i) => cellOf('tor', lab.state.hosts.find((h) => h.name === 'tor')?.fabricIp, t, torRes[i]!, policies));
  const dig = await runIn(torNs, 'dig', ['+short', '+time=1', '+tries=2', `@${CLUSTER_DNS_IP}`, 'api.backend.svc.cluster.local', 'A'], { allowFail: true, timeoutMs: 10_000 });
  const answer = dig.stdout.trim();
  return { pods: rows.flatMap((r) => r.cells), services: rows.flatMap((r) => r.services), tor, torDns: { ok: dig.code === 0 && answer !== '', answer } };
}

const mark = (c: Cell | undefined): string => {
  if (!c) return '-';
  switch (c.verdict) {
    case 'ok':
      return 'ok';
    case 'nat':
      return `NAT(${c.detail})`;
    case 'denied':
      return `denied:${c.detail.split(',').map((p) => p.split('/')[1]).join(',')}`;
    case 'fail':
      return 'FAIL';
    default: {
      const never: never = c.verdict;
      return never;
    }
  }
};

function grid(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function formatMatrix(m: Matrix, pods: readonly PodRecord[]): string[] {
  const names = pods.map((p) => p.name);
  const head = ['FROM \\ TO', ...names];
  const rows: string[][] = [head];
  for (const from of names) rows.push([from, ...names.map((to) => (to === from ? '.' : mark(m.pods.find((c) => c.from === from && c.to === to))))]);
  rows.push(['tor', ...names.map((to) => mark(m.tor.find((c) => c.to === to)))]);
  const lines = ['pod → pod (HTTP to the echo server; ok = answered and saw the client pod\'s own IP, no NAT)', ...grid(rows), ''];
  const denied = [...m.pods, ...m.tor].filter((c) => c.verdict === 'denied');
  for (const c of denied) lines.push(`  ${c.from} → ${c.to}: denied by NetworkPolicy ${c.detail}`);
  const fails = [...m.pods, ...m.tor].filter((c) => c.verdict === 'fail' || c.verdict === 'nat');
  for (const c of fails) lines.push(`  ${c.from} → ${c.to}: ${c.verdict === 'nat' ? `NAT: server saw ${c.detail}` : `FAILED: ${c.detail}`}`);
  if (denied.length || fails.length) lines.push('');
  const svcRows: string[][] = [['FROM', ...SERVICE_PROBES.map((s) => `${s.kind} ${s.name}${s.port ? `:${s.port}` : ''}`)]];
  for (const from of names) {
    svcRows.push([from, ...SERVICE_PROBES.map((s) => {
      const c = m.services.find((x) => x.from === from && x.name === s.name && x.kind === s.kind);
      if (!c) return '-';
      if (c.ok) return c.detail;
      const pod = pods.find((p) => p.name === from);
      return s.kind === 'http' && pod && m.pods.some((x) => x.from === from && x.verdict === 'denied') ? 'denied' : 'FAIL';
    })]);
  }
  lines.push('pod → service by DNS name (the pod\'s resolv.conf: cluster DNS, Kubernetes search path)', ...grid(svcRows), '');
  lines.push(`tor → cluster DNS ${CLUSTER_DNS_IP}: ${m.torDns.ok ? `api.backend.svc.cluster.local A ${m.torDns.answer.replace(/\n/g, ',')}` : 'FAIL'}`);
  return lines;
}
