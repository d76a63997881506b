// `tern dns ...`: ask tern-dnsd over its gRPC socket.
//   tern dns stats [-o table|json]          queries, rcodes, cache, index sizes, synced
//   tern dns lookup NAME [TYPE] [-o ...]    run a query through the engine and say why it answered so
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { defaultSocket, grpcTarget, unary } from '../grpc/index.js';
import type { DnsClient } from '../proto/gen/tern/dns/v1/Dns.js';
import type { LookupResponse__Output } from '../proto/gen/tern/dns/v1/LookupResponse.js';
import type { Stats__Output } from '../proto/gen/tern/dns/v1/Stats.js';
import { dnsProto } from '../proto/load.js';
import type { CliStreams } from './ipam.js';

export function dnsCommand(streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  const err = streams.err ?? process.stderr;
  const socketOpt = () => new Option('--dnsd-socket <path>', 'tern-dnsd gRPC socket (or host:port)').default(defaultSocket('tern-dnsd'));
  const outputOpt = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');
  const withClient = async <T>(address: string, f: (c: DnsClient) => Promise<T>): Promise<T> => {
    const Ctor = dnsProto().tern.dns.v1.Dns;
    const c = new Ctor(grpcTarget(address), grpc.credentials.createInsecure()) as unknown as DnsClient;
    try {
      return await f(c);
    } finally {
      c.close();
    }
  };

  const cmd = new Command('dns')
    .description('cluster DNS (tern-dnsd): statistics and explained lookups')
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });

  cmd
    .command('stats')
    .description('queries, responses by rcode, cache hits and misses, index sizes')
    .addOption(socketOpt())
    .addOption(outputOpt())
    .action(async (o: { dnsdSocket: string; output: 'table' | 'json' }) => {
      const s = await withClient(o.dnsdSocket, (c) => unary<object, Stats__Output>(c.getStats.bind(c) as never, {}));
      if (o.output === 'json') {
        out.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['synced', String(s.synced)],
        ['queries', String(s.queries)],
        ...Object.entries(s.responsesByRcode).sort().map(([k, v]): [string, string] => [`  ${k}`, String(v)]),
        ['cache hits', String(s.cacheHits)],
        ['cache misses', String(s.cacheMisses)],
        ['services', String(s.services)],
        ['endpoints', String(s.endpoints)],
        ['pods', String(s.pods)],
      ];
      const w = Math.max(...rows.map((r) => r[0].length));
      out.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}\n`).join(''));
    });

  cmd
    .command('lookup')
    .description('resolve NAME (TYPE default A) through the engine and explain the answer')
    .argument('<name>')
    .argument('[type]', 'record type', 'A')
    .addOption(socketOpt())
    .addOption(outputOpt())
    .action(async (name: string, type: string, o: { dnsdSocket: string; output: 'table' | 'json' }) => {
      const r = await withClient(o.dnsdSocket, (c) => unary<object, LookupResponse__Output>(c.lookup.bind(c) as never, { name, type }));
      if (o.output === 'json') {
        out.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const lines = [`status: ${r.rcode}`, `why:    ${r.explanation}`];
      const section = (title: string, rrs: string[]) => {
        if (rrs.length) lines.push('', `;; ${title}`, ...rrs);
      };
      section('ANSWER', r.answers);
      section('AUTHORITY', r.authority);
      section('ADDITIONAL', r.additional);
      out.write(`${lines.join('\n')}\n`);
    });
  return cmd;
}
