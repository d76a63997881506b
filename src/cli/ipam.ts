// `tern ipam ...`: look at and repair pod address management.
//   tern ipam show [--node N] [-o table|json]   blocks per pool, their node and use
//   tern ipam release HANDLE                    free a handle's addresses
//   tern ipam gc [--dry-run]                    free addresses held by nodes that no longer exist
//   tern ipam lookup IP                         who holds an address
// Output goes to the streams passed in, so tests run the command in-process.
import { Command, Option } from 'commander';
import type { Etcd3 } from 'etcd3';
import type { Keys } from '../datastore/keys.js';
import { TernError } from '../errors/index.js';
import { Ipam, filterReport, formatReport } from '../ipam/index.js';

export interface IpamCliContext {
  client: Etcd3;
  keys: Keys;
  store: unknown;
}

export interface CliStreams {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

export function ipamCommand(getContext: () => Promise<IpamCliContext>, streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  const err = streams.err ?? process.stderr;
  const ipam = async (): Promise<{ ipam: Ipam; ctx: IpamCliContext }> => {
    const ctx = await getContext();
    return { ipam: new Ipam(ctx.client, ctx.keys), ctx };
  };

  const cmd = new Command('ipam')
    .description('pod IP address management: blocks, affinities, handles')
    // Set before the subcommands are added: commander copies it into each of them.
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });

  cmd
    .command('show')
    .description('show each pool\'s blocks, their node and how many addresses are used')
    .option('--node <name>', 'only blocks affine to this node or holding its addresses')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { node?: string; output: 'table' | 'json' }) => {
      const { ipam: i } = await ipam();
      let report = await i.show();
      if (opts.node) report = filterReport(report, opts.node);
      out.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    });

  cmd
    .command('release')
    .description('free the addresses held by a handle (<containerID>.<ifname>)')
    .argument('<handle>')
    .action(async (handle: string) => {
      const { ipam: i } = await ipam();
      const released = await i.release(handle);
      out.write(released.length ? `released ${released.join(', ')}\n` : `handle ${handle} held no addresses\n`);
    });

  cmd
    .command('lookup')
    .description('show which handle and node hold an address')
    .argument('<ip>')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (ip: string, opts: { output: 'table' | 'json' }) => {
      const { ipam: i } = await ipam();
      const r = await i.lookup(ip);
      if (!r) throw new TernError('TERN_ERR_NOT_FOUND', `${ip} is in no IPAM block`);
      if (opts.output === 'json') {
        out.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const lines = [`${r.ip}: block ${r.block} (node ${r.affinity ?? '(none)'}), ordinal ${r.ordinal}`];
      if (r.allocated) {
        lines.push(`  handle ${r.handle} on node ${r.node}`);
        for (const [k, v] of Object.entries(r.attrs ?? {})) lines.push(`  ${k}=${v}`);
      } else lines.push('  free');
      out.write(`${lines.join('\n')}\n`);
    });

  cmd
    .command('gc')
    .description('free addresses held by nodes that no longer exist (no Node resource)')
    .option('--dry-run', 'list what would be freed, free nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const { ipam: i, ctx } = await ipam();
      const nodes = new Set(
        (await ctx.client.getAll().prefix(ctx.keys.kindPrefix('Node')).keys()).map((k) => k.slice(ctx.keys.kindPrefix('Node').length)),
      );
      const stale: string[] = [];
      const { released } = await i.gc((handle, info) => {
        // A handle whose node is unknown (corrupt record) is kept: better a leaked address than a reused live one.
        const live = info.node === undefined || nodes.has(info.node);
        if (!live) stale.push(`${handle} (node ${info.node}: ${info.ips.join(', ') || 'no addresses'})`);
        return live || opts.dryRun === true;
      });
      if (opts.dryRun) {
        out.write(stale.length ? `would release:\n${stale.map((s) => `  ${s}`).join('\n')}\n` : 'nothing to release\n');
        return;
      }
      if (!released.length) {
        out.write('nothing to release\n');
        return;
      }
      out.write(`released ${released.length} address${released.length === 1 ? '' : 'es'}:\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
    });

  return cmd;
}
