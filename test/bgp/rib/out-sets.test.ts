// The encoded outgoing attribute sets are one table for the whole RIB: a reflector with many
// clients encodes each reflected attribute set once, not once per client, and a set leaves the
// table when the last peer advertising it is gone.
import { describe, expect, it } from 'vitest';
import { formatPrefix, makeContext } from '../../../src/bgp/wire/index.js';
import { parsePolicies } from '../../../src/bgp/policy/index.js';
import { announce, attr, attrs, drain, ebgp, feed, ibgp, rib, withdraw } from './helpers.js';

const CLUSTER = 0x0aff0001;
const CLIENTS = 6;

function reflector() {
  const r = rib({ role: 'reflector', clusterId: CLUSTER });
  for (let id = 1; id <= CLIENTS; id++) r.peerUp(ibgp(id, { routeReflectorClient: true }), () => {});
  for (let id = 1; id <= CLIENTS; id++) drain(r, id);
  return r;
}

describe('outgoing attribute sets shared by peers', () => {
  it('one set per reflected route source, whatever the number of clients', () => {
    const r = reflector();
    for (let id = 1; id <= CLIENTS; id++) feed(r, id, announce([`10.${id}.0.0/24`], attrs({ nextHop: `192.0.2.${id}` })));
    for (let id = 1; id <= CLIENTS; id++) {
      const got = drain(r, id).announced;
      expect(got.size).toBe(CLIENTS - 1);
      for (const [p, a] of got) {
        const src = Number(p.split('.')[1]);
        expect(attr(a, 'ORIGINATOR_ID')?.originatorId).toBe(`10.9.0.${src}`);
        expect(attr(a, 'NEXT_HOP')?.nextHop).toBe(`192.0.2.${src}`);
      }
    }
    // Each source's route reaches CLIENTS - 1 clients with the same bytes: one set each.
    expect(r.stats().outSets).toBe(CLIENTS);
  });

  it('a peer with another AS number width gets its own encoding', () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER });
    const two = makeContext({ as4: false });
    r.peerUp(ibgp(1, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(2, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(3, { routeReflectorClient: true, sendCtx: two, receiveCtx: two }), () => {});
    for (const id of [1, 2, 3]) drain(r, id, id === 3 ? two : undefined);
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ asPath: [65010, 70000] })));
    const to2 = drain(r, 2).announced.get('10.1.0.0/24');
    const to3 = drain(r, 3, two).announced.get('10.1.0.0/24');
    expect(attr(to2, 'AS_PATH')?.segments[0]?.asns).toEqual([65010, 70000]);
    // RFC 6793 §4.2.2: AS_TRANS in AS_PATH towards a 2-octet speaker.
    expect(attr(to3, 'AS_PATH')?.segments[0]?.asns).toEqual([65010, 23456]);
    expect(r.stats().outSets).toBe(2);
  });

  it('sets are released when routes are withdrawn and when peers go down', () => {
    const r = reflector();
    for (let id = 1; id <= CLIENTS; id++) feed(r, id, announce([`10.${id}.0.0/24`], attrs({ nextHop: `192.0.2.${id}` })));
    for (let id = 1; id <= CLIENTS; id++) drain(r, id);
    expect(r.stats().outSets).toBe(CLIENTS);
    feed(r, 1, withdraw(['10.1.0.0/24']));
    for (let id = 1; id <= CLIENTS; id++) drain(r, id);
    expect(r.stats().outSets).toBe(CLIENTS - 1);
    // Peers 2..CLIENTS go down: their own routes leave, and so do the sets they were sent.
    for (let id = 2; id <= CLIENTS; id++) r.peerDown(id, { keepStale: false, staleTimeMs: 0 });
    drain(r, 1);
    expect(r.stats().outSets).toBe(0);
  });

  it('a route that changes set before its UPDATE left goes out once, with the newest attributes', () => {
    const r = reflector();
    // Two changes of the same prefix before client 2 drains: the first set is then used by no
    // peer and leaves the table; a third set from another client comes in after it.
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ med: 10 })));
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ med: 20 })));
    feed(r, 3, announce(['10.3.0.0/24'], attrs({ med: 30 })));
    const d = drain(r, 2);
    expect(attr(d.announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(20);
    expect(attr(d.announced.get('10.3.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(30);
    expect(d.msgs.filter((u) => u.nlri.some((p) => formatPrefix(p) === '10.1.0.0/24')).length).toBe(1);
  });
});

describe('export classes: peers that get the same attributes share export results', () => {
  const MED = [{ name: 'med', default: 'accept', terms: [{ then: { med: 77 } }] }];
  const settings = { importPolicies: [], exportPolicies: [], maxPrefixes: 0, routeReflectorClient: true, nextHopSelf: false };

  it('clients form one class; a non-client, an eBGP peer and a peer with a policy each their own', () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER, policyConfig: MED });
    for (let id = 1; id <= 4; id++) r.peerUp(ibgp(id, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(5), () => {});
    r.peerUp(ebgp(6, { exportPolicies: ['med'] }), () => {});
    r.peerUp(ibgp(7, { routeReflectorClient: true, exportPolicies: ['med'] }), () => {});
    expect(r.stats().exportClasses).toBe(4);
    for (let id = 1; id <= 7; id++) drain(r, id);
    feed(r, 1, announce(['10.1.0.0/24'], attrs({ nextHop: '192.0.2.1' })));
    for (const id of [2, 3, 4]) expect(attr(drain(r, id).announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')).toBeUndefined();
    expect(attr(drain(r, 7).announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(77);
    const toEbgp = drain(r, 6).announced.get('10.1.0.0/24');
    expect(attr(toEbgp, 'MULTI_EXIT_DISC')?.med).toBe(77);
    expect(attr(toEbgp, 'ORIGINATOR_ID')).toBeUndefined();
    expect(attr(drain(r, 5).announced.get('10.1.0.0/24'), 'CLUSTER_LIST')?.clusterIds).toEqual(['10.255.0.1']);
  });

  it('a client that gets an export policy leaves the shared class, and comes back without it', () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER, policyConfig: MED });
    for (let id = 1; id <= 3; id++) r.peerUp(ibgp(id, { routeReflectorClient: true }), () => {});
    for (let id = 1; id <= 3; id++) drain(r, id);
    feed(r, 1, announce(['10.1.0.0/24'], attrs()));
    for (const id of [2, 3]) drain(r, id);
    r.configurePeer(3, { ...settings, exportPolicies: ['med'] });
    expect(r.stats().exportClasses).toBe(2);
    expect(attr(drain(r, 3).announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(77);
    expect(drain(r, 2).announced.size).toBe(0);
    r.configurePeer(3, settings);
    expect(r.stats().exportClasses).toBe(1);
    expect(attr(drain(r, 3).announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')).toBeUndefined();
  });

  it('a reload that gives a client a policy takes it out of the class', () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER, policyConfig: MED });
    r.peerUp(ibgp(1, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(2, { routeReflectorClient: true }), () => {});
    r.peerUp(ibgp(3, { routeReflectorClient: true, exportPolicies: ['med2'] }), () => {});
    for (let id = 1; id <= 3; id++) drain(r, id);
    feed(r, 1, announce(['10.1.0.0/24'], attrs()));
    for (const id of [2, 3]) drain(r, id);
    // 'med2' did not exist: peer 3 rejected everything; now it exists and sets MED 5.
    r.setPolicies(parsePolicies([...MED, { name: 'med2', default: 'accept', terms: [{ then: { med: 5 } }] }]), new Set(['med2']));
    expect(attr(drain(r, 3).announced.get('10.1.0.0/24'), 'MULTI_EXIT_DISC')?.med).toBe(5);
    expect(drain(r, 2).announced.size).toBe(0);
  });

  it('the last peer of a class going down releases the results cached for it', () => {
    const r = rib({ role: 'reflector', clusterId: CLUSTER });
    r.peerUp(ebgp(9), () => {});
    for (let id = 1; id <= 3; id++) r.peerUp(ibgp(id, { routeReflectorClient: true }), () => {});
    expect(r.stats().exportClasses).toBe(2);
    feed(r, 9, announce(['10.9.0.0/24'], attrs({ asPath: [65109] })));
    for (let id = 1; id <= 3; id++) expect(drain(r, id).announced.has('10.9.0.0/24')).toBe(true);
    expect(r.stats().outSets).toBe(1);
    r.peerDown(1, { keepStale: false, staleTimeMs: 0 });
    r.peerDown(2, { keepStale: false, staleTimeMs: 0 });
    expect(r.stats().outSets).toBe(1); // peer 3 still has it
    r.peerDown(3, { keepStale: false, staleTimeMs: 0 });
    expect(r.stats().exportClasses).toBe(1);
    expect(r.stats().outSets).toBe(0);
    // The route itself stays, and a new client is sent it again.
    r.peerUp(ibgp(4, { routeReflectorClient: true }), () => {});
    expect(attr(drain(r, 4).announced.get('10.9.0.0/24'), 'AS_PATH')?.segments[0]?.asns).toEqual([65109]);
  });
});
