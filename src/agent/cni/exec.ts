// Runs the `ip` and `nsenter` commands of pod networking with argument arrays (never a shell),
// at most `limit` at a time: a burst of ADDs (a node coming up, a Deployment scaled to 100)
// would otherwise fork a few hundred processes at once on a small node.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Written to stdin (e.g. an `ip -batch -` script). */
  input?: string;
  /** SIGKILL after this long (by the child's PID); 20 s by default. */
  timeoutMs?: number;
}

export type CommandRunner = (cmd: string, args: readonly string[], opts?: CommandOptions) => Promise<CommandResult>;

/** A counting semaphore: callers beyond `limit` wait in FIFO order. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Highest number of tasks seen running at once (for tests and metrics). */
  peak = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so `active` never dips and lets a newcomer overtake.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

function spawnOnce(cmd: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', stderr: `${cmd}: ${e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString();
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: signal ? `${stderr}killed by ${signal}` : stderr });
    });
  });
}

/** A runner that never has more than `limit` commands alive at once. Failures are results, not throws. */
export function limitedRunner(limit: number): CommandRunner & { limiter: Limiter } {
  const limiter = new Limiter(limit);
  const run = ((cmd, args, opts = {}) => limiter.run(() => spawnOnce(cmd, args, opts))) as CommandRunner & { limiter: Limiter };
  run.limiter = limiter;
  return run;
}
