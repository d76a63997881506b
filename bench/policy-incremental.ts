// The policy calculation per update, full against incremental, at agent scale: L local and
// R remote endpoints, P policies (the same synthetic cluster as bench/agent.ts). Measures
// cold calculation, time per endpoint upsert (calculation + transaction text) p50/p99 for new
// local and new remote pods, time per policy edit, and heap retained per endpoint.
// Pure: no nft, no etcd. Usage:
//   node --expose-gc dist/bench/policy-incremental.js [--local 1000] [--remote 10000] [--policies 2000] [--pods 200]
import { performance } from 'node:perf_hooks';
import { calculate, type PolicyInput } from '../src/agent/policy/calc.js';
import { renderChanges } from '../src/agent/policy/diff.js';
import { PolicyEngine } from '../src/agent/policy/engine.js';
import type { PolicyUpdate } from '../src/agent/policy/inputs.js';
import type { DesiredState } from '../src/agent/policy/model.js';
import { renderDiff } from '../src/agent/policy/render.js';
import { BENCH_NODE, endpointDoc, N_NS, pct, policyDoc } from './world.js';
import { NamespaceSchema, NetworkPolicySchema, WorkloadEndpointSchema, type Namespace, type NetworkPolicy, type WorkloadEndpoint } from '../src/resources/index.js';
import { arg } from './args.js';

const N_LOCAL = arg('--local', 1000);
const N_REMOTE = arg('--remote', 10000);
const N_POL = arg('--policies', 2000);
const N_INC = arg('--pods', 200);
const N_FULL = arg('--full-samples', 5);
const NODE = BENCH_NODE;

const endpoint = (i: number, local: boolean): WorkloadEndpoint => WorkloadEndpointSchema.parse(endpointDoc(i, { local }));
const policy = (j: number, variant = 0): NetworkPolicy => NetworkPolicySchema.parse(policyDoc(j, variant));

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}
const f1 = (x: number): string => x.toFixed(1);
const kib = (bytes: number, n: number): string => `${(bytes / n / 1024).toFixed(2)} KiB`;

function main(): void {
  if (!gc) console.log('(run with --expose-gc for heap figures)');
  const namespaces: Namespace[] = Array.from({ length: N_NS }, (_, i) => NamespaceSchema.parse({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}`, labels: { team: `t${i % 7}` } } }));
  const endpoints = new Map<string, WorkloadEndpoint>();
  for (let i = 0; i < N_LOCAL; i++) endpoints.set(`p${i}`, endpoint(i, true));
  for (let i = 0; i < N_REMOTE; i++) endpoints.set(`p${100_000 + i}`, endpoint(100_000 + i, false));
  const policies = Array.from({ length: N_POL }, (_, j) => policy(j));
  const nodeIps = ['10.99.0.1'];
  const total = endpoints.size;
  const input = (): PolicyInput => ({ nodeName: NODE, nodeIps, namespaces, endpoints: [...endpoints.values()], policies });

  const h0 = heap();
  // Before: the full calculation on every change.
  let t = performance.now();
  let fullState = calculate(input());
  const fullCold = performance.now() - t;
  const hFull = heap();
  const fullUpdate: number[] = [];
  for (let k = 0; k < N_FULL; k++) {
    const i = N_LOCAL + k;
    endpoints.set(`p${i}`, endpoint(i, true));
    t = performance.now();
    const next = calculate(input());
    renderDiff(fullState, next);
    fullUpdate.push(performance.now() - t);
    fullState = next;
  }
  for (let k = 0; k < N_FULL; k++) endpoints.delete(`p${N_LOCAL + k}`);
  const fullRetained = hFull - h0;
  fullState = { sets: [], endpoints: [], errors: [] };

  // After: the incremental engine.
  const h1 = heap();
  t = performance.now();
  const engine = new PolicyEngine(NODE);
  engine.apply({ kind: 'node-ips', ips: nodeIps });
  for (const n of namespaces) engine.apply({ kind: 'namespace-upsert', namespace: n });
  for (const e of endpoints.values()) engine.apply({ kind: 'endpoint-upsert', endpoint: e });
  for (const p of policies) engine.apply({ kind: 'policy-upsert', policy: p });
  let state: DesiredState = engine.state();
  const incCold = performance.now() - t;
  const hInc = heap();
  const engineRetained = hInc - h1;
  // The two calculations agree (the tests prove it in general; this checks the bench world).
  const same = JSON.stringify(calculate(input())) === JSON.stringify(state);

  const step = (u: PolicyUpdate, out: { calc: number[]; diff: number[]; changes: number[] }): void => {
    let t0 = performance.now();
    engine.apply(u);
    const next = engine.state();
    const calcMs = performance.now() - t0;
    t0 = performance.now();
    const a = renderChanges(state, next);
    const changesMs = performance.now() - t0;
    t0 = performance.now();
    const b = renderDiff(state, next);
    const diffMs = performance.now() - t0;
    if (a.script !== b.script) throw new Error('renderChanges and renderDiff disagree');
    out.calc.push(calcMs);
    out.diff.push(calcMs + diffMs);
    out.changes.push(calcMs + changesMs);
    state = next;
  };
  const localPods = { calc: [] as number[], diff: [] as number[], changes: [] as number[] };
  for (let k = 0; k < N_INC; k++) step({ kind: 'endpoint-upsert', endpoint: endpoint(N_LOCAL + k, true) }, localPods);
  const remotePods = { calc: [] as number[], diff: [] as number[], changes: [] as number[] };
  for (let k = 0; k < N_INC; k++) step({ kind: 'endpoint-upsert', endpoint: endpoint(200_000 + k, false) }, remotePods);
  const polEdits = { calc: [] as number[], diff: [] as number[], changes: [] as number[] };
  for (let j = 0; j < 50; j++) step({ kind: 'policy-upsert', policy: policy(j * 37 % N_POL, 1 + (j % 3)) }, polEdits);
  const deletes = { calc: [] as number[], diff: [] as number[], changes: [] as number[] };
  for (let k = 0; k < N_INC; k++) step({ kind: 'endpoint-delete', namespace: `ns${(N_LOCAL + k) % N_NS}`, name: `p${N_LOCAL + k}` }, deletes);

  const rows: Array<[string, string]> = [
    ['world', `${N_LOCAL} local + ${N_REMOTE} remote endpoints, ${N_POL} policies, ${N_NS} namespaces; ${state.endpoints.length} isolated, ${state.sets.length} sets`],
    ['incremental state equals calculate()', String(same)],
    ['cold: full calculate()', `${f1(fullCold)} ms`],
    ['cold: engine, every update applied then state()', `${f1(incCold)} ms`],
    ['before: endpoint upsert, calculate() + renderDiff', `p50 ${f1(pct(fullUpdate, 50))} / p99 ${f1(pct(fullUpdate, 99))} ms (${N_FULL} samples)`],
  ];
  for (const [what, r] of [['new local pod', localPods], ['new remote pod', remotePods], ['local pod deleted', deletes], ['policy edited', polEdits]] as const) {
    rows.push([`after: ${what}, engine only`, `p50 ${f1(pct(r.calc, 50))} / p99 ${f1(pct(r.calc, 99))} ms`]);
    rows.push([`after: ${what}, engine + renderDiff`, `p50 ${f1(pct(r.diff, 50))} / p99 ${f1(pct(r.diff, 99))} ms`]);
    rows.push([`after: ${what}, engine + renderChanges`, `p50 ${f1(pct(r.changes, 50))} / p99 ${f1(pct(r.changes, 99))} ms`]);
  }
  if (gc) {
    rows.push(['heap: full calculate() result retained', `${(fullRetained / 2 ** 20).toFixed(1)} MiB = ${kib(fullRetained, total)}/endpoint`]);
    rows.push(['heap: engine (indexes + state) retained', `${(engineRetained / 2 ** 20).toFixed(1)} MiB = ${kib(engineRetained, total)}/endpoint`]);
    rows.push(['heap: input objects (shared with the agent view)', `${(h0 / 2 ** 20).toFixed(1)} MiB total heap before either`]);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`${rows.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join('\n')}\n`);
}

main();
