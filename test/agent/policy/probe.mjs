// Probes many destinations at once from inside one pod and prints one JSON line
// {"<id>": true|false}. argv[2]: JSON [{id, ip, port, proto: "TCP"|"UDP"}]; argv[3]:
// timeout in ms; argv[4]: first UDP source port. A failed probe is tried once more, so a slow
// scheduler cannot turn an allowed connection into a "denied" one.
//
// UDP probes bind their own source ports (one per probe and try, from argv[4] on): with random
// ports a probe now and then reuses the 4-tuple of a flow an earlier step allowed, and conntrack
// rightly lets that "established" flow through a policy that denies new ones.
import dgram from 'node:dgram';
import net from 'node:net';

const targets = JSON.parse(process.argv[2]);
const timeoutMs = Number(process.argv[3] ?? 300);
let nextPort = Number(process.argv[4] ?? 0);

function tcp(t) {
  return new Promise((resolve) => {
    const s = net.connect({ host: t.ip, port: t.port });
    const done = (ok) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function udp(t) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(t.ip.includes(':') ? 'udp6' : 'udp4');
    const done = (ok) => {
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('message', () => done(true));
    s.once('error', () => done(false));
    const send = () => s.send('probe', t.port, t.ip);
    if (nextPort) s.bind(nextPort++, send);
    else send();
  });
}

const probe = (t) => (t.proto === 'UDP' ? udp(t) : tcp(t));
const result = {};
const first = await Promise.all(targets.map(probe));
targets.forEach((t, i) => (result[t.id] = first[i]));
const again = targets.filter((t) => !result[t.id]);
const second = await Promise.all(again.map(probe));
again.forEach((t, i) => (result[t.id] = second[i]));
process.stdout.write(`${JSON.stringify(result)}\n`);
