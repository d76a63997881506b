// One writer of nftables per network namespace: a long-lived `nft -i` fed one transaction per
// line through stdin, with `nft -f -` spawned per transaction as the fallback. Transactions run
// strictly in submission order; those that queue up while one runs are sent as one batch.
//
// What the persistent process saves, measured on nft 1.0.6 / kernel 6.18 with the proxy's
// 10,000-chain table (README): the fork of a large Node process and `ip netns exec` (about
// 20 ms per transaction). What it does not save: libnftables drops its cache after every
// command even in interactive mode (and refetches every chain of every table for any add or
// delete), and the kernel re-validates the whole table written on every commit that adds a
// rule or verdict-map element with a jump, goto or NAT expression (hence the proxy's shards).
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { logger } from '../../log/index.js';
import { inNetns, run } from '../../sys/exec.js';
import { mapErrors, sentinel, SentinelSplitter, toOneLine, type OneLine } from './script.js';

const log = logger('nft');

export const NFT_BIN = process.env.TERN_NFT_BIN ?? 'nft';
export const NftModes = ['persistent', 'spawn'] as const;
export type NftMode = (typeof NftModes)[number];

export interface NftRunnerOptions {
  /** Named network namespace (`ip netns`); the runner's own when absent. */
  netns?: string;
  /** The nft binary; NFT_BIN (TERN_NFT_BIN or `nft`) by default. */
  bin?: string;
  /** 'persistent' unless TERN_NFT_MODE says otherwise. */
  mode?: NftMode;
  /** A transaction (or batch) that takes longer is killed (by PID) and reported as failed; 60 s. */
  timeoutMs?: number;
  /** Scripts longer than this go to a spawned `nft -f -` (a full table load is kernel-bound anyway); 1 MiB. */
  maxLineBytes?: number;
  /** Queued transactions are merged into one batch up to this size; 256 KiB. 0: never merge. */
  maxMergeBytes?: number;
  /** nft's line editor keeps every line in its history: the process is replaced after this many bytes; 64 MiB. */
  recycleBytes?: number;
  /**
   * The process is closed after this long without work; 0 (default): kept until close() or
   * the agent's exit. A retired process costs the next transaction a spawn, `nsenter` and a
   * probe (≈ 20 ms on a loaded node), which a pod created after a quiet minute would pay.
   */
  idleMs?: number;
}

export interface NftTxResult {
  ok: boolean;
  /** nft's exit code in spawn mode, 0/1 in persistent mode; null: killed or died, outcome unknown. */
  code: number | null;
  stdout: string;
  stderr: string;
  via: NftMode;
  /** Transactions in the batch this one was committed with (1 = alone). */
  batched: number;
}

export interface NftRunnerStats {
  transactions: number;
  batches: number;
  merged: number;
  splitRetries: number;
  spawned: number;
  processStarts: number;
  processDeaths: number;
}

interface Item {
  script: string;
  one: OneLine | undefined;
  timeoutMs: number;
  resolve: (r: NftTxResult) => void;
}

interface Inflight {
  seq: number;
  resolve: (r: { ok: boolean; code: number | null; stderr: string }) => void;
  timer: NodeJS.Timeout;
}

const unrefStream = (s: unknown): void => (s as { unref?: () => void } | null)?.unref?.();

export class NftRunner {
  readonly netns: string | undefined;
  private readonly opts: Required<Omit<NftRunnerOptions, 'netns' | 'mode'>>;
  private modeWanted: NftMode;
  private unavailable = false;
  private child: ChildProcess | undefined;
  private nsId = '';
  private splitter = new SentinelSplitter();
  private inflight: Inflight | undefined;
  private written = 0;
  private seq = 0;
  private queue: Item[] = [];
  private pumping = false;
  private idle: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: NftRunnerStats = { transactions: 0, batches: 0, merged: 0, splitRetries: 0, spawned: 0, processStarts: 0, processDeaths: 0 };

  constructor(opts: NftRunnerOptions = {}) {
    this.netns = opts.netns;
    const env = process.env.TERN_NFT_MODE;
    this.modeWanted = opts.mode ?? (env === 'spawn' || env === 'persistent' ? env : 'persistent');
    this.opts = {
      bin: opts.bin ?? NFT_BIN,
      timeoutMs: opts.timeoutMs ?? 60_000,
      maxLineBytes: opts.maxLineBytes ?? 1 << 20,
      maxMergeBytes: opts.maxMergeBytes ?? 256 << 10,
      recycleBytes: opts.recycleBytes ?? 64 << 20,
      idleMs: opts.idleMs ?? 0,
    };
  }

  /** 'spawn' once the persistent process turned out to be unavailable. */
  get mode(): NftMode {
    return this.unavailable ? 'spawn' : this.modeWanted;
  }

  /** PID of the interactive nft, when one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs a script as one transaction: all of it or nothing. Never rejects. */
  apply(script: string, opts: { timeoutMs?: number } = {}): Promise<NftTxResult> {
    if (this.closed) return Promise.resolve({ ok: false, code: null, stdout: '', stderr: 'nft runner is closed', via: this.mode, batched: 1 });
    let one: OneLine | undefined;
    if (this.mode === 'persistent' && script.length <= this.opts.maxLineBytes) {
      const r = toOneLine(script);
      if ('line' in r) one = r;
    }
    return new Promise((resolve) => {
      this.queue.push({ script, one, timeoutMs: opts.timeoutMs ?? this.opts.timeoutMs, resolve });
      this.stats.transactions++;
      void this.pump();
    });
  }

  /**
   * Starts the persistent process now, so the first transaction after a full load (which
   * goes to a spawned `nft -f`) does not pay for starting it. No-op when running or busy.
   */
  warm(): void {
    if (this.closed || this.child || this.pumping || this.mode !== 'persistent') return;
    this.pumping = true;
    void this.ensure()
      .catch(() => undefined)
      .finally(() => {
        this.pumping = false;
        if (this.queue.length > 0) void this.pump();
        else this.armIdle();
      });
  }

  private armIdle(): void {
    if (!this.child || this.closed || this.opts.idleMs <= 0) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.retire('idle'), this.opts.idleMs);
    this.idle.unref();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    if (this.idle) clearTimeout(this.idle);
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.one === undefined || this.mode === 'spawn') {
          this.queue.shift();
          head.resolve(await this.spawnOne(head));
          continue;
        }
        const batch: Item[] = [this.queue.shift()!];
        let bytes = head.one.line.length;
        while (this.queue.length > 0) {
          const n = this.queue[0]!;
          if (n.one === undefined || bytes + n.one.line.length + 2 > this.opts.maxMergeBytes) break;
          bytes += n.one.line.length + 2;
          batch.push(this.queue.shift()!);
        }
        await this.runBatch(batch);
      }
    } finally {
      this.pumping = false;
      this.armIdle();
    }
  }

  private async runBatch(batch: Item[]): Promise<void> {
    const line = batch.map((b) => b.one!.line).join('; ');
    const timeoutMs = Math.max(...batch.map((b) => b.timeoutMs));
    const r = await this.runLine(line, timeoutMs);
    if (r === 'unavailable') {
      for (const b of batch) b.resolve(await this.spawnOne(b));
      return;
    }
    this.stats.batches++;
    if (batch.length > 1) this.stats.merged += batch.length;
    if (batch.length > 1 && !r.ok && r.code !== null) {
      // The merged batch was refused as a whole, so nothing of it is in the kernel: run each
      // transaction alone, in order, so each gets its own verdict and error text.
      this.stats.splitRetries++;
      for (const b of batch) await this.runBatch([b]);
      return;
    }
    for (const b of batch) {
      const stderr = batch.length === 1 ? mapErrors(r.stderr, b.one!, b.script) : r.stderr;
      b.resolve({ ok: r.ok, code: r.code, stdout: '', stderr, via: 'persistent', batched: batch.length });
    }
  }

  /** One line to the interactive process; 'unavailable' when it cannot be started at all. */
  private async runLine(line: string, timeoutMs: number): Promise<{ ok: boolean; code: number | null; stderr: string } | 'unavailable'> {
    const child = await this.ensure();
    if (typeof child === 'string') return child === 'unavailable' ? 'unavailable' : { ok: false, code: 1, stderr: child };
    const r = await this.send(child, `${line}\n`, timeoutMs);
    if (this.child === child && this.written > this.opts.recycleBytes) this.retire('recycle');
    return r;
  }

  private send(child: ChildProcess, text: string, timeoutMs: number): Promise<{ ok: boolean; code: number | null; stderr: string }> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        log.error({ pid: child.pid, netns: this.netns, timeoutMs }, 'nft did not finish a transaction in time; killing it');
        child.kill('SIGKILL');
      }, timeoutMs);
      this.inflight = { seq, resolve, timer };
      this.written += text.length;
      child.stdin!.write(`${text}${sentinel(seq)}\n`);
    });
  }

  private onStderr(child: ChildProcess, chunk: string): void {
    if (child !== this.child) return;
    this.splitter.push(chunk);
    const f = this.inflight;
    if (!f) return;
    const mine = this.splitter.take(f.seq);
    if (mine === undefined) return;
    this.inflight = undefined;
    clearTimeout(f.timer);
    f.resolve({ ok: !/^Error:/m.test(mine), code: /^Error:/m.test(mine) ? 1 : 0, stderr: mine });
  }

  private onDeath(child: ChildProcess, why: string): void {
    if (child !== this.child) return;
    this.child = undefined;
    this.stats.processDeaths++;
    const f = this.inflight;
    this.inflight = undefined;
    const rest = this.splitter.rest();
    if (f) {
      clearTimeout(f.timer);
      log.warn({ netns: this.netns, why }, 'nft process ended during a transaction; it will be restarted for the next one');
      // The batch may or may not have reached the kernel (a netlink batch is atomic, so it is
      // all or nothing): it is reported as failed with an unknown outcome and never resent.
      f.resolve({ ok: false, code: null, stderr: `nft process ended (${why}) during the transaction: outcome unknown${rest ? `\n${rest}` : ''}` });
    }
  }

  private nsIdentity(): string {
    if (!this.netns) return '';
    const st = statSync(`/var/run/netns/${this.netns}`);
    return `${st.dev}:${st.ino}`;
  }

  /** The running process, a new one, 'unavailable', or an error text for this attempt. */
  private async ensure(): Promise<ChildProcess | 'unavailable' | string> {
    let id: string;
    try {
      id = this.nsIdentity();
    } catch (e) {
      this.retire('namespace gone');
      return `cannot open network namespace "${this.netns}": ${(e as Error).message}`;
    }
    // A namespace deleted and re-created under the same name is another namespace: the
    // process would keep writing into the old one.
    if (this.child && id !== this.nsId) this.retire('namespace replaced');
    if (this.child) return this.child;
    const [cmd, args] = this.netns ? ['nsenter', [`--net=/var/run/netns/${this.netns}`, this.opts.bin, '-i']] : [this.opts.bin, ['-i']];
    // HOME points nowhere so the line editor neither reads nor writes a history file.
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, HOME: '/nonexistent' } });
    this.child = child;
    this.nsId = id;
    this.written = 0;
    this.splitter = new SentinelSplitter();
    this.stats.processStarts++;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (c: string) => this.onStderr(child, c));
    child.stdin!.on('error', () => undefined); // EPIPE: reported through 'exit'
    child.once('error', (e) => this.onDeath(child, e.message));
    child.once('exit', (code, signal) => this.onDeath(child, signal ? `killed by ${signal}` : `exit ${code}`));
    // Neither the process nor its pipes keep Node alive; a pending transaction's timer does.
    child.unref();
    unrefStream(child.stdin);
    unrefStream(child.stderr);
    // Probe with a lone sentinel: a build without the interactive CLI, or no nsenter, fails
    // here, before any transaction was written to it.
    const probe = await this.send(child, '', 10_000);
    if (probe.code === null) {
      if (this.stats.processStarts === 1 || !this.everWorked) {
        this.unavailable = true;
        log.warn({ netns: this.netns, why: probe.stderr }, 'persistent nft -i is unavailable; spawning nft -f for every transaction');
        return 'unavailable';
      }
      return `nft -i could not be restarted: ${probe.stderr}`;
    }
    this.everWorked = true;
    return child;
  }
  private everWorked = false;

  /** Ends the current process after its work (stdin EOF makes `nft -i` exit); the next transaction starts a new one. */
  private retire(why: string): void {
    const child = this.child;
    if (!child) return;
    log.debug({ netns: this.netns, why, pid: child.pid }, 'retiring nft process');
    this.child = undefined;
    child.stdin!.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  private async spawnOne(item: Item): Promise<NftTxResult> {
    this.stats.spawned++;
    const [cmd, argv] = inNetns(this.netns, this.opts.bin, ['-f', '-']);
    try {
      const r = await run(cmd, argv, { input: item.script, timeoutMs: item.timeoutMs, allowFail: true, errorCode: 'TERN_ERR_EXEC' });
      return { ok: r.code === 0, code: r.signal ? null : r.code, stdout: r.stdout, stderr: r.stderr, via: 'spawn', batched: 1 };
    } catch (e) {
      return { ok: false, code: null, stdout: '', stderr: (e as Error).message, via: 'spawn', batched: 1 };
    }
  }

  /** Waits for queued work, then ends the process. Later apply() calls fail. */
  async close(): Promise<void> {
    while (this.pumping || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    if (this.idle) clearTimeout(this.idle);
    const child = this.child;
    if (!child) return;
    // The child and its pipes are unref'd: this ref'd timer keeps Node alive until it is gone.
    const keep = setInterval(() => undefined, 1000);
    try {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      this.retire('close');
      await exited;
    } finally {
      clearInterval(keep);
    }
  }
}

const shared = new Map<string, NftRunner>();

/** The runner of a namespace, shared by everything in this process that writes nftables there. */
export function nftRunner(netns?: string): NftRunner {
  const key = netns ?? '';
  let r = shared.get(key);
  if (!r) shared.set(key, (r = new NftRunner(netns ? { netns } : {})));
  return r;
}

/** Closes the shared runners (tests, agent shutdown); the next nftRunner() call makes new ones. */
export async function closeNftRunners(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map((r) => r.close()));
}
