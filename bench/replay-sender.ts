// A BGP sender for bench:bgp that does nothing but write a recorded table: run in the sender's
// namespace, it opens one eBGP session per family to a passive receiver and, the moment each is
// Established, writes every UPDATE of that family in one go. The messages are ready before it
// connects, so on the wire it costs only the kernel's copying: the receiver sets the pace, which
// the BIRD sender (busy for nearly the whole receive) does not let it do.
//
// The table is the BIRD sender's own stream, byte for byte and in its order: `record` mode runs
// first in the receiver's namespace as a passive peer of the BIRD sender and keeps each
// session's UPDATEs up to End-of-RIB (announced graceful restart makes BIRD send it; two quiet
// seconds end a recording too) in a file per family.
//
// Usage: node dist/bench/replay-sender.js '<json>' with
//   {"mode":"record","localAs":65002,"routerId":"10.99.0.2",
//    "sessions":[{"afi":1,"local":"10.99.0.2","peer":"10.99.0.1","file":"/tmp/x/v4.bgp"},...]}
//   {"mode":"replay","localAs":65001,"routerId":"10.99.0.1",
//    "sessions":[{"afi":1,"local":"10.99.0.1","peer":"10.99.0.2","file":"/tmp/x/v4.bgp"},...]}
// Prints one JSON line per session: {"afi":1,"established":<epoch ms>} when replaying, and
// {"afi":1,"recorded":<messages>} when a recording is complete.
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import {
  MessageReader,
  MsgType,
  endOfRib,
  makeContext,
  makeOpen,
  scanUpdate,
  toBuffer,
} from '../src/bgp/wire/index.js';

interface Config {
  mode: 'record' | 'replay';
  localAs: number;
  routerId: string;
  sessions: { afi: 1 | 2; local: string; peer: string; file: string }[];
}

const cfg = JSON.parse(process.argv[2] ?? '') as Config;
const ctx = makeContext({ as4: true });
const HOLD = 90;
const QUIET_MS = 2000;
const keepalive = toBuffer({ type: 'KEEPALIVE' });

const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/**
 * Runs the OPEN / KEEPALIVE exchange on a connected socket; `established` is called once, then
 * `update` with every whole UPDATE received (header included).
 */
function speak(s: Socket, afi: 1 | 2, established: () => void, update: (m: Uint8Array) => void): void {
  s.setNoDelay(true);
  s.write(toBuffer(makeOpen({
    as: cfg.localAs,
    holdTime: HOLD,
    bgpId: cfg.routerId,
    capabilities: [
      { kind: 'multiprotocol', afi, safi: 1 },
      { kind: 'route-refresh' },
      { kind: 'as4', as: cfg.localAs },
      // So that BIRD ends its initial dump with End-of-RIB (RFC 4724 §2).
      { kind: 'graceful-restart', restartFlags: 0, restartTime: 0, families: [{ afi, safi: 1, flags: 0 }] },
    ],
  })));
  const reader = new MessageReader(ctx);
  let up = false;
  s.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let m = reader.next(); m !== null; m = reader.next()) {
      if (!m.ok) throw new Error(`${s.remoteAddress}: ${m.error.message}`);
      if (m.type === MsgType.OPEN) s.write(keepalive);
      else if (m.type === MsgType.NOTIFICATION) throw new Error(`${s.remoteAddress}: NOTIFICATION received`);
      else if (m.type === MsgType.KEEPALIVE && !up) {
        up = true;
        setInterval(() => s.write(keepalive), (HOLD / 3) * 1000).unref();
        established();
      } else if (m.type === MsgType.UPDATE) update(m.message);
    }
  });
  s.on('error', (e) => {
    throw e;
  });
}

/** Passive: keeps the peer's UPDATEs up to End-of-RIB (or two quiet seconds) in `file`. */
function record(x: Config['sessions'][number]): Promise<void> {
  return new Promise((resolve) => {
    const got: Uint8Array[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const server = createServer((s) => {
      const done = (): void => {
        clearTimeout(quiet);
        writeFileSync(x.file, Buffer.concat(got));
        say({ afi: x.afi, recorded: got.length });
        s.destroy();
        server.close();
        resolve();
      };
      speak(s, x.afi, () => undefined, (m) => {
        got.push(Buffer.from(m));
        clearTimeout(quiet);
        const r = scanUpdate(m, 0, ctx);
        if (r.ok && endOfRib(r.value) !== null) done();
        else quiet = setTimeout(done, QUIET_MS);
      });
    });
    server.listen({ host: x.local, port: 179 });
  });
}

/** Active: writes the recorded stream the moment the session is Established. */
function replay(x: Config['sessions'][number]): Socket {
  const data = readFileSync(x.file);
  const s = connect({ host: x.peer, port: 179, localAddress: x.local });
  s.on('connect', () =>
    speak(s, x.afi, () => {
      say({ afi: x.afi, established: Date.now() });
      s.write(data);
    }, () => undefined),
  );
  return s;
}

if (cfg.mode === 'record') {
  await Promise.all(cfg.sessions.map(record));
  process.exit(0);
}
const sockets = cfg.sessions.map(replay);
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
