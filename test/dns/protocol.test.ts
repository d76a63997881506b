// Message-level behaviour of the engine: EDNS, truncation, error rcodes, invalidation, upstream.
import { describe, expect, it } from 'vitest';
import { RRType, Rcode, encodeQuery, parseQuery, newParsedQuery, QueryStatus } from '../../src/dns/wire/index.js';
import { ask, buildEngine, decodeOk, rrText } from './helpers.js';
import { pod, service, slice } from './fixtures.js';

const S = (n: string): string => `${n}.ns1.svc.cluster.local.`;

describe('query parsing', () => {
  it('reads an annotated query', () => {
    const q = Buffer.from([
      0xbe, 0xef, // ID
      0x01, 0x00, // flags: RD
      0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // QD=1 AN=0 NS=0 AR=1
      0x01, 0x61, 0x02, 0x6e, 0x73, 0x00, // "a.ns."
      0x00, 0x1c, 0x00, 0x01, // AAAA IN
      0x00, 0x00, 0x29, 0x04, 0xd0, // OPT, root owner, UDP size 1232
      0x00, 0x00, 0x80, 0x00, // ext-rcode 0, version 0, DO
      0x00, 0x08, 0xfd, 0xe9, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, // one unknown option (65001)
    ]);
    const p = newParsedQuery();
    expect(parseQuery(q, q.length, p)).toBe(QueryStatus.OK);
    expect(p).toMatchObject({ id: 0xbeef, qtype: 28, qclass: 1, qnameEnd: 18, questionEnd: 22, edns: true, udpSize: 1232, dnssecOk: true, ednsVersion: 0 });
    // Every truncation of it is malformed or (header only) unanswerable, never OK.
    for (let i = 0; i < q.length; i++) expect(parseQuery(q, i, p)).not.toBe(QueryStatus.OK);
  });
});

describe('protocol', () => {
  const { engine } = buildEngine();

  it('FORMERR for QDCOUNT != 1, echoing no question', async () => {
    for (const qd of [0, 2]) {
      const q = encodeQuery(S('svc1'), RRType.A);
      q.writeUInt16BE(qd, 4);
      const m = decodeOk((await engine.handle(q, 'udp'))!);
      expect(m.rcode).toBe(Rcode.FORMERR);
      expect(m.questions).toEqual([]);
      expect(m.id).toBe(0x1234);
    }
  });

  it('drops what has no readable header, and responses', async () => {
    expect(engine.handle(Buffer.alloc(11), 'udp')).toBeNull();
    const q = encodeQuery(S('svc1'), RRType.A);
    q[2]! |= 0x80;
    expect(engine.handle(q, 'udp')).toBeNull();
  });

  it('NOTIMP for other opcodes, REFUSED for zone transfers and other classes', async () => {
    for (const opcode of [1, 2, 4, 5, 15]) {
      const q = encodeQuery(S('svc1'), RRType.A);
      q[2] = (q[2]! & 0x87) | (opcode << 3);
      const m = decodeOk((await engine.handle(q, 'udp'))!);
      expect(m.rcode).toBe(Rcode.NOTIMP);
      expect(m.opcode).toBe(opcode);
    }
    expect((await ask(engine, 'cluster.local.', RRType.AXFR)).rcode).toBe(Rcode.REFUSED);
    expect((await ask(engine, 'cluster.local.', RRType.IXFR, { transport: 'tcp' })).rcode).toBe(Rcode.REFUSED);
    const ch = encodeQuery('version.bind.', RRType.TXT);
    ch.writeUInt16BE(3, ch.length - 2);
    expect(decodeOk((await engine.handle(ch, 'udp'))!).rcode).toBe(Rcode.REFUSED);
  });

  it('malformed messages with a readable header get FORMERR', async () => {
    const bad = [
      Buffer.concat([encodeQuery(S('svc1'), RRType.A).subarray(0, 20)]), // question cut
      (() => { const q = encodeQuery(S('svc1'), RRType.A); q[12] = 0xc0; return q; })(), // pointer in qname
      (() => { const q = encodeQuery(S('svc1'), RRType.A); q.writeUInt16BE(1, 10); return q; })(), // AR=1, no record
      (() => { const q = encodeQuery(S('svc1'), RRType.A, { edns: {} }); q.writeUInt16BE(5, q.length - 2); return q; })(), // OPT rdlen past end
      (() => { const q = encodeQuery(S('svc1'), RRType.A, { edns: {} }); return Buffer.concat([q.subarray(0, 10), Buffer.from([0, 2]), q.subarray(12), q.subarray(q.length - 11)]); })(), // two OPTs
    ];
    for (const b of bad) {
      const r = await engine.handle(b, 'udp');
      expect(r).not.toBeNull();
      expect(decodeOk(r!).rcode).toBe(Rcode.FORMERR);
    }
  });

  it('EDNS: echoes OPT with our buffer size, DO echoed, unknown options and flags ignored', async () => {
    const plain = await ask(engine, S('svc1'), RRType.A);
    expect(plain.opt).toBeUndefined();
    const m = await ask(engine, S('svc1'), RRType.A, { edns: { udpSize: 4096, do: true, options: [{ code: 65001, data: Buffer.from('hi') }] } });
    expect(m.rcode).toBe(Rcode.NOERROR);
    expect(m.opt).toEqual({ udpSize: 1232, extRcode: 0, version: 0, do: true, flags: 0x8000, options: [] });
    expect(m.answers.map(rrText)).toEqual([`${S('svc1')} 5 A 10.0.0.1`]);
    const q = encodeQuery(S('svc1'), RRType.A, { edns: {} });
    q.writeUInt16BE(0x4000 | 0x0001, q.length - 4); // unknown EDNS flag bits set, DO clear
    const r = decodeOk((await engine.handle(q, 'udp'))!);
    expect(r.opt!.flags).toBe(0);
    expect(r.rcode).toBe(Rcode.NOERROR);
  });

  it('BADVERS for EDNS versions above 0', async () => {
    const m = await ask(engine, S('svc1'), RRType.A, { edns: { version: 1 } });
    expect(m.rcode).toBe(Rcode.BADVERS);
    expect(m.opt!.version).toBe(0);
    expect(m.opt!.extRcode).toBe(1);
    expect(m.answers).toEqual([]);
  });

  it('sets TC when the answer exceeds the client size, keeping question and OPT; TCP gets it all', async () => {
    const classic = await ask(engine, S('big'), RRType.A);
    expect(classic.tc).toBe(true);
    expect(classic.answers).toEqual([]);
    expect(classic.questions.length).toBe(1);
    const edns512 = await ask(engine, S('big'), RRType.A, { edns: { udpSize: 512 } });
    expect(edns512.tc).toBe(true);
    expect(edns512.opt).toBeDefined();
    const tcp = await ask(engine, S('big'), RRType.A, { transport: 'tcp' });
    expect(tcp.tc).toBe(false);
    expect(tcp.answers.length).toBe(100);
    // With a 4096-byte client buffer we still cap at our advertised 1232; 100 A records
    // (16 bytes each with the compressed owner) do not fit.
    const big = await ask(engine, S('big'), RRType.A, { edns: { udpSize: 4096 } });
    expect(big.tc).toBe(true);
    const small = await ask(engine, S('svc1'), RRType.A, { edns: { udpSize: 100 } });
    expect(small.tc).toBe(false); // sizes below 512 count as 512 (RFC 6891 §6.2.5)
  });

  it('compresses owner names to the question', async () => {
    const r = (await engine.handle(encodeQuery(S('svc1'), RRType.A), 'udp'))!;
    const qEnd = 12 + S('svc1').length + 1 + 4;
    expect(r.readUInt16BE(qEnd)).toBe(0xc00c);
    expect(r.length).toBe(qEnd + 16);
  });
});

describe('invalidation', () => {
  it('changes show up in the next answer, positive and negative', async () => {
    const { index, engine } = buildEngine({ pods: 'verified' });
    expect((await ask(engine, S('svc1'), RRType.A)).answers.map(rrText)).toEqual([`${S('svc1')} 5 A 10.0.0.1`]);
    expect((await ask(engine, S('late'), RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
    expect((await ask(engine, '9.9.0.10.in-addr.arpa.', RRType.PTR)).rcode).toBe(Rcode.NXDOMAIN);
    expect((await ask(engine, `10-244-9-9.ns1.pod.cluster.local.`, RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
    index.applyBatch([
      service('ns1', 'svc1', { clusterIP: '10.0.0.99', ports: [{ name: 'http', port: 80 }] }),
      service('ns1', 'late', { clusterIP: '10.0.9.9' }),
      pod('ns1', 'late-pod', ['10.244.9.9/32']),
    ]);
    expect((await ask(engine, S('svc1'), RRType.A)).answers.map(rrText)).toEqual([`${S('svc1')} 5 A 10.0.0.99`]);
    expect((await ask(engine, S('late'), RRType.A)).answers.map(rrText)).toEqual([`${S('late')} 5 A 10.0.9.9`]);
    expect((await ask(engine, '9.9.0.10.in-addr.arpa.', RRType.PTR)).answers.map(rrText)).toEqual([`9.9.0.10.in-addr.arpa. 5 PTR ${S('late')}`]);
    expect((await ask(engine, '1.0.0.10.in-addr.arpa.', RRType.PTR)).rcode).toBe(Rcode.NXDOMAIN);
    expect((await ask(engine, `10-244-9-9.ns1.pod.cluster.local.`, RRType.A)).rcode).toBe(Rcode.NOERROR);
    // ExternalName pointing at svc1 follows svc1's change too.
    expect((await ask(engine, S('extin'), RRType.A)).answers.map(rrText)).toContain(`${S('svc1')} 5 A 10.0.0.99`);

    index.applyBatch([
      { type: 'delete', kind: 'Service', namespace: 'ns1', name: 'late' },
      slice('ns1', 'hdls-a', 'hdls', [{ ip: '172.17.0.1', hostname: 'renamed' }], [{ name: 'http', port: 8080 }]),
      { type: 'delete', kind: 'EndpointSlice', namespace: 'ns1', name: 'hdls-b' },
      { type: 'delete', kind: 'WorkloadEndpoint', namespace: 'ns1', name: 'late-pod' },
    ]);
    expect((await ask(engine, S('late'), RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
    expect((await ask(engine, '9.9.0.10.in-addr.arpa.', RRType.PTR)).rcode).toBe(Rcode.NXDOMAIN);
    expect((await ask(engine, S('hdls'), RRType.A)).answers.map(rrText)).toEqual([`${S('hdls')} 5 A 172.17.0.1`]);
    expect((await ask(engine, '1.0.17.172.in-addr.arpa.', RRType.PTR)).answers.map(rrText)).toEqual([`1.0.17.172.in-addr.arpa. 5 PTR renamed.${S('hdls')}`]);
    expect((await ask(engine, `10-244-9-9.ns1.pod.cluster.local.`, RRType.A)).rcode).toBe(Rcode.NXDOMAIN);
  });

  it('only the changed service loses its cached answers', async () => {
    const { index, engine } = buildEngine();
    await ask(engine, S('svc1'), RRType.A);
    await ask(engine, S('dual'), RRType.A);
    const before = engine.stats();
    index.applyBatch([service('ns1', 'svc1', { clusterIP: '10.0.0.77' })]);
    await ask(engine, S('dual'), RRType.A);
    await ask(engine, S('svc1'), RRType.A);
    const after = engine.stats();
    expect(after.cacheHits - before.cacheHits).toBe(1);
    expect(after.cacheMisses - before.cacheMisses).toBe(1);
  });
});

describe('upstream', () => {
  it('forwards names outside the zones and relays the answer; SERVFAIL when it fails', async () => {
    const { engine } = buildEngine();
    const seen: Buffer[] = [];
    engine.setUpstream({
      resolve: async (q) => {
        seen.push(q);
        const r = Buffer.from(q);
        r[2] = 0x81;
        r[3] = 0x83; // QR RD RA NXDOMAIN
        return r;
      },
    });
    const m = await ask(engine, 'example.com.', RRType.A, { id: 77 });
    expect(seen.length).toBe(1);
    expect(m.rcode).toBe(Rcode.NXDOMAIN);
    expect(m.id).toBe(77);
    // Zone names never leave the server.
    await ask(engine, S('svc1'), RRType.A);
    expect(seen.length).toBe(1);
    // Reverse names the cluster does not own go upstream too.
    await ask(engine, '4.3.2.1.in-addr.arpa.', RRType.PTR);
    expect(seen.length).toBe(2);
    engine.setUpstream({ resolve: () => Promise.reject(new Error('down')) });
    expect((await ask(engine, 'example.com.', RRType.A)).rcode).toBe(Rcode.SERVFAIL);
    engine.setUpstream(undefined);
    expect((await ask(engine, 'example.com.', RRType.A)).rcode).toBe(Rcode.REFUSED);
  });
});
