import { describe, expect, it } from 'vitest';
import {
  decodeStored,
  lookupKind,
  matchLabelSelector,
  matchSelector,
  parseSelector,
  storedDecoder,
  validateResource,
  ValidationError,
  type Resource,
} from '../../src/resources/index.js';
import { isTernError } from '../../src/errors/index.js';
import { Keys } from '../../src/datastore/keys.js';

type Doc = Record<string, any>;

const base: Record<string, Doc> = {
  pool4: { apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'p4' }, spec: { cidr: '10.244.0.0/16' } },
  pool6: { apiVersion: 'tern.dev/v1', kind: 'IPPool', metadata: { name: 'p6' }, spec: { cidr: 'fd00:10:244::/56' } },
  svc: {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'https', port: 443 }] },
  },
  netpol: {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'shop' },
    spec: {
      podSelector: { matchLabels: { app: 'db' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 5432 }] }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] } }], ports: [{ port: 32000, endPort: 32768 }] }],
    },
  },
  eps: {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080 }],
  },
  node: { apiVersion: 'tern.dev/v1', kind: 'Node', metadata: { name: 'n1', labels: { rack: 'a' } }, spec: { bgp: { ipv4Address: '172.30.0.11/24', asNumber: 64513 } } },
  peer: { apiVersion: 'tern.dev/v1', kind: 'BGPPeer', metadata: { name: 'tor' }, spec: { peerIP: '172.30.0.1', asNumber: 65000 } },
  bgpconf: {
    apiVersion: 'tern.dev/v1', kind: 'BGPConfiguration', metadata: { name: 'default' },
    spec: { communities: [{ name: 'local', value: '64512:100' }], prefixAdvertisements: [{ cidr: '10.96.0.0/12', communities: ['local'] }] },
  },
  wep: { apiVersion: 'tern.dev/v1', kind: 'WorkloadEndpoint', metadata: { name: 'web-1', namespace: 'shop' }, spec: { node: 'n1', ipNetworks: ['10.244.0.5/32'] } },
  pod: {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: [{ ip: '10.244.0.5' }] },
  },
  ns: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'web' } } },
};

function variant(name: string, change: (d: Doc) => void): Doc {
  const d = structuredClone(base[name]!);
  change(d);
  return d;
}

function valid(doc: Doc): Resource {
  const r = validateResource(doc);
  if (!r.ok) throw new Error(`expected valid, got: ${r.error.message}`);
  return r.value;
}

describe('valid documents', () => {
  it.each(Object.keys(base))('%s validates', (name) => {
    expect(validateResource(base[name]).ok).toBe(true);
  });
});

// [description, document, field the error must name, text the message must contain]
const invalid: [string, Doc, string, string][] = [
  ['v4 blockSize below range', variant('pool4', (d) => (d.spec.blockSize = 19)), 'spec.blockSize', '20–32'],
  ['v6 blockSize in v4 range', variant('pool6', (d) => (d.spec.blockSize = 64)), 'spec.blockSize', '116–128'],
  ['blockSize shorter than pool', variant('pool4', (d) => { d.spec.cidr = '10.0.0.0/28'; d.spec.blockSize = 26; }), 'spec.blockSize', '/28'],
  ['pool cidr with host bits', variant('pool4', (d) => (d.spec.cidr = '10.244.0.1/16')), 'spec.cidr', 'host bits'],
  ['pool cidr not a cidr', variant('pool4', (d) => (d.spec.cidr = '10.244.0.0')), 'spec.cidr', 'prefix'],
  ['pool bad selector', variant('pool4', (d) => (d.spec.nodeSelector = "rack == 'a' &&")), 'spec.nodeSelector', 'selector'],
  ['pool unknown field', variant('pool4', (d) => (d.spec.blocksize = 26)), 'spec.blocksize', 'unknown field'],
  ['pool without cidr', variant('pool4', (d) => delete d.spec.cidr), 'spec.cidr', 'required'],
  ['service port 0', variant('svc', (d) => (d.spec.ports[1].port = 0)), 'spec.ports[1].port', 'must be 1–65535'],
  ['service port 70000', variant('svc', (d) => (d.spec.ports[0].port = 70000)), 'spec.ports[0].port', 'must be 1–65535'],
  ['service port not a number', variant('svc', (d) => (d.spec.ports[0].port = '80')), 'spec.ports[0].port', 'number'],
  ['service bad targetPort name', variant('svc', (d) => (d.spec.ports[0].targetPort = 'HTTP_1')), 'spec.ports[0].targetPort', 'port name'],
  ['service bad protocol', variant('svc', (d) => (d.spec.ports[0].protocol = 'ICMP')), 'spec.ports[0].protocol', 'TCP'],
  ['two ports, one unnamed', variant('svc', (d) => delete d.spec.ports[1].name), 'spec.ports[1].name', 'more than one port'],
  ['duplicate port names', variant('svc', (d) => (d.spec.ports[1].name = 'http')), 'spec.ports[1].name', 'duplicate'],
  ['nodePort on ClusterIP', variant('svc', (d) => (d.spec.ports[0].nodePort = 30080)), 'spec.ports[0].nodePort', 'NodePort'],
  ['clusterIP not an IP', variant('svc', (d) => (d.spec.clusterIP = '10.96.0')), 'spec.clusterIP', 'IP address'],
  ['clusterIPs of one family', variant('svc', (d) => { d.spec.clusterIPs = ['10.96.0.10', '10.96.0.11']; d.spec.ipFamilyPolicy = 'RequireDualStack'; }), 'spec.clusterIPs[1]', 'other IP family'],
  ['clusterIPs[0] differs from clusterIP', variant('svc', (d) => (d.spec.clusterIPs = ['10.96.0.11'])), 'spec.clusterIPs[0]', 'must equal clusterIP'],
  ['ipFamilies do not match clusterIPs', variant('svc', (d) => (d.spec.ipFamilies = ['IPv6'])), 'spec.ipFamilies[0]', 'IPv4'],
  ['SingleStack with two families', variant('svc', (d) => { d.spec.clusterIPs = ['10.96.0.10', 'fd00::10']; d.spec.ipFamilyPolicy = 'SingleStack'; }), 'spec.ipFamilyPolicy', 'DualStack'],
  ['ExternalName without name', variant('svc', (d) => { d.spec = { type: 'ExternalName' }; }), 'spec.externalName', 'required'],
  ['ExternalName with clusterIP', variant('svc', (d) => { d.spec = { type: 'ExternalName', externalName: 'a.example.com', clusterIP: '10.96.0.1' }; }), 'spec.clusterIP', 'ExternalName'],
  ['headless NodePort', variant('svc', (d) => { d.spec.type = 'NodePort'; d.spec.clusterIP = 'None'; }), 'spec.clusterIP', 'None'],
  ['ClusterIP without ports', variant('svc', (d) => delete d.spec.ports), 'spec.ports', 'required'],
  ['service name not a DNS label', variant('svc', (d) => (d.metadata.name = 'Web')), 'metadata.name', 'DNS-1123'],
  ['service name with a dot', variant('svc', (d) => (d.metadata.name = 'web.v1')), 'metadata.name', 'DNS-1123 label'],
  ['bad label value', variant('svc', (d) => (d.metadata.labels = { app: '-web' })), 'metadata.labels.app', 'value'],
  ['bad label key', variant('svc', (d) => (d.metadata.labels = { 'Example.com/app': 'x' })), 'metadata.labels.Example.com/app', 'prefix'],
  ['bad selector value', variant('svc', (d) => (d.spec.selector = { app: 'a b' })), 'spec.selector.app', 'value'],
  ['endPort below port', variant('netpol', (d) => (d.spec.egress[0].ports[0].endPort = 31999)), 'spec.egress[0].ports[0].endPort', 'greater than or equal'],
  ['endPort with a named port', variant('netpol', (d) => (d.spec.egress[0].ports[0].port = 'http')), 'spec.egress[0].ports[0].endPort', 'named port'],
  ['endPort without port', variant('netpol', (d) => delete d.spec.egress[0].ports[0].port), 'spec.egress[0].ports[0].endPort', 'without port'],
  ['netpol port out of range', variant('netpol', (d) => (d.spec.ingress[0].ports[0].port = 65536)), 'spec.ingress[0].ports[0].port', '1–65535'],
  ['netpol SCTP typo', variant('netpol', (d) => (d.spec.ingress[0].ports[0].protocol = 'sctp')), 'spec.ingress[0].ports[0].protocol', 'SCTP'],
  ['In without values', variant('netpol', (d) => (d.spec.podSelector.matchExpressions = [{ key: 'app', operator: 'In' }])), 'spec.podSelector.matchExpressions[0].values', 'non-empty'],
  ['Exists with values', variant('netpol', (d) => (d.spec.ingress[0].from[0].podSelector.matchExpressions = [{ key: 'app', operator: 'Exists', values: ['x'] }])), 'spec.ingress[0].from[0].podSelector.matchExpressions[0].values', 'empty'],
  ['unknown operator', variant('netpol', (d) => (d.spec.podSelector.matchExpressions = [{ key: 'app', operator: 'Contains', values: ['x'] }])), 'spec.podSelector.matchExpressions[0].operator', 'DoesNotExist'],
  ['except outside cidr', variant('netpol', (d) => (d.spec.egress[0].to[0].ipBlock.except = ['192.168.0.0/16'])), 'spec.egress[0].to[0].ipBlock.except[0]', 'strict subset'],
  ['except equal to cidr', variant('netpol', (d) => (d.spec.egress[0].to[0].ipBlock.except = ['10.0.0.0/8'])), 'spec.egress[0].to[0].ipBlock.except[0]', 'strict subset'],
  ['ipBlock with podSelector', variant('netpol', (d) => (d.spec.egress[0].to[0].podSelector = {})), 'spec.egress[0].to[0].ipBlock', 'combined'],
  ['empty peer', variant('netpol', (d) => (d.spec.ingress[0].from = [{}])), 'spec.ingress[0].from[0]', 'podSelector, namespaceSelector or ipBlock'],
  ['bad policyType', variant('netpol', (d) => (d.spec.policyTypes = ['ingress'])), 'spec.policyTypes[0]', 'Ingress'],
  ['missing podSelector', variant('netpol', (d) => delete d.spec.podSelector), 'spec.podSelector', 'required'],
  ['ipBlock cidr v6 host bits', variant('netpol', (d) => (d.spec.egress[0].to[0].ipBlock = { cidr: 'fd00::1/64' })), 'spec.egress[0].to[0].ipBlock.cidr', 'host bits'],
  ['IPv4 slice with an IPv6 address', variant('eps', (d) => (d.endpoints[0].addresses[0] = 'fd00::5')), 'endpoints[0].addresses[0]', 'IPv4'],
  ['FQDN slice with an IP-ish name', variant('eps', (d) => { d.addressType = 'FQDN'; d.endpoints[0].addresses[0] = 'Bad_Name'; }), 'endpoints[0].addresses[0]', 'DNS-1123'],
  ['bad addressType', variant('eps', (d) => (d.addressType = 'IP')), 'addressType', 'IPv4'],
  ['endpoint without addresses', variant('eps', (d) => (d.endpoints[0].addresses = [])), 'endpoints[0].addresses', 'at least one'],
  ['bad service-name label', variant('eps', (d) => (d.metadata.labels['kubernetes.io/service-name'] = 'web.x')), 'metadata.labels.kubernetes.io/service-name', 'Service'],
  ['node v6 address as ipv4Address', variant('node', (d) => (d.spec.bgp.ipv4Address = 'fd00::1/64')), 'spec.bgp.ipv4Address', 'IPv4'],
  ['node address without prefix', variant('node', (d) => (d.spec.bgp.ipv4Address = '172.30.0.11')), 'spec.bgp.ipv4Address', 'prefix length'],
  ['node AS 0', variant('node', (d) => (d.spec.bgp.asNumber = 0)), 'spec.bgp.asNumber', 'AS number'],
  ['node AS beyond 32 bits', variant('node', (d) => (d.spec.bgp.asNumber = 4294967296)), 'spec.bgp.asNumber', 'AS number'],
  ['node cluster ID not dotted quad', variant('node', (d) => (d.spec.bgp.routeReflectorClusterID = '1.2.3')), 'spec.bgp.routeReflectorClusterID', 'dotted quad'],
  ['node address type', variant('node', (d) => (d.spec.addresses = [{ address: '10.0.0.1', type: 'Hostname' }])), 'spec.addresses[0].type', 'InternalIP'],
  ['peer IP invalid', variant('peer', (d) => (d.spec.peerIP = '172.30.0.256')), 'spec.peerIP', 'IP address'],
  ['peer without IP or selector', variant('peer', (d) => delete d.spec.peerIP), 'spec.peerIP', 'required'],
  ['peer selector with IP', variant('peer', (d) => (d.spec.peerSelector = 'all()')), 'spec.peerIP', 'peerSelector'],
  ['peer node and nodeSelector', variant('peer', (d) => { d.spec.node = 'n1'; d.spec.nodeSelector = 'all()'; }), 'spec.nodeSelector', 'node'],
  ['peer hold time 2', variant('peer', (d) => (d.spec.holdTime = 2)), 'spec.holdTime', '0 or 3–65535'],
  ['peer keepalive ≥ hold', variant('peer', (d) => { d.spec.holdTime = 9; d.spec.keepaliveTime = 9; }), 'spec.keepaliveTime', 'less than holdTime'],
  ['peer ttlSecurity 0', variant('peer', (d) => (d.spec.ttlSecurity = 0)), 'spec.ttlSecurity', '1–255'],
  ['community value', variant('bgpconf', (d) => (d.spec.communities[0].value = '70000:1')), 'spec.communities[0].value', 'standard community'],
  ['undefined community name', variant('bgpconf', (d) => (d.spec.prefixAdvertisements[0].communities = ['nope'])), 'spec.prefixAdvertisements[0].communities[0]', 'neither'],
  ['listenPort 0', variant('bgpconf', (d) => (d.spec.listenPort = 0)), 'spec.listenPort', '1–65535'],
  ['serviceClusterIPs host bits', variant('bgpconf', (d) => (d.spec.serviceClusterIPs = [{ cidr: '10.96.0.1/12' }])), 'spec.serviceClusterIPs[0].cidr', 'host bits'],
  ['wep bad network', variant('wep', (d) => (d.spec.ipNetworks = ['10.244.0.5'])), 'spec.ipNetworks[0]', 'prefix'],
  ['wep two IPv4 networks', variant('wep', (d) => (d.spec.ipNetworks = ['10.244.0.5/32', '10.244.0.6/32'])), 'spec.ipNetworks', 'one IPv4'],
  ['wep bad MAC', variant('wep', (d) => (d.spec.mac = '0a:58:0a')), 'spec.mac', 'MAC'],
  ['wep interface name too long', variant('wep', (d) => (d.spec.interfaceName = 'cali0123456789abcdef')), 'spec.interfaceName', '15'],
  ['wep without node', variant('wep', (d) => delete d.spec.node), 'spec.node', 'required'],
  ['wep bad named port', variant('wep', (d) => (d.spec.ports = [{ name: 'web--x', port: 80 }])), 'spec.ports[0].name', '--'],
  ['pod without nodeName', variant('pod', (d) => delete d.spec.nodeName), 'spec.nodeName', 'required'],
  ['pod bad IP', variant('pod', (d) => (d.status.podIPs[0].ip = '10.244.0.500')), 'status.podIPs[0].ip', 'IP address'],
  ['pod bad container port', variant('pod', (d) => (d.spec.containers[0].ports[0].containerPort = 0)), 'spec.containers[0].ports[0].containerPort', '1–65535'],
  ['namespace with a dot', variant('ns', (d) => (d.metadata.name = 'a.b')), 'metadata.name', 'DNS-1123 label'],
  ['namespace unknown metadata field', variant('ns', (d) => (d.metadata.label = {})), 'metadata.label', 'unknown field'],
  ['namespaced object in a bad namespace', variant('wep', (d) => (d.metadata.namespace = 'Shop')), 'metadata.namespace', 'DNS-1123'],
  ['unknown kind', variant('ns', (d) => (d.kind = 'Deployment')), 'kind', 'unknown kind'],
  ['wrong apiVersion', variant('pool4', (d) => (d.apiVersion = 'v1')), 'apiVersion', 'tern.dev/v1'],
  ['missing name', variant('node', (d) => delete d.metadata.name), 'metadata.name', 'required'],
];

describe('invalid documents name the field', () => {
  it.each(invalid)('%s', (_what, doc, field, text) => {
    const r = validateResource(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(ValidationError);
    expect(isTernError(r.error, 'TERN_ERR_VALIDATION')).toBe(true);
    const hit = r.error.issues.find((i) => i.path === field);
    expect(hit, `issues were: ${r.error.message}`).toBeDefined();
    expect(hit!.message).toContain(text);
    expect(r.error.message).toContain(`${field}: `);
  });

  it('reports every problem, one line each, the first as the field', () => {
    const r = validateResource(variant('svc', (d) => { d.spec.ports[0].port = 0; d.spec.ports[1].port = 99999; }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message.split('\n')).toEqual(['spec.ports[0].port: must be 1–65535', 'spec.ports[1].port: must be 1–65535']);
    expect(r.error.field).toBe('spec.ports[0].port');
  });
});

describe('defaults', () => {
  it('IPPool block sizes per family and flags', () => {
    const p4 = valid(base.pool4!);
    const p6 = valid(base.pool6!);
    expect(p4.kind === 'IPPool' && p4.spec).toEqual({ cidr: '10.244.0.0/16', blockSize: 26, strictAffinity: false, disabled: false, nodeSelector: 'all()' });
    expect(p6.kind === 'IPPool' && p6.spec.blockSize).toBe(122);
    const p = valid(variant('pool4', (d) => (d.spec.blockSize = 20)));
    expect(p.kind === 'IPPool' && p.spec.blockSize).toBe(20);
  });

  it('BGPConfiguration with or without spec', () => {
    for (const doc of [variant('bgpconf', (d) => (d.spec = {})), variant('bgpconf', (d) => delete d.spec)]) {
      const c = valid(doc);
      expect(c.kind === 'BGPConfiguration' && c.spec).toEqual({ asNumber: 64512, nodeToNodeMeshEnabled: true, listenPort: 179 });
    }
    const c = valid(variant('bgpconf', (d) => { d.spec.asNumber = 65001; d.spec.nodeToNodeMeshEnabled = false; }));
    expect(c.kind === 'BGPConfiguration' && [c.spec.asNumber, c.spec.nodeToNodeMeshEnabled]).toEqual([65001, false]);
  });

  it('NetworkPolicy policyTypes by the Kubernetes rule, protocol TCP', () => {
    const both = valid(base.netpol!);
    expect(both.kind === 'NetworkPolicy' && both.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(both.kind === 'NetworkPolicy' && both.spec.ingress![0]!.ports![0]!.protocol).toBe('TCP');
    const ingressOnly = valid(variant('netpol', (d) => delete d.spec.egress));
    expect(ingressOnly.kind === 'NetworkPolicy' && ingressOnly.spec.policyTypes).toEqual(['Ingress']);
    const emptyEgress = valid(variant('netpol', (d) => (d.spec.egress = [])));
    expect(emptyEgress.kind === 'NetworkPolicy' && emptyEgress.spec.policyTypes).toEqual(['Ingress']);
    const explicit = valid(variant('netpol', (d) => (d.spec.policyTypes = ['Egress'])));
    expect(explicit.kind === 'NetworkPolicy' && explicit.spec.policyTypes).toEqual(['Egress']);
  });

  it('Service: type, protocol, targetPort, cluster IP families, affinity', () => {
    const s = valid(base.svc!);
    if (s.kind !== 'Service') throw new Error('kind');
    expect(s.metadata.namespace).toBe('shop');
    expect(s.spec.type).toBe('ClusterIP');
    expect(s.spec.ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' },
      { name: 'https', protocol: 'TCP', port: 443, targetPort: 443 },
    ]);
    expect([s.spec.clusterIPs, s.spec.ipFamilies, s.spec.ipFamilyPolicy, s.spec.sessionAffinity]).toEqual([['10.96.0.10'], ['IPv4'], 'SingleStack', 'None']);
    const np = valid(variant('svc', (d) => (d.spec.type = 'NodePort')));
    expect(np.kind === 'Service' && np.spec.externalTrafficPolicy).toBe('Cluster');
    const dual = valid(variant('svc', (d) => { delete d.spec.clusterIP; d.spec.clusterIPs = ['fd00::10', '10.96.0.10']; }));
    expect(dual.kind === 'Service' && [dual.spec.clusterIP, dual.spec.ipFamilies, dual.spec.ipFamilyPolicy]).toEqual(['fd00::10', ['IPv6', 'IPv4'], 'RequireDualStack']);
    const headless = valid(variant('svc', (d) => { d.spec.clusterIP = 'None'; delete d.spec.ports; }));
    expect(headless.kind === 'Service' && [headless.spec.clusterIPs, headless.spec.ipFamilies]).toEqual([['None'], undefined]);
  });

  it('namespaced kinds default to namespace "default"', () => {
    const w = valid(variant('wep', (d) => delete d.metadata.namespace));
    expect(w.kind === 'WorkloadEndpoint' && w.metadata.namespace).toBe('default');
    expect(w.kind === 'WorkloadEndpoint' && w.spec.pod).toBe('web-1');
  });

  it('a v1 Pod becomes its WorkloadEndpoint', () => {
    const pod = variant('pod', (d) => {
      d.spec.hostname = 'web-1';
      d.spec.subdomain = 'web';
      d.spec.containers.push({ name: 'side', ports: [{ containerPort: 9000 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
      d.status.podIPs.push({ ip: 'fd00::5' });
    });
    const r = validateResource(pod);
    expect(r.ok && r.convertedFrom).toBe('Pod');
    expect(r.ok && r.value).toEqual({
      apiVersion: 'tern.dev/v1',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' } },
      spec: {
        node: 'n1',
        pod: 'web-1',
        ipNetworks: ['10.244.0.5/32', 'fd00::5/128'],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
        hostname: 'web-1',
        subdomain: 'web',
      },
    });
  });
});

describe('decodeStored', () => {
  it('returns the typed object with resourceVersion', () => {
    const r = decodeStored('IPPool', JSON.stringify(base.pool4), '42');
    expect(r.ok && r.value.spec.blockSize).toBe(26);
    expect(r.ok && r.value.metadata.resourceVersion).toBe('42');
    const b = decodeStored('Service', Buffer.from(JSON.stringify(base.svc)));
    expect(b.ok && b.value.spec.ports?.length).toBe(2);
  });

  it.each([
    ['not JSON', 'IPPool', '{nope', 'not JSON'],
    ['another kind', 'Service', JSON.stringify(base.pool4), 'not a Service'],
    ['invalid content', 'IPPool', JSON.stringify({ ...base.pool4, spec: { cidr: '10.0.0.1/8' } }), 'spec.cidr'],
    ['a JSON scalar', 'Node', '3', 'not a Node'],
  ] as const)('an error value, never a throw: %s', (_w, kind, json, text) => {
    const r = decodeStored(kind, json);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('TERN_ERR_VALIDATION');
    expect(!r.ok && r.error.message).toContain(text);
  });
});

describe('kind names', () => {
  it.each([
    ['svc', 'Service'], ['services', 'Service'], ['Service', 'Service'], ['ns', 'Namespace'], ['netpol', 'NetworkPolicy'],
    ['networkpolicies', 'NetworkPolicy'], ['wep', 'WorkloadEndpoint'], ['pods', 'WorkloadEndpoint'], ['pool', 'IPPool'],
    ['ippools', 'IPPool'], ['bgppeer', 'BGPPeer'], ['bgppeers', 'BGPPeer'], ['bgpconfig', 'BGPConfiguration'],
    ['eps', 'EndpointSlice'], ['endpointslices', 'EndpointSlice'], ['nodes', 'Node'], ['no', 'Node'],
  ])('%s → %s', (word, kind) => expect(lookupKind(word)).toBe(kind));
  it('unknown words resolve to nothing', () => {
    expect(lookupKind('deployments')).toBeUndefined();
    expect(lookupKind('')).toBeUndefined();
  });
});

describe('selector expressions', () => {
  const labels = { rack: 'a', zone: 'eu-west-1', 'route-reflector': 'true' };
  it.each([
    ['', true], ['all()', true], ["rack == 'a'", true], ['rack == "b"', false], ["rack != 'b'", true], ["missing != 'x'", true],
    ['has(route-reflector)', true], ['!has(route-reflector)', false], ["rack in {'a','b'}", true], ["rack not in {'a'}", false],
    ["missing not in {'a'}", true], ["zone starts with 'eu-'", true], ["zone ends with '-2'", false], ["zone contains 'west'", true],
    ["rack == 'b' || has(zone)", true], ["(rack == 'b' || has(zone)) && !has(route-reflector)", false], ["rack in {}", false],
  ])('%s → %s', (expr, want) => {
    const r = parseSelector(expr);
    expect(r.ok).toBe(true);
    if (r.ok) expect(matchSelector(r.value, labels)).toBe(want);
  });
  it.each(["rack == a", "rack ==", "has(rack", "rack in {'a',}", "rack = 'a'", "'a' == rack", "rack == 'a' &&", "rack == 'a' extra", "rack == 'a"])('rejects %s', (expr) => {
    const r = parseSelector(expr);
    expect(r.ok).toBe(false);
  });
});

describe('Kubernetes label selectors', () => {
  const labels = { app: 'api', tier: 'backend' };
  it.each([
    [{}, true], [{ matchLabels: { app: 'api' } }, true], [{ matchLabels: { app: 'web' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['backend', 'db'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['backend'] }] }, false],
    [{ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' as const }] }, true],
    [{ matchExpressions: [{ key: 'canary', operator: 'Exists' as const }] }, false],
    [{ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, true],
  ])('%j → %s', (sel, want) => expect(matchLabelSelector(sel, labels)).toBe(want));
});

describe('storedDecoder (for watchers)', () => {
  const keys = new Keys('/tern/');
  it('decodes by the kind in the key and reports problems as strings', () => {
    const dec = storedDecoder(keys);
    const ok = dec('/tern/ippools/p4', Buffer.from(JSON.stringify(base.pool4)));
    expect(ok.ok && ok.value.kind).toBe('IPPool');
    const bad = dec('/tern/ippools/p4', Buffer.from('{'));
    expect(!bad.ok && bad.error).toContain('not JSON');
    expect(dec('/tern/ipam/blocks/10.0.0.0-26', Buffer.from('{}')).ok).toBe(false);
    expect(storedDecoder(keys, 'Service')('/tern/ippools/p4', Buffer.from(JSON.stringify(base.pool4))).ok).toBe(false);
  });
});
