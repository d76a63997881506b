import { expect } from 'vitest';
import { DnsEngine, type EngineOptions, type Transport } from '../../src/dns/answer/index.js';
import { DnsIndex, type IndexEvent } from '../../src/dns/index/index.js';
import { decodeMessage, encodeQuery, typeName, type DecodedMessage, type DecodedRR } from '../../src/dns/wire/index.js';
import { clusterFixture } from './fixtures.js';

export function rrText(r: DecodedRR): string {
  const head = `${r.name} ${r.ttl} ${typeName(r.type)}`;
  if (r.address !== undefined) return `${head} ${r.address}`;
  if (r.soa) {
    const s = r.soa;
    return `${head} ${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
  }
  if (r.port !== undefined) return `${head} ${r.priority} ${r.weight} ${r.port} ${r.target}`;
  if (r.target !== undefined) return `${head} ${r.target}`;
  if (r.strings) return `${head} ${r.strings.map((s) => `"${s}"`).join(' ')}`;
  return `${head} \\# ${r.raw.toString('hex')}`;
}

export function buildEngine(opts: Partial<EngineOptions> = {}, events: IndexEvent[] = clusterFixture(), synced = true): { index: DnsIndex; engine: DnsEngine } {
  const index = new DnsIndex();
  index.applyBatch(events);
  if (synced) index.markSynced();
  const engine = new DnsEngine(index, { serial: 1, ...opts });
  return { index, engine };
}

export function decodeOk(b: Buffer): DecodedMessage {
  const d = decodeMessage(b);
  if (!d.ok) throw new Error(`undecodable response: ${d.error} at ${d.offset}`);
  return d.msg;
}

export async function ask(
  engine: DnsEngine,
  qname: string,
  qtype: number,
  opts: Parameters<typeof encodeQuery>[2] & { transport?: Transport } = {},
): Promise<DecodedMessage> {
  const q = encodeQuery(qname, qtype, opts);
  const r = await engine.handle(q, opts.transport ?? 'udp');
  expect(r, `${qname}/${qtype} got no response`).not.toBeNull();
  return decodeOk(r!);
}

export const sorted = (x: string[]): string[] => [...x].sort();
