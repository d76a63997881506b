// Test backend: answers every TCP connection and UDP datagram with "<name> <local port>
// <peer address>", on each port given (dual-stack sockets). argv[2]: name; argv[3]: ports,
// e.g. "8080,9090". Prints "ready" once every socket listens.
import dgram from 'node:dgram';
import net from 'node:net';

const name = process.argv[2];
const ports = process.argv[3].split(',').map(Number);
const strip = (a) => a.replace(/^::ffff:/, '');
let pending = ports.length * 2;
const ready = () => {
  if (--pending === 0) process.stdout.write('ready\n');
};
for (const port of ports) {
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(`${name} ${port} ${strip(s.remoteAddress ?? '')}\n`);
  });
  srv.listen({ port, host: '::', ipv6Only: false }, ready);
  const udp = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  udp.on('message', (_m, r) => udp.send(`${name} ${port} ${strip(r.address)}\n`, r.port, r.address));
  udp.bind(port, '::', ready);
}
process.on('SIGTERM', () => process.exit(0));
