// The two Kubernetes API calls kube-sync makes — a paged list and a watch — over node:http(s),
// on raw JSON, and the kubeconfig / in-cluster credentials they use.
//
// Why not @kubernetes/client-node: version 2.0.1 depends on undici 8, which requires Node
// ≥ 22.19 and fails at import on Node 20 (zlib.createZstdDecompress and
// webidl.util.markAsUncloneable are missing), so the package cannot even be loaded by the
// Node this project targets. The subset here is what an informer needs: bearer tokens (a
// file re-read on every request, as kubelet rotates projected service-account tokens),
// client certificates, a CA, and skipping TLS verification for test servers.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from './translate.js';

/** A failed API call; `statusCode` 410 means the resourceVersion or continue token expired. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  /** The token for the next page; absent on the last one. */
  continue?: string;
}

/** One watch event; BOOKMARK carries only metadata.resourceVersion, ERROR a metav1.Status. */
export interface KubeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WatchHandle {
  abort(): void;
}

export interface KubeApi {
  list(path: string, opts: { limit: number; continue?: string }): Promise<ListPage>;
  /**
   * Starts a watch from `resourceVersion`; `onEvent` gets each event in order, `onDone` once
   * when the stream ends: null for a clean end (server timeout or abort), else the error.
   */
  watch(
    path: string,
    opts: { resourceVersion: string; timeoutSeconds: number },
    onEvent: (e: KubeWatchEvent) => void,
    onDone: (err: KubeApiError | null) => void,
  ): Promise<WatchHandle>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** Where and how to reach the API server. */
export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
  token?: string;
  /** Read on every request (rotated service-account tokens). */
  tokenFile?: string;
  username?: string;
  password?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const LIST_TIMEOUT_MS = 60_000;

interface NamedEntry<T> {
  name?: string;
  cluster?: T;
  user?: T;
  context?: T;
}

/**
 * Credentials from a kubeconfig file (its current context), else from the in-cluster service
 * account (KUBERNETES_SERVICE_HOST/PORT, and token and CA under SERVICE_ACCOUNT_DIR).
 */
export function loadKubeConfig(opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv; serviceAccountDir?: string } = {}): KubeCredentials {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) return fromKubeconfig(opts.kubeconfig);
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) throw new Error('no kubeconfig given (kubernetes.kubeconfig or KUBECONFIG) and not running in a cluster (KUBERNETES_SERVICE_HOST unset)');
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, 'ca.crt')),
    tokenFile: join(dir, 'token'),
  };
}

function fromKubeconfig(file: string): KubeCredentials {
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    'current-context'?: string;
    contexts?: NamedEntry<{ cluster?: string; user?: string }>[];
    clusters?: NamedEntry<Record<string, unknown>>[];
    users?: NamedEntry<Record<string, unknown>>[];
  } | null;
  const where = `kubeconfig ${file}`;
  if (!doc || typeof doc !== 'object') throw new Error(`${where}: not a mapping`);
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`${where}: current-context ${JSON.stringify(ctxName)} not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${where}: cluster ${JSON.stringify(ctx.cluster)} not found or has no server`);
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider']) throw new Error(`${where}: user ${JSON.stringify(ctx.user)}: exec and auth-provider credentials are not supported; use a token, a token file or a client certificate`);
  const base = dirname(file);
  const fileOrData = (f: unknown, d: unknown): Buffer | undefined =>
    typeof d === 'string' ? Buffer.from(d, 'base64') : typeof f === 'string' ? readFileSync(isAbsolute(f) ? f : join(base, f)) : undefined;
  const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : undefined);
  const tokenFile = str(user.tokenFile);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster['tls-server-name']),
    cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(user['client-key'], user['client-key-data']),
    token: str(user.token),
    tokenFile: tokenFile && (isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile)),
    username: str(user.username),
    password: str(user.password),
  };
}

export function kubeApi(creds: KubeCredentials): KubeApi {
  const https = creds.server.startsWith('https:');
  const agent = https
    ? new HttpsAgent({ keepAlive: true, ca: creds.ca, cert: creds.cert, key: creds.key, rejectUnauthorized: !creds.insecureSkipTLSVerify, servername: creds.tlsServerName })
    : new HttpAgent({ keepAlive: true });

  function headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    const token = creds.tokenFile ? readFileSync(creds.tokenFile, 'utf8').trim() : creds.token;
    if (token) h.authorization = `Bearer ${token}`;
    else if (creds.username !== undefined) h.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    return h;
  }

  function get(url: URL, onResponse: (res: IncomingMessage) => void, onError: (e: KubeApiError) => void): ClientRequest {
    const opts: RequestOptions = { method: 'GET', agent, headers: headers() };
    const req = (https ? httpsRequest : httpRequest)(url, opts, onResponse);
    req.on('error', (e) => onError(e instanceof KubeApiError ? e : new KubeApiError(`GET ${url.pathname}: ${e.message}`)));
    req.end();
    return req;
  }

  /** A non-200 answer as an error, with the metav1.Status reason when there is one. */
  function statusError(url: URL, res: IncomingMessage, text: string): KubeApiError {
    let st: { message?: string; reason?: string } | undefined;
    try {
      st = JSON.parse(text) as typeof st;
    } catch {
      st = undefined;
    }
    return new KubeApiError(`GET ${url.pathname}: HTTP ${res.statusCode}${st?.message ? `: ${st.message}` : ''}`, res.statusCode, st?.reason);
  }

  return {
    close: () => agent.destroy(),

    list(path, { limit, continue: cont }) {
      const url = new URL(creds.server + path);
      url.searchParams.set('limit', String(limit));
      if (cont) url.searchParams.set('continue', cont);
      return new Promise<ListPage>((resolve, reject) => {
        const req = get(
          url,
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (e) => reject(new KubeApiError(`GET ${path}: ${e.message}`)));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode !== 200) return reject(statusError(url, res, text));
              let body: { items?: KubeObject[] | null; metadata?: { resourceVersion?: string; continue?: string } };
              try {
                body = JSON.parse(text) as typeof body;
              } catch {
                return reject(new KubeApiError(`GET ${path}: the response is not JSON`));
              }
              const rv = body.metadata?.resourceVersion;
              if (!rv) return reject(new KubeApiError(`GET ${path}: the list has no metadata.resourceVersion`));
              resolve({ items: body.items ?? [], resourceVersion: rv, ...(body.metadata?.continue ? { continue: body.metadata.continue } : {}) });
            });
          },
          reject,
        );
        req.setTimeout(LIST_TIMEOUT_MS, () => req.destroy(new KubeApiError(`GET ${path}: no answer in ${LIST_TIMEOUT_MS} ms`)));
      });
    },

    async watch(path, { resourceVersion, timeoutSeconds }, onEvent, onDone) {
      const url = new URL(creds.server + path);
      url.searchParams.set('watch', 'true');
      url.searchParams.set('resourceVersion', resourceVersion);
      url.searchParams.set('allowWatchBookmarks', 'true');
      url.searchParams.set('timeoutSeconds', String(timeoutSeconds));
      let done = false;
      let aborted = false;
      const finish = (err: KubeApiError | null) => {
        if (done) return;
        done = true;
        onDone(aborted ? null : err);
      };
      const req = get(
        url,
        (res) => {
          if (res.statusCode !== 200) {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => finish(statusError(url, res, text)));
            res.on('error', () => finish(new KubeApiError(`watch ${path}: HTTP ${res.statusCode}`, res.statusCode)));
            return;
          }
          const lines = createInterface({ input: res, crlfDelay: Infinity });
          lines.on('line', (line) => {
            if (done || line.trim() === '') return;
            let ev: KubeWatchEvent;
            try {
              ev = JSON.parse(line) as KubeWatchEvent;
            } catch {
              return finish(new KubeApiError(`watch ${path}: a line is not JSON`));
            }
            onEvent(ev);
          });
          // readline re-emits its input's errors (a cut connection: "aborted") on itself.
          const failed = (e: Error) => finish(new KubeApiError(`watch ${path}: ${e.message}`));
          res.on('error', failed);
          lines.on('error', failed);
          lines.on('close', () => finish(res.complete ? null : new KubeApiError(`watch ${path}: the stream was cut`)));
        },
        (e) => finish(e),
      );
      // The server ends the stream after timeoutSeconds; a stream silent for longer than that
      // (no events, no bookmarks) is a dead connection.
      req.setTimeout((timeoutSeconds + 30) * 1000, () => req.destroy(new KubeApiError(`watch ${path}: silent for ${timeoutSeconds + 30} s`)));
      return {
        abort: () => {
          aborted = true;
          req.destroy();
          finish(null);
        },
      };
    },
  };
}
