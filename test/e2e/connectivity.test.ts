// The whole lab end to end, connectivity: every pod reaches every other pod across nodes and
// the server sees the client pod's own address (no NAT); pods resolve services by DNS name
// through their resolv.conf; the ToR reaches every pod, learns the advertised service IPs
// and reaches the cluster DNS IP, a cluster IP, external and LoadBalancer IPs and node ports,
// with the client address each pod saw as externalTrafficPolicy Cluster/Local require; the
// NetworkPolicy allows and denies as declared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabRun } from '../../src/lab/cluster.js';
import { connectivityMatrix, formatMatrix, probeFrom, TOR_SERVICE_PROBES, type Matrix, type TorServiceCell } from '../../src/lab/matrix.js';
import { routes } from '../../src/lab/cluster.js';
import { runIn } from '../../src/lab/exec.js';
import { clusterReport } from '../../src/lab/cli.js';
import { digFrom, labName, startLab, stopLab, tern } from './helpers.js';

const name = labName('ec');
let lab: LabRun;
let m: Matrix;

beforeAll(async () => {
  lab = await startLab(name);
  m = await connectivityMatrix(lab);
}, 180_000);

afterAll(async () => {
  await stopLab(name);
}, 60_000);

describe('lab connectivity', () => {
  it('every pod reaches every other pod across nodes, seen with its own IP (no NAT), except where policy denies', () => {
    const pods = lab.cluster.pods;
    expect(pods.length).toBe(7);
    expect(new Set(pods.map((p) => p.node)).size).toBe(3);
    for (const c of m.pods) {
      const from = pods.find((p) => p.name === c.from)!;
      const to = pods.find((p) => p.name === c.to)!;
      if (from.namespace === 'guest' && to.namespace === 'backend') {
        expect(c.verdict, `${c.from} -> ${c.to}`).toBe('denied');
        expect(c.detail).toBe('backend/api-allow-frontend');
      } else {
        expect(c.verdict, `${c.from} -> ${c.to}: ${c.detail}`).toBe('ok');
        expect(c.detail).toBe(from.ip);
      }
    }
    // Pairs across nodes were really probed (not only node-local ones).
    expect(m.pods.filter((c) => c.verdict === 'ok' && pods.find((p) => p.name === c.from)!.node !== pods.find((p) => p.name === c.to)!.node).length).toBeGreaterThan(20);
  });

  it('pods resolve services by DNS name (search path and full name) and reach pods through the ClusterIP and a headless name', async () => {
    for (const s of m.services) {
      if (s.kind === 'dns' && s.name === 'api.backend') expect(s.detail, s.from).toBe('10.96.1.10');
      if (s.kind === 'dns' && s.name === 'web.frontend.svc.cluster.local') expect(s.detail, s.from).toBe('10.96.2.10');
      if (s.kind === 'http') {
        if (s.from === 'guest-1') expect(s.ok).toBe(false);
        else expect(s.detail, s.from).toMatch(/^api-\d$/);
      }
    }
    const web1 = lab.pod('web-1');
    const api = lab.cluster.pods.filter((p) => p.namespace === 'backend').map((p) => p.ip).sort();
    expect((await digFrom(web1.netns, 'api-headless.backend')).sort()).toEqual(api);
    expect(await digFrom(web1.netns, 'kube-dns.kube-system')).toEqual(['10.96.0.10']);
    const cname = await digFrom(web1.netns, 'db.backend.svc.cluster.local', 'CNAME');
    expect(cname).toEqual(['db.example.org.']);
  });

  it('the ToR reaches every pod, learns the advertised service IPs and reaches the cluster DNS', async () => {
    for (const c of m.tor) {
      expect(c.verdict, `tor -> ${c.to}: ${c.detail}`).toBe('ok');
      expect(c.detail).toBe('10.99.0.254');
    }
    const torRoutes = (await routes(lab.hostNetns('tor'), 'bird')).map((r) => r.dst);
    for (const p of ['10.96.0.0/12', '203.0.113.10', '192.0.2.10', '10.96.0.10']) expect(torRoutes).toContain(p);
    expect(m.torDns).toEqual({ ok: true, answer: '10.96.1.10' });
    // And the nodes learned the ToR's external prefix: a pod pings the ToR's address in it.
    const r = await runIn(lab.pod('web-2').netns, 'ping', ['-c', '1', '-W', '2', '198.51.100.1'], { allowFail: true });
    expect(r.code).toBe(0);
  });

  it('the ToR reaches a cluster IP, external and LB IPs and node ports; pods see the ToR (Local, or Cluster on the entry node) or the entry node (SNAT)', async () => {
    const torNs = lab.hostNetns('tor');
    const torIp = lab.state.hosts.find((h) => h.name === 'tor')!.fabricIp;
    const nodeIp = new Map(lab.cluster.nodes.map((n) => [n.name, n.fabricIp]));
    const podNode = new Map(lab.cluster.pods.map((p) => [p.name, p.node]));
    const web = lab.cluster.pods.filter((p) => p.labels.app === 'web').map((p) => p.name);
    // Kubernetes semantics, stated here independently of the matrix's own verdict.
    const check = (row: TorServiceCell, pod: string, client: string): 'local' | 'remote' => {
      const what = `${row.service} ${row.via} ${row.target} (entry ${row.entry}): ${pod} saw ${client}`;
      expect(web, what).toContain(pod);
      const local = podNode.get(pod) === row.entry;
      if (row.via === 'cluster-ip') expect(client, what).toBe(nodeIp.get(row.entry));
      else if (row.policy === 'Local') {
        expect(local, what).toBe(true);
        expect(client, what).toBe(torIp);
      } else expect(client, what).toBe(local ? torIp : nodeIp.get(row.entry));
      return local ? 'local' : 'remote';
    };

    expect(m.torServices.map((r) => `${r.service} ${r.via}`)).toEqual(TOR_SERVICE_PROBES.map((p) => `${p.service} ${p.via}`));
    const torRoutes = await routes(torNs, 'bird');
    const seen = new Set<string>();
    for (const r of m.torServices) {
      expect(r.verdict, `${r.service} ${r.via} ${r.target}: ${r.detail}`).toBe('ok');
      expect(r.attempts).toBeGreaterThan(0);
      expect(r.answers.length).toBe(r.attempts);
      const [ip, port] = r.target.split(':');
      if (r.via === 'node-port') {
        expect(ip).toBe(nodeIp.get(r.entry));
        expect(Number(port)).toBeGreaterThanOrEqual(30000);
      } else {
        // The entry node is the one the ToR learned the address from (service /32s, or the
        // advertised cluster range for a cluster IP).
        const dst = r.via === 'cluster-ip' ? '10.96.0.0/12' : ip!;
        const route = torRoutes.find((x) => x.dst === dst);
        expect(route, `tor route ${dst}`).toBeDefined();
        expect([route!.gateway, ...(route!.nexthops ?? []).map((h) => h.gateway)]).toContain(nodeIp.get(r.entry));
      }
      expect(r.policy).toBe(r.via === 'cluster-ip' ? '-' : r.service === 'frontend/web-local' ? 'Local' : 'Cluster');
      for (const a of r.answers) {
        const kind = check(r, a.pod, a.client);
        if (r.policy === 'Cluster') seen.add(kind);
      }
    }
    for (const ip of ['203.0.113.11', '192.0.2.11']) expect(torRoutes.map((x) => x.dst)).toContain(ip);

    // externalTrafficPolicy Cluster picks an endpoint at random per connection: open more
    // connections to the Cluster node port until both a node-local answer (client kept) and a
    // remote one (SNAT to the entry node) were checked.
    const np = m.torServices.find((r) => r.via === 'node-port' && r.policy === 'Cluster')!;
    const [npIp, npPort] = np.target.split(':');
    for (let round = 0; round < 5 && seen.size < 2; round++) {
      const res = await probeFrom(torNs, Array.from({ length: 10 }, () => ({ kind: 'http' as const, target: npIp!, port: Number(npPort), timeoutMs: 2000 })));
      for (const x of res) {
        expect(x.ok, x.error).toBe(true);
        seen.add(check(np, x.pod!, x.client!));
      }
    }
    expect([...seen].sort()).toEqual(['local', 'remote']);

    const text = formatMatrix(m, lab.cluster.pods).join('\n');
    expect(text).toContain('tor → service');
    expect(text).toMatch(/frontend\/web-local\s+LoadBalancer 192\.0\.2\.11:80\s+Local\s+node\d\s+ok\s+web-\d←tor/);
  });

  it('the NetworkPolicy: guest is denied while it exists and let in once it is deleted', async () => {
    const guest = lab.pod('guest-1');
    const api = lab.pod('api-1');
    const probe = async () => (await runIn(guest.netns, 'curl', ['-s', '-m', '1', `http://${api.ip}:8080/`], { allowFail: true })).code === 0;
    expect(await probe()).toBe(false);
    const pol = await tern(lab, ['get', 'networkpolicy', 'api-allow-frontend', '-n', 'backend', '-o', 'yaml']);
    expect(pol.code, pol.out).toBe(0);
    expect((await tern(lab, ['delete', 'networkpolicy', 'api-allow-frontend', '-n', 'backend'])).code).toBe(0);
    let allowed = false;
    for (let i = 0; i < 50 && !allowed; i++) allowed = await probe();
    expect(allowed).toBe(true);
  }, 60_000);

  it('tern lab status and the report show nodes, sessions, routes, pods, services', async () => {
    const lines = (await clusterReport(name, { matrix: false })).join('\n');
    for (const s of ['NODES', 'BGP SESSIONS', 'Established', 'ROUTES', 'blackhole', 'PODS', 'SERVICES', 'web-lb', 'kube-dns']) expect(lines).toContain(s);
    const r = await tern(lab, ['lab', 'status', '--name', name, '--no-matrix']);
    expect(r.out).toContain(`Tern lab "${name}" is healthy`);
    expect(r.code).toBe(0);
  }, 60_000);
});
