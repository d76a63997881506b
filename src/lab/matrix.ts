// The live connectivity matrix: every pod probes every other pod (HTTP to the echo server,
// which reports the source address it saw: anything but the client pod's own IP is NAT),
// every pod resolves and reaches services by DNS name, the ToR reaches every pod and the DNS
// service IP, and the ToR reaches the service addresses the nodes advertise (a cluster IP in
// the advertised range, external and LoadBalancer IPs) and a node port, each answer checked
// against the source address the service proxy must leave the pod to see. A failed probe
// towards a pod that NetworkPolicies isolate is shown as denied by those policies' names; any
// other failure is a failure.
import { Keys } from '../datastore/keys.js';
import { connectEtcd } from '../datastore/client.js';
import { Store } from '../datastore/store.js';
import { matchLabelSelector } from '../resources/meta.js';
import type { Service } from '../resources/index.js';
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

/** How the ToR reaches a service: the address it dials. */
export type TorServiceVia = 'cluster-ip' | 'external-ip' | 'lb-ip' | 'node-port';

export interface TorServiceProbe {
  /** namespace/name */
  service: string;
  via: TorServiceVia;
  /** node-port: which of the lab's nodes (index) is dialled on its fabric address. */
  node?: number;
}

/**
 * What the ToR probes: a cluster IP (through the advertised 10.96.0.0/12), the external and
 * LoadBalancer IPs of an externalTrafficPolicy Cluster and a Local service, and node ports on
 * nodes other than the one the ToR routes service addresses to. Not the api ClusterIP: its
 * NetworkPolicy admits the ToR by address, which the masquerade of a non-pod source to a
 * cluster IP replaces by the entry node's (Kubernetes leaves policy after such NAT undefined).
 */
export const TOR_SERVICE_PROBES: readonly TorServiceProbe[] = [
  { service: 'frontend/web', via: 'cluster-ip' },
  { service: 'frontend/web-lb', via: 'external-ip' },
  { service: 'frontend/web-lb', via: 'lb-ip' },
  { service: 'frontend/web', via: 'node-port', node: 1 },
  { service: 'frontend/web-local', via: 'external-ip' },
  { service: 'frontend/web-local', via: 'lb-ip' },
  { service: 'frontend/web-local', via: 'node-port', node: 2 },
];

export interface TorAnswer {
  pod: string;
  /** The node the answering pod runs on. */
  node: string;
  /** The client address the pod saw. */
  client: string;
  /** That address by lab name: 'tor', a node's name, or the address itself. */
  seen: string;
  /** The client address it had to see; '' when no pod on that node may answer (Local, remote pod). */
  expected: string;
}

export interface TorServiceCell {
  service: string;
  via: TorServiceVia;
  /** address:port dialled. */
  target: string;
  /** externalTrafficPolicy; '-' for a cluster IP, where it does not apply. */
  policy: 'Cluster' | 'Local' | '-';
  /** The node the connection enters the cluster at: the ToR's next hop, or the node dialled. */
  entry: string;
  /** ok: every connection answered with the expected client address; source: one did not. */
  verdict: 'ok' | 'source' | 'fail';
  answers: TorAnswer[];
  /** Connections opened. */
  attempts: number;
  /** fail: the errors; source: the answers that saw the wrong client. */
  detail: string;
}

export interface Matrix {
  pods: Cell[];
  services: ServiceCell[];
  tor: Cell[];
  /** dig from the ToR to the DNS service IP. */
  torDns: { ok: boolean; answer: string };
  torServices: TorServiceCell[];
}

/**
 * The client address a pod answering the ToR must see, as kube-proxy behaves: a cluster IP
 * reached from outside the pod CIDRs is masqueraded to the entry node; externalTrafficPolicy
 * Local keeps the client's address and answers from the entry node's own pods only (undefined:
 * a remote pod answered, which Local forbids); Cluster keeps it when the pod is on the entry
 * node and SNATs to the entry node otherwise, so that the reply returns through the node that
 * did the DNAT.
 */
export function expectedClient(o: { via: TorServiceVia; policy: 'Cluster' | 'Local' | '-'; local: boolean; clientIp: string; entryIp: string }): string | undefined {
  if (o.via === 'cluster-ip') return o.entryIp;
  if (o.policy === 'Local') return o.local ? o.clientIp : undefined;
  return o.local ? o.clientIp : o.entryIp;
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

/** The cluster's Services, keyed namespace/name. */
export async function loadServices(lab: LabRun): Promise<Map<string, Service>> {
  const client = connectEtcd({ endpoints: [lab.etcd.unixEndpoint], dialTimeoutMs: 5000 });
  try {
    const { items } = await new Store(client, new Keys()).list('Service');
    return new Map(items.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s]));
  } finally {
    client.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ToR's next hop towards ip (`ip route get`); undefined while it has no route. */
async function torNextHop(torNs: string, ip: string): Promise<string | undefined> {
  const r = await runIn(torNs, 'ip', ['-j', 'route', 'get', ip], { allowFail: true, timeoutMs: 5000 });
  if (r.code !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as Array<{ gateway?: string }>)[0]?.gateway;
  } catch {
    return undefined;
  }
}

interface TorPlan {
  probe: TorServiceProbe;
  policy: TorServiceCell['policy'];
  ip: string;
  port: number;
  entry?: { name: string; fabricIp: string };
  error?: string;
}

function planTorProbe(p: TorServiceProbe, svc: Service | undefined, nodes: LabRun['cluster']['nodes']): TorPlan {
  const base = { probe: p, policy: '-' as TorServiceCell['policy'], ip: '', port: 0 };
  if (!svc) return { ...base, error: `no Service ${p.service}` };
  const sp = svc.spec.ports?.[0];
  if (!sp) return { ...base, error: `Service ${p.service} has no port` };
  const policy = p.via === 'cluster-ip' ? '-' : (svc.spec.externalTrafficPolicy ?? 'Cluster');
  switch (p.via) {
    case 'cluster-ip': {
      const ip = svc.spec.clusterIP;
      return ip && ip !== 'None' ? { ...base, policy, ip, port: sp.port } : { ...base, error: `Service ${p.service} has no cluster IP` };
    }
    case 'external-ip': {
      const ip = svc.spec.externalIPs?.[0];
      return ip ? { ...base, policy, ip, port: sp.port } : { ...base, error: `Service ${p.service} has no external IP` };
    }
    case 'lb-ip': {
      const ip = svc.spec.loadBalancerIP ?? svc.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
      return ip ? { ...base, policy, ip, port: sp.port } : { ...base, error: `Service ${p.service} has no LoadBalancer IP` };
    }
    case 'node-port': {
      const node = nodes[Math.min(p.node ?? 0, nodes.length - 1)];
      if (!node) return { ...base, error: 'the lab has no node' };
      if (!sp.nodePort) return { ...base, error: `Service ${p.service} has no node port` };
      return { ...base, policy, ip: node.fabricIp, port: sp.nodePort, entry: { name: node.name, fabricIp: node.fabricIp } };
    }
    default: {
      const never: never = p.via;
      return never;
    }
  }
}

/**
 * The ToR's service rows: each target dialled `tries` times at once (endpoint choice is
 * random per connection, so a Cluster service shows both a local and a remote answer). The
 * entry node is where the ToR's kernel routes the address; the ToR learns Local services'
 * addresses only once their EndpointSlices reached the agents, so a missing route is waited
 * for (routeWaitMs) before it counts as a failure.
 */
async function torServiceCells(lab: LabRun, torNs: string, torIp: string, tries: number, timeoutMs: number, routeWaitMs: number): Promise<TorServiceCell[]> {
  const c = lab.cluster;
  const services = await loadServices(lab);
  const plans = TOR_SERVICE_PROBES.map((p) => planTorProbe(p, services.get(p.service), c.nodes));
  const deadline = Date.now() + routeWaitMs;
  await Promise.all(
    plans.map(async (pl) => {
      if (pl.error || pl.entry) return;
      for (;;) {
        const gw = await torNextHop(torNs, pl.ip);
        const node = c.nodes.find((n) => n.fabricIp === gw);
        if (node) {
          pl.entry = { name: node.name, fabricIp: node.fabricIp };
          return;
        }
        if (Date.now() > deadline) {
          pl.error = gw ? `the ToR routes ${pl.ip} via ${gw}, not a node` : `the ToR has no route to ${pl.ip}`;
          return;
        }
        await sleep(200);
      }
    }),
  );
  const live = plans.filter((pl) => !pl.error);
  const specs = live.flatMap((pl) => Array.from({ length: tries }, (): ProbeSpec => ({ kind: 'http', target: pl.ip, port: pl.port, timeoutMs })));
  const res = specs.length ? await probeFrom(torNs, specs, timeoutMs + 15_000) : [];
  const seenAs = (ip: string): string => (ip === torIp ? 'tor' : (c.nodes.find((n) => n.fabricIp === ip)?.name ?? ip));
  return plans.map((pl): TorServiceCell => {
    const cell: TorServiceCell = { service: pl.probe.service, via: pl.probe.via, target: pl.ip ? `${pl.ip}:${pl.port}` : '-', policy: pl.policy, entry: pl.entry?.name ?? '-', verdict: 'fail', answers: [], attempts: 0, detail: pl.error ?? '' };
    if (pl.error || !pl.entry) return cell;
    const entry = pl.entry;
    const at = live.indexOf(pl) * tries;
    const rs = res.slice(at, at + tries);
    cell.attempts = tries;
    const errors = rs.filter((r) => !r.ok).map((r) => r.error ?? 'failed');
    for (const r of rs.filter((x) => x.ok)) {
      const pod = c.pods.find((p) => p.name === r.pod);
      const client = r.client ?? '';
      const expected = expectedClient({ via: pl.probe.via, policy: pl.policy, local: pod?.node === entry.name, clientIp: torIp, entryIp: entry.fabricIp }) ?? '';
      cell.answers.push({ pod: r.pod ?? '', node: pod?.node ?? '?', client, seen: seenAs(client), expected });
    }
    const wrong = cell.answers.filter((a) => a.client !== a.expected);
    if (errors.length) {
      cell.detail = [...new Set(errors)].join('; ');
    } else if (wrong.length) {
      cell.verdict = 'source';
      cell.detail = wrong.map((a) => `${a.pod} (${a.node}) saw ${a.client}, expected ${a.expected ? `${a.expected} (${seenAs(a.expected)})` : `no answer from ${a.node}`}`).join('; ');
    } else {
      cell.verdict = 'ok';
    }
    return cell;
  });
}

export async function connectivityMatrix(lab: LabRun, opts: { timeoutMs?: number; torTries?: number; routeWaitMs?: number } = {}): Promise<Matrix> {
  const pods = lab.cluster.pods;
  const policies = await loadPolicies(lab);
  const timeoutMs = opts.timeoutMs ?? 1500;
  const torNs = lab.hostNetns('tor');
  const torIp = lab.state.hosts.find((h) => h.name === 'tor')?.fabricIp ?? '';
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
  const [torRes, dig, torServices] = await Promise.all([
    probeFrom(torNs, pods.map((t) => ({ kind: 'http', target: t.ip, timeoutMs }))),
    runIn(torNs, 'dig', ['+short', '+time=1', '+tries=2', `@${CLUSTER_DNS_IP}`, 'api.backend.svc.cluster.local', 'A'], { allowFail: true, timeoutMs: 10_000 }),
    torServiceCells(lab, torNs, torIp, opts.torTries ?? 4, timeoutMs, opts.routeWaitMs ?? 10_000),
  ]);
  const tor = pods.map((t, i) => cellOf('tor', torIp || undefined, t, torRes[i]!, policies));
  const answer = dig.stdout.trim();
  return { pods: rows.flatMap((r) => r.cells), services: rows.flatMap((r) => r.services), tor, torDns: { ok: dig.code === 0 && answer !== '', answer }, torServices };
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
  if (m.torServices.length) lines.push('', ...formatTorServices(m.torServices));
  return lines;
}

const VIA_LABEL: Record<TorServiceVia, string> = { 'cluster-ip': 'ClusterIP', 'external-ip': 'externalIP', 'lb-ip': 'LoadBalancer', 'node-port': 'NodePort' };
const RESULT_LABEL: Record<TorServiceCell['verdict'], string> = { ok: 'ok', source: 'SOURCE', fail: 'FAIL' };

/** The ToR's service rows: the distinct answers as pod←client it saw (tor = kept, a node = NATed to it). */
export function formatTorServices(cells: readonly TorServiceCell[]): string[] {
  const tries = Math.max(0, ...cells.map((c) => c.attempts));
  const rows: string[][] = [['SERVICE', 'TARGET', 'POLICY', 'ENTRY', 'RESULT', 'ANSWERS (pod←client it saw)']];
  for (const c of cells) {
    const answers = [...new Set(c.answers.map((a) => `${a.pod}←${a.seen}`))].sort().join(' ');
    rows.push([c.service, `${VIA_LABEL[c.via]} ${c.target}`, c.policy, c.entry, RESULT_LABEL[c.verdict], answers || '-']);
  }
  const lines = [`tor → service (HTTP from the ToR, ${tries} connections each; ENTRY: the node the ToR routes the address to)`, ...grid(rows)];
  for (const c of cells.filter((x) => x.verdict !== 'ok')) lines.push(`  tor → ${c.service} ${VIA_LABEL[c.via]} ${c.target}: ${c.verdict === 'source' ? 'wrong client address: ' : 'FAILED: '}${c.detail}`);
  lines.push(
    '  client expected: ClusterIP from outside the pod CIDRs → the entry node (masqueraded); Cluster → the ToR when the pod',
    '  is on the entry node, else the entry node (SNAT, the reply must return through it); Local → the ToR, entry node\'s pods only',
  );
  return lines;
}
