// ApiServerStandIn: a STAND-IN for the Kubernetes API server, for tests only. No real API
// server runs here, so this speaks just enough of its HTTP API for kube-sync's list and watch:
//
// - GET <collection>            a List (items without apiVersion/kind, as the real server
//                               writes them), metadata.resourceVersion, paging by limit/continue
//                               over a snapshot taken at the first page
// - GET <collection>?watch=true newline-delimited JSON events from resourceVersion on: the
//                               history after it, then live events; ERROR with a metav1.Status
//                               code 410 (reason Expired) when that resourceVersion is older
//                               than the oldest event kept (compacted); timeoutSeconds ends
//                               the stream; BOOKMARK events when `bookmark()` is called
// - a bearer token is required, as with a service account
//
// resourceVersions are one global counter, as etcd's revision is for the real server. Nothing
// is validated: a test can store objects the real server would reject, to see kube-sync skip them.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface StandInObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const COLLECTIONS: Record<string, { path: string; apiVersion: string; namespaced: boolean }> = {
  Namespace: { path: '/api/v1/namespaces', apiVersion: 'v1', namespaced: false },
  Service: { path: '/api/v1/services', apiVersion: 'v1', namespaced: true },
  Pod: { path: '/api/v1/pods', apiVersion: 'v1', namespaced: true },
  EndpointSlice: { path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  NetworkPolicy: { path: '/apis/networking.k8s.io/v1/networkpolicies', apiVersion: 'networking.k8s.io/v1', namespaced: true },
};

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface HistoryEvent {
  rv: number;
  kind: string;
  type: EventType;
  object: StandInObject;
}
interface OpenWatch {
  kind: string;
  res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

export const STANDIN_TOKEN = 'standin-token';

export class ApiServerStandIn {
  private server: Server | undefined;
  private rv = 100;
  private compactedRv = 0;
  private readonly objects = new Map<string, Map<string, StandInObject>>();
  private history: HistoryEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly snapshots = new Map<string, { rv: number; items: StandInObject[] }>();
  /** Requests served, as "LIST <kind>" / "WATCH <kind> <rv>" / "410 <kind>". */
  readonly requests: string[] = [];
  /** While true, events are kept in history but not sent to open watches (a stalled stream). */
  holdEvents = false;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const w of this.watches) this.endWatch(w);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Writes a kubeconfig for this server into `dir`; returns its path. */
  writeKubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: standin\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
        'users:',
        `- name: standin\n  user:\n    token: ${STANDIN_TOKEN}`,
        'contexts:',
        '- name: standin\n  context:\n    cluster: standin\n    user: standin',
        'current-context: standin',
        '',
      ].join('\n'),
    );
    return file;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  openWatches(kind?: string): number {
    return [...this.watches].filter((w) => kind === undefined || w.kind === kind).length;
  }

  countRequests(prefix: string): number {
    return this.requests.filter((r) => r.startsWith(prefix)).length;
  }

  /** Creates or replaces an object, filling server-side metadata as the real server does. */
  apply(input: StandInObject): StandInObject {
    const c = this.collection(input.kind);
    const key = this.keyOf(input);
    const prev = this.bucket(input.kind).get(key);
    const rv = ++this.rv;
    const obj: StandInObject = structuredClone(input);
    obj.apiVersion = c.apiVersion;
    obj.metadata = {
      ...obj.metadata,
      uid: prev?.metadata.uid ?? randomUUID(),
      resourceVersion: String(rv),
      creationTimestamp: (prev?.metadata.creationTimestamp as string | undefined) ?? '2024-05-01T10:00:00Z',
      generation: ((prev?.metadata.generation as number | undefined) ?? 0) + 1,
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: c.apiVersion, time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {} }],
    };
    this.bucket(input.kind).set(key, obj);
    this.emit({ rv, kind: input.kind, type: prev ? 'MODIFIED' : 'ADDED', object: obj });
    return obj;
  }

  delete(kind: string, name: string, namespace?: string): void {
    const key = namespace ? `${namespace}/${name}` : name;
    const prev = this.bucket(kind).get(key);
    if (!prev) throw new Error(`stand-in: ${kind} ${key} does not exist`);
    this.bucket(kind).delete(key);
    const rv = ++this.rv;
    this.emit({ rv, kind, type: 'DELETED', object: { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } } });
  }

  /**
   * Forgets every event so far (as the watch cache does when it overflows): a watch from an
   * older resourceVersion gets 410 Gone. Open watches get the ERROR event now and are ended.
   */
  expireWatches(): void {
    this.compact();
    for (const w of [...this.watches]) {
      this.requests.push(`410 ${w.kind}`);
      this.write(w, { type: 'ERROR', object: gone() });
      this.endWatch(w);
    }
  }

  /**
   * Forgets every event so far without touching open watches: a watch (re)started from an
   * older resourceVersion is answered with 410. Held events are dropped with the rest.
   */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
    this.holdEvents = false;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.watches) this.write(w, { type: 'BOOKMARK', object: { kind: w.kind, apiVersion: this.collection(w.kind).apiVersion, metadata: { resourceVersion: String(this.rv) } } });
  }

  /** Ends every open watch cleanly, as the server-side timeout does. */
  closeWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  private collection(kind: string) {
    const c = COLLECTIONS[kind];
    if (!c) throw new Error(`stand-in: unknown kind ${kind}`);
    return c;
  }

  private bucket(kind: string): Map<string, StandInObject> {
    let b = this.objects.get(kind);
    if (!b) this.objects.set(kind, (b = new Map()));
    return b;
  }

  private keyOf(o: StandInObject): string {
    return this.collection(o.kind).namespaced ? `${o.metadata.namespace ?? 'default'}/${o.metadata.name}` : o.metadata.name;
  }

  private emit(e: HistoryEvent): void {
    this.history.push(e);
    if (this.holdEvents) return;
    for (const w of this.watches) if (w.kind === e.kind) this.write(w, { type: e.type, object: e.object });
  }

  private write(w: OpenWatch, ev: unknown): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify(ev)}\n`);
  }

  private endWatch(w: OpenWatch): void {
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    if (req.headers.authorization !== `Bearer ${STANDIN_TOKEN}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const kind = Object.keys(COLLECTIONS).find((k) => COLLECTIONS[k]!.path === url.pathname);
    if (req.method !== 'GET' || !kind) return status(res, 404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') this.serveWatch(kind, url, res);
    else this.serveList(kind, url, res);
  }

  private serveList(kind: string, url: URL, res: ServerResponse): void {
    this.requests.push(`LIST ${kind}`);
    const c = this.collection(kind);
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const token = url.searchParams.get('continue');
    let snap: { rv: number; items: StandInObject[] };
    let offset = 0;
    if (token) {
      const [id, off] = token.split(':');
      const s = this.snapshots.get(id ?? '');
      if (!s || s.rv < this.compactedRv) return status(res, 410, 'Expired', 'The provided continue parameter is too old');
      snap = s;
      offset = Number(off);
    } else {
      const items = [...this.bucket(kind).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
      snap = { rv: this.rv, items };
    }
    const end = limit > 0 ? Math.min(offset + limit, snap.items.length) : snap.items.length;
    let cont: string | undefined;
    if (end < snap.items.length) {
      const id = token?.split(':')[0] ?? randomUUID();
      this.snapshots.set(id, snap);
      cont = `${id}:${end}`;
    }
    const items = snap.items.slice(offset, end).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ kind: `${kind}List`, apiVersion: c.apiVersion, metadata: { resourceVersion: String(snap.rv), ...(cont ? { continue: cont } : {}) }, items }),
    );
  }

  private serveWatch(kind: string, url: URL, res: ServerResponse): void {
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    this.requests.push(`WATCH ${kind} ${from}`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The real server answers a too-old resourceVersion with 200 and one ERROR event.
    if (from < this.compactedRv) {
      this.requests.push(`410 ${kind}`);
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone() })}\n`);
      return;
    }
    const w: OpenWatch = { kind, res, timer: undefined };
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    this.watches.add(w);
    res.on('close', () => this.endWatch(w));
    for (const e of this.history) if (e.kind === kind && e.rv > from) this.write(w, { type: e.type, object: e.object });
  }
}

function gone() {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}
