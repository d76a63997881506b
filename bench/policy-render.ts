// Scale of the policy dataplane: a synthetic node with N local endpoints (plus remote ones
// filling the selector sets) and P policies. Measures calculation, rendering, the rule and
// set-element counts, and the time nft takes to load the full ruleset and two incremental
// transactions (a new remote pod; one edited policy) inside a lab network namespace.
// Usage: node dist/bench/policy-render.js [--endpoints 1000] [--policies 2000] [--remote 4000]
import { performance } from 'node:perf_hooks';
import { calculate, type PolicyInput } from '../src/agent/policy/calc.js';
import { closeNftRunners, nftRunner } from '../src/agent/nft/runner.js';
import { PolicyDataplane } from '../src/agent/policy/dataplane.js';
import type { DesiredState } from '../src/agent/policy/model.js';
import { nftApply } from '../src/agent/policy/nft.js';
import { buildTable, renderDiff, renderFull, ruleCount } from '../src/agent/policy/render.js';
import { Lab } from '../src/lab/netns.js';
import { NamespaceSchema, NetworkPolicySchema, WorkloadEndpointSchema, type NetworkPolicy, type WorkloadEndpoint } from '../src/resources/index.js';
import { endpointDoc, N_NS, policyDoc } from './world.js';
import { arg } from './args.js';

const N_LOCAL = arg('--endpoints', 1000);
const N_POL = arg('--policies', 2000);
const N_REMOTE = arg('--remote', 4000);
const N_NEW = arg('--new', 10);

const endpoint = (i: number, local: boolean): WorkloadEndpoint => WorkloadEndpointSchema.parse(endpointDoc(i, { local, dualStack: true }));
const policy = (j: number, variant = 0): NetworkPolicy => NetworkPolicySchema.parse(policyDoc(j, variant));

function ms(t0: number): string {
  return `${(performance.now() - t0).toFixed(0)} ms`;
}

async function main(): Promise<void> {
  const endpoints = [...Array.from({ length: N_LOCAL }, (_, i) => endpoint(i, true)), ...Array.from({ length: N_REMOTE }, (_, i) => endpoint(N_LOCAL + i, false))];
  const policies = Array.from({ length: N_POL }, (_, j) => policy(j));
  const namespaces = Array.from({ length: N_NS }, (_, i) => NamespaceSchema.parse({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}`, labels: { team: `t${i % 7}` } } }));
  const input: PolicyInput = { nodeName: 'bench', nodeIps: ['10.99.0.1', 'fd99::1'], namespaces, endpoints, policies };

  let t0 = performance.now();
  const state = calculate(input);
  const tCalc = ms(t0);
  t0 = performance.now();
  const { script } = renderFull(state);
  const tRender = ms(t0);
  const table = buildTable(state);
  const elements = state.sets.reduce((n, s) => n + s.elements.length, 0);
  const isolated = state.endpoints.length;

  const input2: PolicyInput = { ...input, endpoints: [...endpoints, endpoint(N_LOCAL + N_REMOTE, false)] };
  const state2 = calculate(input2);
  const diffPod = renderDiff(state, state2);
  const input3: PolicyInput = { ...input2, policies: policies.map((p, j) => (j === 0 ? policy(0, 1) : p)) };
  const state3 = calculate(input3);
  const diffPol = renderDiff(state2, state3);

  console.log(`endpoints: ${N_LOCAL} local (${isolated} isolated), ${N_REMOTE} remote; policies: ${N_POL}; namespaces: ${N_NS}`);
  console.log(`calculate: ${tCalc}; render full: ${tRender}; script ${(script.length / 1024).toFixed(0)} KiB`);
  console.log(`rules: ${ruleCount(table)} in ${table.chains.length} chains; sets: ${state.sets.length} with ${elements} elements`);
  console.log(`incremental, new remote pod: ${diffPod.script.split('\n').filter(Boolean).length} commands, ${diffPod.script.length} bytes, stats ${JSON.stringify(diffPod.stats)}`);
  console.log(`incremental, one policy edited: ${diffPol.script.split('\n').filter(Boolean).length} commands, ${diffPol.script.length} bytes, stats ${JSON.stringify(diffPol.stats)}`);

  const lab = await Lab.create();
  try {
    const host = await lab.addHost('bench');
    t0 = performance.now();
    const r = await nftApply(script, { netns: host.netns, timeoutMs: 600_000 });
    if (!r.ok) throw new Error(`full apply failed: ${r.stderr.slice(0, 2000)}`);
    console.log(`nft -f full ruleset (first load): ${ms(t0)}`);
    t0 = performance.now();
    const r2 = await nftApply(script, { netns: host.netns, timeoutMs: 600_000 });
    if (!r2.ok) throw new Error(`full re-apply failed: ${r2.stderr.slice(0, 2000)}`);
    console.log(`nft -f full ruleset (atomic replace of an existing table): ${ms(t0)}`);
    t0 = performance.now();
    const r3 = await nftApply(diffPod.script, { netns: host.netns });
    if (!r3.ok) throw new Error(`incremental failed: ${r3.stderr.slice(0, 2000)}`);
    console.log(`nft -f incremental (new remote pod): ${ms(t0)}`);
    t0 = performance.now();
    const r4 = await nftApply(diffPol.script, { netns: host.netns });
    if (!r4.ok) throw new Error(`incremental failed: ${r4.stderr.slice(0, 2000)}`);
    console.log(`nft -f incremental (one policy edited): ${ms(t0)}`);

    // PolicyDataplane.apply for one new local endpoint at a time, from the state above, for
    // each way of running nft (TERN_NFT_MODE picks it when the shared runner is created) and
    // with/without the read-back before each incremental step.
    const steps: DesiredState[] = [];
    let eps = endpoints;
    for (let k = 0; k < N_NEW; k++) {
      eps = [...eps, endpoint(N_LOCAL + N_REMOTE + 1 + k, true)];
      steps.push(calculate({ ...input, endpoints: eps }));
    }
    const tDiff = performance.now();
    for (const st of steps) renderDiff(state, st);
    console.log(`renderDiff for one new local endpoint (pure, no nft): ${((performance.now() - tDiff) / steps.length).toFixed(1)} ms mean`);
    const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
    const rows: string[] = [];
    for (const mode of ['spawn', 'persistent'] as const) {
      for (const verify of [true, false]) {
        await closeNftRunners();
        process.env.TERN_NFT_MODE = mode;
        const dp = new PolicyDataplane({ netns: host.netns, verify, timeoutMs: 600_000 });
        await dp.apply(state);
        const lat: number[] = [];
        let bytes = 0;
        const modes = new Set<string>();
        for (const st of steps) {
          const t = performance.now();
          const rep = await dp.apply(st);
          lat.push(performance.now() - t);
          bytes = rep.scriptBytes;
          modes.add(rep.mode);
        }
        rows.push(`| ${mode.padEnd(10)} | ${String(verify).padEnd(6)} | ${pct(lat, 50).toFixed(1).padStart(6)} | ${pct(lat, 99).toFixed(1).padStart(6)} | ${[...modes].join('/')}, ${bytes} B |`);
        const drift = await dp.check(steps[steps.length - 1]!);
        if (drift.length) rows.push(`|   drift after the series: ${drift.slice(0, 3).join('; ')} |`);
      }
    }
    delete process.env.TERN_NFT_MODE;
    console.log(`\nPolicyDataplane.apply, one new local endpoint (${N_NEW}×, ${N_LOCAL} local endpoints, ${N_POL} policies), ms:`);
    console.log('| nft runner | verify |    p50 |    p99 | transaction |\n|------------|--------|--------|--------|-------------|');
    for (const r of rows) console.log(r);
    console.log(`runner stats (persistent): ${JSON.stringify(nftRunner(host.netns).stats)}`);
  } finally {
    await closeNftRunners();
    await lab.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
