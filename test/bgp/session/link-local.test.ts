// Which link-local address a session hands the RIB (RFC 2545 §3): the one of the interface that
// holds our session address, only when the peer is inside that interface's prefix. Table-driven
// over an interface table shaped like os.networkInterfaces().
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { directLinkLocal, type InterfaceTable } from '../../../src/bgp/session/link-local.js';

function v6(address: string, prefixLen: number, scopeid = 0): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefixLen}`, scopeid };
}
function v4(address: string, prefixLen: number): NetworkInterfaceInfo {
  return { address, netmask: '', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/${prefixLen}` };
}

const TABLE: InterfaceTable = {
  lo: [{ ...v6('::1', 128), internal: true }],
  veth0: [v4('192.0.2.1', 24), v6('2001:db8:1::1', 64), v6('fe80::a8c1:abff:fe00:1', 64, 7)],
  veth1: [v6('2001:db8:2::1', 64)], // no link-local (e.g. still in DAD)
  veth2: [v6('fe80::2', 64, 9), v6('2001:db8:3::1', 64)],
};

describe('directLinkLocal', () => {
  const cases: { name: string; local: string; peer: string; want: string | null }[] = [
    { name: 'peer on the link of our address', local: '2001:db8:1::1', peer: '2001:db8:1::2', want: 'fe80::a8c1:abff:fe00:1' },
    { name: 'link-local listed before the global address', local: '2001:db8:3::1', peer: '2001:db8:3::99', want: 'fe80::2' },
    { name: 'non-canonical spelling of our address', local: '2001:0db8:0001:0000::1', peer: '2001:db8:1::2', want: 'fe80::a8c1:abff:fe00:1' },
    { name: 'peer beyond a router (outside the interface prefix)', local: '2001:db8:1::1', peer: '2001:db8:9::2', want: null },
    { name: 'interface without a link-local', local: '2001:db8:2::1', peer: '2001:db8:2::2', want: null },
    { name: 'IPv4 session', local: '192.0.2.1', peer: '192.0.2.2', want: null },
    { name: 'IPv4 session on a dual-stack socket', local: '::ffff:192.0.2.1', peer: '192.0.2.2', want: null },
    { name: 'session over link-local addresses', local: 'fe80::a8c1:abff:fe00:1%veth0', peer: 'fe80::5', want: null },
    { name: 'address not on any interface', local: '2001:db8:7::1', peer: '2001:db8:7::2', want: null },
    { name: 'no local address known', local: '', peer: '2001:db8:1::2', want: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(directLinkLocal(c.local, c.peer, TABLE)).toBe(c.want);
    });
  }
});
