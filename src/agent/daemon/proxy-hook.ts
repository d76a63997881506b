// INTEGRATION POINT — service proxy (src/agent/proxy).
//
// The service proxy is a separate library with its own calculation and nftables table. The
// agent will feed it the same Service, EndpointSlice and WorkloadEndpoint updates it records
// (Agent.update) and start/stop it with the agent. Until that library's API is settled,
// `serviceProxy: on` is refused at start so a configuration never silently runs without the
// proxy it asked for; `off` (the default) runs none.
import { TernError } from '../../errors/index.js';
import type { AgentUpdate } from './updates.js';

export interface ServiceProxyHook {
  /** Every recorded update, in the order the agent records them. */
  onUpdate(u: AgentUpdate): void;
  start(): Promise<void>;
  /** Rules stay in the kernel, as with the other dataplanes. */
  stop(): Promise<void>;
}

export function serviceProxyHook(mode: 'off' | 'on'): ServiceProxyHook | undefined {
  if (mode === 'off') return undefined;
  throw new TernError('TERN_ERR_CONFIG', '"on" needs the service proxy (src/agent/proxy), which this build does not wire yet; set serviceProxy: off', { field: 'serviceProxy' });
}
