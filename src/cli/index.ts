// The `tern` command line. buildProgram wires the commands to injectable streams; runCli parses
// argv, runs the command and returns the exit code (0 ok, 1 failed, 2 bad usage) without ever
// calling process.exit, so tests run it in-process.
import { Command, CommanderError, Option } from 'commander';
import { isTernError } from '../errors/index.js';
import { kindNames } from '../resources/registry.js';
import { runApply, type RunState } from './apply.js';
import { ContextHolder, releaseNodeAddresses, type GlobalOptions, type NodeReleaser } from './context.js';
import { runDelete, type DeleteOptions } from './delete.js';
import { runGet, type GetOptions } from './get.js';
import { dnsCommand } from './dns.js';
import { nodeCommand } from './node.js';
import { bgpCommand } from './bgp.js';
import { ipamCommand } from './ipam.js';
import { labCommand } from './lab.js';
import { traceCommand } from './trace.js';
import { processIO, type CliIO } from './io.js';

export { processIO, type CliIO } from './io.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface ProgramOptions {
  /** Replaces IPAM's releaseNode when a Node is deleted (tests). */
  releaseNode?: NodeReleaser;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function buildProgram(io: CliIO, state: RunState, holder: ContextHolder, opts: ProgramOptions = {}): Command {
  const program = new Command('tern')
    .description('Tern cluster resources in etcd, and the daemons')
    .option('--etcd-endpoints <urls>', 'etcd client URLs, comma separated (env TERN_ETCD_ENDPOINTS)')
    .option('--etcd-prefix <prefix>', 'etcd key prefix, e.g. /tern/ (env TERN_ETCD_PREFIX)')
    .option('--config <file>', 'YAML configuration file (etcd endpoints, prefix, TLS files)')
    .showHelpAfterError(false);
  const getContext = holder.get;
  const ns = () => new Option('-n, --namespace <ns>', 'namespace (default "default")');

  program
    .command('apply')
    .description('create or update resources from Kubernetes YAML (files, directories or - for stdin)')
    .option('-f, --filename <file>', 'file, directory or "-" (repeatable)', collect)
    .action(async (o: { filename?: string[] }) => runApply(o.filename ?? [], io, getContext, state));

  program
    .command('get')
    .description(`show resources; KIND is one of: ${kindNames().join(', ')}`)
    .argument('<kind>')
    .argument('[names...]')
    .addOption(ns())
    .option('-A, --all-namespaces', 'every namespace')
    .option('-o, --output <format>', 'yaml, json or wide (default: a table)')
    .action(async (kind: string, names: string[], o: GetOptions) => runGet(kind, names, o, io, getContext));

  program
    .command('delete')
    .description('delete resources by KIND NAME... or by the objects in -f files')
    .argument('[args...]', 'KIND NAME...')
    .option('-f, --filename <file>', 'file, directory or "-" (repeatable)', collect)
    .addOption(ns())
    .action(async (args: string[], o: DeleteOptions) => runDelete(args, o, io, getContext, opts.releaseNode ?? releaseNodeAddresses, state));

  program.addCommand(ipamCommand(getContext, { out: io.stdout, err: io.stderr }));
  program.addCommand(dnsCommand({ out: io.stdout, err: io.stderr }));
  program.addCommand(nodeCommand({ out: io.stdout, err: io.stderr }));
  program.addCommand(bgpCommand({ out: io.stdout, err: io.stderr }));
  program.addCommand(labCommand({ out: io.stdout, err: io.stderr }));
  program.addCommand(traceCommand(getContext, { out: io.stdout, err: io.stderr }));

  // Commander only copies these into subcommands made with .command(); apply them everywhere.
  const configure = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
    c.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs `tern` with argv (without node and script), returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO = processIO(), opts: ProgramOptions = {}): Promise<number> {
  const state: RunState = { failed: false };
  let program: Command | undefined;
  const holder = new ContextHolder(io, () => (program?.opts() ?? {}) as GlobalOptions);
  program = buildProgram(io, state, holder, opts);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.failed ? EXIT.failed : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message; help and version are not failures.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (isTernError(e)) {
      for (const line of e.message.split('\n')) io.stderr.write(`error: ${line}\n`);
      return e.code === 'TERN_ERR_USAGE' || e.code === 'TERN_ERR_CONFIG' ? EXIT.usage : EXIT.failed;
    }
    const err = e as Error;
    io.stderr.write(`error: ${err?.message ?? String(e)}\n`);
    if (io.env.TERN_DEBUG) io.stderr.write(`${err?.stack ?? ''}\n`);
    return EXIT.failed;
  } finally {
    await holder.close();
  }
}
