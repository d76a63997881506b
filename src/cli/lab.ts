// `tern lab status [--name NAME] [--no-matrix]`: the network-namespace lab `npm start` built —
// its hosts and processes, then nodes with their blocks, BGP sessions, routes, pods, services
// and a live connectivity matrix. Reads the lab's state file; reaches etcd and the daemons
// through their unix sockets only.
import { Command } from 'commander';
import { clusterReport, DEFAULT_LAB_NAME, formatSummary, labStatus } from '../lab/cli.js';
import type { CliStreams } from './ipam.js';

export function labCommand(streams: Partial<CliStreams> = {}): Command {
  const out = streams.out ?? process.stdout;
  const err = streams.err ?? process.stderr;
  const cmd = new Command('lab')
    .description('the network-namespace lab (npm start)')
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) });
  cmd
    .command('status')
    .description('hosts and processes, nodes and blocks, BGP sessions, routes, pods, services and a live connectivity matrix')
    .option('--name <name>', 'lab name', DEFAULT_LAB_NAME)
    .option('--no-matrix', 'skip the live connectivity probes')
    .action(async (o: { name: string; matrix: boolean }) => {
      const s = await labStatus({ name: o.name });
      if (!s.state) throw new Error(`no lab "${o.name}" is recorded (npm start to build one)`);
      const lines = [`Tern lab "${o.name}" is ${s.healthy ? 'healthy' : 'DEGRADED'}`, ...s.problems.map((p) => `  problem: ${p}`), '', ...formatSummary(s.state), ''];
      lines.push(...(await clusterReport(o.name, { matrix: o.matrix })));
      out.write(`${lines.join('\n')}\n`);
      if (!s.healthy) throw new Error(`lab "${o.name}" is degraded`);
    });
  return cmd;
}
