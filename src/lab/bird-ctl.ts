// A client for BIRD's control socket (the protocol birdc speaks), so benches and tests can ask
// a BIRD many times a second without starting a birdc process per question.
//
// The socket is a path on the filesystem, reachable from any network namespace. BIRD greets with
// "0001 BIRD x.y ready."; every reply is a run of lines "DDDD-text" (more follows), " text" (the
// previous code continues) and ends with "DDDD text". Codes 8xxx and 9xxx are errors.
import { createConnection, type Socket } from 'node:net';

export class BirdCtlError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

interface Pending {
  lines: string[];
  resolve: (text: string) => void;
  reject: (e: Error) => void;
}

export class BirdCtl {
  private buf = '';
  private queue: Pending[] = [];
  private closedWith: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    const fail = (e: Error): void => {
      this.closedWith ??= e;
      for (const p of this.queue.splice(0)) p.reject(this.closedWith);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('BIRD control socket closed')));
  }

  /** Connects and waits for BIRD's greeting. */
  static connect(path: string, timeoutMs = 5000): Promise<BirdCtl> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no greeting from BIRD on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      const ctl = new BirdCtl(socket);
      // The greeting is answered like a reply to a command nobody sent.
      ctl.queue.push({
        lines: [],
        resolve: () => {
          clearTimeout(timer);
          resolve(ctl);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /**
   * Sends one command ("show protocols all bgp1") and resolves with the reply's text lines. With
   * `timeoutMs`, a reply that does not come in time rejects and closes the connection (the
   * replies after it could no longer be told apart).
   */
  query(command: string, timeoutMs = 0): Promise<string> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (/[\r\n]/.test(command)) return Promise.reject(new Error('a BIRD command is one line'));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.closedWith ??= new Error(`BIRD did not answer "${command}" within ${timeoutMs} ms`);
          this.socket.destroy();
        }, timeoutMs);
      }
      const done = (): void => clearTimeout(timer);
      this.queue.push({ lines: [], resolve: (t) => (done(), resolve(t)), reject: (e) => (done(), reject(e)) });
      this.socket.write(`${command}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const p = this.queue[0];
      if (!p) continue;
      const m = /^(\d{4})([ -])(.*)$/.exec(line);
      if (!m) {
        p.lines.push(line.startsWith(' ') ? line.slice(1) : line);
        continue;
      }
      p.lines.push(m[3]!);
      if (m[2] === '-') continue;
      this.queue.shift();
      const code = Number(m[1]);
      if (code >= 8000) p.reject(new BirdCtlError(p.lines.join('\n'), code));
      else p.resolve(p.lines.join('\n'));
    }
  }
}

/**
 * A control socket opened on first use and opened again after the connection failed (BIRD
 * restarted, a reply timed out). BIRD's own errors leave the connection in place.
 */
export class LazyBirdCtl {
  private ctl: Promise<BirdCtl> | null = null;

  constructor(
    readonly path: string,
    private readonly timeoutMs = 5000,
  ) {}

  async query(command: string): Promise<string> {
    this.ctl ??= BirdCtl.connect(this.path, this.timeoutMs);
    try {
      return await (await this.ctl).query(command, this.timeoutMs);
    } catch (e) {
      if (!(e instanceof BirdCtlError)) this.close();
      throw e;
    }
  }

  close(): void {
    const c = this.ctl;
    this.ctl = null;
    void c?.then(
      (x) => x.close(),
      () => {},
    );
  }
}
