// The agent side of CNI: ADD, DEL, CHECK, GC and STATUS as tern-cni forwards them. ADD assigns
// addresses (IPAM), builds the veth and writes the WorkloadEndpoint, and undoes whatever it
// did when a later step fails; DEL is idempotent; GC sweeps what the runtime no longer knows.
// Every answer is a CniResponse: a result, or a CNI error with the code the runtime acts on.
import { existsSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import type { Keys } from '../../datastore/keys.js';
import { Store } from '../../datastore/store.js';
import { isTernError } from '../../errors/index.js';
import { Ipam } from '../../ipam/index.js';
import { decodeHandle, type HandleRecord } from '../../ipam/records.js';
import { logger, type Logger } from '../../log/index.js';
import { parseCidr } from '../../net/ip.js';
import type { CniRequest__Output } from '../../proto/gen/tern/agent/v1/CniRequest.js';
import type { CniResponse } from '../../proto/gen/tern/agent/v1/CniResponse.js';
import { validateResource } from '../../resources/registry.js';
import type { WorkloadEndpoint } from '../../resources/kinds/workloadendpoint.js';
import { CniCode, CniError, TernCniCode, toCniError, type CniErrorValue } from './codes.js';
import { checkEnv, parseCniArgs, parseNetConf, podIdentity, type NetConf, type PodIdentity } from './config.js';
import { Dataplane, type PodNetState, type VethPlan } from './dataplane.js';
import { limitedRunner } from './exec.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC, hostVethName, ipamHandle, parseVethAlias, randomMac, tmpPeerName, VETH_PREFIX, vethAlias } from './names.js';
import { buildAddResult, encodeResult, parsePrevResult, type CniResult } from './result.js';

/** Annotations on the WorkloadEndpoints ADD writes: which network and attachment made them. */
export const ANNOTATION_NETWORK = 'cni.tern.dev/network';
export const ANNOTATION_HANDLE = 'cni.tern.dev/handle';

export type CniRequestLike = Pick<CniRequest__Output, 'containerId' | 'netns' | 'ifname' | 'args' | 'networkConfig'> & { path?: string };

export interface CniHandlerOptions {
  node: string;
  client: Etcd3;
  keys: Keys;
  /** Defaults built on client and keys. */
  store?: Store;
  ipam?: Ipam;
  dataplane?: Dataplane;
  /** `ip`/`nsenter` processes alive at once (default 4). */
  maxParallelCommands?: number;
  /** STATUS gives up on etcd after this long (default 3000 ms). */
  statusTimeoutMs?: number;
  logger?: Logger;
}

/** Runs callbacks one at a time per key, in call order. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const tail = prev.then(() => new Promise<void>((r) => (done = r)));
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      done();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * ADD, DEL and CHECK share the gate; GC takes it alone, so it never judges an attachment that
 * an ADD is half-way through making (its handle exists, the runtime's list does not have it yet).
 */
class Gate {
  private active = 0;
  private closed: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    this.active++;
    try {
      return await fn();
    } finally {
      if (--this.active === 0) this.drained?.();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closed) await this.closed;
    let open!: () => void;
    this.closed = new Promise<void>((r) => (open = r));
    try {
      if (this.active > 0) await new Promise<void>((r) => (this.drained = r));
      this.drained = undefined;
      return await fn();
    } finally {
      this.closed = undefined;
      open();
    }
  }
}

/**
 * Where an operation's time went, for its log line: `mark` takes the time since the previous
 * mark, `took` the time since that mark for a step running beside others.
 */
class StepTimer {
  readonly ms: Record<string, number> = {};
  any = false;
  private last = performance.now();
  mark(step: string): void {
    const now = performance.now();
    this.ms[step] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
    this.any = true;
  }
  took(step: string): void {
    this.ms[step] = Math.round((performance.now() - this.last) * 10) / 10;
    this.any = true;
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A promise started early whose failure is judged where it is awaited, never unhandled. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

const fail = (e: CniErrorValue): CniError => new CniError(e.code, e.msg, e.details ?? '');

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_r, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(t));
}

const bareIp = (cidr: string): string => cidr.slice(0, cidr.indexOf('/'));

export class CniHandler {
  readonly node: string;
  readonly dataplane: Dataplane;
  private readonly client: Etcd3;
  private readonly keys: Keys;
  private readonly store: Store;
  private readonly ipam: Ipam;
  private readonly log: Logger;
  private readonly statusTimeoutMs: number;
  private readonly podLocks = new KeyedMutex();
  private readonly gate = new Gate();

  constructor(opts: CniHandlerOptions) {
    this.node = opts.node;
    this.client = opts.client;
    this.keys = opts.keys;
    this.log = opts.logger ?? logger('cni');
    this.store = opts.store ?? new Store(opts.client, opts.keys);
    this.ipam = opts.ipam ?? new Ipam(opts.client, opts.keys);
    this.dataplane = opts.dataplane ?? new Dataplane(limitedRunner(opts.maxParallelCommands ?? 4));
    this.statusTimeoutMs = opts.statusTimeoutMs ?? 3000;
  }

  add(req: CniRequestLike): Promise<CniResponse> {
    return this.respond('ADD', req, (steps) => this.gate.shared(() => this.doAdd(req, steps)));
  }

  del(req: CniRequestLike): Promise<CniResponse> {
    return this.respond('DEL', req, () => this.gate.shared(() => this.doDel(req)));
  }

  check(req: CniRequestLike): Promise<CniResponse> {
    return this.respond('CHECK', req, () => this.gate.shared(() => this.doCheck(req)));
  }

  gc(req: CniRequestLike): Promise<CniResponse> {
    return this.respond('GC', req, () => this.gate.exclusive(() => this.doGc(req)));
  }

  status(req: CniRequestLike): Promise<CniResponse> {
    return this.respond('STATUS', req, () => this.doStatus(req));
  }

  /** Ends the dataplane's long-lived `ip` process; for a clean shutdown (it also ends with the agent). */
  close(): Promise<void> {
    return this.dataplane.close();
  }

  // ------------------------------------------------------------------------------------------

  private async respond(op: string, req: CniRequestLike, fn: (steps: StepTimer) => Promise<string>): Promise<CniResponse> {
    const started = Date.now();
    const steps = new StepTimer();
    try {
      const out = await fn(steps);
      this.log.info({ op, containerId: req.containerId, ifname: req.ifname, ms: Date.now() - started, ...(steps.any ? { steps: steps.ms } : {}) }, 'cni done');
      return { result: Buffer.from(out), error: null };
    } catch (e) {
      const c = toCniError(e, op);
      const level = c.code === TernCniCode.INTERNAL ? 'error' : 'warn';
      this.log[level]({ op, containerId: req.containerId, code: c.code, err: c.message, details: c.details }, 'cni failed');
      return { result: Buffer.alloc(0), error: { code: c.code, msg: c.message, details: c.details } };
    }
  }

  private conf(req: CniRequestLike): NetConf {
    const c = parseNetConf(req.networkConfig);
    if (!c.ok) throw fail(c.error);
    return c.value;
  }

  private pod(req: CniRequestLike): PodIdentity {
    const a = parseCniArgs(req.args);
    if (!a.ok) throw fail(a.error);
    const p = podIdentity(a.value, req.containerId);
    if (!p.ok) throw fail(p.error);
    return p.value;
  }

  private prev(conf: NetConf): CniResult | undefined {
    if (conf.prevResult === undefined) return undefined;
    const p = parsePrevResult(conf.prevResult);
    if (!p.ok) throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `network configuration: ${p.error}`);
    return p.value;
  }

  private endpointDoc(pod: PodIdentity, labels: Record<string, string> | undefined, spec: Record<string, unknown>, network: string, handle: string): Record<string, unknown> {
    return {
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: pod.name,
        namespace: pod.namespace,
        ...(labels && Object.keys(labels).length ? { labels } : {}),
        annotations: { [ANNOTATION_NETWORK]: network, [ANNOTATION_HANDLE]: handle },
      },
      spec: { node: this.node, pod: pod.name, ...spec },
    };
  }

  private async doAdd(req: CniRequestLike, steps: StepTimer): Promise<string> {
    const envErr = checkEnv(req, true);
    if (envErr) throw fail(envErr);
    const conf = this.conf(req);
    const pod = this.pod(req);
    const prev = this.prev(conf);
    const labels = pod.labels || conf.labels ? { ...pod.labels, ...conf.labels } : undefined;
    if (!existsSync(req.netns)) throw new CniError(CniCode.INVALID_ENV, `CNI_NETNS ${req.netns} does not exist`);
    const handle = ipamHandle(req.containerId, req.ifname);
    const hostIface = hostVethName(pod.namespace, pod.name);
    // The endpoint is checked before anything is made, so a bad name or label costs nothing.
    const probe = validateResource(this.endpointDoc(pod, labels, { containerID: req.containerId, interfaceName: hostIface, ipNetworks: [] }, conf.name, handle));
    if (!probe.ok) throw new CniError(CniCode.INVALID_ENV, `the pod's endpoint would be invalid: ${probe.error.message}`);

    return this.podLocks.run(hostIface, async () => {
      steps.mark('prepare');
      // The endpoint as it is now, read while IPAM works (the write compares its revision).
      const oldEndpoint = settle(this.store.get('WorkloadEndpoint', pod.name, pod.namespace));
      const undo: { what: string; fn: () => Promise<unknown> }[] = [];
      try {
        undo.push({ what: 'release addresses', fn: () => this.ipam.release(handle) });
        const a = await this.ipam.assign({
          handle,
          node: this.node,
          ipv4: conf.ipv4,
          ipv6: conf.ipv6,
          ...(conf.pools.length ? { pools: conf.pools } : {}),
          attrs: { namespace: pod.namespace, pod: pod.name, network: conf.name, containerID: req.containerId },
        });
        steps.mark('ipam');
        const plan: VethPlan = {
          hostIface,
          tmpIface: tmpPeerName(handle),
          podIface: req.ifname,
          netns: req.netns,
          mtu: conf.mtu,
          podMac: randomMac(),
          alias: vethAlias(conf.name, handle),
          ...(a.ipv4 ? { ipv4: a.ipv4 } : {}),
          ...(a.ipv6 ? { ipv6: a.ipv6 } : {}),
        };
        // Pushed before it is tried: a batch that fails after its first line leaves the link.
        undo.push({ what: `delete veth ${hostIface}`, fn: () => this.dataplane.deleteLink(hostIface) });
        try {
          await this.dataplane.createVeth(plan);
        } catch (e) {
          // Same pod, same veth name: what an earlier sandbox of the pod (or a failed attempt)
          // left. Found by trying rather than by looking first: one process less per ADD.
          if (!(e instanceof CniError && /File exists/.test(e.details))) throw e;
          this.log.info({ iface: hostIface }, 'replacing a leftover veth of the same pod');
          await this.dataplane.deleteLink(hostIface);
          await this.dataplane.createVeth(plan);
        }
        steps.mark('veth');
        // Before the pod's side, not beside it: a per-interface `forwarding` write takes RTNL
        // with trylock and restarts while it is held (devinet_sysctl_forward), so next to the
        // pod's `ip` it waited for it (16 ms instead of under 1 ms, measured).
        await this.dataplane.hostSysctls(hostIface, a.ipv6 !== undefined);
        steps.mark('sysctl');
        // The pod's side (one process) and the endpoint (etcd) go at once; ADD waits for both
        // before it answers or undoes. The endpoint is written after the veth and its routes
        // exist, so the agent's route manager never sees an endpoint whose interface is missing.
        const ipNetworks = [...(a.ipv4 ? [`${a.ipv4}/32`] : []), ...(a.ipv6 ? [`${a.ipv6}/128`] : [])];
        undo.push({ what: 'delete endpoint', fn: () => this.deleteEndpoint(pod, req.containerId) });
        const timed = <T>(step: string, p: Promise<T>): Promise<T> => p.finally(() => steps.took(step));
        const doc = this.endpointDoc(pod, labels, { containerID: req.containerId, interfaceName: hostIface, mac: plan.podMac, ipNetworks }, conf.name, handle);
        const settled = await Promise.allSettled([timed('pod', this.dataplane.configurePod(plan)), timed('wep', this.writeEndpoint(doc, labels !== undefined, oldEndpoint))]);
        steps.mark('parallel');
        // A dataplane failure says more than an endpoint write that lost to it.
        const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
        const result = buildAddResult(
          {
            hostIface,
            hostMac: HOST_VETH_MAC,
            podIface: req.ifname,
            podMac: plan.podMac,
            sandbox: req.netns,
            mtu: conf.mtu,
            ...(a.ipv4 ? { ipv4: `${a.ipv4}/32` } : {}),
            ...(a.ipv6 ? { ipv6: `${a.ipv6}/128` } : {}),
            gateway4: GATEWAY_V4,
            gateway6: GATEWAY_V6,
            ...(conf.dns ? { dns: conf.dns } : {}),
          },
          prev,
        );
        return encodeResult(result, conf.cniVersion);
      } catch (e) {
        // Newest first: the endpoint, then the veth (its routes go with it), then the addresses.
        for (const u of undo.reverse()) {
          try {
            await u.fn();
          } catch (ue) {
            this.log.error({ handle, step: u.what, err: (ue as Error).message }, 'ADD rollback step failed; GC will finish it');
          }
        }
        throw toCniError(e, `ADD ${handle}`);
      }
    });
  }

  /**
   * Creates or updates the pod's endpoint, keeping what other writers filled in (named ports,
   * hostname, service account; labels unless this ADD brought some), compare-and-swap on the
   * revision read. The first read may be `prefetched` (started while IPAM worked); a stale
   * one only costs a retry.
   */
  private async writeEndpoint(doc: Record<string, unknown>, haveLabels: boolean, prefetched?: Promise<Settled<WorkloadEndpoint | undefined>>): Promise<void> {
    const meta = doc.metadata as { name: string; namespace: string; labels?: Record<string, string>; resourceVersion?: string };
    for (let attempt = 0; ; attempt++) {
      const early = attempt === 0 && prefetched ? await prefetched : undefined;
      const old = early?.ok ? early.value : await this.store.get('WorkloadEndpoint', meta.name, meta.namespace);
      const next = structuredClone(doc) as { metadata: typeof meta; spec: Record<string, unknown> };
      if (old) {
        next.metadata.resourceVersion = old.metadata.resourceVersion!;
        if (!haveLabels && old.metadata.labels) next.metadata.labels = old.metadata.labels;
        for (const f of ['ports', 'hostname', 'subdomain', 'serviceAccountName'] as const) {
          if (old.spec[f] !== undefined) next.spec[f] = old.spec[f];
        }
      }
      try {
        // `create` when none was read: one written since is merged on the next attempt, not overwritten.
        await (old ? this.store.apply(next) : this.store.create(next));
        return;
      } catch (e) {
        if (attempt < 5 && (isTernError(e, 'TERN_ERR_CONFLICT') || isTernError(e, 'TERN_ERR_NOT_FOUND'))) continue;
        throw e;
      }
    }
  }

  /** Deletes the pod's endpoint if this container's ADD wrote it (a newer sandbox's stays). */
  private async deleteEndpoint(pod: PodIdentity, containerId: string): Promise<boolean> {
    const wep = await this.store.get('WorkloadEndpoint', pod.name, pod.namespace);
    if (!wep || wep.spec.containerID !== containerId || wep.spec.node !== this.node) return false;
    try {
      await this.store.delete('WorkloadEndpoint', pod.name, pod.namespace);
      return true;
    } catch (e) {
      if (isTernError(e, 'TERN_ERR_NOT_FOUND')) return false;
      throw e;
    }
  }

  private async handleRecord(handle: string): Promise<HandleRecord | undefined> {
    let text: string | null;
    try {
      text = await this.client.get(this.keys.handle(handle)).string();
    } catch (e) {
      throw new CniError(CniCode.TRY_AGAIN_LATER, `etcd: reading IPAM handle ${handle}: ${(e as Error).message}`);
    }
    if (text === null) return undefined;
    const d = decodeHandle(text);
    return d.ok ? d.value : undefined;
  }

  /**
   * DEL (SPEC §"DEL"): succeeds when things are already gone (no netns, no veth, unknown
   * handle), so a runtime can repeat it until it works. A failure to reach etcd is code 11.
   */
  private async doDel(req: CniRequestLike): Promise<string> {
    const envErr = checkEnv(req, false);
    if (envErr) throw fail(envErr);
    this.conf(req);
    const handle = ipamHandle(req.containerId, req.ifname);
    let pod: PodIdentity;
    const a = parseCniArgs(req.args);
    const p = a.ok ? podIdentity(a.value, req.containerId) : undefined;
    if (p?.ok && p.value.fromArgs) pod = p.value;
    else {
      // A runtime that passed Kubernetes arguments to ADD but not to DEL: IPAM recorded the pod.
      const rec = await this.handleRecord(handle);
      const ns = rec?.attrs?.namespace;
      const name = rec?.attrs?.pod;
      pod = ns && name ? { namespace: ns, name, fromArgs: false } : p?.ok ? p.value : { namespace: 'default', name: req.containerId, fromArgs: false };
    }
    const hostIface = hostVethName(pod.namespace, pod.name);
    await this.podLocks.run(hostIface, async () => {
      const link = await this.dataplane.link(hostIface);
      if (link) {
        const owner = parseVethAlias(link.alias);
        if (owner?.handle === handle) await this.dataplane.deleteLink(hostIface);
        else this.log.info({ iface: hostIface, alias: link.alias, handle }, 'DEL: the veth belongs to another attachment; left alone');
      }
      await this.ipam.release(handle);
      await this.deleteEndpoint(pod, req.containerId);
    });
    return '';
  }

  /** CHECK (SPEC §"CHECK"): the pod still has what ADD gave it. */
  private async doCheck(req: CniRequestLike): Promise<string> {
    const envErr = checkEnv(req, true);
    if (envErr) throw fail(envErr);
    const conf = this.conf(req);
    const pod = this.pod(req);
    const prev = this.prev(conf);
    const handle = ipamHandle(req.containerId, req.ifname);
    if (!existsSync(req.netns)) throw new CniError(CniCode.UNKNOWN_CONTAINER, `CHECK ${handle}: network namespace ${req.netns} does not exist`);
    const wep = await this.store.get('WorkloadEndpoint', pod.name, pod.namespace);
    if (!wep || wep.spec.containerID !== req.containerId) {
      throw new CniError(CniCode.UNKNOWN_CONTAINER, `CHECK ${handle}: no WorkloadEndpoint ${pod.namespace}/${pod.name} for this container`);
    }
    const problems: string[] = [];
    const want = wep.spec.ipNetworks;
    const rec = await this.handleRecord(handle);
    const held = (rec?.ips ?? []).map((x) => x.ip).sort();
    const wantIps = want.map(bareIp).sort();
    if (held.join(',') !== wantIps.join(',')) problems.push(`IPAM holds [${held.join(', ')}] for ${handle}, the endpoint says [${wantIps.join(', ')}]`);

    const hostIface = hostVethName(pod.namespace, pod.name);
    const host = await this.dataplane.link(hostIface);
    if (!host) problems.push(`host veth ${hostIface} is missing`);
    else {
      if (parseVethAlias(host.alias)?.handle !== handle) problems.push(`host veth ${hostIface} belongs to "${host.alias ?? ''}", not ${handle}`);
      if (!host.up) problems.push(`host veth ${hostIface} is down`);
      if (host.mtu !== conf.mtu) problems.push(`host veth ${hostIface} has MTU ${host.mtu}, want ${conf.mtu}`);
      if (host.mac !== HOST_VETH_MAC) problems.push(`host veth ${hostIface} has MAC ${host.mac}, want ${HOST_VETH_MAC}`);
    }
    problems.push(...this.checkPod(await this.dataplane.podState(req.netns), req.ifname, wep, conf, prev, req.netns));
    if (problems.length) throw new CniError(TernCniCode.CHECK_MISMATCH, `CHECK ${handle}: ${problems[0]}`, problems.join('; '));
    return '';
  }

  private checkPod(s: PodNetState, ifname: string, wep: WorkloadEndpoint, conf: NetConf, prev: CniResult | undefined, netns: string): string[] {
    const out: string[] = [];
    const link = s.links.find((l) => l.name === ifname);
    if (!link) return [`${ifname} is missing in ${netns}`];
    if (!link.up) out.push(`${ifname} is down`);
    if (link.mtu !== conf.mtu) out.push(`${ifname} has MTU ${link.mtu}, want ${conf.mtu}`);
    if (wep.spec.mac && link.mac !== wep.spec.mac) out.push(`${ifname} has MAC ${link.mac}, the endpoint says ${wep.spec.mac}`);
    const want = new Set(wep.spec.ipNetworks);
    // prevResult's addresses on this interface (CHECK gets ADD's result, SPEC §"CHECK").
    for (const ip of prev?.ips ?? []) {
      const iface = ip.interface !== undefined ? prev!.interfaces[ip.interface] : undefined;
      if (iface && iface.name === ifname && (iface.sandbox === undefined || iface.sandbox === netns)) want.add(ip.address);
    }
    for (const w of want) if (!link.addrs.includes(w)) out.push(`${ifname} lacks address ${w}`);
    const main = s.routes.filter((r) => r.table === 'main' && r.dev === ifname);
    const families = new Set([...want].map((w) => parseCidr(w, { strict: false }).family));
    if (families.has(4) && !main.some((r) => r.dst === 'default' && r.gateway === GATEWAY_V4)) out.push(`no IPv4 default route via ${GATEWAY_V4} on ${ifname}`);
    if (families.has(6) && !main.some((r) => r.dst === 'default' && r.gateway === GATEWAY_V6)) out.push(`no IPv6 default route via ${GATEWAY_V6} on ${ifname}`);
    return out;
  }

  /**
   * GC (CNI 1.1.0 §"GC"): releases this node's addresses of this network whose attachment
   * the runtime no longer lists, and deletes their veths and endpoints.
   */
  private async doGc(req: CniRequestLike): Promise<string> {
    const conf = this.conf(req);
    if (!conf.validAttachments) throw new CniError(CniCode.INVALID_NETWORK_CONFIG, 'GC needs "cni.dev/valid-attachments" in the network configuration');
    const valid = new Set(conf.validAttachments.map((a) => ipamHandle(a.containerID, a.ifname)));
    const { released } = await this.ipam.gc(async (h, info) => {
      if (info.node !== this.node || valid.has(h)) return true;
      const rec = await this.handleRecord(h);
      // Only what this network's ADD made: other users of IPAM on the node keep theirs.
      return rec?.attrs?.network !== conf.name;
    });
    let veths = 0;
    for (const v of await this.dataplane.veths()) {
      const owner = parseVethAlias(v.alias);
      if (!v.name.startsWith(VETH_PREFIX) || !owner || owner.network !== conf.name || valid.has(owner.handle)) continue;
      if (await this.dataplane.deleteLink(v.name)) veths++;
    }
    let endpoints = 0;
    for (const w of (await this.store.list('WorkloadEndpoint')).items) {
      const ann = w.metadata.annotations ?? {};
      if (w.spec.node !== this.node || ann[ANNOTATION_NETWORK] !== conf.name) continue;
      const h = ann[ANNOTATION_HANDLE];
      if (!h || valid.has(h)) continue;
      try {
        await this.store.delete('WorkloadEndpoint', w.metadata.name, w.metadata.namespace);
        endpoints++;
      } catch (e) {
        if (!isTernError(e, 'TERN_ERR_NOT_FOUND')) throw e;
      }
    }
    this.log.info({ network: conf.name, released: released.length, veths, endpoints }, 'GC done');
    return '';
  }

  /**
   * STATUS (CNI 1.1.0 §"STATUS"): ready for ADD when etcd answers and a pool this network may
   * use has a free address; otherwise code 50. Pools are judged by their size and use, not
   * by their node selectors.
   */
  private async doStatus(req: CniRequestLike): Promise<string> {
    const conf = this.conf(req);
    let report;
    try {
      report = await timeout(this.ipam.show(), this.statusTimeoutMs, 'etcd');
    } catch (e) {
      throw new CniError(CniCode.PLUGIN_NOT_AVAILABLE, 'tern-agentd cannot reach etcd', (e as Error).message);
    }
    const families = [...(conf.ipv4 ? [4] : []), ...(conf.ipv6 ? [6] : [])];
    for (const f of families) {
      const room = report.pools.some(
        (p) => p.family === f && !p.disabled && (conf.pools.length === 0 || conf.pools.includes(p.name)) && BigInt(p.totals.size) > BigInt(p.totals.used),
      );
      if (!room) throw new CniError(CniCode.PLUGIN_NOT_AVAILABLE, `no IPv${f} pool${conf.pools.length ? ` among ${conf.pools.join(', ')}` : ''} has a free address`);
    }
    return '';
  }
}
