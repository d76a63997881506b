// BGP speaker benchmark in network namespaces (`npm run bench:bgp`; needs root, bird, gobgpd).
//
// Receive: a BIRD sender holds 500,000 IPv4 /24 and 100,000 IPv6 /48 (static routes generated
// into its config) and feeds, in turn, tern-bgpd, BIRD and GoBGP over eBGP (one IPv4 and one
// IPv6 session). Time = from Established (the sender's protocol "Since" stamp) until the
// receiver's Loc-RIB holds every prefix (tern: GetStats; BIRD: `show protocols all`, the
// imported count; GoBGP: `gobgp global rib summary`). Memory = the receiver's peak RSS (VmHWM).
// Send: tern-bgpd originating 500,000 IPv4 /24 (originateBulk) to a BIRD receiver, against BIRD
// sending the same to BIRD.
//
// Flags: --v4 N --v6 N (prefix counts), --only tern|bird|gobgp|send (repeatable),
// --cpu-prof DIR (run tern-bgpd under node --cpu-prof, profiles written to DIR); BENCH_TRACE=1
// prints every poll (time since Established, counts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify as toYaml } from 'yaml';
import { unary } from '../src/grpc/index.js';
import { Lab, type Host } from '../src/lab/netns.js';
import type { ManagedProcess } from '../src/lab/process.js';
import type { BgpClient } from '../src/proto/gen/tern/bgp/v1/Bgp.js';
import type { Stats__Output } from '../src/proto/gen/tern/bgp/v1/Stats.js';
import { bgpProto } from '../src/proto/load.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const argStr = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const only = argv.flatMap((a, i) => (a === '--only' ? [argv[i + 1]!] : []));
const want = (k: string): boolean => only.length === 0 || only.includes(k);
const N4 = arg('--v4', 500_000);
const N6 = arg('--v6', 100_000);
const cpuProf = argStr('--cpu-prof');
const TIMEOUT_MS = 180_000;

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

/**
 * Polls a receiver's prefix count from t0 (Established) until it holds `total`: seconds until
 * 99.9 % were in and until all were.
 */
async function converge(what: string, t0: number, total: number, count: () => Promise<number>, everyMs = 50): Promise<{ seconds999: number; seconds: number }> {
  let done = 0;
  let near = 0;
  await waitFor(what, async () => {
    const n = await count();
    done = Date.now();
    if (near === 0 && n >= 0.999 * total) near = done;
    return n >= total;
  }, TIMEOUT_MS, everyMs);
  return { seconds999: (near - t0) / 1000, seconds: (done - t0) / 1000 };
}

interface Result {
  name: string;
  /** Until 99.9 % of the prefixes are in (the BIRD sender holds back a last few hundred for ~3 s). */
  seconds999: number;
  seconds: number;
  peakMb: number;
  note: string;
}

class Bench {
  lab!: Lab;
  send!: Host;
  recv!: Host;
  senderSock = '';

  async setup(): Promise<void> {
    this.lab = await Lab.create();
    await this.lab.fabric('10.99.0.0/24');
    [this.send, this.recv] = (await this.lab.addHosts([{ name: 'send', ipv6: true }, { name: 'recv', ipv6: true }])) as [Host, Host];
  }

  birdc(host: Host, sock: string, ...args: string[]): Promise<string> {
    return this.lab.exec(host, 'birdc', ['-s', sock, ...args], { allowFail: true }).then((r) => r.stdout);
  }

  /** The sender's Established time of a protocol (its "Since" column, hh:mm:ss.mmm today). */
  async since(host: Host, sock: string, proto: string): Promise<number | null> {
    const line = (await this.birdc(host, sock, 'show', 'protocols', proto)).split('\n').find((l) => l.startsWith(proto));
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
  connect retry time 1;
  ipv4 { import none; export where source = RTS_STATIC; };
}
protocol bgp bgp6 {
  disabled;
  local ${this.send.ipv6} as 65001; neighbor ${this.recv.ipv6} as ${receiverAs};
  connect retry time 1;
  ipv6 { import none; export where source = RTS_STATIC; };
}
`;
    writeFileSync(join(dir, 'sender.conf'), conf);
    this.senderSock = join(dir, 'sender.ctl');
    const p = this.lab.spawn(this.send, 'bird', ['-f', '-c', join(dir, 'sender.conf'), '-s', this.senderSock, '-P', join(dir, 'sender.pid')]);
    await waitFor('sender table loaded', async () => {
      const r = await this.birdc(this.send, this.senderSock, 'show', 'route', 'count');
      const m = /Total: (\d+) of (\d+) routes/.exec(r) ?? /(\d+) of (\d+) routes/.exec(r);
      return m !== null && Number(m[2]) >= v4 + v6;
    }, 120_000, 500);
    return p;
  }

  async enableSender(v6: boolean): Promise<void> {
    await this.birdc(this.send, this.senderSock, 'enable', 'bgp4');
    if (v6) await this.birdc(this.send, this.senderSock, 'enable', 'bgp6');
  }

  async disableSender(): Promise<void> {
    await this.birdc(this.send, this.senderSock, 'disable', 'bgp4');
    await this.birdc(this.send, this.senderSock, 'disable', 'bgp6');
  }

  async establishedAt(v6: boolean): Promise<number> {
    let t = 0;
    await waitFor('sender Established', async () => {
      const a = await this.since(this.send, this.senderSock, 'bgp4');
      const b = v6 ? await this.since(this.send, this.senderSock, 'bgp6') : a;
      if (a === null || b === null) return false;
      t = Math.min(a, b);
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
    const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
    const p = this.lab.spawn(this.recv, process.execPath, [...nodeArgs, join(process.cwd(), 'dist/daemons/tern-bgpd.js'), '--config', cfg, '--grpc-socket', sock, '--ops-listen', `${this.recv.fabricIp}:9180`, '--log-level', 'warn']);
    const Ctor = bgpProto().tern.bgp.v1.Bgp;
    const c = new Ctor(`unix:${sock}`, grpc.credentials.createInsecure()) as unknown as BgpClient;
    const stats = (): Promise<Stats__Output> => unary<object, Stats__Output>(c.getStats.bind(c) as never, {}, 5000);
    try {
      await waitFor('tern-bgpd up', () => stats().then(() => true, () => false), 30_000);
      await this.enableSender(v6 > 0);
      const t0 = await this.establishedAt(v6 > 0);
      const t = await converge('tern-bgpd has every prefix', t0, v4 + v6, async () => {
        const s = await stats();
        if (process.env.BENCH_TRACE) log(`  +${Date.now() - t0} ms: ${s.locRibIpv4Prefixes} v4, ${s.locRibIpv6Prefixes} v6, ${s.updatesReceived} updates`);
        return s.locRibIpv4Prefixes + s.locRibIpv6Prefixes;
      });
      const m = rss(p.pid);
      return { name: 'tern-bgpd', ...t, peakMb: m.peak, note: `RSS now ${m.now.toFixed(0)} MB` };
    } finally {
      c.close();
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
    const imported = async (proto: string): Promise<number> => Number(/Routes:\s+(\d+) imported/.exec(await this.birdc(this.recv, sock, 'show', 'protocols', 'all', proto))?.[1] ?? 0);
    try {
      await waitFor('BIRD receiver up', async () => (await this.birdc(this.recv, sock, 'show', 'status')).includes('Daemon is up'), 30_000);
      await this.enableSender(v6 > 0);
      const t0 = await this.establishedAt(v6 > 0);
      const t = await converge('BIRD has every prefix', t0, v4 + v6, async () => {
        const a = await imported('r4');
        const b = v6 > 0 ? await imported('r6') : 0;
        if (process.env.BENCH_TRACE) log(`  +${Date.now() - t0} ms: ${a} v4, ${b} v6`);
        return a + b;
      });
      const m = rss(p.pid);
      return { name: label, ...t, peakMb: m.peak, note: `RSS now ${m.now.toFixed(0)} MB` };
    } finally {
      await this.disableSender();
      await p.stop('SIGTERM', 10_000);
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
      await this.enableSender(v6 > 0);
      const t0 = await this.establishedAt(v6 > 0);
      const t = await converge('GoBGP has every prefix', t0, v4 + v6, async () => (await count('ipv4')) + (v6 > 0 ? await count('ipv6') : 0), 250);
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
    const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
    const started = Date.now();
    const tern = this.lab.spawn(this.recv, process.execPath, [...nodeArgs, join(process.cwd(), 'dist/daemons/tern-bgpd.js'), '--config', cfg, '--grpc-socket', tsock, '--ops-listen', `${this.recv.fabricIp}:9180`, '--log-level', 'warn']);
    const imported = async (): Promise<number> => Number(/Routes:\s+(\d+) imported/.exec(await this.birdc(this.send, sock, 'show', 'protocols', 'all', 'fromtern'))?.[1] ?? 0);
    try {
      let t0 = 0;
      await waitFor('session Established', async () => {
        const s = await this.since(this.send, sock, 'fromtern');
        if (s !== null) t0 = s;
        return s !== null;
      }, 60_000, 50);
      const t = await converge('BIRD has every prefix from tern-bgpd', t0, v4, imported);
      const m = rss(tern.pid);
      return { name: 'tern-bgpd → BIRD', ...t, peakMb: m.peak, note: `sender peak RSS; start to Established ${((t0 - started) / 1000).toFixed(1)} s (origination included)` };
    } finally {
      await tern.stop('SIGINT', 10_000);
      await bird.stop('SIGTERM', 10_000);
    }
  }
}

function table(rows: Result[], ref: Result | undefined, memRatio = true): string {
  const head = ['receiver', 's to 99.9 %', 'x BIRD', 's to all', 'x BIRD', 'peak RSS MB', 'x BIRD', 'note'];
  const body = rows.map((r) => [
    r.name,
    r.seconds999.toFixed(2),
    ref ? (r.seconds999 / ref.seconds999).toFixed(2) : '-',
    r.seconds.toFixed(2),
    ref ? (r.seconds / ref.seconds).toFixed(2) : '-',
    r.peakMb.toFixed(0),
    ref && memRatio ? (r.peakMb / ref.peakMb).toFixed(2) : '-',
    r.note,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => x.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const b = new Bench();
try {
  if (cpuProf) mkdirSync(cpuProf, { recursive: true });
  await b.setup();
  log(`generating and loading the BIRD sender (${N4} IPv4 /24 + ${N6} IPv6 /48)...`);
  const sender = await b.startSender(65002, N4, N6);
  const recv: Result[] = [];
  if (want('bird')) {
    log('receiver: BIRD');
    recv.push(await b.birdReceiver(N4, N6));
  }
  if (want('tern')) {
    log('receiver: tern-bgpd');
    recv.push(await b.ternReceiver(N4, N6));
  }
  if (want('gobgp')) {
    log('receiver: GoBGP');
    recv.push(await b.gobgpReceiver(N4, N6));
  }
  const send: Result[] = [];
  if (want('send')) {
    log('sending: BIRD → BIRD (IPv4 only)');
    send.push(await b.birdReceiver(N4, 0, 'BIRD → BIRD'));
    await sender.stop('SIGTERM', 10_000);
    log('sending: tern-bgpd → BIRD');
    send.push(await b.ternSender(N4));
  }
  const out = [
    `Receive ${N4.toLocaleString('en-US')} IPv4 /24 + ${N6.toLocaleString('en-US')} IPv6 /48 from a BIRD sender (from Established to all in the Loc-RIB):`,
    '',
    table(recv, recv.find((r) => r.name === 'BIRD')),
    '',
    ...(send.length > 0
      ? [`Send ${N4.toLocaleString('en-US')} IPv4 /24 to a BIRD receiver (from Established to all imported):`, '', table(send, send.find((r) => r.name === 'BIRD → BIRD'), false), '']
      : []),
  ].join('\n');
  process.stdout.write(`${out}\n`);
} finally {
  await b.lab?.destroy();
}
