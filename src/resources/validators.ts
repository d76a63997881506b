// Field-level building blocks shared by every kind: Kubernetes name and label rules, IANA
// service names, ports, IP addresses and prefixes (through src/net/ip.ts), label selectors.
import { z } from 'zod';
import { isIp, parseCidr, parseIp, type Family } from '../net/ip.js';
import { parseSelector } from './selector.js';

// Kubernetes apimachinery validation (k8s.io/apimachinery/pkg/util/validation).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function dns1123LabelError(s: string): string | undefined {
  if (s.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(s)) return 'must be a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)';
  return undefined;
}

export function dns1123SubdomainError(s: string): string | undefined {
  if (s.length > 253) return 'must be no more than 253 characters';
  if (!DNS1123_SUBDOMAIN.test(s)) return 'must be a DNS-1123 subdomain (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)';
  return undefined;
}

/** A label or annotation key: optional DNS subdomain prefix and "/", then a qualified name. */
export function labelKeyError(k: string): string | undefined {
  const slash = k.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, k] : [k.slice(0, slash), k.slice(slash + 1)];
  if (prefix !== undefined) {
    const e = dns1123SubdomainError(prefix);
    if (e) return `prefix of key "${k}" ${e}`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `key "${k}" must be a qualified name (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  }
  return undefined;
}

export function labelValueError(v: string): string | undefined {
  if (v.length > 63 || !LABEL_VALUE.test(v)) {
    return `value "${v}" must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** RFC 6335 §5.1 service name, as Kubernetes validates named ports (IsValidPortName). */
export function ianaSvcNameError(s: string): string | undefined {
  if (s.length < 1 || s.length > 15) return 'must be 1–15 characters';
  if (!/^[a-z0-9-]+$/.test(s)) return 'must contain only lower-case letters, digits and "-"';
  if (!/[a-z]/.test(s)) return 'must contain at least one letter';
  if (s.startsWith('-') || s.endsWith('-') || s.includes('--')) return 'must not begin or end with "-" or contain "--"';
  return undefined;
}

const check = (fn: (s: string) => string | undefined) => (s: string, ctx: z.core.$RefinementCtx<string>) => {
  const e = fn(s);
  // Aborting: refinements of the enclosing object (cross-field checks) then do not run on a
  // value that is already known to be bad.
  if (e) ctx.addIssue({ code: 'custom', message: e, continue: false });
};

export const dnsLabel = () => z.string().superRefine(check(dns1123LabelError));
export const dnsSubdomain = () => z.string().superRefine(check(dns1123SubdomainError));
export const ianaSvcName = () => z.string().superRefine(check(ianaSvcNameError));

/** A label map (labels, selector, matchLabels). */
export const labelMap = () =>
  z.record(z.string(), z.string()).superRefine((m, ctx) => {
    for (const [k, v] of Object.entries(m)) {
      const e = labelKeyError(k) ?? labelValueError(v);
      if (e) ctx.addIssue({ code: 'custom', message: e, path: [k], continue: false });
    }
  });

/** Annotations: keys follow label-key rules, values are free text. */
export const annotationMap = () =>
  z.record(z.string(), z.string()).superRefine((m, ctx) => {
    for (const k of Object.keys(m)) {
      const e = labelKeyError(k);
      if (e) ctx.addIssue({ code: 'custom', message: e, path: [k], continue: false });
    }
  });

export const PORT_MESSAGE = 'must be 1–65535';
export const portNumber = () => z.number().int('must be an integer').min(1, PORT_MESSAGE).max(65535, PORT_MESSAGE);

/** int-or-string port: a number 1–65535 or an IANA service name (a named container port). */
export const intOrPortName = () =>
  z.union([portNumber(), ianaSvcName()], { error: 'must be a port number 1–65535 or a port name' });

export const Protocol = z.enum(['TCP', 'UDP', 'SCTP']);
export type Protocol = z.infer<typeof Protocol>;

export function ipError(s: string, family?: Family): string | undefined {
  if (!isIp(s)) return 'must be an IP address';
  if (family && parseIp(s).family !== family) return `must be an IPv${family} address`;
  return undefined;
}

export function cidrError(s: string): string | undefined {
  try {
    parseCidr(s);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^invalid CIDR "[^"]*": /, 'invalid CIDR: ');
  }
}

export const ipAddress = () => z.string().superRefine(check((s) => ipError(s)));
export const cidr = () => z.string().superRefine(check(cidrError));

/** An address with its prefix length, host bits allowed ("10.0.0.1/24", a node's interface address). */
export const ipWithPrefix = (family?: Family) =>
  z.string().superRefine(
    check((s) => {
      try {
        const c = parseCidr(s, { strict: false });
        if (family && c.family !== family) return `must be an IPv${family} address with prefix length`;
        return undefined;
      } catch (e) {
        return `must be an address with prefix length, e.g. ${family === 6 ? 'fd00::1/64' : '10.0.0.1/24'}: ${(e as Error).message}`;
      }
    }),
  );

export const AS_MESSAGE = 'must be an AS number 1–4294967295';
export const asNumber = () => z.number().int(AS_MESSAGE).min(1, AS_MESSAGE).max(4294967295, AS_MESSAGE);

/** A label selector expression string (`role == 'edge' && has(rack)`, `all()`). */
export const selectorString = () =>
  z.string().superRefine(
    check((s) => {
      const r = parseSelector(s);
      return r.ok ? undefined : `invalid selector: ${r.error}`;
    }),
  );

/** A dotted quad that need not be a real address (BGP router ID, cluster ID). */
export const dottedQuad = () =>
  z.string().superRefine(check((s) => (/^\d{1,3}(\.\d{1,3}){3}$/.test(s) && ipError(s, 4) === undefined ? undefined : 'must be a dotted quad, e.g. 224.0.0.1')));

/** RFC 4271 §4.2: hold time is 0 or at least 3 seconds; keepalive is at most a third of it. */
export const holdTime = () =>
  z
    .number()
    .int('must be whole seconds')
    .min(0, 'must be 0 or 3–65535 seconds')
    .max(65535, 'must be 0 or 3–65535 seconds')
    .refine((n) => n === 0 || n >= 3, 'must be 0 or 3–65535 seconds');
export const keepaliveTime = () => z.number().int('must be whole seconds').min(0, 'must be 0–21845 seconds').max(21845, 'must be 0–21845 seconds');
