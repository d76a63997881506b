#!/usr/bin/env node
// tern-cni: the CNI plugin a container runtime execs; it forwards to tern-agentd.
// TERN_CNI_TRACE=1 prints, on stderr, when each step ended (ms since the process started,
// Node's bootstrap included): where the time of an ADD goes without a profiler.
import { readFileSync, writeSync } from 'node:fs';
import { callAgent, runPlugin, type AgentCall } from '../src/cni/plugin.js';

// hrtime, not performance.now(): the first use of `performance` loads perf_hooks (~0.7 ms).
const marks: [string, bigint][] = [];
const mark = (step: string): void => void marks.push([step, process.hrtime.bigint()]);
mark('loaded');

/** The marks as ms since the process started (performance's clock), for the trace line. */
function traceLine(): string {
  const perfNow = performance.now();
  const hrNow = process.hrtime.bigint();
  const ms = marks.map(([s, t]) => [s, perfNow - Number(hrNow - t) / 1e6] as const);
  return `${JSON.stringify({ origin: performance.timeOrigin, boot: performance.nodeTiming.bootstrapComplete, marks: ms })}\n`;
}

/**
 * The network configuration. One blocking read of fd 0 skips setting up process.stdin (a
 * stream over a pipe: ~2 ms of a ~50 ms run); a non-blocking stdin (EAGAIN) gets the stream.
 */
async function readStdin(): Promise<string> {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The result, written straight to fd 1 (no process.stdout stream); EAGAIN falls back to the stream. */
function writeStdout(text: string, then: () => void): void {
  const buf = Buffer.from(text);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    process.stdout.write(buf.subarray(off), then);
    return;
  }
  then();
}

const traced: AgentCall = async (socket, method, req) => {
  mark('request');
  try {
    return await callAgent(socket, method, req, mark);
  } finally {
    mark('response');
  }
};

const stdin = process.env.CNI_COMMAND === 'VERSION' ? '' : await readStdin();
mark('stdin');
const out = await runPlugin(process.env, stdin, traced);
writeStdout(out.stdout, () => {
  mark('written');
  if (process.env.TERN_CNI_TRACE) writeSync(2, traceLine());
  process.exit(out.exitCode);
});
