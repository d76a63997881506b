#!/usr/bin/env -S node --single-threaded
// tern-bgpd: the node's BGP speaker (standalone from YAML, or driven by tern-agentd over gRPC).
// Entry point only; the engine lives in src/bgp (speaker: src/bgp/speaker).
import { runBgpDaemon } from '../src/bgp/speaker/daemon.js';

await runBgpDaemon({
  name: 'tern-bgpd',
  description: 'BGP speaker of a Tern node (standalone from YAML, or driven by tern-agentd over gRPC)',
  opsListen: '0.0.0.0:9180',
  role: 'speaker',
  warmUp: true,
  reserveFullTable: true,
});
