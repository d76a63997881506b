// What a CLI run reads and writes, injectable so tests run the program in-process.
import type { Readable } from 'node:stream';
import { TernError } from '../errors/index.js';

export interface Output {
  write(s: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  stdin: Readable | NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
  /** Base for relative file names; the process's cwd by default. */
  cwd?: string;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/** Bad arguments: the CLI exits 2. */
export function usageError(message: string): TernError {
  return new TernError('TERN_ERR_USAGE', message);
}

export async function readAll(stream: CliIO['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
