// A real etcd (Debian's etcd-server) on free loopback ports with its own data directory.
// Tests and the lab use it; stop() kills it by PID, and it can be started again on the same
// ports and data, which is how tests simulate an etcd outage.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
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
  /**
   * Also serve clients on a unix socket in this directory (`unixEndpoint`). Path sockets live
   * in the filesystem, which every network namespace shares, so a client in the root
   * namespace reaches an etcd inside a lab namespace without any address or route in the
   * root namespace. The health check then goes through the socket.
   */
  unixSocketDir?: string;
  /** Let etcd outlive this process (own session, no handle keeping the event loop alive). */
  detached?: boolean;
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

  /** `unix:///dir/etcd.sock:PORT` (grpc-js and etcdctl dial it), when unixSocketDir was given. */
  get unixEndpoint(): string | undefined {
    return this.unixSocketPath ? `unix://${this.unixSocketPath}` : undefined;
  }

  /** etcd 3.4 takes unix listen URLs only as `unix://NAME:PORT`, NAME relative to its working directory. */
  private get unixSocketPath(): string | undefined {
    return this.opts.unixSocketDir ? join(this.opts.unixSocketDir, `etcd.sock:${this.clientPort}`) : undefined;
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
    const listen = this.opts.unixSocketDir ? `${client},unix://etcd.sock:${this.clientPort}` : client;
    if (this.unixSocketPath) rmSync(this.unixSocketPath, { force: true });
    const args = [
      '--name', 'tern',
      '--data-dir', join(this.dataDir, 'data'),
      '--listen-client-urls', listen,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `tern=${peer}`,
      '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ];
    const log = openSync(this.opts.logFile ?? join(this.dataDir, 'etcd.log'), 'a');
    const [cmd, argv] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, 'etcd', ...args]] : ['etcd', args];
    this.proc = spawn(cmd, argv as string[], {
      stdio: ['ignore', log, log],
      detached: this.opts.detached === true,
      ...(this.opts.unixSocketDir ? { cwd: this.opts.unixSocketDir } : {}),
    });
    closeSync(log);
    if (this.opts.detached) this.proc.unref();
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
        if (await this.healthy()) return;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd at ${this.endpoint} not healthy after ${timeoutMs} ms: ${String(last)}`);
  }

  /** One health probe: over the unix socket, inside the namespace, or over loopback. */
  private async healthy(): Promise<boolean> {
    const path = this.unixSocketPath;
    if (path) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ socketPath: path, path: '/health', timeout: 1000 }, (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () => resolve(data));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });
      return (JSON.parse(body) as { health?: string }).health === 'true';
    }
    if (this.opts.netns) {
      // The namespace's addresses are not reachable from here: ask from inside it.
      await new Promise<void>((resolve, reject) =>
        execFile('ip', ['netns', 'exec', this.opts.netns!, 'etcdctl', '--endpoints', this.endpoint, '--dial-timeout', '1s', 'endpoint', 'health'],
          { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 3000 }, (err) => (err ? reject(err) : resolve())),
      );
      return true;
    }
    const res = await fetch(`${this.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  }

  /** Kills etcd by PID (SIGKILL by default, like a crash) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    proc.ref(); // a detached etcd was unref'd: waiting for its exit must keep the loop alive
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
