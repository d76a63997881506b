// The kernel side of pod networking: the veth pair, its addresses, routes, neighbour entries
// and sysctls. Runs in the node's network namespace (the agent's own); the pod's side is
// configured from inside the pod's namespace with `nsenter --net=<CNI_NETNS>`, which takes any
// path (bind mount under /var/run/netns or /proc/<pid>/ns/net), where `ip -n` takes only names.
// Writes in the node's namespace go down one long-lived `ip -force -batch -` (no process per
// ADD or DEL); the pod's side is one `nsenter … ip -batch` process: ADD forks once whatever
// the address count. Reads (`ip -j`) are processes of their own, as they need stdout.
import { writeFile } from 'node:fs/promises';
import { PersistentIpBatch, type BatchResult } from '../routes/ip.js';
import { SCOPE_LINK, TERN_ROUTE_PROTOCOL } from '../routes/model.js';
import { CniError, TernCniCode } from './codes.js';
import type { CommandResult, CommandRunner } from './exec.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_VETH_MAC } from './names.js';

export interface VethPlan {
  hostIface: string;
  tmpIface: string;
  podIface: string;
  /** CNI_NETNS: a path to the pod's network namespace. */
  netns: string;
  mtu: number;
  podMac: string;
  alias: string;
  /** Bare addresses: `10.244.1.5`, `fd00::5`. */
  ipv4?: string;
  ipv6?: string;
}

export interface LinkInfo {
  name: string;
  ifindex: number;
  mtu: number;
  mac: string;
  /** Administratively up. */
  up: boolean;
  alias?: string;
  /** `veth` etc. (only from listings made with `-d`). */
  kind?: string;
  /** Addresses as `ip/len` (only from `addr show`). */
  addrs: string[];
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  table: string;
  protocol?: string;
}

export interface NeighInfo {
  dst: string;
  mac?: string;
  dev?: string;
  permanent: boolean;
}

export interface PodNetState {
  links: LinkInfo[];
  routes: RouteInfo[];
  neighbours: NeighInfo[];
}

const lineSafe = /^[^\s"'\\#]+$/;
/** One `ip -batch` line; an argument that `ip` would split or treat as a comment is a bug here. */
function line(...args: string[]): string {
  for (const a of args) if (!lineSafe.test(a)) throw new CniError(TernCniCode.INTERNAL, `unsafe ip batch argument ${JSON.stringify(a)}`);
  return args.join(' ');
}

/** Where the node-side writes go: `ip -force -batch` lines, errors reported per line. */
export interface HostBatch {
  run(lines: readonly string[]): Promise<BatchResult>;
  close(): Promise<void>;
}

function batchFailed(what: string, lines: readonly string[], errors: Map<number, string>): CniError {
  const [i, msg] = [...errors][0]!;
  return new CniError(TernCniCode.VETH_SETUP_FAILED, `${what} failed at "${lines[i]}"`, [...errors.values()].join('; ') || msg);
}

function failed(what: string, r: CommandResult, lines?: string[]): CniError {
  const m = /Command failed -:(\d+)/.exec(r.stderr);
  const at = m && lines ? ` at "${lines[Number(m[1]) - 1]}"` : '';
  return new CniError(TernCniCode.VETH_SETUP_FAILED, `${what} failed${at}`, r.stderr.trim() || `exit ${r.code}`);
}

interface RawLink {
  ifname?: string;
  ifindex?: number;
  mtu?: number;
  address?: string;
  flags?: string[];
  ifalias?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local?: string; prefixlen?: number }[];
}

function toLink(r: RawLink): LinkInfo {
  return {
    name: r.ifname ?? '',
    ifindex: r.ifindex ?? 0,
    mtu: r.mtu ?? 0,
    mac: r.address ?? '',
    up: (r.flags ?? []).includes('UP'),
    ...(r.ifalias ? { alias: r.ifalias } : {}),
    ...(r.linkinfo?.info_kind ? { kind: r.linkinfo.info_kind } : {}),
    addrs: (r.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** `ip -j` prints one JSON array per command; a batch prints one per line. */
function jsonLines(stdout: string): unknown[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('['))
    .map((l) => JSON.parse(l) as unknown[]);
}

const noDevice = (r: CommandResult): boolean => noDeviceText(r.stderr);
const noDeviceText = (s: string): boolean => /does not exist|Cannot find device/.test(s);

export class Dataplane {
  private host: HostBatch | undefined;

  constructor(
    private readonly run: CommandRunner,
    /** /proc/sys of the agent's own namespace (net sysctls follow the opener's netns). */
    private readonly procSys = '/proc/sys',
    /** Node-side writes; by default one `ip -force -batch -` in the agent's namespace, started on first use. */
    hostBatch?: HostBatch,
  ) {
    this.host = hostBatch;
  }

  private hostBatch(): HostBatch {
    return (this.host ??= new PersistentIpBatch(undefined, 20_000));
  }

  /** Ends the node-side `ip` process (a later write starts another). */
  async close(): Promise<void> {
    const h = this.host;
    this.host = undefined;
    await h?.close();
  }

  private async hostRun(what: string, lines: readonly string[]): Promise<Map<number, string>> {
    try {
      return (await this.hostBatch().run(lines)).errors;
    } catch (e) {
      // The ip process died or hung: the next write starts a new one.
      this.host = undefined;
      throw new CniError(TernCniCode.VETH_SETUP_FAILED, `${what} failed`, (e as Error).message);
    }
  }

  /**
   * Creates the pair with the peer straight in the pod's namespace, then the host end's
   * alias, link, gateway address and the pod's routes (`proto 44`, the route manager's
   * protocol, so it adopts them). If the first line fails nothing was made; after that the
   * caller deletes the host end, which takes the peer and the routes with it.
   */
  async createVeth(p: VethPlan): Promise<void> {
    const proto = String(TERN_ROUTE_PROTOCOL);
    // The pair on its own first: with `-force` ip goes on after a failed line, and the rest
    // must not run against a leftover link of the same name ("File exists" → replaced).
    const add = [
      line('link', 'add', 'name', p.hostIface, 'address', HOST_VETH_MAC, 'mtu', String(p.mtu), 'type', 'veth', 'peer', 'name', p.tmpIface, 'address', p.podMac, 'mtu', String(p.mtu), 'netns', p.netns),
    ];
    const addErr = await this.hostRun(`creating veth ${p.hostIface}`, add);
    if (addErr.size) throw batchFailed(`creating veth ${p.hostIface}`, add, addErr);
    const lines = [
      // `ip link add` accepts `alias` and ignores it (iproute2 6.1): set it on its own.
      line('link', 'set', 'dev', p.hostIface, 'alias', p.alias),
      line('link', 'set', 'dev', p.hostIface, 'up'),
      ...(p.ipv6 ? [line('addr', 'add', `${GATEWAY_V6}/64`, 'dev', p.hostIface, 'nodad')] : []),
      // `replace`: a /32 for an address IPAM just handed out can only be a leftover. Numbers,
      // not names: a long-lived ip caches name lookups across lines (see routes/codec.ts).
      ...(p.ipv4 ? [line('route', 'replace', `${p.ipv4}/32`, 'dev', p.hostIface, 'scope', String(SCOPE_LINK), 'proto', proto)] : []),
      ...(p.ipv6 ? [line('route', 'replace', `${p.ipv6}/128`, 'dev', p.hostIface, 'proto', proto)] : []),
    ];
    const errors = await this.hostRun(`setting up veth ${p.hostIface}`, lines);
    if (errors.size) throw batchFailed(`setting up veth ${p.hostIface}`, lines, errors);
  }

  /**
   * Proxy ARP makes the host answer the pod's ARP for 169.254.1.1 should its permanent
   * neighbour entry ever go; per-interface forwarding lets the pod's packets be routed even
   * where the node's global switch is off (ip_route_input_slow checks the input device).
   */
  async hostSysctls(iface: string, ipv6: boolean): Promise<void> {
    const w: [string, string][] = [
      [`net/ipv4/conf/${iface}/proxy_arp`, '1'],
      [`net/ipv4/neigh/${iface}/proxy_delay`, '0'],
      [`net/ipv4/conf/${iface}/forwarding`, '1'],
      ...(ipv6 ? ([[`net/ipv6/conf/${iface}/forwarding`, '1']] as [string, string][]) : []),
    ];
    for (const [k, v] of w) {
      try {
        await writeFile(`${this.procSys}/${k}`, v);
      } catch (e) {
        throw new CniError(TernCniCode.VETH_SETUP_FAILED, `sysctl ${k.replaceAll('/', '.')}=${v} failed`, (e as Error).message);
      }
    }
  }

  /**
   * Inside the pod: rename the peer, the /32 and /128, link up, the gateway as an on-link
   * host route, a permanent neighbour entry for it (the host end's fixed MAC) and the default
   * routes, as Calico sets a pod up.
   */
  async configurePod(p: VethPlan): Promise<void> {
    const i = p.podIface;
    const lines = [
      line('link', 'set', 'dev', p.tmpIface, 'name', i),
      ...(p.ipv4 ? [line('addr', 'add', `${p.ipv4}/32`, 'dev', i)] : []),
      ...(p.ipv6 ? [line('addr', 'add', `${p.ipv6}/128`, 'dev', i, 'nodad')] : []),
      line('link', 'set', 'dev', i, 'up'),
      ...(p.ipv4
        ? [
            line('route', 'add', `${GATEWAY_V4}/32`, 'dev', i, 'scope', 'link'),
            line('neigh', 'replace', GATEWAY_V4, 'lladdr', HOST_VETH_MAC, 'dev', i, 'nud', 'permanent'),
            line('route', 'add', 'default', 'via', GATEWAY_V4, 'dev', i),
          ]
        : []),
      ...(p.ipv6
        ? [line('neigh', 'replace', GATEWAY_V6, 'lladdr', HOST_VETH_MAC, 'dev', i, 'nud', 'permanent'), line('route', 'add', 'default', 'via', GATEWAY_V6, 'dev', i)]
        : []),
    ];
    const r = await this.run('nsenter', [`--net=${p.netns}`, 'ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    if (r.code !== 0) throw failed(`configuring ${i} in ${p.netns}`, r, lines);
  }

  /** The host-side link, or undefined when there is none. */
  async link(name: string): Promise<LinkInfo | undefined> {
    const r = await this.run('ip', ['-j', '-d', 'link', 'show', 'dev', name]);
    if (r.code !== 0) {
      if (noDevice(r)) return undefined;
      throw failed(`reading link ${name}`, r);
    }
    const [rows] = jsonLines(r.stdout);
    const raw = (rows ?? [])[0] as RawLink | undefined;
    return raw ? toLink(raw) : undefined;
  }

  /** Deletes a host-side link (its peer and its routes go with it); false when it was gone. */
  async deleteLink(name: string): Promise<boolean> {
    const lines = [line('link', 'del', 'dev', name)];
    const errors = await this.hostRun(`deleting link ${name}`, lines);
    if (errors.size === 0) return true;
    if (noDeviceText([...errors.values()].join('; '))) return false;
    throw batchFailed(`deleting link ${name}`, lines, errors);
  }

  /** Every veth in the node's namespace, with alias. */
  async veths(): Promise<LinkInfo[]> {
    const r = await this.run('ip', ['-j', '-d', 'link', 'show', 'type', 'veth']);
    if (r.code !== 0) throw failed('listing veths', r);
    return ((jsonLines(r.stdout)[0] ?? []) as RawLink[]).map(toLink);
  }

  /** What the pod's namespace holds: links with addresses, routes of every table, neighbours. */
  async podState(netns: string): Promise<PodNetState> {
    const lines = ['addr show', 'route show table all', 'neigh show'];
    const r = await this.run('nsenter', [`--net=${netns}`, 'ip', '-j', '-batch', '-'], { input: `${lines.join('\n')}\n` });
    if (r.code !== 0) throw failed(`reading the network of ${netns}`, r, lines);
    const [links = [], routes = [], neigh = []] = jsonLines(r.stdout);
    return {
      links: (links as RawLink[]).map(toLink),
      routes: (routes as { dst?: string; gateway?: string; dev?: string; table?: string; protocol?: string }[]).map((x) => ({
        dst: x.dst ?? '',
        ...(x.gateway ? { gateway: x.gateway } : {}),
        ...(x.dev ? { dev: x.dev } : {}),
        table: x.table ?? 'main',
        ...(x.protocol ? { protocol: x.protocol } : {}),
      })),
      neighbours: (neigh as { dst?: string; lladdr?: string; dev?: string; state?: string[] }[]).map((x) => ({
        dst: x.dst ?? '',
        ...(x.lladdr ? { mac: x.lladdr } : {}),
        ...(x.dev ? { dev: x.dev } : {}),
        permanent: (x.state ?? []).includes('PERMANENT'),
      })),
    };
  }
}
