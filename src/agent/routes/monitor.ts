// Route and link change notifications from the kernel, through `ip -N monitor route link`
// running in the target namespace (Node has no AF_NETLINK socket without native code).
import { spawn, type ChildProcess } from 'node:child_process';
import { logger } from '../../log/index.js';
import { MonitorParser, type MonitorEvent } from './codec.js';
import { IP_BIN, nsArgs } from './ip.js';

const log = logger('routes');

export interface RouteMonitorOptions {
  netns: string | undefined;
  onEvents: (events: MonitorEvent[]) => void;
  /** Called when ip ends without stop() having been called. */
  onExit?: (why: string) => void;
}

export class RouteMonitor {
  private child: ChildProcess | undefined;
  private parser = new MonitorParser();
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: RouteMonitorOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts ip and resolves once it runs (its netlink subscription follows within microseconds). */
  start(): Promise<void> {
    this.stopped = false;
    this.parser = new MonitorParser();
    const child = spawn(IP_BIN, [...nsArgs(this.opts.netns), '-N', 'monitor', 'route', 'link'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const ev = this.parser.push(chunk);
      if (ev.length > 0) this.opts.onEvents(ev);
      // ip flushes after each netlink message; a multipath route's last next-hop line is
      // in this chunk or arrives right after it.
      clearTimeout(this.flushTimer);
      this.flushTimer = setTimeout(() => {
        const rest = this.parser.flush();
        if (rest.length > 0) this.opts.onEvents(rest);
      }, 2);
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
    child.once('exit', (code, signal) => {
      clearTimeout(this.flushTimer);
      if (this.child === child) this.child = undefined;
      if (!this.stopped) {
        const why = `${signal ? `killed by ${signal}` : `exit ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`;
        log.warn({ why }, 'route monitor ended');
        this.opts.onExit?.(why);
      }
    });
    return new Promise((resolve) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        log.warn({ err: e.message }, 'route monitor could not start');
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.flushTimer);
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
