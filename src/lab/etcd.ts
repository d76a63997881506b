// A real etcd (Debian's etcd-server) on free loopback ports with its own data directory.
// Tests and the lab use it; stop() kills it by PID, and it can be started again on the same
// ports and data, which is how tests simulate an etcd outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface EtcdServerOptions {
  /** Address to listen on for clients and peers; loopback by default. */
  host?: string;
  clientPort?: number;
  peerPort?: number;
  dataDir?: string;
  /** Where etcd's own log goes; a file in the data directory by default. */
  logFile?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
}

export class EtcdServer {
  private proc: ChildProcess | undefined;
  private ownsDataDir = false;
  readonly host: string;
  clientPort = 0;
  peerPort = 0;
  dataDir = '';

  constructor(private readonly opts: EtcdServerOptions = {}) {
    this.host = opts.host ?? '127.0.0.1';
  }

  get endpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.dataDir) {
      if (this.opts.dataDir) this.dataDir = this.opts.dataDir;
      else {
        this.dataDir = mkdtempSync(join(tmpdir(), 'tern-etcd-'));
        this.ownsDataDir = true;
      }
    }
    this.clientPort ||= this.opts.clientPort ?? (await freePort());
    this.peerPort ||= this.opts.peerPort ?? (await freePort());
    const client = `http://${this.host}:${this.clientPort}`;
    const peer = `http://${this.host}:${this.peerPort}`;
    const args = [
      '--name', 'tern',
      '--data-dir', join(this.dataDir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `tern=${peer}`,
      '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ];
    const log = openSync(this.opts.logFile ?? join(this.dataDir, 'etcd.log'), 'a');
    const [cmd, argv] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, 'etcd', ...args]] : ['etcd', args];
    this.proc = spawn(cmd, argv as string[], { stdio: ['ignore', log, log] });
    closeSync(log);
    const proc = this.proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, sig) => reject(new Error(`etcd exited during start (code ${code}, signal ${sig}); log in ${this.dataDir}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([this.waitHealthy(20_000), exited]);
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd at ${this.endpoint} not healthy after ${timeoutMs} ms: ${String(last)}`);
  }

  /** Kills etcd by PID (SIGKILL by default, like a crash) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
    this.proc = undefined;
  }

  /** Stops etcd and removes the data directory if this object created it. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.ownsDataDir && this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
