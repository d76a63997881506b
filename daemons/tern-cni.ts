#!/usr/bin/env node
// tern-cni: the CNI plugin a container runtime execs; it forwards to tern-agentd.
import { runPlugin } from '../src/cni/plugin.js';

const chunks: Buffer[] = [];
if (process.env.CNI_COMMAND !== 'VERSION') for await (const c of process.stdin) chunks.push(c as Buffer);
const out = await runPlugin(process.env, Buffer.concat(chunks).toString('utf8'));
process.stdout.write(out.stdout, () => process.exit(out.exitCode));
