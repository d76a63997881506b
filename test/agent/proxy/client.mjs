// Test client, prints one JSON line.
//   tcp HOST PORT COUNT            sequential connections: [{reply} | {error: code}]
//   udp HOST PORT COUNT            one new socket per datagram: same shape
//   udp-stream HOST PORT MS EVERY  one socket (fixed source port) sending every EVERY ms for MS:
//                                  [{t, reply}] in arrival order
//   rate HOST PORT COUNT           sequential TCP connects+replies; {ok, failed, ms}
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, host, portS, nS, everyS] = process.argv.slice(2);
const port = Number(portS);
const n = Number(nS);
const TIMEOUT = 1500;

function tcp() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let buf = '';
    const timer = setTimeout(() => done({ error: 'ETIMEDOUT' }), TIMEOUT);
    function done(r) {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    }
    s.on('data', (d) => (buf += d));
    s.once('end', () => done({ reply: buf.trim() }));
    s.once('error', (e) => done({ error: e.code ?? e.message }));
  });
}

function udp() {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done({ error: 'ETIMEDOUT' }), TIMEOUT);
    function done(r) {
      clearTimeout(timer);
      s.close();
      resolve(r);
    }
    s.once('message', (m) => done({ reply: m.toString().trim() }));
    s.once('error', (e) => done({ error: e.code ?? e.message }));
    // connect() so an ICMP port unreachable surfaces as ECONNREFUSED.
    s.connect(port, host, () => s.send('x'));
  });
}

async function stream(ms, every) {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const out = [];
  const t0 = Date.now();
  s.on('message', (m) => out.push({ t: Date.now() - t0, reply: m.toString().trim() }));
  s.on('error', () => undefined);
  await new Promise((r) => s.bind(0, r));
  while (Date.now() - t0 < ms) {
    s.send('x', port, host);
    await new Promise((r) => setTimeout(r, every));
  }
  await new Promise((r) => setTimeout(r, 200));
  s.close();
  return out;
}

if (mode === 'tcp' || mode === 'udp') {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await (mode === 'tcp' ? tcp() : udp()));
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else if (mode === 'udp-stream') {
  process.stdout.write(`${JSON.stringify(await stream(n, Number(everyS)))}\n`);
} else if (mode === 'rate') {
  let ok = 0;
  let failed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = await tcp();
    if (r.reply) ok++;
    else failed++;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${JSON.stringify({ ok, failed, ms })}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
