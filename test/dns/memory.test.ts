// Heap cost of the index at the scale: 10,000 services and 50,000 endpoints. Events
// are generated and applied in chunks so only what the index keeps stays on the heap, and go
// through JSON as they do when the watch decodes etcd values.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DnsEngine } from '../../src/dns/answer/index.js';
import { DnsIndex } from '../../src/dns/index/index.js';
import { RRType, encodeQuery } from '../../src/dns/wire/index.js';
import type { IndexEvent } from '../../src/dns/index/index.js';
import { scaleService, scaleSlice } from './fixtures.js';

const viaJson = (e: IndexEvent): IndexEvent => (e.type === 'put' ? { ...e, obj: JSON.parse(JSON.stringify(e.obj)) as unknown } : e);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const SERVICES = 10_000;
const EPS_PER_SERVICE = 5;

describe('index memory', () => {
  it('stays under 1 KB per service and per endpoint', () => {
    const index = new DnsIndex();
    const base = heap();
    for (let i = 0; i < SERVICES; i += 500) {
      index.applyBatch(Array.from({ length: 500 }, (_, k) => viaJson(scaleService(i + k))));
    }
    const afterServices = heap();
    for (let i = 0; i < SERVICES; i += 500) {
      index.applyBatch(Array.from({ length: 500 }, (_, k) => viaJson(scaleSlice(i + k, EPS_PER_SERVICE))));
    }
    const afterEndpoints = heap();
    index.markSynced();
    const st = index.stats();
    expect(st.services).toBe(SERVICES);
    expect(st.endpoints).toBe(SERVICES * EPS_PER_SERVICE);
    const perService = (afterServices - base) / SERVICES;
    const perEndpoint = (afterEndpoints - afterServices) / st.endpoints;

    // Answer cache warmed with one A answer per service (what a busy cluster holds).
    const engine = new DnsEngine(index, {});
    for (let i = 0; i < SERVICES; i++) engine.handle(encodeQuery(`service-${i}.team-${i % 100}.svc.cluster.local.`, RRType.A), 'udp');
    const afterCache = heap();
    const perCached = (afterCache - afterEndpoints) / engine.stats().cacheEntries;
    console.log(`dns index heap: ${perService.toFixed(0)} B/service, ${perEndpoint.toFixed(0)} B/endpoint, ${perCached.toFixed(0)} B/cached answer`);
    expect(perService).toBeLessThan(1024);
    expect(perEndpoint).toBeLessThan(1024);
    expect(perService).toBeGreaterThan(0);
  });
});
