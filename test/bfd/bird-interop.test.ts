// Interop with BIRD 2's BFD across a veth pair between two network namespaces this test makes
// itself. BIRD runs in namespace A (10.201.0.1), a BfdManager process in namespace B
// (10.201.0.2). The link is cut silently with an nftables drop rule inside B, never in the root
// namespace. Needs root, bird, birdc, nft, ip, and a built dist/ (`npx tsc -p tsconfig.json`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(ROOT, 'dist/test/bfd/netns-peer.js');
const isRoot = process.getuid?.() === 0;

const ID = `tbfd${process.pid}`;
const NS_A = `${ID}-a`; // BIRD
const NS_B = `${ID}-b`; // Tern
const VETH_A = `${ID}a`;
const VETH_B = `${ID}b`;
const ADDR_A = '10.201.0.1';
const ADDR_B = '10.201.0.2';

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Line {
  t: number;
  event: string;
  [k: string]: unknown;
}

let dir = '';
let bird: ChildProcess | undefined;
let peer: ChildProcess | undefined;
const lines: Line[] = [];
let peerStderr = '';
let birdStderr = '';

/** BIRD's view of the session to 10.201.0.2: its State column, or undefined if not listed. */
async function birdState(): Promise<string | undefined> {
  const out = await run('birdc', ['-s', join(dir, 'bird.ctl'), 'show', 'bfd', 'sessions']).catch(() => '');
  const row = out.split('\n').find((l) => l.trim().startsWith(ADDR_B));
  return row?.trim().split(/\s+/)[2];
}

function nextState(after: number, pred: (l: Line) => boolean, timeoutMs: number): Promise<Line> {
  return waitFor('a state line from the Tern peer', () => lines.slice(after).find((l) => l.event === 'state' && pred(l)), timeoutMs, 5);
}

async function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  const kill = (sig: NodeJS.Signals) => {
    // Only while the child has not been reaped, so the PID cannot belong to anyone else yet.
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    try {
      process.kill(c.pid, sig);
    } catch {
      // exited in between
    }
  };
  kill('SIGTERM');
  const t = setTimeout(() => kill('SIGKILL'), 2000);
  await gone;
  clearTimeout(t);
}

describe.skipIf(!isRoot)('BFD interop with BIRD 2 across network namespaces', () => {
  beforeAll(async () => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run \`npx tsc -p tsconfig.json\` first`);
    const built = statSync(join(ROOT, 'dist/src/bfd/manager.js')).mtimeMs;
    for (const f of readdirSync(join(ROOT, 'src/bfd')).filter((n) => n.endsWith('.ts'))) {
      if (statSync(join(ROOT, 'src/bfd', f)).mtimeMs > built) throw new Error(`dist/ is older than src/bfd/${f}: run \`npx tsc -p tsconfig.json\``);
    }
    dir = mkdtempSync(join(tmpdir(), 'tern-bfd-'));

    await run('ip', ['netns', 'add', NS_A]);
    await run('ip', ['netns', 'add', NS_B]);
    // Created straight into the namespaces: the veth never appears in the root namespace.
    await run('ip', ['link', 'add', VETH_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', VETH_B, 'netns', NS_B]);
    for (const [ns, dev, addr] of [[NS_A, VETH_A, ADDR_A], [NS_B, VETH_B, ADDR_B]] as const) {
      await run('ip', ['-n', ns, 'addr', 'add', `${addr}/30`, 'dev', dev]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    // Counts what Tern sends, by TTL and source port (RFC 5881 §4, §5).
    await run('ip', ['netns', 'exec', NS_B, 'nft', '-f', '-'], `
      table inet tbfd_count {
        chain output {
          type filter hook output priority 0; policy accept;
          udp dport 3784 ip ttl 255 counter
          udp dport 3784 ip ttl != 255 counter
          udp dport 3784 udp sport != 49152-65535 counter
        }
      }
    `);

    writeFileSync(join(dir, 'bird.conf'), `
      router id ${ADDR_A};
      log "${join(dir, 'bird.log')}" all;
      protocol device { scan time 1; }
      protocol bfd {
        neighbor ${ADDR_B};
        interface "*" { interval 100 ms; multiplier 3; };
      }
    `);
    // `ip netns exec` execs, so these PIDs are BIRD's and node's own.
    bird = spawn('ip', ['netns', 'exec', NS_A, 'bird', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid'), '-f'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    bird.stderr!.on('data', (d: Buffer) => (birdStderr += d.toString()));
    await waitFor(
      'BIRD control socket',
      async () => {
        if (bird!.exitCode !== null) throw new Error(`bird exited ${bird!.exitCode}: ${birdStderr}`);
        return (await run('birdc', ['-s', join(dir, 'bird.ctl'), 'show', 'status']).catch(() => '')).includes('Daemon is up') ? true : undefined;
      },
      10_000,
      100,
    );

    const cfg = { bind: [ADDR_B], peers: [{ peer: ADDR_A, local: ADDR_B, minTxMs: 100, minRxMs: 100, multiplier: 3 }] };
    peer = spawn('ip', ['netns', 'exec', NS_B, process.execPath, SCRIPT, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'pipe'] });
    peer.stderr!.on('data', (d: Buffer) => (peerStderr += d.toString()));
    createInterface({ input: peer.stdout! }).on('line', (l) => {
      try {
        lines.push(JSON.parse(l) as Line);
      } catch {
        peerStderr += `${l}\n`;
      }
    });
    await waitFor('the Tern peer to start', () => lines.find((l) => l.event === 'ready') ?? (peer!.exitCode !== null ? Promise.reject(new Error(`peer exited: ${peerStderr}`)) : undefined), 10_000);
  });

  afterAll(async () => {
    try {
      peer?.stdin?.end();
      await stopChild(peer);
      await stopChild(bird);
    } finally {
      await run('ip', ['netns', 'del', NS_A]).catch(() => {});
      await run('ip', ['netns', 'del', NS_B]).catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('comes Up with BIRD, detects a silent cut in under 1 s, and recovers', async () => {
    await nextState(0, (l) => l.to === 'Up', 20_000);
    await waitFor('BIRD to show the session Up', async () => ((await birdState()) === 'Up' ? true : undefined), 10_000, 100);
    // Let the Poll Sequences after Up settle on the fast timers, both ways.
    await sleep(1000);
    const mark = lines.length;
    peer!.stdin!.write('list\n');
    const list = await waitFor('list', () => lines.slice(mark).find((l) => l.event === 'list'), 5000);
    const info = (list.peers as Record<string, unknown>[])[0]!;
    expect(info).toMatchObject({ state: 'Up', remoteState: 'Up', txIntervalMs: 100, detectTimeMs: 300, remoteDesiredMinTxMs: 100, remoteDetectMult: 3 });

    // Cut: drop everything arriving for port 3784 in Tern's namespace. BIRD is not told.
    const before = lines.length;
    const t0 = Date.now();
    await run('ip', ['netns', 'exec', NS_B, 'nft', '-f', '-'], `
      table inet tbfd_cut {
        chain input { type filter hook input priority 0; policy accept; udp dport 3784 drop; }
      }
    `);
    const t1 = Date.now();
    const down = await nextState(before, (l) => l.from === 'Up', 5000);
    const upper = down.t - t0;
    const lower = down.t - t1;
    console.log(`[bfd] BIRD interop: Tern detected the cut in ${lower}-${upper} ms (detect time 3 x 100 ms)`);
    expect(down).toMatchObject({ to: 'Down', reason: 'detection-timeout', diag: 1 });
    expect(upper).toBeLessThan(1000);
    // Tern's Down still reaches BIRD, which leaves Up because its neighbour said so.
    await waitFor('BIRD to leave Up', async () => ((await birdState()) !== 'Up' ? true : undefined), 3000, 50);

    const beforeHeal = lines.length;
    const t2 = Date.now();
    await run('ip', ['netns', 'exec', NS_B, 'nft', 'delete', 'table', 'inet', 'tbfd_cut']);
    const up = await nextState(beforeHeal, (l) => l.to === 'Up', 10_000);
    console.log(`[bfd] BIRD interop: Up again ${up.t - t2} ms after the rule was removed`);
    await waitFor('BIRD to show the session Up again', async () => ((await birdState()) === 'Up' ? true : undefined), 10_000, 100);
  });

  it('BIRD detects Tern falling silent (outgoing packets dropped)', async () => {
    await sleep(1000);
    expect(await birdState()).toBe('Up');
    const t0 = Date.now();
    await run('ip', ['netns', 'exec', NS_B, 'nft', '-f', '-'], `
      table inet tbfd_mute {
        chain output { type filter hook output priority 0; policy accept; udp dport 3784 drop; }
      }
    `);
    await waitFor('BIRD to leave Up', async () => ((await birdState()) !== 'Up' ? true : undefined), 5000, 20);
    const ms = Date.now() - t0;
    console.log(`[bfd] BIRD interop: BIRD detected Tern's silence within ${ms} ms (polling birdc every ~20 ms)`);
    expect(ms).toBeLessThan(1500);
    const before = lines.length;
    await run('ip', ['netns', 'exec', NS_B, 'nft', 'delete', 'table', 'inet', 'tbfd_mute']);
    await nextState(before, (l) => l.to === 'Up', 10_000);
    await waitFor('BIRD Up again', async () => ((await birdState()) === 'Up' ? true : undefined), 10_000, 100);
  });

  it('sent every packet with TTL 255 from a source port in 49152-65535 (RFC 5881 §4, §5)', async () => {
    const json = JSON.parse(await run('ip', ['netns', 'exec', NS_B, 'nft', '-j', 'list', 'table', 'inet', 'tbfd_count'])) as {
      nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
    };
    const counts = json.nftables
      .filter((x) => x.rule)
      .map((x) => x.rule!.expr.find((e) => e.counter)?.counter?.packets ?? -1);
    const [ttl255, ttlOther, badSport] = counts;
    console.log(`[bfd] BIRD interop: packets sent with TTL 255: ${ttl255}, other TTL: ${ttlOther}, bad source port: ${badSport}`);
    expect(ttl255).toBeGreaterThan(20);
    expect(ttlOther).toBe(0);
    expect(badSport).toBe(0);
  });
});
