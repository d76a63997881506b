#!/usr/bin/env node
// The `tern` command line (see src/cli).
import { runCli } from '../src/cli/index.js';

process.exitCode = await runCli(process.argv.slice(2));
