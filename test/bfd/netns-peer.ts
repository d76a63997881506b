// A BfdManager in its own process, for tests that run it inside a network namespace:
//   ip netns exec <ns> node dist/test/bfd/netns-peer.js '<json config>'
// Prints one JSON line per event on stdout: {"event":"ready"}, {"event":"state", ...transition},
// and {"event":"list", peers, stats} for each "list" line read on stdin. Exits when stdin closes
// (so it cannot outlive the test that spawned it) or on SIGTERM.
import { createInterface } from 'node:readline';
import { BfdManager, type BfdPeerOptions } from '../../src/bfd/manager.js';

interface Config {
  bind: string[];
  port?: number;
  peers: BfdPeerOptions[];
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const out = (o: object) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);

const m = new BfdManager({ bind: cfg.bind, ...(cfg.port !== undefined ? { port: cfg.port } : {}) });
m.on('state', (t) => out({ event: 'state', ...t }));

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await m.stop({ graceful: false }).catch(() => {});
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));

await m.start();
for (const p of cfg.peers) m.addPeer(p);
out({ event: 'ready', port: m.port });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'list') out({ event: 'list', peers: m.list(), stats: m.stats() });
});
rl.on('close', () => void stop(0));
