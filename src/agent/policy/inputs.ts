// The node's view of the resources policy depends on, fed by watch events. Updates only
// record state and mark it dirty (Felix's OnUpdate); the agent asks for desired() when it is
// ready to apply a batch, and the incremental engine (engine.ts) recomputes only what the
// updates since the last batch touched. Keyed by identity, so a duplicated or re-ordered
// stream that ends in the same objects ends in the same view.
//
// The keyed maps hold the caller's objects (no copies) for snapshot(), the input of the full
// calculate(); the engine keeps its own stripped records. A caller that never needs snapshot()
// (tern-agentd) turns the maps off: at cluster scale they are one more entry and key string
// per pod.
import type { Namespace, NetworkPolicy, WorkloadEndpoint } from '../../resources/index.js';
import type { PolicyInput } from './calc.js';
import { PolicyEngine } from './engine.js';
import type { DesiredState } from './model.js';

export type PolicyUpdate =
  | { kind: 'namespace-upsert'; namespace: Namespace }
  | { kind: 'namespace-delete'; name: string }
  | { kind: 'endpoint-upsert'; endpoint: WorkloadEndpoint }
  | { kind: 'endpoint-delete'; namespace: string; name: string }
  | { kind: 'policy-upsert'; policy: NetworkPolicy }
  | { kind: 'policy-delete'; namespace: string; name: string }
  | { kind: 'node-ips'; ips: readonly string[] };

function assertNever(x: never): never {
  throw new Error(`unhandled policy update ${JSON.stringify(x)}`);
}

const key = (namespace: string | undefined, name: string): string => `${namespace ?? 'default'}/${name}`;

export class PolicyInputs {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly endpoints = new Map<string, WorkloadEndpoint>();
  private readonly policies = new Map<string, NetworkPolicy>();
  private nodeIps: readonly string[] = [];
  private dirtyFlag = true;
  private readonly engine: PolicyEngine;
  private readonly keep: boolean;

  /** `snapshot: false`: only the incremental engine's records are kept; snapshot() throws. */
  constructor(readonly nodeName: string, opts: { snapshot?: boolean } = {}) {
    this.engine = new PolicyEngine(nodeName);
    this.keep = opts.snapshot ?? true;
  }

  get dirty(): boolean {
    return this.dirtyFlag;
  }

  apply(u: PolicyUpdate): void {
    this.dirtyFlag = true;
    this.engine.apply(u);
    if (!this.keep && u.kind !== 'node-ips') return;
    switch (u.kind) {
      case 'namespace-upsert':
        this.namespaces.set(u.namespace.metadata.name, u.namespace);
        return;
      case 'namespace-delete':
        this.namespaces.delete(u.name);
        return;
      case 'endpoint-upsert':
        this.endpoints.set(key(u.endpoint.metadata.namespace, u.endpoint.metadata.name), u.endpoint);
        return;
      case 'endpoint-delete':
        this.endpoints.delete(key(u.namespace, u.name));
        return;
      case 'policy-upsert':
        this.policies.set(key(u.policy.metadata.namespace, u.policy.metadata.name), u.policy);
        return;
      case 'policy-delete':
        this.policies.delete(key(u.namespace, u.name));
        return;
      case 'node-ips':
        this.nodeIps = [...u.ips];
        return;
      default:
        assertNever(u);
    }
  }

  /**
   * The desired state for everything applied so far, computed incrementally; equal to
   * calculate(snapshot()). Parts that did not change keep their objects. Clears the dirty mark.
   */
  desired(): DesiredState {
    this.dirtyFlag = false;
    return this.engine.state();
  }

  /** The current view for calculate(); clears the dirty mark. */
  snapshot(): PolicyInput {
    if (!this.keep) throw new Error('PolicyInputs was created with snapshot: false');
    this.dirtyFlag = false;
    return {
      nodeName: this.nodeName,
      nodeIps: [...this.nodeIps],
      namespaces: [...this.namespaces.values()],
      endpoints: [...this.endpoints.values()],
      policies: [...this.policies.values()],
    };
  }
}
