// BGP speaker benchmark in network namespaces (`npm run bench:bgp`; needs root, bird, gobgpd).
//
// Receive: a BIRD sender holds 500,000 IPv4 /24 and 100,000 IPv6 /48 (static routes generated
// into its config) and feeds, in turn, tern-bgpd, BIRD and GoBGP over eBGP (one IPv4 and one
// IPv6 session). Time = from Established (the sender's protocol "Since" stamp) until the
// receiver's Loc-RIB holds every prefix (tern: GetStats over gRPC on one HTTP/2 connection;
// BIRD: "Routes: N imported" of `show protocols all`, asked on its control socket; GoBGP:
// `gobgp global rib summary`). "sender CPU s" is the BIRD sender's CPU over each receive.
// Receivers are sampled every 10 ms (GoBGP every 100 ms) from the moment the sender is enabled;
// each sample is stamped when its answer arrives. Memory = the receiver's peak RSS (VmHWM).
// Replay: the BIRD sender is busy for nearly the whole receive, so it sets the pace for every
// receiver. bench/replay-sender.ts records its UPDATE stream once (byte for byte, in its order)
// and then writes it to BIRD and tern-bgpd in turn the moment each session is Established, as
// fast as the receiver reads it: there the receiver sets the pace ("sender CPU s" is the
// replayer's, near zero).
// Send: tern-bgpd originating 500,000 IPv4 /24 (originateBulk) to a BIRD receiver, against BIRD
// sending the same to BIRD.
//
// The sender's two sessions come up as much as a second apart (BIRD's randomised connect
// timers), and "s to 99.9 %" and "s to all" count from the first: "v4 s" / "v6 s" time each
// family from its own session's Established to 99.9 % of that family, which is steadier from
// run to run. "CPU s" is the receiver's CPU time from the last sample before the first prefix
// arrived until it held every prefix (the sender's since its start for the send rows).
//
// Flags: --v4 N --v6 N (prefix counts), --only receive|replay|send|tern|bird|gobgp (repeatable:
// phases and receivers; a kind not named means all of it, except that the replay feeds GoBGP
// only when it is named),
// --runs N (default 5: each receiver N times in turn, against the same loaded sender; the table
// shows the median of each column and the note every run's time to 99.9 %; single runs differ
// by ±20 % on a shared 2-core machine),
// --cpu-prof DIR (run tern-bgpd under node --cpu-prof, profiles written to DIR), --node-arg ARG
// (repeatable: a node option for tern-bgpd, e.g. --trace-gc, added to the flags on the first line
// of daemons/tern-bgpd.ts), --log-dir DIR (tern-bgpd's output
// kept there as tern-<role>-<n>.log, and the BIRD sender's as sender.log, instead of in the lab
// directory), --tern-log-level L (default warn); BENCH_TRACE=1 prints every sample.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { connectUnix, unaryCall } from '../src/cni/transport.js';
import { LazyBirdCtl } from '../src/lab/bird-ctl.js';
import { daemonArgs } from '../src/lab/cluster.js';
import { Lab, type Host } from '../src/lab/netns.js';
import type { ManagedProcess } from '../src/lab/process.js';
import type { Stats__Output } from '../src/proto/gen/tern/bgp/v1/Stats.js';
import { bgpProto } from '../src/proto/load.js';
import { arg, strArg } from './args.js';

const argv = process.argv.slice(2);
const only = argv.flatMap((a, i) => (a === '--only' ? [argv[i + 1]!] : []));
/** --only names phases (receive, replay, send) and receivers (bird, tern, gobgp); a kind not named means all of it. */
const PHASES = ['receive', 'replay', 'send'];
const RECEIVERS = ['bird', 'tern', 'gobgp'];
const named = (kinds: string[], k: string): boolean => !only.some((x) => kinds.includes(x)) || only.includes(k);
const wantPhase = (k: string): boolean => named(PHASES, k);
const wantReceiver = (k: string): boolean => named(RECEIVERS, k);
const N4 = arg('--v4', 500_000);
const N6 = arg('--v6', 100_000);
const cpuProf = strArg('--cpu-prof');
const RUNS = Math.max(1, arg('--runs', 5));
const nodeArgsExtra = argv.flatMap((a, i) => (a === '--node-arg' ? [argv[i + 1]!] : []));
const logDir = strArg('--log-dir');
const ternLogLevel = strArg('--tern-log-level') ?? 'warn';
let logSeq = 0;
/** Node options and spawn options of a tern-bgpd run (profiling, extra flags, kept log). */
function ternSpawn(role: string): { nodeArgs: string[]; opts: { logFile?: string } } {
  const nodeArgs = [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), ...nodeArgsExtra];
  return { nodeArgs, opts: logDir ? { logFile: join(logDir, `tern-${role}-${++logSeq}.log`) } : {} };
}
const TIMEOUT_MS = 180_000;
const REPLAY = fileURLToPath(new URL('replay-sender.js', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`${s}\n`);

function v4Prefix(i: number): string {
  const v = 0x10000000 + i * 256; // from 16.0.0.0/24
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.0/24`;
}
function v6Prefix(i: number): string {
  const v = (0x2a00n << 32n) + BigInt(i); // 2a00:0000:xxxx:yyyy::/48 counting in the top 48 bits
  const h = v.toString(16).padStart(12, '0');
  return `${h.slice(0, 4)}:${h.slice(4, 8)}:${h.slice(8, 12)}::/48`;
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of
 * 1/100 s, the Linux USER_HZ). The receiver's share from just before the sender is enabled until
 * it holds every prefix tells work from waiting when the machine is busy.
 */
function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself hold spaces.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Peak and current resident set of a process, in MB. */
function rss(pid: number): { peak: number; now: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = TIMEOUT_MS, everyMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** One poll of a receiver: when its answer came back and its [IPv4, IPv6] prefix counts. */
interface Sample {
  at: number;
  v4: number;
  v6: number;
  /** The receiver's CPU seconds so far. */
  cpu: number;
}

/**
 * Polls a receiver's prefix counts every `everyMs` from the moment the sender is enabled (before
 * its sessions are Established, so no time is lost finding that out) until it holds `total`.
 * Each sample is stamped with the time its answer arrived.
 */
async function sampleUntil(what: string, total: number, count: () => Promise<readonly [number, number]>, everyMs: number, pid: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  await waitFor(what, async () => {
    const [v4, v6] = await count();
    samples.push({ at: Date.now(), v4, v6, cpu: cpuSeconds(pid) });
    if (process.env.BENCH_TRACE) log(`  ${new Date().toISOString()}: ${v4} v4, ${v6} v6`);
    return v4 + v6 >= total;
  }, TIMEOUT_MS, everyMs);
  return samples;
}

/**
 * From samples and the Established time t0: seconds until 99.9 % of `split` were in and until all
 * were, and when each family reached 99.9 % of its own share.
 */
function converge(samples: readonly Sample[], t0: number, split: readonly [number, number]): { seconds999: number; seconds: number; near4: number; near6: number; cpu: number } {
  const total = split[0] + split[1];
  const first = (ok: (s: Sample) => boolean): number => samples.find(ok)?.at ?? NaN;
  // CPU from the last sample before the first prefix arrived to the last sample.
  const before = samples.filter((s) => s.v4 + s.v6 === 0).at(-1) ?? samples[0]!;
  return {
    cpu: samples.at(-1)!.cpu - before.cpu,
    seconds999: (first((s) => s.v4 + s.v6 >= 0.999 * total) - t0) / 1000,
    seconds: (first((s) => s.v4 + s.v6 >= total) - t0) / 1000,
    near4: first((s) => s.v4 >= 0.999 * split[0]),
    near6: split[1] > 0 ? first((s) => s.v6 >= 0.999 * split[1]) : 0,
  };
}

/** Receivers' counts are asked this often: one answer costs them well under a millisecond. */
const POLL_MS = 10;

interface Result {
  name: string;
  /** Until 99.9 % of the prefixes are in (the BIRD sender holds back a last few hundred for ~3 s). */
  seconds999: number;
  /**
   * Per family, from its own session's Established until 99.9 % of that family is in. The sender
   * brings its two sessions up as much as a second apart (BIRD's randomised connect timers),
   * which the first column includes; these do not. NaN where not measured.
   */
  v4s: number;
  v6s: number;
  seconds: number;
  peakMb: number;
  /** CPU seconds the receiver (sender, for the send rows) used from enabling the session to the end. */
  cpu: number;
  /**
   * Receive rows: CPU seconds the BIRD sender used over the same span. Close to the receive time
   * itself means the sender, busy all along, set the pace: a receiver cannot finish before it.
   */
  senderCpu?: number;
  note: string;
}

/** What one receive measured (a Result without its name, memory and note). */
type Received = Pick<Result, 'seconds999' | 'seconds' | 'v4s' | 'v6s' | 'cpu'> & { senderCpu: number };

/** One family's session of the replay sender and the file holding its recorded stream. */
interface ReplaySession {
  afi: 1 | 2;
  sender: string;
  receiver: string;
  file: string;
}

class Bench {
  lab!: Lab;
  send!: Host;
  recv!: Host;
  senderSock = '';
  senderPid = 0;
  /**
   * Who feeds the receivers: the BIRD sender, or bench/replay-sender.ts writing the same table as
   * fast as the receiver reads it (the receiver sets the pace).
   */
  senderKind: 'bird' | 'replay' = 'bird';
  /** Each session's Established as found by the last establishedAt() (the earlier one is its result). */
  up4 = 0;
  up6 = 0;

  async setup(): Promise<void> {
    this.lab = await Lab.create();
    await this.lab.fabric('10.99.0.0/24');
    [this.send, this.recv] = (await this.lab.addHosts([{ name: 'send', ipv6: true }, { name: 'recv', ipv6: true }])) as [Host, Host];
  }

  private ctls = new Map<string, LazyBirdCtl>();

  /** A query on a BIRD's control socket, the connection kept open for the next one. */
  bird(sock: string, command: string): Promise<string> {
    let c = this.ctls.get(sock);
    if (!c) {
      c = new LazyBirdCtl(sock);
      this.ctls.set(sock, c);
    }
    return c.query(command);
  }

  /** Routes a BIRD BGP protocol has imported ("Routes: N imported" of `show protocols all`). */
  async imported(sock: string, proto: string): Promise<number> {
    return Number(/Routes:\s+(\d+) imported/.exec(await this.bird(sock, `show protocols all ${proto}`))?.[1] ?? 0);
  }

  closeCtls(): void {
    for (const c of this.ctls.values()) c.close();
    this.ctls.clear();
  }

  /**
   * Enables the sender, samples the receiver (process `pid`) until it holds v4 + v6, then reads
   * when the sender's sessions came Established and times the samples from there.
   *
   * Every sample also asks the sender something on its control socket. Left alone, the BIRD
   * sender often holds its last few hundred prefixes back for ~3 s (its event loop sleeps with
   * that work pending until something wakes it); a question on the socket wakes it, so the
   * figures time the receiver and not that pause. Every receiver gets the same treatment.
   */
  async receive(what: string, pid: number, v4: number, v6: number, count: () => Promise<readonly [number, number]>, everyMs = POLL_MS): Promise<Received> {
    if (this.senderKind === 'replay') return this.receiveReplay(what, pid, v4, v6, count, everyMs);
    const sender0 = cpuSeconds(this.senderPid);
    await this.enableSender(v6 > 0);
    const samples = await sampleUntil(what, v4 + v6, async () => {
      await this.bird(this.senderSock, 'show status');
      return count();
    }, everyMs, pid);
    const senderCpu = cpuSeconds(this.senderPid) - sender0;
    const t0 = await this.establishedAt(v6 > 0);
    const t = converge(samples, t0, [v4, v6]);
    return { seconds999: t.seconds999, seconds: t.seconds, cpu: t.cpu, senderCpu, ...this.perFamily(t, v6 > 0) };
  }

  /** Each family's session between the sender's and the receiver's addresses, and where its recorded stream is kept. */
  replaySessions(v6: boolean): ReplaySession[] {
    const out: ReplaySession[] = [{ afi: 1, sender: this.send.fabricIp, receiver: this.recv.fabricIp, file: join(this.lab.dir, 'bird-v4.bgp') }];
    if (v6) out.push({ afi: 2, sender: this.send.ipv6!, receiver: this.recv.ipv6!, file: join(this.lab.dir, 'bird-v6.bgp') });
    return out;
  }

  /**
   * Records the BIRD sender's UPDATE streams for the replay sender: bench/replay-sender.ts in
   * record mode, a passive peer at the receiver's addresses, keeps each family's UPDATEs.
   */
  async recordSender(v6: boolean): Promise<void> {
    const sessions = this.replaySessions(v6).map((x) => ({ afi: x.afi, local: x.receiver, peer: x.sender, file: x.file }));
    const spec = { mode: 'record', localAs: 65002, routerId: this.recv.fabricIp, sessions };
    const logFile = join(logDir ?? this.lab.dir, 'record.log');
    const p = this.lab.spawn(this.recv, process.execPath, [REPLAY, JSON.stringify(spec)], { logFile });
    try {
      // Listening before the sender is enabled.
      await waitFor('recorder listening', async () => (await this.lab.exec(this.recv, 'ss', ['-Htln', 'sport', '=', ':179'], { allowFail: true })).stdout.trim() !== '', 30_000);
      await this.enableSender(v6);
      // An unreferenced timer: a pending one would keep the bench alive after its last table.
      const exit = await Promise.race([p.wait(), delay(TIMEOUT_MS, null, { ref: false })]);
      if (exit?.code !== 0) throw new Error(`recording the BIRD sender failed: see ${logFile}`);
    } finally {
      await this.disableSender();
      await p.stop('SIGTERM', 10_000);
    }
  }

  /**
   * receive() with bench/replay-sender.ts as the sender, started once the receiver is up: it
   * writes each family's whole table the moment that session is Established and reports when
   * that was. Its CPU over the receive (from the last sample before the first prefix arrived, as
   * the receiver's) is the "sender CPU s" column: building the table before it connects is not.
   */
  async receiveReplay(what: string, pid: number, v4: number, v6: number, count: () => Promise<readonly [number, number]>, everyMs: number): Promise<Received> {
    const sessions = this.replaySessions(v6 > 0).map((x) => ({ ...x, local: x.sender, peer: x.receiver }));
    const spec = { mode: 'replay', localAs: 65001, routerId: this.send.fabricIp, sessions };
    const logFile = join(logDir ?? this.lab.dir, `replay-${++logSeq}.log`);
    const p = this.lab.spawn(this.send, process.execPath, [REPLAY, JSON.stringify(spec)], { logFile });
    try {
      // The sender's CPU at each sample, to count it over the same span as the receiver's.
      const sent: number[] = [];
      const samples = await sampleUntil(what, v4 + v6, () => (sent.push(cpuSeconds(p.pid)), count()), everyMs, pid);
      const first = samples.findIndex((x) => x.v4 + x.v6 > 0);
      const senderCpu = sent.at(-1)! - sent[Math.max(0, first - 1)]!;
      const up = new Map<number, number>();
      for (const l of readFileSync(logFile, 'utf8').split('\n')) {
        if (!l.startsWith('{')) continue;
        const j = JSON.parse(l) as { afi: number; established: number };
        up.set(j.afi, j.established);
      }
      this.up4 = up.get(1) ?? NaN;
      this.up6 = up.get(2) ?? NaN;
      const t0 = Math.min(this.up4, v6 > 0 ? this.up6 : Infinity);
      const t = converge(samples, t0, [v4, v6]);
      return { seconds999: t.seconds999, seconds: t.seconds, cpu: t.cpu, senderCpu, ...this.perFamily(t, v6 > 0) };
    } finally {
      await p.stop('SIGTERM', 10_000);
    }
  }

  /** The sender's Established time of a protocol (its "Since" column, hh:mm:ss.mmm today). */
  async since(sock: string, proto: string): Promise<number | null> {
    const line = (await this.bird(sock, `show protocols ${proto}`)).split('\n').find((l) => l.startsWith(proto));
    if (!line || !/\bup\b/.test(line)) return null;
    const m = /(\d\d):(\d\d):(\d\d)\.(\d{3})/.exec(line);
    if (!m) return null;
    const d = new Date();
    d.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
    return d.getTime();
  }

  /** BIRD sender with the static table; its sessions start disabled until a receiver is ready. */
  async startSender(receiverAs: number, v4: number, v6: number): Promise<ManagedProcess> {
    const dir = this.lab.dir;
    const s4: string[] = [];
    for (let i = 0; i < v4; i++) s4.push(`route ${v4Prefix(i)} blackhole;`);
    const s6: string[] = [];
    for (let i = 0; i < v6; i++) s6.push(`route ${v6Prefix(i)} blackhole;`);
    const conf = `
router id ${this.send.fabricIp};
timeformat protocol iso long ms;
protocol device {}
protocol static st4 { ipv4;
${s4.join('\n')}
}
protocol static st6 { ipv6;
${s6.join('\n')}
}
protocol bgp bgp4 {
  disabled;
  local ${this.send.fabricIp} as 65001; neighbor ${this.recv.fabricIp} as ${receiverAs};
  connect delay time 1; connect retry time 1;
  ipv4 { import none; export where source = RTS_STATIC; };
}
protocol bgp bgp6 {
  disabled;
  local ${this.send.ipv6} as 65001; neighbor ${this.recv.ipv6} as ${receiverAs};
  connect delay time 1; connect retry time 1;
  ipv6 { import none; export where source = RTS_STATIC; };
}
`;
    writeFileSync(join(dir, 'sender.conf'), conf);
    this.senderSock = join(dir, 'sender.ctl');
    const p = this.lab.spawn(this.send, 'bird', ['-f', '-c', join(dir, 'sender.conf'), '-s', this.senderSock, '-P', join(dir, 'sender.pid')], logDir ? { logFile: join(logDir, 'sender.log') } : {});
    await waitFor('sender table loaded', async () => {
      const r = await this.bird(this.senderSock, 'show route count').catch(() => '');
      const m = /Total: (\d+) of (\d+) routes/.exec(r) ?? /(\d+) of (\d+) routes/.exec(r);
      return m !== null && Number(m[2]) >= v4 + v6;
    }, 120_000, 500);
    this.senderPid = p.pid;
    return p;
  }

  async enableSender(v6: boolean): Promise<void> {
    await this.bird(this.senderSock, 'enable bgp4');
    if (v6) await this.bird(this.senderSock, 'enable bgp6');
  }

  async disableSender(): Promise<void> {
    if (this.senderKind === 'replay') return; // receiveReplay stops it
    // Also after a failed run, where a protocol may never have been enabled.
    await this.bird(this.senderSock, 'disable bgp4').catch(() => '');
    await this.bird(this.senderSock, 'disable bgp6').catch(() => '');
  }

  /** Per-family seconds (see Result.v4s) from converge's per-family times. */
  perFamily(t: { near4: number; near6: number }, v6: boolean): { v4s: number; v6s: number } {
    return { v4s: t.near4 > 0 ? (t.near4 - this.up4) / 1000 : NaN, v6s: v6 && t.near6 > 0 ? (t.near6 - this.up6) / 1000 : NaN };
  }

  async establishedAt(v6: boolean): Promise<number> {
    let t = 0;
    await waitFor('sender Established', async () => {
      const a = await this.since(this.senderSock, 'bgp4');
      const b = v6 ? await this.since(this.senderSock, 'bgp6') : a;
      if (a === null || b === null) return false;
      t = Math.min(a, b);
      this.up4 = a;
      this.up6 = b;
      if (process.env.BENCH_TRACE && v6) log(`  sender Established: bgp4 ${new Date(a).toISOString()}, bgp6 ${new Date(b).toISOString()}`);
      return true;
    }, 60_000, 50);
    return t;
  }

  // ---- receivers ----

  async ternReceiver(v4: number, v6: number): Promise<Result> {
    const dir = this.lab.dir;
    const cfg = join(dir, 'tern-recv.yaml');
    writeFileSync(cfg, toYaml({ bgp: {
      asNumber: 65002, routerId: this.recv.fabricIp, gracefulRestart: { enabled: false },
      peers: [
        { address: this.send.fabricIp, asNumber: 65001, passive: true },
        { address: this.send.ipv6!, asNumber: 65001, passive: true },
      ],
    } }));
    const sock = join(dir, 'tern-recv.sock');
    const { nodeArgs, opts } = ternSpawn('recv');
    const p = this.lab.spawn(this.recv, process.execPath, [...nodeArgs, ...daemonArgs('tern-bgpd'), '--config', cfg, '--grpc-socket', sock, '--ops-listen', `${this.recv.fabricIp}:9180`, '--log-level', ternLogLevel], opts);
    // GetStats over one HTTP/2 connection with node:http2 alone: a @grpc/grpc-js call costs this
    // process about twice the CPU of a question on BIRD's control socket, CPU taken from the
    // sender and the receiver on a 2-core machine.
    const decode = bgpProto().tern.bgp.v1.Bgp.service.GetStats!.responseDeserialize as (b: Buffer) => Stats__Output;
    let conn: ClientHttp2Session | null = null;
    const stats = async (): Promise<Stats__Output> => {
      if (conn === null || conn.destroyed) {
        conn = connectUnix(sock);
        conn.on('error', () => undefined);
      }
      // The request is an empty message: its 5-byte gRPC prefix alone (uncompressed, length 0).
      const r = await unaryCall(conn, '/tern.bgp.v1.Bgp/GetStats', Buffer.alloc(5), 5000);
      if (r.message === undefined) throw new Error(`GetStats: ${r.details}`);
      return decode(r.message);
    };
    try {
      await waitFor('tern-bgpd up', () => stats().then(() => true, () => false), 30_000);
      const t = await this.receive('tern-bgpd has every prefix', p.pid, v4, v6, async () => {
        const s = await stats();
        return [s.locRibIpv4Prefixes, s.locRibIpv6Prefixes] as const;
      });
      const m = rss(p.pid);
      return { name: 'tern-bgpd', ...t, peakMb: m.peak, note: `RSS now ${m.now.toFixed(0)} MB` };
    } finally {
      (conn as ClientHttp2Session | null)?.destroy();
      await this.disableSender();
      // SIGINT: the administrative stop (a profile is written on a normal exit).
      await p.stop('SIGINT', 10_000);
    }
  }

  async birdReceiver(v4: number, v6: number, label = 'BIRD'): Promise<Result> {
    const dir = this.lab.dir;
    const sock = join(dir, 'recv.ctl');
    writeFileSync(join(dir, 'recv.conf'), `
router id ${this.recv.fabricIp};
protocol device {}
protocol bgp r4 { local ${this.recv.fabricIp} as 65002; neighbor ${this.send.fabricIp} as 65001; passive; ipv4 { import all; export none; }; }
protocol bgp r6 { local ${this.recv.ipv6} as 65002; neighbor ${this.send.ipv6} as 65001; passive; ipv6 { import all; export none; }; }
`);
    const p = this.lab.spawn(this.recv, 'bird', ['-f', '-c', join(dir, 'recv.conf'), '-s', sock, '-P', join(dir, 'recv.pid')]);
    try {
      await waitFor('BIRD receiver up', async () => (await this.bird(sock, 'show status').catch(() => '')).includes('Daemon is up'), 30_000);
      const t = await this.receive('BIRD has every prefix', p.pid, v4, v6, async () => [await this.imported(sock, 'r4'), v6 > 0 ? await this.imported(sock, 'r6') : 0] as const);
      const m = rss(p.pid);
      return { name: label, ...t, peakMb: m.peak, note: `RSS now ${m.now.toFixed(0)} MB` };
    } finally {
      await this.disableSender();
      await p.stop('SIGTERM', 10_000);
      this.closeCtls();
    }
  }

  async gobgpReceiver(v4: number, v6: number): Promise<Result> {
    const dir = this.lab.dir;
    writeFileSync(join(dir, 'gobgpd.toml'), `
[global.config]
  as = 65002
  router-id = "${this.recv.fabricIp}"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${this.send.fabricIp}"
    peer-as = 65001
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${this.send.ipv6}"
    peer-as = 65001
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`);
    const p = this.lab.spawn(this.recv, 'gobgpd', ['-f', join(dir, 'gobgpd.toml'), '--api-hosts', '127.0.0.1:50051', '--pprof-disable']);
    const count = async (fam: string): Promise<number> => {
      const r = await this.lab.exec(this.recv, 'gobgp', ['-p', '50051', 'global', 'rib', 'summary', '-a', fam], { allowFail: true });
      return Number(/Destination:\s*(\d+)/.exec(r.stdout)?.[1] ?? 0);
    };
    try {
      await waitFor('GoBGP up', async () => (await this.lab.exec(this.recv, 'gobgp', ['-p', '50051', 'global'], { allowFail: true })).stdout.includes('AS'), 30_000);
      // Each poll starts two gobgp processes: every 100 ms is often enough for GoBGP's ~10 s.
      const t = await this.receive('GoBGP has every prefix', p.pid, v4, v6, async () => [await count('ipv4'), v6 > 0 ? await count('ipv6') : 0] as const, 100);
      const m = rss(p.pid);
      return { name: 'GoBGP', ...t, peakMb: m.peak, note: `RSS now ${m.now.toFixed(0)} MB` };
    } finally {
      await this.disableSender();
      await p.stop('SIGTERM', 10_000);
    }
  }

  /** tern-bgpd originating v4 prefixes (originateBulk) to a BIRD receiver in the sender's namespace. */
  async ternSender(v4: number): Promise<Result> {
    const dir = this.lab.dir;
    const sock = join(dir, 'recv2.ctl');
    writeFileSync(join(dir, 'recv2.conf'), `
router id ${this.send.fabricIp};
timeformat protocol iso long ms;
protocol device {}
protocol bgp fromtern { local ${this.send.fabricIp} as 65001; neighbor ${this.recv.fabricIp} as 65002; passive; ipv4 { import all; export none; }; }
`);
    const bird = this.lab.spawn(this.send, 'bird', ['-f', '-c', join(dir, 'recv2.conf'), '-s', sock, '-P', join(dir, 'recv2.pid')]);
    const cfg = join(dir, 'tern-send.yaml');
    writeFileSync(cfg, toYaml({ bgp: {
      asNumber: 65002, routerId: this.recv.fabricIp, gracefulRestart: { enabled: false },
      peers: [{ address: this.send.fabricIp, asNumber: 65001, timers: { connectRetry: 1 } }],
      originateBulk: [{ from: '16.0.0.0/24', count: v4 }],
    } }));
    const tsock = join(dir, 'tern-send.sock');
    const { nodeArgs, opts } = ternSpawn('send');
    const started = Date.now();
    const tern = this.lab.spawn(this.recv, process.execPath, [...nodeArgs, ...daemonArgs('tern-bgpd'), '--config', cfg, '--grpc-socket', tsock, '--ops-listen', `${this.recv.fabricIp}:9180`, '--log-level', ternLogLevel], opts);
    try {
      await waitFor('BIRD receiver up', async () => (await this.bird(sock, 'show status').catch(() => '')).includes('Daemon is up'), 30_000);
      const samples = await sampleUntil('BIRD has every prefix from tern-bgpd', v4, async () => [await this.imported(sock, 'fromtern'), 0] as const, POLL_MS, tern.pid);
      const t0 = (await this.since(sock, 'fromtern')) ?? NaN;
      const { cpu: _cpu, ...t } = converge(samples, t0, [v4, 0]);
      const m = rss(tern.pid);
      return { name: 'tern-bgpd → BIRD', ...t, v4s: t.seconds999, v6s: NaN, peakMb: m.peak, cpu: cpuSeconds(tern.pid), note: `sender peak RSS; start to Established ${((t0 - started) / 1000).toFixed(1)} s (origination included)` };
    } finally {
      await tern.stop('SIGINT', 10_000);
      await bird.stop('SIGTERM', 10_000);
      this.closeCtls();
    }
  }
}

/** One row from repeated runs: the median of each column. */
function median(rs: Result[]): Result {
  const mid = (f: (r: Result) => number): number => {
    const v = rs.map(f).sort((x, y) => x - y);
    return v.length % 2 === 1 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  if (rs.length === 1) return rs[0]!;
  return {
    name: rs[0]!.name,
    seconds999: mid((r) => r.seconds999),
    v4s: mid((r) => r.v4s),
    v6s: mid((r) => r.v6s),
    seconds: mid((r) => r.seconds),
    peakMb: mid((r) => r.peakMb),
    cpu: mid((r) => r.cpu),
    ...(rs[0]!.senderCpu !== undefined ? { senderCpu: mid((r) => r.senderCpu ?? NaN) } : {}),
    note: `median of ${rs.length}; to 99.9 %: ${rs.map((r) => r.seconds999.toFixed(2)).join(', ')} s`,
  };
}

function table(rows: Result[], ref: Result | undefined, memRatio = true): string {
  const sender = rows.some((r) => r.senderCpu !== undefined);
  const head = ['receiver', 's to 99.9 %', 'x BIRD', 'v4 s', 'x BIRD', 'v6 s', 'x BIRD', 's to all', 'x BIRD', 'peak RSS MB', 'x BIRD', 'CPU s', ...(sender ? ['sender CPU s'] : []), 'note'];
  const body = rows.map((r) => [
    r.name,
    r.seconds999.toFixed(2),
    ref ? (r.seconds999 / ref.seconds999).toFixed(2) : '-',
    Number.isNaN(r.v4s) ? '-' : r.v4s.toFixed(2),
    ref && !Number.isNaN(r.v4s) ? (r.v4s / ref.v4s).toFixed(2) : '-',
    Number.isNaN(r.v6s) ? '-' : r.v6s.toFixed(2),
    ref && !Number.isNaN(r.v6s) ? (r.v6s / ref.v6s).toFixed(2) : '-',
    r.seconds.toFixed(2),
    ref ? (r.seconds / ref.seconds).toFixed(2) : '-',
    r.peakMb.toFixed(0),
    ref && memRatio ? (r.peakMb / ref.peakMb).toFixed(2) : '-',
    r.cpu.toFixed(2),
    ...(sender ? [r.senderCpu?.toFixed(2) ?? '-'] : []),
    r.note,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => x.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const b = new Bench();
try {
  if (cpuProf) mkdirSync(cpuProf, { recursive: true });
  if (logDir) mkdirSync(logDir, { recursive: true });
  await b.setup();
  log(`generating and loading the BIRD sender (${N4} IPv4 /24 + ${N6} IPv6 /48)...`);
  const sender = await b.startSender(65002, N4, N6);
  /** RUNS times each wanted receiver in turn; one median row each. */
  const rounds = async (receivers: string[]): Promise<Result[]> => {
    const runs = new Map<string, Result[]>();
    const more = (r: Result): void => void runs.set(r.name, [...(runs.get(r.name) ?? []), r]);
    for (let k = 0; k < RUNS; k++) {
      if (receivers.includes('bird')) {
        log('receiver: BIRD');
        more(await b.birdReceiver(N4, N6));
      }
      if (receivers.includes('tern')) {
        log('receiver: tern-bgpd');
        more(await b.ternReceiver(N4, N6));
      }
      if (receivers.includes('gobgp')) {
        log('receiver: GoBGP');
        more(await b.gobgpReceiver(N4, N6));
      }
    }
    return [...runs.values()].map(median);
  };
  const recv = wantPhase('receive') ? await rounds(RECEIVERS.filter(wantReceiver)) : [];
  // The replay sender feeds GoBGP (~8 s a run) only when it is named.
  let replay: Result[] = [];
  if (wantPhase('replay')) {
    log('recording the BIRD sender for the replay sender...');
    await b.recordSender(N6 > 0);
    b.senderKind = 'replay';
    replay = await rounds(['bird', 'tern', ...(only.includes('gobgp') ? ['gobgp'] : [])].filter(wantReceiver));
    b.senderKind = 'bird';
  }
  const send: Result[] = [];
  if (wantPhase('send')) {
    log('sending: BIRD → BIRD (IPv4 only)');
    send.push(await b.birdReceiver(N4, 0, 'BIRD → BIRD'));
    await sender.stop('SIGTERM', 10_000);
    log('sending: tern-bgpd → BIRD');
    send.push(await b.ternSender(N4));
  }
  const what = `${N4.toLocaleString('en-US')} IPv4 /24 + ${N6.toLocaleString('en-US')} IPv6 /48`;
  const out = [
    ...(recv.length > 0 ? [`Receive ${what} from a BIRD sender (from Established to all in the Loc-RIB):`, '', table(recv, recv.find((r) => r.name === 'BIRD')), ''] : []),
    ...(replay.length > 0
      ? [`Receive ${what} from a replay sender (the same table written as fast as the receiver reads it: the receiver sets the pace):`, '', table(replay, replay.find((r) => r.name === 'BIRD')), '']
      : []),
    ...(send.length > 0
      ? [`Send ${N4.toLocaleString('en-US')} IPv4 /24 to a BIRD receiver (from Established to all imported):`, '', table(send, send.find((r) => r.name === 'BIRD → BIRD'), false), '']
      : []),
  ].join('\n');
  process.stdout.write(`${out}\n`);
} finally {
  b.closeCtls();
  await b.lab?.destroy();
}
