// The default upstreams: the host's resolv.conf nameservers (resolv.conf(5)), as CoreDNS's
// `forward . /etc/resolv.conf` does.
import { isIPv4, isIPv6 } from 'node:net';

export interface UpstreamAddress {
  host: string;
  port: number;
}

/** Nameserver lines of a resolv.conf text, in order; scoped IPv6 addresses keep their zone. */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (m && (isIPv4(m[1]!) || isIPv6(m[1]!.replace(/%.*$/, '')))) out.push(m[1]!);
  }
  return out;
}

/** "10.0.0.1", "10.0.0.1:5353", "fd00::1", "[fd00::1]:5353" -> host and port (default 53). */
export function parseUpstream(s: string): UpstreamAddress | { error: string } {
  const t = s.trim().replace(/^dns:\/\//, '');
  let host = t;
  let port = 53;
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (br) {
    host = br[1]!;
    if (br[2]) port = Number(br[2]);
  } else if (t.split(':').length === 2) {
    const i = t.indexOf(':');
    host = t.slice(0, i);
    port = Number(t.slice(i + 1));
  }
  if (!isIPv4(host) && !isIPv6(host.replace(/%.*$/, ''))) return { error: `upstream "${s}": not an IP address` };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `upstream "${s}": bad port` };
  return { host, port };
}
