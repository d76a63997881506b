// Hosts made of Linux network namespaces on one machine: a fabric bridge in a namespace of
// its own, hosts with a veth to it, pods with a veth to their host (Calico's layout: /32 route
// to the veth, link-local gateway answered by proxy ARP). Every interface, address, route and
// sysctl lives inside namespaces the lab created; the root namespace is never changed.
//
// Each Lab has a short run id; its namespaces are named `tn<id>-<name>`, so test files running
// in parallel never collide, and what a run made is recorded in /run/tern-lab/<id>/state.json
// before it is made, so destroy(), the exit handler, `npm start -- down` and the stale-run
// sweep can remove exactly that and nothing else.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TernError } from '../errors/index.js';
import { logger } from '../log/index.js';
import { cidrContainsIp, formatIp, nthIp, parseCidr, parseIp, bitsOf, type Cidr } from '../net/ip.js';
import { EtcdServer } from './etcd.js';
import { formatCommand, ipBatch, ipLine, nftApply, runIn, type RunOptions, type RunResult } from './exec.js';
import { onExitCleanup, processStartTime, spawnIn, type ManagedProcess, type SpawnOptions } from './process.js';
import {
  cleanupStale,
  ensureRunDir,
  labBaseDir,
  netnsExists,
  newState,
  nsPrefix,
  ownerAlive,
  readState,
  removeRunDir,
  RUN_ID_RE,
  stateFile,
  teardown,
  teardownSync,
  writeState,
  type FabricInfo,
  type Host,
  type LabState,
  type Pod,
  type TeardownResult,
} from './state.js';

export type { FabricInfo, Host, Pod, LabState } from './state.js';
export { cleanupStale } from './state.js';

const log = logger('lab');

export const DEFAULT_FABRIC_CIDR = '10.99.0.0/24';
export const DEFAULT_FABRIC_IPV6_CIDR = 'fd99::/64';
/** Calico's pod gateway: never on the wire, answered by proxy ARP on the host's veth. */
export const POD_GATEWAY = '169.254.1.1';
/** IPv6 pod gateway: a link-local address put on every host-side pod veth. */
export const POD_GATEWAY6 = 'fe80::1';

const FABRIC = 'fabric';
const BRIDGE = 'br0';
const IFACE = 'eth0';
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Every host namespace forwards and does not drop asymmetric traffic; DAD off so IPv6 addresses work at once. */
const HOST_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
};

export interface LabOptions {
  /** Fixed run id (1-8 of [a-z0-9]); random otherwise. `npm start` uses "lab". */
  name?: string;
  /** Outlive this process: no exit cleanup, processes detached, never swept as stale. */
  persistent?: boolean;
  /** When a run with this name is recorded already, tear it down first instead of failing. */
  replace?: boolean;
  /** Sweep stale runs of crashed owners first (default true). */
  sweepStale?: boolean;
}

export interface HostOptions {
  /** Address on the fabric; the next free one otherwise. */
  fabricIp?: string;
  /** IPv6 address on the fabric (prefix length of the fabric's IPv6 range), or true for the one matching fabricIp. */
  ipv6?: string | true;
  /** Extra sysctls for the namespace, applied before its interfaces exist (so `default.*` applies to them). */
  sysctls?: Record<string, string | number>;
}

export interface PodOptions {
  ip: string;
  /** Default gateway for IPv4 inside the pod; 169.254.1.1 by default. */
  gateway?: string;
  ipv6?: string;
}

export type LinkFault = 'down' | 'drop';

export interface LinkInfo {
  kind: 'host' | 'pod';
  name: string;
  netns: string;
  iface: string;
  peerNetns: string;
  peerIface: string;
  /** Both ends administratively up and no drop rule in place. */
  up: boolean;
  fault?: LinkFault;
}

export interface LabEtcd {
  server: EtcdServer;
  /** For processes inside lab namespaces: over the fabric. */
  endpoint: string;
  /** For processes in the root namespace (the `tern` CLI, tests): a unix socket. */
  unixEndpoint: string;
}

type NsRef = string | { netns: string };

/** Short interface name from a hash: unique for practical purposes, within IFNAMSIZ (15). */
export function vethName(prefix: string, key: string, len = 15): string {
  const room = Math.min(15, len) - prefix.length;
  return prefix + createHash('sha1').update(key).digest('hex').slice(0, room);
}

const FAULT_TABLE = 'tern_lab_fault';

function faultRules(iface: string): string {
  // A table of the lab's own, so the agent's nftables ruleset and this fault never meet.
  return [
    `table inet ${FAULT_TABLE} {`,
    `  chain input { type filter hook input priority -300; policy accept; iifname "${iface}" drop; }`,
    `  chain output { type filter hook output priority -300; policy accept; oifname "${iface}" drop; }`,
    `  chain forward { type filter hook forward priority -300; policy accept; iifname "${iface}" drop; oifname "${iface}" drop; }`,
    `}`,
  ].join('\n');
}

let pingTool: 'ping' | 'perl' | undefined;
function detectPing(): 'ping' | 'perl' {
  // iputils ping when installed; otherwise Perl's core Net::Ping (raw ICMP as root), which
  // every Debian system has.
  pingTool ??= ['/usr/bin/ping', '/bin/ping', '/usr/sbin/ping'].some((p) => existsSync(p)) ? 'ping' : 'perl';
  return pingTool;
}
const PERL_PING = 'use Net::Ping; my ($ip, $t, $v6) = @ARGV; my $p = Net::Ping->new($v6 ? "icmpv6" : "icmp", $t); exit($p->ping($ip) ? 0 : 1);';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Lab {
  readonly id: string;
  readonly prefix: string;
  readonly persistent: boolean;
  /** Directory of this run: state.json, process logs, sockets. */
  readonly dir: string;
  private readonly state: LabState;
  private readonly stateFile: string;
  private readonly procs = new Set<ManagedProcess>();
  private readonly usedIps = new Set<bigint>();
  private readonly faults = new Map<string, LinkFault>();
  private fabricCidr: Cidr | undefined;
  private fabricCidr6: Cidr | undefined;
  private unregisterExit: (() => void) | undefined;
  private destroyed = false;
  private logSeq = 0;

  private constructor(id: string, persistent: boolean) {
    this.id = id;
    this.prefix = nsPrefix(id);
    this.persistent = persistent;
    this.dir = ensureRunDir(id);
    this.stateFile = stateFile(id);
    this.state = newState(id, persistent);
    this.save();
    if (!persistent) this.unregisterExit = onExitCleanup(() => this.destroySync());
  }

  static async create(opts: LabOptions = {}): Promise<Lab> {
    if (opts.sweepStale !== false) {
      const swept = await cleanupStale();
      if (swept.runs.length) log.info({ runs: swept.runs, namespaces: swept.namespaces.length }, 'removed stale lab runs');
    }
    mkdirSync(labBaseDir(), { recursive: true });
    let id = opts.name;
    if (id !== undefined) {
      if (!RUN_ID_RE.test(id)) throw new TernError('TERN_ERR_LAB', `invalid lab name "${id}": 1-8 of [a-z0-9]`);
      const prev = readState(stateFile(id));
      if (prev) {
        if (!opts.replace) {
          const why = prev.persistent ? 'is up (persistent)' : ownerAlive(prev) ? `belongs to running pid ${prev.owner.pid}` : 'was left behind';
          throw new TernError('TERN_ERR_LAB', `lab "${id}" ${why}; tear it down first`);
        }
        await teardown(prev);
        removeRunDir(id);
      }
    } else {
      // 5 base-36 characters: 60 million ids; a collision with a recorded run is retried.
      do id = BigInt(`0x${randomBytes(4).toString('hex')}`).toString(36).slice(-5).padStart(5, '0');
      while (existsSync(join(labBaseDir(), id)));
    }
    return new Lab(id, opts.persistent === true);
  }

  /** The namespace name for a lab-local name. */
  nsName(name: string): string {
    return `${this.prefix}${name}`;
  }

  get fabricInfo(): FabricInfo | undefined {
    return this.state.fabric;
  }

  hosts(): Host[] {
    return [...this.state.hosts];
  }

  pods(): Pod[] {
    return [...this.state.pods];
  }

  host(name: string): Host {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h) throw new TernError('TERN_ERR_LAB', `no host "${name}" in lab ${this.id}`);
    return h;
  }

  pod(name: string): Pod {
    const p = this.state.pods.find((x) => x.name === name);
    if (!p) throw new TernError('TERN_ERR_LAB', `no pod "${name}" in lab ${this.id}`);
    return p;
  }

  /** Every namespace this lab made. */
  namespaces(): string[] {
    return [...this.state.namespaces];
  }

  /** A snapshot of the recorded state (what `npm start -- status` reads). */
  snapshot(): LabState {
    return structuredClone(this.state);
  }

  /** Records a fact for users of the state file (e.g. etcd endpoints). */
  setMeta(key: string, value: unknown): void {
    this.state.meta[key] = value;
    this.save();
  }

  // -------------------------------------------------------------------------------------
  // Topology

  /** Creates the fabric: a bridge inside a namespace of its own. Called by addHost when needed. */
  async fabric(cidr: string = DEFAULT_FABRIC_CIDR, opts: { ipv6Cidr?: string } = {}): Promise<FabricInfo> {
    this.assertLive();
    if (this.state.fabric) {
      if (this.state.fabric.cidr !== cidr) throw new TernError('TERN_ERR_LAB', `fabric exists with ${this.state.fabric.cidr}, asked for ${cidr}`);
      return this.state.fabric;
    }
    const c = parseCidr(cidr);
    const c6 = parseCidr(opts.ipv6Cidr ?? DEFAULT_FABRIC_IPV6_CIDR);
    if (c.family !== 4 || c.prefixLen > 30) throw new TernError('TERN_ERR_LAB', `fabric cidr ${cidr} must be IPv4 with room for hosts`);
    if (c6.family !== 6) throw new TernError('TERN_ERR_LAB', `fabric IPv6 cidr ${formatIp({ family: 6, value: c6.base })} must be IPv6`);
    const ns = this.nsName(FABRIC);
    this.recordNamespaces([ns]);
    await ipBatch([ipLine('netns', 'add', ns)]);
    // No multicast snooping: without a querier it can starve IPv6 neighbour discovery.
    await ipBatch(
      [ipLine('link', 'set', 'lo', 'up'), ipLine('link', 'add', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0'), ipLine('link', 'set', BRIDGE, 'up')],
      { netns: ns },
    );
    this.fabricCidr = c;
    this.fabricCidr6 = c6;
    this.state.fabric = { netns: ns, bridge: BRIDGE, cidr, ipv6Cidr: opts.ipv6Cidr ?? DEFAULT_FABRIC_IPV6_CIDR };
    this.save();
    return this.state.fabric;
  }

  async addHost(name: string, opts: HostOptions = {}): Promise<Host> {
    const [h] = await this.addHosts([{ name, ...opts }]);
    return h!;
  }

  /**
   * Creates many hosts with a handful of `ip -batch` processes whatever their number:
   * namespaces in one batch, sysctls in one, veths in one, then one small batch per host for
   * its addresses (addresses must be set from inside the namespace).
   */
  async addHosts(specs: ReadonlyArray<{ name: string } & HostOptions>): Promise<Host[]> {
    this.assertLive();
    if (!this.state.fabric) await this.fabric();
    const fab = this.state.fabric!;
    const c = this.fabricCidr!;
    const c6 = this.fabricCidr6!;
    const hosts: Host[] = [];
    const reserved: bigint[] = [];
    try {
      for (const s of specs) {
        this.checkName(s.name);
        if (hosts.some((h) => h.name === s.name)) throw new TernError('TERN_ERR_LAB', `host "${s.name}" given twice`);
        const ip = s.fabricIp ? this.claimIp(s.fabricIp) : this.nextIp();
        reserved.push(ip);
        let ipv6: string | undefined;
        if (s.ipv6 === true) ipv6 = formatIp({ family: 6, value: c6.base + (ip - c.base) });
        else if (s.ipv6) ipv6 = s.ipv6;
        if (ipv6 && !cidrContainsIp(c6, parseIp(ipv6))) throw new TernError('TERN_ERR_LAB', `host ${s.name}: ${ipv6} is outside the fabric's ${fab.ipv6Cidr}`);
        const fabricIp = formatIp({ family: 4, value: ip });
        hosts.push({
          name: s.name,
          netns: this.nsName(s.name),
          fabricIp,
          fabricCidr: `${fabricIp}/${c.prefixLen}`,
          ...(ipv6 ? { ipv6 } : {}),
          iface: IFACE,
          fabricPeer: this.uniqueIfname('vf', `${this.id}/${s.name}`, fab.netns, hosts.map((h) => h.fabricPeer)),
        });
      }
    } catch (e) {
      for (const ip of reserved) this.usedIps.delete(ip);
      throw e;
    }
    this.recordNamespaces(hosts.map((h) => h.netns));
    this.state.hosts.push(...hosts);
    this.save();

    await ipBatch(hosts.map((h) => ipLine('netns', 'add', h.netns)));
    await ipBatch(
      hosts.map((h, i) => {
        const extra = Object.entries(specs[i]!.sysctls ?? {}).map(([k, v]) => `${k}=${v}`);
        const kv = [...Object.entries(HOST_SYSCTLS).map(([k, v]) => `${k}=${v}`), ...extra];
        return ipLine('netns', 'exec', h.netns, 'sysctl', '-q', '-w', ...kv);
      }),
    );
    await ipBatch(
      hosts.flatMap((h) => [
        ipLine('link', 'add', h.fabricPeer, 'type', 'veth', 'peer', 'name', h.iface, 'netns', h.netns),
        ipLine('link', 'set', h.fabricPeer, 'master', fab.bridge),
        ipLine('link', 'set', h.fabricPeer, 'up'),
      ]),
      { netns: fab.netns },
    );
    await Promise.all(
      hosts.map((h) =>
        ipBatch(
          [
            ipLine('link', 'set', 'lo', 'up'),
            ipLine('addr', 'add', h.fabricCidr, 'dev', h.iface),
            ...(h.ipv6 ? [ipLine('addr', 'add', `${h.ipv6}/${c6.prefixLen}`, 'dev', h.iface, 'nodad')] : []),
            ipLine('link', 'set', h.iface, 'up'),
          ],
          { netns: h.netns },
        ),
      ),
    );
    return hosts;
  }

  /**
   * A pod namespace hanging off host: veth with the host end in the host's namespace, a /32
   * (and /128) route to it there, and inside the pod a default route via a link-local
   * gateway. The host answers ARP for 169.254.1.1 by proxy ARP, as Calico does; proxy ARP
   * only answers for addresses the host routes elsewhere, hence the gateway route on lo.
   */
  async addPod(hostRef: Host | string, name: string, opts: PodOptions): Promise<Pod> {
    this.assertLive();
    const host = typeof hostRef === 'string' ? this.host(hostRef) : this.host(hostRef.name);
    this.checkName(`${host.name}-${name}`);
    if (this.state.pods.some((p) => p.name === name)) throw new TernError('TERN_ERR_LAB', `pod "${name}" exists in lab ${this.id}`);
    const ip = parseIp(opts.ip);
    if (ip.family !== 4) throw new TernError('TERN_ERR_LAB', `pod ${name}: ip ${opts.ip} must be IPv4 (use ipv6 for the IPv6 address)`);
    if (opts.ipv6 && parseIp(opts.ipv6).family !== 6) throw new TernError('TERN_ERR_LAB', `pod ${name}: ipv6 ${opts.ipv6} is not IPv6`);
    const gateway = opts.gateway ?? POD_GATEWAY;
    const pod: Pod = {
      name,
      host: host.name,
      netns: this.nsName(`${host.name}-${name}`),
      ip: opts.ip,
      ...(opts.ipv6 ? { ipv6: opts.ipv6 } : {}),
      gateway,
      iface: IFACE,
      hostIface: this.uniqueIfname('tp', `${this.id}/${host.name}/${name}`, host.netns),
    };
    this.recordNamespaces([pod.netns]);
    this.state.pods.push(pod);
    this.save();

    await ipBatch([ipLine('netns', 'add', pod.netns), ipLine('netns', 'exec', pod.netns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0')]);
    await ipBatch(
      [
        ipLine('link', 'add', pod.hostIface, 'type', 'veth', 'peer', 'name', pod.iface, 'netns', pod.netns),
        ipLine('link', 'set', pod.hostIface, 'up'),
        ipLine('route', 'replace', `${gateway}/32`, 'dev', 'lo'),
        ipLine('route', 'add', `${pod.ip}/32`, 'dev', pod.hostIface),
        ...(pod.ipv6
          ? [ipLine('addr', 'add', `${POD_GATEWAY6}/64`, 'dev', pod.hostIface, 'nodad'), ipLine('route', 'add', `${pod.ipv6}/128`, 'dev', pod.hostIface)]
          : []),
      ],
      { netns: host.netns },
    );
    await ipBatch([
      ipLine('netns', 'exec', host.netns, 'sysctl', '-q', '-w', `net.ipv4.conf.${pod.hostIface}.proxy_arp=1`, `net.ipv4.neigh.${pod.hostIface}.proxy_delay=0`),
    ]);
    await ipBatch(
      [
        ipLine('link', 'set', 'lo', 'up'),
        ipLine('addr', 'add', `${pod.ip}/32`, 'dev', pod.iface),
        ...(pod.ipv6 ? [ipLine('addr', 'add', `${pod.ipv6}/128`, 'dev', pod.iface, 'nodad')] : []),
        ipLine('link', 'set', pod.iface, 'up'),
        ipLine('route', 'add', `${gateway}/32`, 'dev', pod.iface, 'scope', 'link'),
        ipLine('route', 'add', 'default', 'via', gateway, 'dev', pod.iface),
        ...(pod.ipv6 ? [ipLine('route', 'add', 'default', 'via', POD_GATEWAY6, 'dev', pod.iface)] : []),
      ],
      { netns: pod.netns },
    );
    return pod;
  }

  /**
   * Bare namespaces with only lo up (pods a CNI plugin will wire, as a runtime makes them),
   * recorded like every other namespace of the lab; returns their names.
   */
  async addNamespaces(names: readonly string[]): Promise<string[]> {
    this.assertLive();
    for (const n of names) this.checkName(n);
    const ns = names.map((n) => this.nsName(n));
    this.recordNamespaces(ns);
    await ipBatch(ns.map((n) => ipLine('netns', 'add', n)));
    await Promise.all(ns.map((n) => ipBatch([ipLine('link', 'set', 'lo', 'up')], { netns: n })));
    return ns;
  }

  // -------------------------------------------------------------------------------------
  // Commands and processes inside the lab

  /** Runs a command in one of the lab's namespaces (a host, a pod, or a namespace name); throws on failure. */
  async exec(ns: NsRef, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return await runIn(this.resolveNs(ns), cmd, args, opts);
  }

  /** Starts a long-running process in a lab namespace; destroy() stops it by PID. */
  spawn(ns: NsRef, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
    this.assertLive();
    const netns = this.resolveNs(ns);
    const logFile = opts.logFile ?? join(this.dir, `${netns.slice(this.prefix.length)}.${basename(cmd)}.${++this.logSeq}.log`);
    const p = spawnIn(netns, cmd, args, { ...opts, logFile, detached: this.persistent || opts.detached === true });
    this.procs.add(p);
    this.state.processes.push({ pid: p.pid, ...(p.startTime !== undefined ? { startTime: p.startTime } : {}), netns, command: formatCommand(cmd, args), logFile });
    this.save();
    void p.wait().then(() => {
      this.procs.delete(p);
      if (this.destroyed) return;
      this.state.processes = this.state.processes.filter((r) => !(r.pid === p.pid && r.startTime === p.startTime));
      this.save();
    });
    return p;
  }

  /** Records a process started elsewhere (e.g. EtcdServer) so destroy() and down stop it. */
  adopt(pid: number, info: { netns?: string; command: string; logFile?: string }): void {
    const startTime = processStartTime(pid);
    this.state.processes.push({ pid, ...(startTime !== undefined ? { startTime } : {}), ...info });
    this.save();
  }

  /**
   * Starts a real etcd inside host's namespace on the fabric (for daemons in other
   * namespaces) and on a unix socket in the run directory (for clients in the root
   * namespace), and records its PID.
   */
  async startEtcd(hostRef: Host | string, opts: { clientPort?: number; peerPort?: number; dataDir?: string } = {}): Promise<LabEtcd> {
    const host = typeof hostRef === 'string' ? this.host(hostRef) : this.host(hostRef.name);
    const server = new EtcdServer({
      host: host.fabricIp,
      clientPort: opts.clientPort ?? 2379,
      peerPort: opts.peerPort ?? 2380,
      netns: host.netns,
      unixSocketDir: this.dir,
      logFile: join(this.dir, `${host.name}.etcd.log`),
      detached: this.persistent,
      ...(opts.dataDir ? { dataDir: opts.dataDir } : { dataDir: join(this.dir, 'etcd') }),
    });
    try {
      await server.start();
    } finally {
      // Recorded even when start failed: the process may still be running.
      if (server.pid !== undefined) this.adopt(server.pid, { netns: host.netns, command: `etcd (${host.name})`, logFile: join(this.dir, `${host.name}.etcd.log`) });
    }
    return { server, endpoint: server.endpoint, unixEndpoint: server.unixEndpoint! };
  }

  /** One ICMP echo from a lab namespace; true when answered within timeoutMs. */
  async ping(from: NsRef, ip: string, opts: { timeoutMs?: number } = {}): Promise<boolean> {
    const ns = this.resolveNs(from);
    const v6 = parseIp(ip).family === 6;
    const secs = Math.max(1, Math.ceil((opts.timeoutMs ?? 1000) / 1000));
    const args: [string, string[]] =
      detectPing() === 'ping'
        ? ['ping', [v6 ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', String(secs), ip]]
        : ['perl', ['-e', PERL_PING, ip, String(secs), v6 ? '1' : '']];
    const r = await runIn(ns, args[0], args[1], { allowFail: true, timeoutMs: secs * 1000 + 5000 });
    return r.code === 0;
  }

  /** Pings until answered or timeoutMs passed (routes converging, a link coming back). */
  async waitPing(from: NsRef, ip: string, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    do {
      if (await this.ping(from, ip)) return true;
      await sleep(100);
    } while (Date.now() < deadline);
    return false;
  }

  /** True when a TCP connection from the namespace to ip:port is accepted within timeoutMs. */
  async tcpCheck(from: NsRef, ip: string, port: number, timeoutMs = 2000): Promise<boolean> {
    const ns = this.resolveNs(from);
    parseIp(ip);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TernError('TERN_ERR_LAB', `bad port ${port}`);
    // bash's /dev/tcp connects and exits; address and port arrive as $0 and $1, never spliced into the script.
    const r = await runIn(ns, 'bash', ['-c', 'exec 3<>"/dev/tcp/$0/$1"', ip, String(port)], { allowFail: true, timeoutMs });
    return r.code === 0 && r.signal === null;
  }

  /** The lab's veth links with their state as the kernel reports it. */
  async links(): Promise<LinkInfo[]> {
    const up = new Map<string, boolean>();
    const readNs = async (ns: string) => {
      const r = await runIn(undefined, 'ip', ['-j', '-n', ns, 'link', 'show'], { allowFail: true });
      if (r.code !== 0) return;
      for (const l of JSON.parse(r.stdout) as Array<{ ifname: string; flags: string[] }>) up.set(`${ns}/${l.ifname}`, l.flags.includes('UP'));
    };
    const nss = new Set<string>();
    if (this.state.fabric) nss.add(this.state.fabric.netns);
    for (const h of this.state.hosts) nss.add(h.netns);
    for (const p of this.state.pods) nss.add(p.netns);
    await Promise.all([...nss].map(readNs));
    const out: LinkInfo[] = [];
    const fab = this.state.fabric?.netns ?? '';
    for (const h of this.state.hosts) {
      const fault = this.faults.get(h.name);
      const isUp = (up.get(`${h.netns}/${h.iface}`) ?? false) && (up.get(`${fab}/${h.fabricPeer}`) ?? false) && fault !== 'drop';
      out.push({ kind: 'host', name: h.name, netns: h.netns, iface: h.iface, peerNetns: fab, peerIface: h.fabricPeer, up: isUp, ...(fault ? { fault } : {}) });
    }
    for (const p of this.state.pods) {
      const hostNs = this.host(p.host).netns;
      const isUp = (up.get(`${p.netns}/${p.iface}`) ?? false) && (up.get(`${hostNs}/${p.hostIface}`) ?? false);
      out.push({ kind: 'pod', name: p.name, netns: p.netns, iface: p.iface, peerNetns: hostNs, peerIface: p.hostIface, up: isUp });
    }
    return out;
  }

  /**
   * Cuts a host off the fabric. 'down' sets the fabric end of its veth down (the host sees
   * carrier loss, as when a cable is pulled); 'drop' keeps the link up and drops every
   * packet on it with nftables inside the host's namespace (as when a switch silently
   * blackholes: BGP must notice by its hold timer).
   */
  async cutLink(hostRef: Host | string, opts: { mode?: LinkFault } = {}): Promise<void> {
    const host = typeof hostRef === 'string' ? this.host(hostRef) : this.host(hostRef.name);
    const mode = opts.mode ?? 'down';
    if (this.faults.has(host.name)) await this.restoreLink(host);
    if (mode === 'down') await ipBatch([ipLine('link', 'set', host.fabricPeer, 'down')], { netns: this.state.fabric!.netns });
    else await nftApply(host.netns, faultRules(host.iface));
    this.faults.set(host.name, mode);
  }

  async restoreLink(hostRef: Host | string): Promise<void> {
    const host = typeof hostRef === 'string' ? this.host(hostRef) : this.host(hostRef.name);
    const mode = this.faults.get(host.name);
    if (mode === 'down') await ipBatch([ipLine('link', 'set', host.fabricPeer, 'up')], { netns: this.state.fabric!.netns });
    else if (mode === 'drop') await runIn(host.netns, 'nft', ['delete', 'table', 'inet', FAULT_TABLE]);
    this.faults.delete(host.name);
  }

  // -------------------------------------------------------------------------------------
  // Teardown

  /**
   * Stops every process the lab started (by PID: SIGTERM, then SIGKILL), then any process
   * left inside its namespaces, deletes its namespaces (their veths and the bridge go with
   * them) and its run directory. Safe to call twice.
   */
  async destroy(): Promise<TeardownResult> {
    if (this.destroyed) return { namespaces: [], killed: [] };
    this.destroyed = true;
    this.unregisterExit?.();
    await Promise.all([...this.procs].map((p) => p.stop('SIGTERM', 3000)));
    const r = await teardown(this.state);
    removeRunDir(this.id);
    return r;
  }

  /** destroy() for exit handlers: SIGKILL and synchronous `ip` calls. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    teardownSync(this.state);
    removeRunDir(this.id);
  }

  // -------------------------------------------------------------------------------------

  private save(): void {
    if (!this.destroyed) writeState(this.stateFile, this.state);
  }

  private assertLive(): void {
    if (this.destroyed) throw new TernError('TERN_ERR_LAB', `lab ${this.id} was destroyed`);
  }

  private checkName(name: string): void {
    if (!NAME_RE.test(name) || name === FABRIC) throw new TernError('TERN_ERR_LAB', `invalid lab name "${name}": [a-z0-9-], up to 32, not "${FABRIC}"`);
    if (this.state.namespaces.includes(this.nsName(name))) throw new TernError('TERN_ERR_LAB', `"${name}" exists in lab ${this.id}`);
  }

  private recordNamespaces(names: string[]): void {
    for (const n of names) {
      if (netnsExists(n)) throw new TernError('TERN_ERR_LAB', `namespace ${n} exists already`);
    }
    this.state.namespaces.push(...names);
    this.save();
  }

  /** Only the lab's own namespaces: a typo must never run a command in the root namespace. */
  private resolveNs(ref: NsRef): string {
    const name = typeof ref === 'string' ? ref : ref.netns;
    if (this.state.namespaces.includes(name)) return name;
    const h = this.state.hosts.find((x) => x.name === name);
    if (h) return h.netns;
    const p = this.state.pods.find((x) => x.name === name);
    if (p) return p.netns;
    throw new TernError('TERN_ERR_LAB', `"${name}" is not a namespace, host or pod of lab ${this.id}`);
  }

  private claimIp(s: string): bigint {
    const ip = parseIp(s);
    const c = this.fabricCidr!;
    if (!cidrContainsIp(c, ip)) throw new TernError('TERN_ERR_LAB', `${s} is outside the fabric ${this.state.fabric!.cidr}`);
    const last = c.base + (1n << BigInt(bitsOf(4) - c.prefixLen)) - 1n;
    if (ip.value === c.base || ip.value === last) throw new TernError('TERN_ERR_LAB', `${s} is the fabric's network or broadcast address`);
    if (this.usedIps.has(ip.value)) throw new TernError('TERN_ERR_LAB', `${s} is taken on the fabric`);
    this.usedIps.add(ip.value);
    return ip.value;
  }

  private nextIp(): bigint {
    const c = this.fabricCidr!;
    const size = 1n << BigInt(bitsOf(4) - c.prefixLen);
    for (let i = 1n; i < size - 1n; i++) {
      const v = nthIp(c, i).value;
      if (!this.usedIps.has(v)) {
        this.usedIps.add(v);
        return v;
      }
    }
    throw new TernError('TERN_ERR_LAB', `no free address left on the fabric ${this.state.fabric!.cidr}`);
  }

  /** A hashed veth name, unique among the names this lab gave out in that namespace. */
  private uniqueIfname(prefix: string, key: string, netns: string, pending: string[] = []): string {
    const taken = new Set<string>(pending);
    for (const h of this.state.hosts) if (this.state.fabric?.netns === netns) taken.add(h.fabricPeer);
    for (const p of this.state.pods) if (this.host(p.host).netns === netns) taken.add(p.hostIface);
    let name = vethName(prefix, key);
    for (let i = 1; taken.has(name); i++) name = vethName(prefix, `${key}#${i}`);
    return name;
  }
}
