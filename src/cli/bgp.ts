// `tern bgp ...`: ask tern-bgpd (or tern-rrd with --rrd) over its gRPC socket.
//   tern bgp peers [ADDRESS]          sessions, like `birdc show protocols` / `gobgp neighbor`
//   tern bgp rib [PREFIX]             Loc-RIB, every path, best first (`*>`), like `gobgp global rib`
//   tern bgp adj-in PEER [PREFIX]     what the peer sent us (after import policy)
//   tern bgp adj-out PEER [PREFIX]    what we sent the peer
//   tern bgp announce PREFIX [...]    originate a prefix (AddPath)
//   tern bgp withdraw PREFIX          withdraw it (DeletePath)
//   tern bgp stats | reload
// Every command takes -o table|json and --socket PATH (or --rrd).
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { defaultSocket, grpcTarget, unary } from '../grpc/index.js';
import type { BgpClient } from '../proto/gen/tern/bgp/v1/Bgp.js';
import type { ListPeersResponse__Output } from '../proto/gen/tern/bgp/v1/ListPeersResponse.js';
import type { ListRoutesRequest } from '../proto/gen/tern/bgp/v1/ListRoutesRequest.js';
import type { Path__Output } from '../proto/gen/tern/bgp/v1/Path.js';
import type { PeerState__Output } from '../proto/gen/tern/bgp/v1/PeerState.js';
import type { ReloadResponse__Output } from '../proto/gen/tern/bgp/v1/ReloadResponse.js';
import type { Route__Output } from '../proto/gen/tern/bgp/v1/Route.js';
import type { Stats__Output } from '../proto/gen/tern/bgp/v1/Stats.js';
import { bgpProto } from '../proto/load.js';
import type { CliStreams } from './ipam.js';

interface CommonOpts {
  socket?: string;
  rrd?: boolean;
  output: 'table' | 'json';
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Columns padded to their widest cell, two spaces apart, the last not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** 1d02h, 03:04:05 — the uptime style of `gobgp neighbor`. */
export function duration(sec: number): string {
  const s = Math.floor(sec);
  const d = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return d > 0 ? `${d}d ${hh}:${mm}:${ss}` : `${hh}:${mm}:${ss}`;
}

export function formatPeers(peers: readonly PeerState__Output[]): string {
  const rows = peers.map((p) => [
    p.config?.address ?? '',
    String(p.config?.peerAs ?? ''),
    p.state,
    duration(p.uptimeSeconds),
    `${p.prefixesReceived}/${p.prefixesAccepted}/${p.prefixesAdvertised}`,
    p.source,
    p.bfdState || '-',
    p.state === 'Established' ? (p.config?.description ?? '') : p.lastError || p.lastTransitionReason || (p.config?.description ?? ''),
  ]);
  return table(['PEER', 'AS', 'STATE', 'SINCE', 'RCVD/ACC/ADV', 'SOURCE', 'BFD', 'INFO'], rows);
}

const asPathText = (p: Path__Output): string =>
  p.asPath.map((g) => (g.set ? `{${g.asns.join(',')}}` : g.asns.join(' '))).filter((s) => s !== '').join(' ');

/** `gobgp global rib`-style: one line per path, `*>` on the best, `*=` on the rest of the multipath set. */
export function formatRoutes(routes: readonly Route__Output[], o: { showPeer: boolean } = { showPeer: true }): string {
  const rows: string[][] = [];
  for (const r of routes) {
    r.paths.forEach((p, i) => {
      const mark = (p.stale ? 'S' : '*') + (i === 0 && r.bestReason !== '' ? '>' : i > 0 && i < r.multipath ? '=' : ' ');
      rows.push([
        mark,
        i === 0 ? r.prefix : '',
        p.nextHop || 'self',
        asPathText(p) || '-',
        p.localPref === undefined || p.localPref === null ? '' : String(p.localPref),
        p.med === undefined || p.med === null ? '' : String(p.med),
        p.origin[0]?.toUpperCase() ?? '',
        [...p.communities, ...p.largeCommunities].join(' '),
        ...(o.showPeer ? [p.peerAddress || 'local'] : []),
      ]);
    });
  }
  return table(['', 'PREFIX', 'NEXT HOP', 'AS PATH', 'LPREF', 'MED', 'ORIGIN', 'COMMUNITIES', ...(o.showPeer ? ['FROM'] : [])], rows);
}

export function bgpCommand(streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  const err = streams.err ?? process.stderr;
  const withCommon = (c: Command): Command =>
    c
      .addOption(new Option('--socket <path>', 'daemon gRPC socket (or host:port)'))
      .addOption(new Option('--rrd', `tern-rrd's socket (${defaultSocket('tern-rrd')})`))
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'));
  const address = (o: CommonOpts): string => o.socket ?? (o.rrd ? defaultSocket('tern-rrd') : defaultSocket('tern-bgpd'));
  const withClient = async <T>(o: CommonOpts, f: (c: BgpClient) => Promise<T>): Promise<T> => {
    const Ctor = bgpProto().tern.bgp.v1.Bgp;
    const c = new Ctor(grpcTarget(address(o)), grpc.credentials.createInsecure()) as unknown as BgpClient;
    try {
      return await f(c);
    } finally {
      c.close();
    }
  };
  const listRoutes = (c: BgpClient, req: ListRoutesRequest): Promise<Route__Output[]> =>
    new Promise((resolve, reject) => {
      const got: Route__Output[] = [];
      const s = c.listRoutes(req, { deadline: Date.now() + 120_000 });
      s.on('data', (r: Route__Output) => got.push(r));
      s.on('error', reject);
      s.on('end', () => resolve(got));
    });
  // proto-loader marks set optional fields with `_name` keys: noise for a reader.
  const json = (v: unknown): void => void out.write(`${JSON.stringify(v, (k, x: unknown) => (k.startsWith('_') ? undefined : x), 2)}\n`);

  const cmd = new Command('bgp')
    .description('BGP (tern-bgpd, or tern-rrd with --rrd): peers, routes, announcements')
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });

  withCommon(cmd.command('peers').description('BGP sessions: state, time in it, prefixes received/accepted/advertised').argument('[address]'))
    .action(async (addr: string | undefined, o: CommonOpts) => {
      const r = await withClient(o, (c) => unary<object, ListPeersResponse__Output>(c.listPeers.bind(c) as never, { address: addr ?? '' }));
      if (o.output === 'json') return json(r.peers);
      if (addr !== undefined && r.peers.length === 1) {
        const p = r.peers[0]!;
        const rows: [string, string][] = [
          ['peer', `${p.config?.address} AS ${p.config?.peerAs}${p.config?.description ? ` (${p.config.description})` : ''}`],
          ['state', `${p.state} for ${duration(p.uptimeSeconds)}${p.lastTransitionReason ? ` (${p.lastTransitionReason})` : ''}`],
          ['source', p.source],
          ['router id', p.remoteRouterId || '-'],
          ['local address', p.localAddress || '-'],
          ['capabilities', p.capabilities.join(', ') || '-'],
          ['prefixes', `${p.prefixesReceived} received, ${p.prefixesAccepted} accepted, ${p.prefixesAdvertised} advertised`],
          ['updates', `${p.updatesIn} in, ${p.updatesOut} out`],
          ['established', `${p.established} times, ${p.flaps} flaps`],
          ['import policies', p.config?.importPolicies.join(', ') || '(default)'],
          ['export policies', p.config?.exportPolicies.join(', ') || '(default)'],
          ['bfd', p.bfdState ? `${p.bfdState} (${p.config?.bfd?.minTxMs} ms tx, ${p.config?.bfd?.minRxMs} ms rx, x${p.config?.bfd?.multiplier})` : 'off'],
          ['last error', p.lastError || '-'],
        ];
        out.write(rows.map(([k, v]) => `${k.padEnd(16)} ${v}\n`).join(''));
        return;
      }
      out.write(formatPeers(r.peers));
    });

  const familyOpt = (): Option => new Option('--family <family>', 'ipv4 or ipv6').choices(['ipv4', 'ipv6']);
  const familyOf = (f: string | undefined): 'FAMILY_UNSPECIFIED' | 'IPV4_UNICAST' | 'IPV6_UNICAST' =>
    f === 'ipv4' ? 'IPV4_UNICAST' : f === 'ipv6' ? 'IPV6_UNICAST' : 'FAMILY_UNSPECIFIED';
  type RouteOpts = CommonOpts & { family?: string; limit?: string };
  const showRoutes = async (o: RouteOpts, req: ListRoutesRequest, showPeer: boolean): Promise<void> => {
    const routes = await withClient(o, (c) => listRoutes(c, { ...req, family: familyOf(o.family), limit: Number(o.limit ?? 0) }));
    if (o.output === 'json') return json(routes);
    out.write(routes.length === 0 ? 'no routes\n' : formatRoutes(routes, { showPeer }));
  };

  withCommon(cmd.command('rib').description('the Loc-RIB: every path, the best first').argument('[prefix]').addOption(familyOpt()).option('--limit <n>', 'at most n prefixes'))
    .action((prefix: string | undefined, o: RouteOpts) => showRoutes(o, { table: 'LOC_RIB', prefix: prefix ?? '' }, true));
  withCommon(cmd.command('adj-in').description("a peer's Adj-RIB-In (after import policy)").argument('<peer>').argument('[prefix]').addOption(familyOpt()).option('--limit <n>', 'at most n prefixes'))
    .action((peer: string, prefix: string | undefined, o: RouteOpts) => showRoutes(o, { table: 'ADJ_RIB_IN', peer, prefix: prefix ?? '' }, false));
  withCommon(cmd.command('adj-out').description("a peer's Adj-RIB-Out (attributes as sent)").argument('<peer>').argument('[prefix]').addOption(familyOpt()).option('--limit <n>', 'at most n prefixes'))
    .action((peer: string, prefix: string | undefined, o: RouteOpts) => showRoutes(o, { table: 'ADJ_RIB_OUT', peer, prefix: prefix ?? '' }, false));

  type AnnounceOpts = CommonOpts & { nextHop?: string; community?: string[]; largeCommunity?: string[]; med?: string; localPref?: string };
  withCommon(
    cmd
      .command('announce')
      .description('originate PREFIX from this speaker')
      .argument('<prefix>')
      .option('--next-hop <ip>', 'next hop (default: our address towards each peer)')
      .option('--community <c>', 'community asn:value or NO_EXPORT... (repeatable)', collect)
      .option('--large-community <c>', 'large community g:l1:l2 (repeatable)', collect)
      .option('--med <n>', 'MULTI_EXIT_DISC')
      .option('--local-pref <n>', 'LOCAL_PREF (iBGP)'),
  ).action(async (prefix: string, o: AnnounceOpts) => {
    const num = (s: string | undefined, name: string): number | undefined => {
      if (s === undefined) return undefined;
      if (!/^\d+$/.test(s)) throw new Error(`--${name}: "${s}" is not a number`);
      return Number(s);
    };
    const med = num(o.med, 'med');
    const localPref = num(o.localPref, 'local-pref');
    const path = {
      prefix,
      nextHop: o.nextHop ?? '',
      communities: o.community ?? [],
      largeCommunities: o.largeCommunity ?? [],
      ...(med !== undefined ? { med } : {}),
      ...(localPref !== undefined ? { localPref } : {}),
    };
    await withClient(o, (c) => unary<object, object>(c.addPath.bind(c) as never, { path }));
    if (o.output === 'json') return json({ announced: prefix });
    out.write(`announced ${prefix}\n`);
  });

  withCommon(cmd.command('withdraw').description('withdraw a prefix announced with `tern bgp announce`').argument('<prefix>'))
    .action(async (prefix: string, o: CommonOpts) => {
      await withClient(o, (c) => unary<object, object>(c.deletePath.bind(c) as never, { prefix }));
      if (o.output === 'json') return json({ withdrawn: prefix });
      out.write(`withdrew ${prefix}\n`);
    });

  withCommon(cmd.command('stats').description('table sizes and counters')).action(async (o: CommonOpts) => {
    const s = await withClient(o, (c) => unary<object, Stats__Output>(c.getStats.bind(c) as never, {}));
    if (o.output === 'json') return json(s);
    const rows: [string, string][] = [
      ['peers', `${s.peers} (${s.peersEstablished} established)`],
      ['prefixes', `${s.locRibPrefixes} (${s.locRibIpv4Prefixes} IPv4, ${s.locRibIpv6Prefixes} IPv6)`],
      ['paths', String(s.locRibPaths)],
      ['attribute sets', String(s.attributeSets)],
      ['best-path changes', String(s.bestPathChanges)],
      ['updates', `${s.updatesReceived} received, ${s.updatesSent} sent`],
      ['memory (RSS)', `${(s.rssBytes / 1e6).toFixed(1)} MB`],
    ];
    out.write(rows.map(([k, v]) => `${k.padEnd(18)} ${v}\n`).join(''));
  });

  withCommon(cmd.command('reload').description('re-read the configuration file (sessions whose settings did not change are kept)')).action(async (o: CommonOpts) => {
    const r = await withClient(o, (c) => unary<object, ReloadResponse__Output>(c.reload.bind(c) as never, {}, 30_000));
    if (o.output === 'json') return json(r);
    const line = (k: string, v: string[]): string => `${k.padEnd(8)} ${v.length ? v.join(', ') : '-'}\n`;
    out.write(line('added', r.addedPeers) + line('deleted', r.deletedPeers) + line('changed', r.changedPeers) + line('reset', r.resetPeers));
  });
  return cmd;
}
