// The pure parts of the agent's CNI side: configuration and CNI_ARGS decoding, result
// building and merging across versions, names, and the command limiter.
import { describe, expect, it } from 'vitest';
import { CniCode } from '../../../src/agent/cni/codes.js';
import { checkEnv, parseCniArgs, parseNetConf, podIdentity } from '../../../src/agent/cni/config.js';
import { Limiter } from '../../../src/agent/cni/exec.js';
import { hostVethName, parseVethAlias, randomMac, vethAlias } from '../../../src/agent/cni/names.js';
import { buildAddResult, encodeResult, parsePrevResult } from '../../../src/agent/cni/result.js';

const base = { cniVersion: '1.1.0', name: 'net', type: 'tern-cni' };
const conf = (x: Record<string, unknown>) => parseNetConf(JSON.stringify({ ...base, ...x }));

describe('network configuration', () => {
  it('defaults: IPv4 only, MTU 1500, every pool', () => {
    expect(conf({})).toEqual({ ok: true, value: { cniVersion: '1.1.0', name: 'net', mtu: 1500, ipv4: true, ipv6: false, pools: [] } });
  });

  it.each([
    [{ ipv6: true }, true, true],
    [{ ipv4: false, ipv6: true }, false, true],
    [{ ipam: { assign_ipv4: 'false', assign_ipv6: 'true' } }, false, true],
    [{ ipv6: false, ipam: { assign_ipv6: 'true' } }, true, false],
  ])('families from %j', (x, v4, v6) => {
    const c = conf(x);
    expect(c.ok && [c.value.ipv4, c.value.ipv6]).toEqual([v4, v6]);
  });

  it('collects pools from ipam.pools, ipv4_pools and ipv6_pools without duplicates', () => {
    const c = conf({ ipam: { pools: ['a'], ipv4_pools: ['b', 'a'], ipv6_pools: ['c'] } });
    expect(c.ok && c.value.pools).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [{ mtu: 67 }, CniCode.INVALID_NETWORK_CONFIG],
    [{ mtu: 1279, ipv6: true }, CniCode.INVALID_NETWORK_CONFIG],
    [{ ipv4: false }, CniCode.INVALID_NETWORK_CONFIG],
    [{ ipam: [] }, CniCode.INVALID_NETWORK_CONFIG],
    [{ dns: { nameservers: 'x' } }, CniCode.INVALID_NETWORK_CONFIG],
    [{ runtimeConfig: { labels: { 'bad key!': 'x' } } }, CniCode.INVALID_NETWORK_CONFIG],
    [{ 'cni.dev/valid-attachments': [{ containerID: 'a' }] }, CniCode.INVALID_NETWORK_CONFIG],
    [{ name: 'has/slash' }, CniCode.INVALID_NETWORK_CONFIG],
  ])('rejects %j with code %i', (x, code) => {
    const c = conf(x);
    expect(c.ok ? 0 : c.error.code).toBe(code);
  });

  it('answers 6 for stdin that is not a JSON object', () => {
    for (const s of ['{', '[]', '"x"']) {
      const c = parseNetConf(s);
      expect(c.ok ? 0 : c.error.code).toBe(CniCode.DECODE_FAILURE);
    }
  });
});

describe('CNI_ARGS and the environment', () => {
  it('splits on ";" and the first "=" only', () => {
    const a = parseCniArgs('IgnoreUnknown=1;X=a=b;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_LABELS={"app":"web"}');
    expect(a.ok && Object.fromEntries(a.value)).toEqual({ IgnoreUnknown: '1', X: 'a=b', K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'p', K8S_POD_LABELS: '{"app":"web"}' });
    const id = a.ok ? podIdentity(a.value, 'c1') : undefined;
    expect(id?.ok && id.value).toEqual({ namespace: 'ns', name: 'p', labels: { app: 'web' }, fromArgs: true });
    expect(parseCniArgs('novalue').ok).toBe(false);
  });

  it('names pods of runtimes without Kubernetes arguments after the container', () => {
    const a = parseCniArgs('');
    const id = a.ok ? podIdentity(a.value, 'ABC_123.x') : undefined;
    expect(id?.ok && id.value).toEqual({ namespace: 'default', name: 'ctr-abc-123-x', fromArgs: false });
  });

  it.each([
    ['K8S_POD_NAMESPACE=ns', 'one of namespace/name'],
    ['K8S_POD_NAMESPACE=ns;K8S_POD_NAME=Bad_Name', 'bad pod name'],
    ['K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_LABELS=["x"]', 'labels not an object'],
    ['K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_LABELS={"k":"v v"}', 'bad label value'],
  ])('%s → 4 (%s)', (s) => {
    const a = parseCniArgs(s);
    const id = a.ok ? podIdentity(a.value, 'c1') : a;
    expect(id.ok ? 0 : id.error.code).toBe(CniCode.INVALID_ENV);
  });

  it('checks container ID, interface name and netns path', () => {
    expect(checkEnv({ containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/x' }, true)).toBeUndefined();
    expect(checkEnv({ containerId: 'c1', ifname: 'eth0', netns: '' }, false)).toBeUndefined();
    for (const bad of [
      { containerId: '', ifname: 'eth0', netns: '/n' },
      { containerId: 'c 1', ifname: 'eth0', netns: '/n' },
      { containerId: 'c1', ifname: 'a/b', netns: '/n' },
      { containerId: 'c1', ifname: '..', netns: '/n' },
      { containerId: 'c1', ifname: 'eth0', netns: 'n' },
      { containerId: 'c1', ifname: 'eth0', netns: '/a b' },
    ]) {
      expect(checkEnv(bad, true)?.code, JSON.stringify(bad)).toBe(CniCode.INVALID_ENV);
    }
  });
});

describe('result', () => {
  const outcome = {
    hostIface: 'tern0123456789a',
    hostMac: 'ee:ee:ee:ee:ee:ee',
    podIface: 'eth0',
    podMac: '02:00:00:00:00:01',
    sandbox: '/var/run/netns/p',
    mtu: 1500,
    ipv4: '10.0.0.5/32',
    ipv6: 'fd00::5/128',
    gateway4: '169.254.1.1',
    gateway6: 'fe80::1',
    dns: { nameservers: ['10.96.0.10'] },
  };

  it('appends after a previous result, re-indexing our addresses and merging dns', () => {
    const prev = parsePrevResult({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'net1', sandbox: '/x' }],
      ips: [{ version: '4', address: '192.168.0.2/24', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '192.168.0.1' }],
      dns: { nameservers: ['1.1.1.1'], search: ['a'] },
    });
    expect(prev.ok).toBe(true);
    const r = buildAddResult(outcome, prev.ok ? prev.value : undefined);
    expect(r.interfaces.map((i) => i.name)).toEqual(['net1', 'tern0123456789a', 'eth0']);
    expect(r.ips).toEqual([
      { address: '192.168.0.2/24', interface: 0 },
      { address: '10.0.0.5/32', gateway: '169.254.1.1', interface: 2 },
      { address: 'fd00::5/128', gateway: 'fe80::1', interface: 2 },
    ]);
    // The earlier plugin's IPv4 default stays the only one.
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0', gw: '192.168.0.1' }, { dst: '::/0' }]);
    expect(r.dns).toEqual({ nameservers: ['1.1.1.1', '10.96.0.10'], search: ['a'] });
  });

  it('writes ip versions for 0.x, drops interface MTU before 1.1.0', () => {
    const r = buildAddResult(outcome);
    const old = JSON.parse(encodeResult(r, '0.4.0')) as { ips: { version: string }[]; interfaces: { mtu?: number }[] };
    expect(old.ips.map((i) => i.version)).toEqual(['4', '6']);
    expect(old.interfaces.every((i) => i.mtu === undefined)).toBe(true);
    const v10 = JSON.parse(encodeResult(r, '1.0.0')) as { ips: { version?: string }[]; interfaces: { mtu?: number }[] };
    expect(v10.ips.every((i) => i.version === undefined)).toBe(true);
    expect(v10.interfaces.every((i) => i.mtu === undefined)).toBe(true);
    const v11 = JSON.parse(encodeResult(r, '1.1.0')) as { cniVersion: string; interfaces: { mtu?: number }[] };
    expect(v11.cniVersion).toBe('1.1.0');
    expect(v11.interfaces.map((i) => i.mtu)).toEqual([1500, 1500]);
  });

  it('rejects a prevResult whose ip points past its interfaces', () => {
    expect(parsePrevResult({ interfaces: [], ips: [{ address: '10.0.0.1/32', interface: 0 }] }).ok).toBe(false);
  });
});

describe('names', () => {
  it('host veths are tern + 11 hex, stable per pod, within IFNAMSIZ', () => {
    const n = hostVethName('default', 'web-1');
    expect(n).toMatch(/^tern[0-9a-f]{11}$/);
    expect(hostVethName('default', 'web-1')).toBe(n);
    expect(hostVethName('default', 'web-2')).not.toBe(n);
  });

  it('the alias round-trips and foreign aliases are not ours', () => {
    expect(parseVethAlias(vethAlias('net', 'c1.eth0'))).toEqual({ network: 'net', handle: 'c1.eth0' });
    expect(parseVethAlias('something else')).toBeUndefined();
    expect(parseVethAlias(undefined)).toBeUndefined();
  });

  it('pod MACs are unicast and locally administered', () => {
    for (let i = 0; i < 50; i++) {
      const first = parseInt(randomMac().slice(0, 2), 16);
      expect(first & 1).toBe(0);
      expect(first & 2).toBe(2);
    }
  });
});

describe('Limiter', () => {
  it('never runs more than its limit at once and runs every task', async () => {
    const l = new Limiter(3);
    let running = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        l.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 1 + (i % 3)));
          running--;
          return i;
        }),
      ),
    );
    expect(done).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(l.peak).toBe(3);
  });
});
