#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1 --optimize-for-size --interrupt-budget=1000000
// tern-rrd: a BGP route reflector (RFC 4456) running the tern-bgpd engine with role reflector.
// No FIB: nothing consumes its best paths. Entry point only; the engine lives in src/bgp.
import { runBgpDaemon } from '../src/bgp/speaker/daemon.js';

await runBgpDaemon({
  name: 'tern-rrd',
  description: 'BGP route reflector for a Tern cluster',
  opsListen: '0.0.0.0:9181',
  role: 'reflector',
});
