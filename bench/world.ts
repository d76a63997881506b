// The synthetic cluster the agent and policy benchmarks share, so their figures describe the
// same world: endpoints spread over 50 namespaces and 10 apps (each with named ports), and
// policies of five kinds (pod selector, namespace AND pod selector with a named port, ipBlock
// with except, egress with endPort, matchExpressions). Documents are plain objects; each
// benchmark validates them with the schema it needs.

export const N_NS = 50;
export const APPS = 10;
export const BENCH_NODE = 'bench';


export const ip4 = (i: number): string => `10.${40 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
export const ip6 = (i: number): string => `fd00:40::${i.toString(16)}`;
export const benchIface = (i: number): string => `b${i.toString(16)}`;

/** Endpoint i: local ones live on BENCH_NODE behind veth benchIface(i), remote ones on n0..n99. */
export function endpointDoc(i: number, o: { local: boolean; dualStack?: boolean }): Record<string, unknown> {
  return {
    apiVersion: 'tern.dev/v1',
    kind: 'WorkloadEndpoint',
    metadata: { name: `p${i}`, namespace: `ns${i % N_NS}`, labels: { app: `app${Math.floor(i / N_NS) % APPS}`, tier: `t${i % 3}` } },
    spec: {
      node: o.local ? BENCH_NODE : `n${i % 100}`,
      ...(o.local ? { interfaceName: benchIface(i) } : {}),
      ipNetworks: o.dualStack ? [`${ip4(i)}/32`, `${ip6(i)}/128`] : [`${ip4(i)}/32`],
      ports: [{ name: 'http', port: 8000 + (i % 3), protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
    },
  };
}

/**
 * Policy j lives in namespace j % 50; spreading app and kind by j / 50 gives every namespace
 * every kind of policy and every app a few policies. `variant` changes the peer app (an edit).
 */
export function policyDoc(j: number, variant = 0): Record<string, unknown> {
  const k = Math.floor(j / N_NS);
  const app = `app${k % APPS}`;
  const peerApp = `app${(k + 1 + variant) % APPS}`;
  const kind = k % 5;
  const spec =
    kind === 0
      ? { podSelector: { matchLabels: { app } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: peerApp } } }], ports: [{ port: 80 }, { port: 443 }] }] }
      : kind === 1
        ? { podSelector: { matchLabels: { app } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `t${j % 7}` } }, podSelector: { matchLabels: { tier: `t${j % 3}` } } }], ports: [{ port: 'http' }] }] }
        : kind === 2
          ? { podSelector: { matchLabels: { app, tier: `t${j % 3}` } }, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${40 + (j % 4)}.0.0/16`] } }] }] }
          : kind === 3
            ? { podSelector: { matchLabels: { app } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: peerApp } } }], ports: [{ port: 'dns', protocol: 'UDP' }, { port: 8000, endPort: 8002 }] }] }
            : { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [app, peerApp] }] }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `t${j % 7}` } } }] }] };
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `pol${j}`, namespace: `ns${j % N_NS}` }, spec };
}

/** The p-th percentile of a sample. */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
