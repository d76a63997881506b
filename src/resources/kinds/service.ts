import { z } from 'zod';
import { isIp, parseIp } from '../../net/ip.js';
import { namespacedMeta } from '../meta.js';
import { cidr, dns1123SubdomainError, dnsLabel, dnsSubdomain, intOrPortName, ipAddress, labelMap, portNumber, Protocol } from '../validators.js';

export const ServicePort = z.strictObject({
  name: dnsLabel().optional(),
  protocol: Protocol.default('TCP'),
  port: portNumber(),
  /** Defaults to port. A name refers to a named container port of the selected pods. */
  targetPort: intOrPortName().optional(),
  nodePort: portNumber().optional(),
  appProtocol: z.string().optional(),
});

const IPFamily = z.enum(['IPv4', 'IPv6']);
const familyName = (s: string): 'IPv4' | 'IPv6' => (parseIp(s).family === 4 ? 'IPv4' : 'IPv6');

const ServiceSpec = z
  .strictObject({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
    /** An address, "None" (headless) or "" (allocate). */
    clusterIP: z.string().optional(),
    clusterIPs: z.array(z.string()).optional(),
    ipFamilies: z.array(IPFamily).optional(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    ports: z.array(ServicePort).optional(),
    selector: labelMap().optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    externalIPs: z.array(ipAddress()).optional(),
    loadBalancerIP: ipAddress().optional(),
    loadBalancerSourceRanges: z.array(cidr()).optional(),
    loadBalancerClass: z.string().optional(),
    allocateLoadBalancerNodePorts: z.boolean().optional(),
    healthCheckNodePort: portNumber().optional(),
    externalName: z.string().optional(),
    publishNotReadyAddresses: z.boolean().optional(),
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z
      .strictObject({ clientIP: z.strictObject({ timeoutSeconds: z.number().int().min(1, 'must be 1–86400').max(86400, 'must be 1–86400').optional() }).optional() })
      .optional(),
  })
  .superRefine((s, ctx) => {
    const add = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', message, path });
    const headless = s.clusterIP === 'None' || (s.clusterIPs?.[0] === 'None');
    const nodePorts = s.type === 'NodePort' || s.type === 'LoadBalancer';

    if (s.type === 'ExternalName') {
      // Kubernetes ValidateService: ExternalName needs a DNS name and allocates no cluster IP.
      if (s.externalName === undefined || s.externalName === '') add(['externalName'], 'required when type is ExternalName');
      else {
        const e = dns1123SubdomainError(s.externalName.replace(/\.$/, ''));
        if (e) add(['externalName'], e);
      }
      if (s.clusterIP) add(['clusterIP'], 'must be empty when type is ExternalName');
      if (s.clusterIPs?.length) add(['clusterIPs'], 'must be empty when type is ExternalName');
    } else {
      if (s.externalName) add(['externalName'], 'may only be set when type is ExternalName');
      if (!headless && !s.ports?.length) add(['ports'], 'required (at least one port) unless the service is headless or ExternalName');
    }
    if (headless && nodePorts) add(['clusterIP'], `may not be "None" when type is ${s.type}`);

    if (s.clusterIP !== undefined && s.clusterIP !== '' && s.clusterIP !== 'None' && !isIp(s.clusterIP)) add(['clusterIP'], 'must be an IP address, "None" or empty');
    const ips = s.clusterIPs ?? [];
    if (ips.length > 2) add(['clusterIPs'], 'must hold at most two addresses (one per family)');
    ips.forEach((ip, i) => {
      if (ip === 'None') {
        if (ips.length > 1) add(['clusterIPs', i], '"None" must be the only entry');
      } else if (!isIp(ip)) add(['clusterIPs', i], 'must be an IP address or "None"');
    });
    if (s.clusterIP && ips.length && ips[0] !== s.clusterIP) add(['clusterIPs', 0], `must equal clusterIP (${s.clusterIP})`);
    const real = ips.filter(isIp);
    if (real.length === 2 && familyName(real[0]!) === familyName(real[1]!)) add(['clusterIPs', 1], 'must be of the other IP family than clusterIPs[0]');

    const fams = s.ipFamilies ?? [];
    if (fams.length > 2) add(['ipFamilies'], 'must hold at most two families');
    if (fams.length === 2 && fams[0] === fams[1]) add(['ipFamilies', 1], 'must differ from ipFamilies[0]');
    const given = s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : []);
    given.filter(isIp).forEach((ip, i) => {
      if (fams[i] !== undefined && fams[i] !== familyName(ip)) add(['ipFamilies', i], `must be ${familyName(ip)} to match clusterIPs[${i}] (${ip})`);
    });
    if (s.ipFamilyPolicy === 'SingleStack' && (fams.length > 1 || real.length > 1)) add(['ipFamilyPolicy'], 'must be PreferDualStack or RequireDualStack for two IP families');

    const ports = s.ports ?? [];
    const names = new Set<string>();
    const keys = new Set<string>();
    ports.forEach((p, i) => {
      if (ports.length > 1 && !p.name) add(['ports', i, 'name'], 'required when a service has more than one port');
      if (p.name) {
        if (names.has(p.name)) add(['ports', i, 'name'], `duplicate port name "${p.name}"`);
        names.add(p.name);
      }
      const k = `${p.port}/${p.protocol}`;
      if (keys.has(k)) add(['ports', i, 'port'], `duplicate port ${k}`);
      keys.add(k);
      if (p.nodePort !== undefined && !nodePorts) add(['ports', i, 'nodePort'], 'may only be set when type is NodePort or LoadBalancer');
    });
    if (s.externalTrafficPolicy !== undefined && !nodePorts && !(s.externalIPs?.length)) {
      add(['externalTrafficPolicy'], 'may only be set when type is NodePort or LoadBalancer, or with externalIPs');
    }
    if (s.loadBalancerIP !== undefined && s.type !== 'LoadBalancer') add(['loadBalancerIP'], 'may only be set when type is LoadBalancer');
    if (s.healthCheckNodePort !== undefined && !(s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local')) {
      add(['healthCheckNodePort'], 'may only be set for a LoadBalancer with externalTrafficPolicy Local');
    }
  })
  .transform((s) => {
    // Kubernetes defaulting (pkg/apis/core/v1/defaults.go and the service REST strategy):
    // targetPort = port, clusterIP ↔ clusterIPs[0], ipFamilies from the addresses given,
    // externalTrafficPolicy Cluster for node-port services.
    const out = { ...s };
    if (out.ports) out.ports = out.ports.map((p) => ({ ...p, targetPort: p.targetPort ?? p.port }));
    if (out.type !== 'ExternalName') {
      if (out.clusterIP && !out.clusterIPs) out.clusterIPs = [out.clusterIP];
      if (!out.clusterIP && out.clusterIPs?.length) out.clusterIP = out.clusterIPs[0];
      const real = (out.clusterIPs ?? []).filter(isIp);
      if (!out.ipFamilies && real.length) out.ipFamilies = real.map(familyName);
      if (!out.ipFamilyPolicy && out.ipFamilies?.length) out.ipFamilyPolicy = out.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack';
      if ((out.type === 'NodePort' || out.type === 'LoadBalancer') && !out.externalTrafficPolicy) out.externalTrafficPolicy = 'Cluster';
    }
    return out;
  });

export const ServiceSchema = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: namespacedMeta('label'),
  spec: ServiceSpec.prefault({}),
  status: z
    .strictObject({
      loadBalancer: z
        .strictObject({ ingress: z.array(z.strictObject({ ip: ipAddress().optional(), hostname: dnsSubdomain().optional() })).optional() })
        .optional(),
    })
    .optional(),
});
export type Service = z.output<typeof ServiceSchema>;
export type ServicePort = z.output<typeof ServicePort>;
