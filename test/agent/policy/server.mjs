// One process per test pod: TCP and UDP echo on ports 80 and 81, IPv4 and IPv6 (dual-stack
// sockets). Prints "ready" once every socket listens.
import dgram from 'node:dgram';
import net from 'node:net';

const PORTS = [80, 81];
let pending = PORTS.length * 2;
const ready = () => {
  if (--pending === 0) process.stdout.write('ready\n');
};
for (const port of PORTS) {
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(`tcp ${port}\n`);
  });
  srv.listen({ port, host: '::', ipv6Only: false }, ready);
  const udp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(port, '::', ready);
}
process.on('SIGTERM', () => process.exit(0));
