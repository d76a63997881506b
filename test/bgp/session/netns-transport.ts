// A Transport whose sockets live in another network namespace. Node cannot enter a namespace,
// so a small helper process runs inside it (`ip netns exec NS node`), makes the listening and
// connecting sockets there, and passes their handles back over the IPC channel. The session
// under test runs in this process (with the test's RecordingRib), its TCP in the namespace.
import { type ChildProcess, spawn } from 'node:child_process';
import type net from 'node:net';
import type { ConnectOptions, ListenOptions, Transport } from '../../../src/bgp/session/transport.js';

// Plain JavaScript: it runs as `node --input-type=module -e`, with nothing to compile.
const HELPER = `
import net from 'node:net';
const reply = (id, ok, extra, handle, cb) => process.send({ id, ok, ...extra }, handle, cb);
process.on('message', (m) => {
  if (m.op === 'listen') {
    const s = net.createServer({ pauseOnConnect: true });
    s.once('error', (e) => reply(m.id, false, { error: e.message }));
    s.listen({ host: m.host, port: m.port }, () => reply(m.id, true, {}, s, () => s.close()));
  } else if (m.op === 'connect') {
    const o = { host: m.host, port: m.port };
    if (m.localAddress) o.localAddress = m.localAddress;
    if (m.localPort) o.localPort = m.localPort;
    const c = net.connect(o);
    // Not a byte may be read here: the session must see the peer's first message.
    c.pause();
    c.once('connect', () => reply(m.id, true, {}, c));
    c.once('error', (e) => reply(m.id, false, { error: e.message }));
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;

interface Pending {
  resolve: (h: net.Socket | net.Server) => void;
  reject: (e: Error) => void;
}

export class NetnsTransport implements Transport {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.on('message', (m: { id?: number; ok?: boolean; error?: string }, handle?: net.Socket | net.Server) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return void (handle as net.Socket | undefined)?.destroy?.();
      this.pending.delete(m.id);
      if (m.ok && handle) p.resolve(handle);
      else p.reject(new Error(m.error ?? 'no handle'));
    });
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('netns helper exited'));
      this.pending.clear();
    });
  }

  static async start(netns: string): Promise<NetnsTransport> {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--input-type=module', '-e', HELPER], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const t = new NetnsTransport(child);
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`netns helper did not start: ${t.stderr}`)), 10_000);
      child.once('message', () => {
        clearTimeout(timer);
        res();
      });
      child.once('exit', (code) => rej(new Error(`netns helper exited ${code}: ${t.stderr}`)));
    });
    return t;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request<T extends net.Socket | net.Server>(msg: object): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (h: net.Socket | net.Server) => void, reject });
      this.child.send({ id, ...msg });
    });
  }

  connect(o: ConnectOptions): Promise<net.Socket> {
    return this.request<net.Socket>({ op: 'connect', ...o });
  }

  listen(o: ListenOptions): Promise<net.Server> {
    return this.request<net.Server>({ op: 'listen', ...o });
  }

  /** Stops the helper by PID (it is our child, not yet reaped, so the PID is still its own). */
  async close(): Promise<void> {
    const c = this.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    if (c.connected) c.disconnect();
    const t = setTimeout(() => {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    }, 2000);
    await gone;
    clearTimeout(t);
  }
}
