// Loads proto/ at run time with @grpc/proto-loader. The options here must match
// scripts/gen-proto.sh, which generates the TypeScript types in ./gen from the same files.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AgentProto } from './gen/agent.js';
import type { ProtoGrpcType as BgpProto } from './gen/bgp.js';
import type { ProtoGrpcType as DnsProto } from './gen/dns.js';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The project root (where package.json names "tern"), found from this file in src/ or dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tern') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (package.json of "tern")');
    dir = up;
  }
}

export const protoDir = (): string => join(projectRoot(), 'proto');

function load<T>(file: string): T {
  const def = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return grpc.loadPackageDefinition(def) as unknown as T;
}

let bgp: BgpProto | undefined;
let agent: AgentProto | undefined;
let dns: DnsProto | undefined;

export const bgpProto = (): BgpProto => (bgp ??= load<BgpProto>('tern/bgp/v1/bgp.proto'));
export const agentProto = (): AgentProto => (agent ??= load<AgentProto>('tern/agent/v1/agent.proto'));
export const dnsProto = (): DnsProto => (dns ??= load<DnsProto>('tern/dns/v1/dns.proto'));
