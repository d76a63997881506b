// Table-driven answer tests in the CoreDNS style: {qname, qtype, rcode, answer, ns, extra}.
import { describe, expect, it } from 'vitest';
import Dns2 from 'dns2';
import { RRType, Rcode } from '../../src/dns/wire/index.js';
import { ask, buildEngine, rrText, sorted } from './helpers.js';

const Z = 'cluster.local.';
const SOA = `${Z} 5 SOA ns.dns.${Z} hostmaster.${Z} 1 7200 1800 86400 5`;
const SOA_V4 = `in-addr.arpa. 5 SOA ns.dns.${Z} hostmaster.${Z} 1 7200 1800 86400 5`;
const SOA_V6 = `ip6.arpa. 5 SOA ns.dns.${Z} hostmaster.${Z} 1 7200 1800 86400 5`;

interface Case {
  qname: string;
  qtype: number;
  rcode: number;
  answer?: string[];
  ns?: string[];
  extra?: string[];
  aa?: boolean;
}

function ip6arpa(hex32: string): string {
  return `${hex32.split('').reverse().join('.')}.ip6.arpa.`;
}

const S = (n: string): string => `${n}.ns1.svc.${Z}`;

const cases: Case[] = [
  // ClusterIP, dual stack
  { qname: S('svc1'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`${S('svc1')} 5 A 10.0.0.1`] },
  { qname: S('svc1'), qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: S('svc1'), qtype: 15, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: S('dual'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`${S('dual')} 5 A 10.0.0.2`] },
  { qname: S('dual'), qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`${S('dual')} 5 AAAA fd00::2`] },
  { qname: S('v6only'), qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`${S('v6only')} 5 AAAA fd00::3`] },
  { qname: S('v6only'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: S('dual'), qtype: RRType.ANY, rcode: Rcode.NOERROR, answer: [`${S('dual')} 5 A 10.0.0.2`, `${S('dual')} 5 AAAA fd00::2`] },
  // Headless: ready endpoints, merged over slices, deduplicated
  {
    qname: S('hdls'), qtype: RRType.A, rcode: Rcode.NOERROR,
    answer: [`${S('hdls')} 5 A 172.17.0.1`, `${S('hdls')} 5 A 172.17.0.2`, `${S('hdls')} 5 A 172.17.0.4`],
  },
  { qname: S('hdls'), qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`${S('hdls')} 5 AAAA fd00:1::5`] },
  { qname: `pod-a.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`pod-a.${S('hdls')} 5 A 172.17.0.1`] },
  { qname: `172-17-0-2.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`172-17-0-2.${S('hdls')} 5 A 172.17.0.2`] },
  { qname: `172-17-0-3.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `pod-e.${S('hdls')}`, qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`pod-e.${S('hdls')} 5 AAAA fd00:1::5`] },
  { qname: `pod-e.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `nobody.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `pod-a.${S('svc1')}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `x.pod-a.${S('hdls')}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  // publishNotReadyAddresses
  { qname: S('pnr'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`${S('pnr')} 5 A 172.17.1.1`, `${S('pnr')} 5 A 172.17.1.2`] },
  { qname: `etcd-0.${S('pnr')}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`etcd-0.${S('pnr')} 5 A 172.17.1.1`] },
  { qname: S('nohosts'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  // Negative answers and empty non-terminals
  { qname: S('missing'), qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `svc.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `ns1.svc.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `emptyns.svc.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `nons.svc.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `svc1.nons.svc.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `foo.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  // SRV
  {
    qname: `_http._tcp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR,
    answer: [`_http._tcp.${S('svc1')} 5 SRV 0 100 80 ${S('svc1')}`], extra: [`${S('svc1')} 5 A 10.0.0.1`],
  },
  {
    qname: `_dns._udp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR,
    answer: [`_dns._udp.${S('svc1')} 5 SRV 0 100 53 ${S('svc1')}`], extra: [`${S('svc1')} 5 A 10.0.0.1`],
  },
  {
    qname: `_http._tcp.${S('dual')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR,
    answer: [`_http._tcp.${S('dual')} 5 SRV 0 100 80 ${S('dual')}`], extra: [`${S('dual')} 5 A 10.0.0.2`, `${S('dual')} 5 AAAA fd00::2`],
  },
  { qname: `_http._tcp.${S('svc1')}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `_http._udp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `_nope._tcp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `_tcp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `_sctp.${S('svc1')}`, qtype: RRType.SRV, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  {
    qname: `_http._tcp.${S('hdls')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR,
    answer: [
      `_http._tcp.${S('hdls')} 5 SRV 0 25 8080 pod-a.${S('hdls')}`,
      `_http._tcp.${S('hdls')} 5 SRV 0 25 8080 172-17-0-2.${S('hdls')}`,
      `_http._tcp.${S('hdls')} 5 SRV 0 25 8080 pod-d.${S('hdls')}`,
      `_http._tcp.${S('hdls')} 5 SRV 0 25 8080 pod-e.${S('hdls')}`,
    ],
    extra: [
      `pod-a.${S('hdls')} 5 A 172.17.0.1`, `172-17-0-2.${S('hdls')} 5 A 172.17.0.2`,
      `pod-d.${S('hdls')} 5 A 172.17.0.4`, `pod-e.${S('hdls')} 5 AAAA fd00:1::5`,
    ],
  },
  {
    qname: `_peer._tcp.${S('pnr')}`, qtype: RRType.SRV, rcode: Rcode.NOERROR,
    answer: [`_peer._tcp.${S('pnr')} 5 SRV 0 50 2380 etcd-0.${S('pnr')}`, `_peer._tcp.${S('pnr')} 5 SRV 0 50 2380 etcd-1.${S('pnr')}`],
    extra: [`etcd-0.${S('pnr')} 5 A 172.17.1.1`, `etcd-1.${S('pnr')} 5 A 172.17.1.2`],
  },
  // PTR
  { qname: '1.0.0.10.in-addr.arpa.', qtype: RRType.PTR, rcode: Rcode.NOERROR, answer: [`1.0.0.10.in-addr.arpa. 5 PTR ${S('svc1')}`] },
  { qname: '2.0.0.10.in-addr.arpa.', qtype: RRType.PTR, rcode: Rcode.NOERROR, answer: [`2.0.0.10.in-addr.arpa. 5 PTR ${S('dual')}`] },
  {
    qname: ip6arpa('fd000000000000000000000000000002'), qtype: RRType.PTR, rcode: Rcode.NOERROR,
    answer: [`${ip6arpa('fd000000000000000000000000000002')} 5 PTR ${S('dual')}`],
  },
  {
    qname: ip6arpa('fd000001000000000000000000000005'), qtype: RRType.PTR, rcode: Rcode.NOERROR,
    answer: [`${ip6arpa('fd000001000000000000000000000005')} 5 PTR pod-e.${S('hdls')}`],
  },
  { qname: '1.0.17.172.in-addr.arpa.', qtype: RRType.PTR, rcode: Rcode.NOERROR, answer: [`1.0.17.172.in-addr.arpa. 5 PTR pod-a.${S('hdls')}`] },
  { qname: '2.0.17.172.in-addr.arpa.', qtype: RRType.PTR, rcode: Rcode.NOERROR, answer: [`2.0.17.172.in-addr.arpa. 5 PTR 172-17-0-2.${S('hdls')}`] },
  { qname: '3.0.17.172.in-addr.arpa.', qtype: RRType.PTR, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA_V4] },
  { qname: '1.0.0.10.in-addr.arpa.', qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA_V4] },
  { qname: ip6arpa('fd000000000000000000000000000009'), qtype: RRType.PTR, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA_V6] },
  // ExternalName
  { qname: S('ext'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`${S('ext')} 5 CNAME example.net.`] },
  { qname: S('ext'), qtype: RRType.CNAME, rcode: Rcode.NOERROR, answer: [`${S('ext')} 5 CNAME example.net.`] },
  { qname: S('extin'), qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`${S('extin')} 5 CNAME ${S('svc1')}`, `${S('svc1')} 5 A 10.0.0.1`] },
  { qname: S('extin'), qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`${S('extin')} 5 CNAME ${S('svc1')}`], ns: [SOA] },
  { qname: S('extgone'), qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [`${S('extgone')} 5 CNAME ${S('missing')}`], ns: [SOA] },
  // Zone records
  { qname: `dns-version.${Z}`, qtype: RRType.TXT, rcode: Rcode.NOERROR, answer: [`dns-version.${Z} 5 TXT "1.1.0"`] },
  { qname: `dns-version.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: Z, qtype: RRType.SOA, rcode: Rcode.NOERROR, answer: [SOA] },
  { qname: Z, qtype: RRType.NS, rcode: Rcode.NOERROR, answer: [`${Z} 5 NS ns.dns.${Z}`] },
  // Pods, verified mode
  { qname: `10-244-1-5.ns1.pod.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [`10-244-1-5.ns1.pod.${Z} 5 A 10.244.1.5`] },
  { qname: `fd00-244--5.ns1.pod.${Z}`, qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [`fd00-244--5.ns1.pod.${Z} 5 AAAA fd00:244::5`] },
  { qname: `10-244-1-5.ns1.pod.${Z}`, qtype: RRType.AAAA, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `10-244-1-6.ns1.pod.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `10-244-1-5.default.pod.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `not-an-ip.ns1.pod.${Z}`, qtype: RRType.A, rcode: Rcode.NXDOMAIN, answer: [], ns: [SOA] },
  { qname: `pod.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  { qname: `ns1.pod.${Z}`, qtype: RRType.A, rcode: Rcode.NOERROR, answer: [], ns: [SOA] },
  // Not ours, no upstream
  { qname: 'example.com.', qtype: RRType.A, rcode: Rcode.REFUSED, answer: [], aa: false },
];

describe('answers (pods verified)', () => {
  const { engine } = buildEngine({ pods: 'verified' });
  it.each(cases.map((c) => [`${c.qname} ${c.qtype}`, c] as const))('%s', async (_n, c) => {
    // Twice: the second answer comes from the cache and must be identical.
    for (let round = 0; round < 2; round++) {
      const m = await ask(engine, c.qname, c.qtype, { id: 4242 + round });
      expect(m.id).toBe(4242 + round);
      expect(m.qr).toBe(true);
      expect(m.rd).toBe(true);
      expect(m.rcode).toBe(c.rcode);
      expect(m.aa).toBe(c.aa ?? true);
      expect(m.questions).toEqual([{ name: c.qname, type: c.qtype, class: 1 }]);
      expect(sorted(m.answers.map(rrText))).toEqual(sorted(c.answer ?? []));
      expect(sorted(m.authorities.map(rrText))).toEqual(sorted(c.ns ?? []));
      expect(sorted(m.additionals.map(rrText))).toEqual(sorted(c.extra ?? []));
      expect(m.opt).toBeUndefined();
    }
  });
});

describe('pod modes', () => {
  it('insecure answers any well-formed address, disabled answers none', async () => {
    const ins = buildEngine({ pods: 'insecure' }).engine;
    const m = await ask(ins, `10-244-1-6.ns1.pod.${Z}`, RRType.A);
    expect(m.answers.map(rrText)).toEqual([`10-244-1-6.ns1.pod.${Z} 5 A 10.244.1.6`]);
    expect((await ask(ins, `300-1-1-1.ns1.pod.${Z}`, RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
    const dis = buildEngine({ pods: 'disabled' }).engine;
    for (const n of [`10-244-1-5.ns1.pod.${Z}`, `ns1.pod.${Z}`, `pod.${Z}`]) {
      const d = await ask(dis, n, RRType.A);
      expect(d.rcode).toBe(Rcode.NXDOMAIN);
      expect(d.authorities.map(rrText)).toEqual([SOA]);
    }
  });
});

describe('names', () => {
  it('matches case-insensitively and echoes the question case', async () => {
    const { engine } = buildEngine();
    const qn = 'SVC1.Ns1.SVC.cluster.LOCAL.';
    const m = await ask(engine, qn, RRType.A);
    expect(m.questions[0]!.name).toBe(qn);
    expect(m.answers.map(rrText)).toEqual([`${qn} 5 A 10.0.0.1`]);
    // Cached under the lowercase key, the next question still gets its own case back.
    const m2 = await ask(engine, 'svc1.NS1.svc.cluster.local.', RRType.A);
    expect(m2.answers.map(rrText)).toEqual(['svc1.NS1.svc.cluster.local. 5 A 10.0.0.1']);
  });

  it('serves several zones, with configurable TTLs', async () => {
    const { engine } = buildEngine({ zones: ['cluster.local', 'corp.internal'], ttl: 30, negativeTtl: 7 });
    const m = await ask(engine, 'svc1.ns1.svc.corp.internal.', RRType.A);
    expect(m.answers.map(rrText)).toEqual(['svc1.ns1.svc.corp.internal. 30 A 10.0.0.1']);
    const n = await ask(engine, 'nope.ns1.svc.corp.internal.', RRType.A);
    expect(n.rcode).toBe(Rcode.NXDOMAIN);
    expect(n.authorities.map(rrText)).toEqual(['corp.internal. 7 SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 7']);
  });

  it('answers SERVFAIL for zone names until the index is synced', async () => {
    const { index, engine } = buildEngine({}, undefined, false);
    expect((await ask(engine, S('svc1'), RRType.A)).rcode).toBe(Rcode.SERVFAIL);
    expect((await ask(engine, '1.0.0.10.in-addr.arpa.', RRType.PTR)).rcode).toBe(Rcode.SERVFAIL);
    expect((await ask(engine, 'example.com.', RRType.A)).rcode).toBe(Rcode.REFUSED);
    index.markSynced();
    expect((await ask(engine, S('svc1'), RRType.A)).answers.map(rrText)).toEqual([`${S('svc1')} 5 A 10.0.0.1`]);
  });
});

describe('cross-check with dns2', () => {
  it('dns2 decodes the same records from our bytes', async () => {
    const { engine } = buildEngine();
    const { encodeQuery } = await import('../../src/dns/wire/index.js');
    const res = (await engine.handle(encodeQuery(`_http._tcp.${S('hdls')}`, RRType.SRV), 'udp')) as Buffer;
    const p = Dns2.Packet.parse(res);
    expect(p.header.aa).toBe(1);
    expect(p.answers.length).toBe(4);
    expect(p.answers.map((a) => (a as { target?: string }).target).sort()).toEqual(
      [`pod-a.${S('hdls')}`, `172-17-0-2.${S('hdls')}`, `pod-d.${S('hdls')}`, `pod-e.${S('hdls')}`].map((x) => x.slice(0, -1)).sort(),
    );
    expect(p.additionals.length).toBe(4);
    const nx = Dns2.Packet.parse((await engine.handle(encodeQuery(S('missing'), RRType.A), 'udp')) as Buffer);
    expect(nx.header.rcode).toBe(Rcode.NXDOMAIN);
    expect(nx.authorities[0]!.type).toBe(RRType.SOA);
  });
});
