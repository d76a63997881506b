// Runs one HTTP phase from inside a network namespace (`ip netns exec NS node probe.js ...`):
// a daemon whose ops endpoint listens on the namespace's loopback is reachable only from there.
// Prints one JSON line: { health: <status of GET /health after the phase>, counts }.
import { httpPhase } from './attacks.js';
import { Rng } from './generators.js';
import { httpGet } from './harness.js';

export interface ProbeResult {
  healthBefore: number;
  health: number;
  counts: Record<string, number>;
}

async function main(): Promise<void> {
  const [ops, n, seed] = process.argv.slice(2);
  if (!ops) {
    process.stderr.write('usage: probe.js HOST:PORT [N] [SEED]\n');
    process.exit(2);
  }
  const healthBefore = await httpGet(ops, '/health').catch(() => 0);
  const counts = await httpPhase(ops, new Rng(Number(seed ?? 1)), Number(n ?? 0), 16);
  const health = await httpGet(ops, '/health').catch(() => 0);
  process.stdout.write(`${JSON.stringify({ healthBefore, health, counts } satisfies ProbeResult)}\n`);
}

await main();
