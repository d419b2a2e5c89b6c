/** The HTTP front of the control plane: authentication, routing, body decoding, and Kubernetes-shaped responses. */
import { STATUS_CODES, createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generateProxyClientCert, generateServingCert, PROXY_CLIENT_NAME, proxyClientCertIn, servingCertIn, type ServingCert } from './tls.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { AccessControl, BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, verbOf } from './access.js';
import { Admission, type Operation } from './admission.js';
import { aggregatedAttributes, Aggregator, proxyUpgrade } from './aggregation.js';
import { ADMIN_USER, adminTokenMatches, type TokenAuthenticator, type UserInfo } from './authn.js';
import { forbiddenMessage } from './rbac.js';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'winston';
import { Controllers } from './controllers.js';
import { coreVersions, group as groupDocument, groupList, resourceList, SERVER_VERSION } from './discovery.js';
import { ApiError, badRequest, internal, isApiError, methodNotAllowed, notFound, tooLarge, unauthorized, unsupportedMediaType } from './errors.js';
import { OpenApiV3 } from './openapi.js';
import { memoryPersistence, sqlitePersistence } from './persistence.js';
import { Registry } from './registry.js';
import { asVersion, Resources, subjectOf, type DeleteOptions, type FieldValidation, type PatchType, type WriteOptions } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { Store } from './store.js';
import { table, wantsTable, type IncludeObject } from './table.js';
import { apiVersionOf, type KObject, type ResourceType } from './types.js';
import { serveWatch } from './watch.js';
import { decodeProtobuf } from './protobuf.js';
import { NAMESPACE_STORAGE_KEY } from './builtin.js';

/** Kubernetes rejects request bodies over 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Folder for the SQLite database; without it the server keeps everything in memory. */
  dataDir?: string;
  /** The admin's bearer token (system:admin, in system:masters); none = open, every request as the admin. */
  token?: string;
  /** Who other bearer tokens are (a TokenReview webhook: Keystone's); their requests are judged by RBAC. */
  authenticator?: TokenAuthenticator;
  /** Serve https (the default; kubectl only sends tokens over TLS) or plain http. */
  tls?: boolean;
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  /** The serving certificate (PEM), for kubeconfigs' certificate-authority-data; absent on plain http. */
  caCert?: string;
  port: number;
  store: Store;
  registry: Registry;
  resources: Resources;
  controllers: Controllers;
  close(): Promise<void>;
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * kube-system's extension-apiserver-authentication ConfigMap, as kube-apiserver publishes it: extension API
 * servers read from it which client certificate may tell them the user (X-Remote-User and its kin).
 */
function publishRequestHeaderAuthentication(registry: Registry, resources: Resources, proxyCa: string): void {
  const type = registry.find('', 'v1', 'configmaps')!;
  const data = {
    'requestheader-client-ca-file': proxyCa,
    'requestheader-allowed-names': JSON.stringify([PROXY_CLIENT_NAME]),
    'requestheader-username-headers': JSON.stringify(['X-Remote-User']),
    'requestheader-group-headers': JSON.stringify(['X-Remote-Group']),
    'requestheader-extra-headers-prefix': JSON.stringify(['X-Remote-Extra-']),
  };
  const name = 'extension-apiserver-authentication';
  const current = resources.getStored(type, 'kube-system', name)?.obj as (KObject & { data?: Record<string, string> }) | undefined;
  const opts = { fieldManager: 'stratus-apiserver' };
  if (!current) resources.create(type, 'kube-system', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data }, opts);
  else if (JSON.stringify(current.data) !== JSON.stringify(data)) resources.update(type, 'kube-system', name, { ...current, data }, opts);
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const log = opts.logger;
  const persistence = opts.dataDir ? sqlitePersistence(`${opts.dataDir}/state.db`) : memoryPersistence();
  const store = new Store(persistence, opts.historyLimit);
  const registry = new Registry();
  const resources = new Resources(store, registry);
  const controllers = new Controllers(store, registry, resources, (msg, meta) => log?.info(msg, meta));
  const openapi = new OpenApiV3(registry);
  const nsType = registry.storageType(NAMESPACE_STORAGE_KEY)!;
  for (const ns of DEFAULT_NAMESPACES)
    if (!store.get(NAMESPACE_STORAGE_KEY, undefined, ns))
      resources.create(nsType, undefined, { metadata: { name: ns } }, { fieldManager: 'stratus-apiserver' });

  // Kubernetes' default policy, made once, kept as anyone may have changed it since.
  for (const [plural, objects] of [['clusterroles', BOOTSTRAP_CLUSTER_ROLES], ['clusterrolebindings', BOOTSTRAP_CLUSTER_ROLE_BINDINGS]] as const) {
    const type = registry.find('rbac.authorization.k8s.io', 'v1', plural)!;
    for (const o of objects)
      if (!store.get(type.storageKey, undefined, o.metadata.name!))
        resources.create(type, undefined, { ...structuredClone(o), metadata: { ...o.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } } } as never, { fieldManager: 'stratus-apiserver' });
  }

  const token = opts.token ? Buffer.from(opts.token) : undefined;
  /** Who is asking: the admin, a user the authenticator vouches for, or nobody (401). */
  const whoIs = async (req: IncomingMessage): Promise<UserInfo | undefined> => {
    if (!token) return ADMIN_USER;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    if (adminTokenMatches(token, m[1])) return ADMIN_USER;
    return opts.authenticator?.authenticate(m[1]).catch((e: Error) => (log?.warn('token review failed', { error: e.message }), undefined));
  };

  const host = opts.host ?? '127.0.0.1';
  let serving: ServingCert | undefined;
  if (opts.tls !== false) serving = opts.dataDir ? await servingCertIn(`${opts.dataDir}/tls`, host) : await generateServingCert(host);
  // Extension servers are reached over TLS whether or not this server serves it.
  const proxyClient = opts.dataDir ? await proxyClientCertIn(`${opts.dataDir}/tls`) : await generateProxyClientCert();
  publishRequestHeaderAuthentication(registry, resources, proxyClient.cert);
  let address = '';
  const ctx: HandlerContext = { registry, resources, store, openapi, address: () => address, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000, access: new AccessControl(store, registry, resources), admission: new Admission(registry, resources), aggregator: new Aggregator(registry, resources, proxyClient) };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (log?.isDebugEnabled())
        log.debug('request', { verb: req.method, uri: req.url, code: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
    const path = (req.url ?? '/').split('?')[0];
    const open = path === '/version' || path === '/healthz' || path === '/livez' || path === '/readyz';
    let user: UserInfo | undefined;
    (async () => {
      user = await whoIs(req);
      if (!user && !open) throw unauthorized();
      await handle(ctx, req, res, user ?? { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    })().catch((err) => {
      if (!isApiError(err)) log?.error('request failed', { verb: req.method, uri: req.url, error: String(err), stack: (err as Error)?.stack });
      // A workload's ServiceAccount refused is a deployment's RBAC falling short, not a user's mistake: say so.
      else if (err.code === 403 && user?.username.startsWith('system:serviceaccount:')) log?.warn('service account forbidden', { verb: req.method, uri: req.url, message: err.message });
      sendError(res, isApiError(err) ? err : internal(err));
    });
  };
  const server: Server = serving ? createHttpsServer({ cert: serving.cert, key: serving.key }, onRequest) : createHttpServer(onRequest);
  // Upgrades (WebSockets) are served for aggregated APIs only: passed on to their extension server.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const fail = (err: ApiError) => {
      const body = JSON.stringify(err.toStatus());
      socket.end(`HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    let user: UserInfo | undefined;
    (async () => {
      user = await whoIs(req);
      if (!user) throw unauthorized();
      const url = new URL(req.url ?? '/', 'http://localhost');
      const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const backend = segs[0] === 'apis' && segs.length > 3 ? ctx.aggregator.backendFor(segs[1]!, segs[2]!) : undefined;
      if (!backend) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const a = aggregatedAttributes(segs.slice(3));
      authorizeRequest(ctx, user, { verb: verbOf(req.method ?? 'GET', !!a.name, false), resourceRequest: true, apiGroup: segs[1], resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name });
      proxyUpgrade(req, socket, head, backend, user, proxyClient, (e) => fail(new ApiError(503, 'ServiceUnavailable', `the server is currently unable to handle the request: error trying to reach service of APIService ${backend.apiService}: ${e.message}`)));
    })().catch((err) => fail(isApiError(err) ? err : internal(err)));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const url = `${serving ? 'https' : 'http'}://${address}`;
  log?.info('control plane serving', { url, dataDir: opts.dataDir ?? '(memory)', revision: store.currentRevision() });
  return {
    url,
    caCert: serving?.cert,
    port,
    store,
    registry,
    resources,
    controllers,
    async close() {
      controllers.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

interface HandlerContext {
  registry: Registry;
  resources: Resources;
  store: Store;
  openapi: OpenApiV3;
  address: () => string;
  bookmarkIntervalMs: number;
  access: AccessControl;
  admission: Admission;
  aggregator: Aggregator;
}

/** Refuses what RBAC does not allow this user, with Kubernetes' 403. */
function authorizeRequest(ctx: HandlerContext, user: UserInfo, a: Parameters<AccessControl['decide']>[1]): void {
  if (ctx.access.decide(user, a).allowed) return;
  const full = { ...a, user: user.username, groups: user.groups };
  throw new ApiError(403, 'Forbidden', forbiddenMessage(full), a.resourceRequest ? { name: a.name, group: a.apiGroup, kind: a.resource } : undefined);
}

async function handle(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '') || '/';

  if (['/healthz', '/livez', '/readyz'].includes(path)) return sendText(res, 200, 'ok');
  if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
  // Who am I, and may I: answered for whoever asks (Kubernetes' system:basic-user).
  if (method === 'POST' && path === '/apis/authentication.k8s.io/v1/selfsubjectreviews') return sendJson(res, 201, selfSubjectReview(user));
  if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') return sendJson(res, 201, selfSubjectAccessReview(ctx, user, (await readBody(req, 'create')).value));
  const resourcePath = (segs[0] === 'api' && segs.length > 2) || (segs[0] === 'apis' && segs.length > 3);
  if (!resourcePath) authorizeRequest(ctx, user, { verb: method.toLowerCase() === 'head' ? 'get' : method.toLowerCase(), resourceRequest: false, path: url.pathname });
  if (path === '/api') return sendJson(res, 200, coreVersions(ctx.address()));
  if (path === '/apis') return sendJson(res, 200, groupList(ctx.registry, ctx.aggregator.groups()));
  if (path === '/openapi/v3') return sendJson(res, 200, ctx.openapi.index());
  if (segs[0] === 'openapi' && segs[1] === 'v3') {
    const doc = ctx.openapi.document(segs.slice(2).join('/'));
    if (!doc) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(doc) });
    return void res.end(doc);
  }

  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    [group, version, rest] = ['', segs[1], segs.slice(2)];
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    [group, version, rest] = [segs[1], segs[2], segs.slice(3)];
  } else if (segs[0] === 'apis' && segs.length === 2) {
    const g = groupDocument(ctx.registry, segs[1], ctx.aggregator.groups());
    if (!g) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return sendJson(res, 200, g);
  } else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

  // A group/version an extension API server serves: its requests are passed on (discovery included).
  const backend = group ? ctx.aggregator.backendFor(group, version) : undefined;
  if (backend) {
    if (rest.length) {
      const a = aggregatedAttributes(rest);
      authorizeRequest(ctx, user, { verb: verbOf(method, !!a.name, url.searchParams.get('watch') === 'true'), resourceRequest: true, apiGroup: group, resource: a.resource, subresource: a.subresource, namespace: a.namespace, name: a.name });
    }
    return ctx.aggregator.proxy(req, res, backend, user);
  }

  if (rest.length === 0) {
    const list = resourceList(ctx.registry, group, version);
    if (!list) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return sendJson(res, 200, list);
  }
  const route = resolveRoute(ctx.registry, group, version, rest);
  const watch = route.watch || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  authorizeRequest(ctx, user, { verb: verbOf(method, !!route.name, watch), resourceRequest: true, apiGroup: group, resource: route.type.resource, subresource: route.subresource, namespace: route.namespace, name: route.name });
  return serveResource(ctx, req, res, url.searchParams, method, route, user);
}

/** authentication.k8s.io/v1 SelfSubjectReview: who the request's credentials say it is (`kubectl auth whoami`). */
function selfSubjectReview(user: UserInfo) {
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }, status: { userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) } } };
}

/** authorization.k8s.io/v1 SelfSubjectAccessReview: whether the asker may do what the spec names (`kubectl auth can-i`). */
function selfSubjectAccessReview(ctx: HandlerContext, user: UserInfo, body: any) {
  const spec = body?.spec ?? {};
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  if (!r && !n) throw badRequest('spec: exactly one of resourceAttributes and nonResourceAttributes must be given');
  const decision = r
    ? ctx.access.decide(user, { verb: r.verb ?? '', resourceRequest: true, apiGroup: r.group ?? '', resource: r.resource ?? '', subresource: r.subresource || undefined, namespace: r.namespace || undefined, name: r.name || undefined })
    : ctx.access.decide(user, { verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '' });
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, spec, status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) } };
}

/** Maps the path below /api/v1 or /apis/{g}/{v} to a resource, namespace, name and subresource. */
function resolveRoute(registry: Registry, group: string, version: string, rest: string[]): Route {
  let watch = false;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const nsType = registry.find(group, version, rest[2]);
    if (nsType?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [resource, name, subresource, ...extra] = rest;
  const type = registry.find(group, version, resource);
  if (!type || extra.length) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  // The namespace "finalize" subresource is how clients clear spec.finalizers; it behaves like status here.
  return { type, namespace, name, subresource: subresource === 'finalize' ? 'finalize' : subresource, watch };
}

async function serveResource(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, q: URLSearchParams, method: string, route: Route, user: UserInfo): Promise<void> {
  const { type, namespace, name, subresource } = route;
  const { resources } = ctx;
  const watch = route.watch || q.get('watch') === 'true' || q.get('watch') === '1';
  const warnings: string[] = [];
  const writeOpts = (): WriteOptions => ({
    dryRun: q.getAll('dryRun').includes('All'),
    fieldManager: q.get('fieldManager') ?? userAgentManager(req),
    fieldValidation: fieldValidation(q.get('fieldValidation')),
    warnings,
  });
  const reply = (code: number, obj: KObject) => sendObject(req, res, code, type, obj, q, warnings);
  const admit = (operation: Operation, object: KObject, oldObject?: KObject) => ctx.admission.validate({ type, operation, namespace, name: name ?? object.metadata.name, subresource, object, oldObject, user, dryRun: q.getAll('dryRun').includes('All') });

  if (subresource && subresource !== 'status' && subresource !== 'finalize') throw notFound({ ...subjectOf(type, name), resource: `${type.resource}/${subresource}` });

  switch (method) {
    case 'GET': {
      if (watch) return startWatch(ctx, req, res, q, route);
      if (name) return reply(200, resources.get(type, namespace, name));
      const page = resources.list(type, namespace, {
        labelSelector: q.get('labelSelector'),
        fieldSelector: q.get('fieldSelector'),
        limit: Number(q.get('limit') ?? 0),
        continueToken: q.get('continue'),
      });
      const listMeta: Record<string, unknown> = { resourceVersion: String(page.revision) };
      if (page.continueToken) listMeta.continue = page.continueToken;
      if (page.remaining !== undefined) listMeta.remainingItemCount = page.remaining;
      if (wantsTable(req.headers.accept))
        return sendJson(res, 200, table(type, page.items.map((s) => asVersion(type, s.obj)), includeObject(q), listMeta));
      return sendList(res, type, page.items, listMeta);
    }
    case 'POST': {
      if (name) throw methodNotAllowed(`POST is not supported on a named ${type.kind}`);
      const body = await readBody(req, 'create');
      // Validating admission sees the object as it would be stored (a dry run first), then it is stored.
      if (ctx.admission.wanted('CREATE', type)) await admit('CREATE', resources.create(type, namespace, structuredClone(body.value), { ...writeOpts(), dryRun: true }));
      return reply(201, resources.create(type, namespace, body.value, writeOpts()));
    }
    case 'PUT': {
      if (!name) throw methodNotAllowed(`PUT needs a ${type.kind} name`);
      const body = await readBody(req, 'update');
      if (subresource === 'finalize') return reply(200, finalizeNamespace(ctx, type, name, body.value));
      if (ctx.admission.wanted('UPDATE', type, subresource)) await admit('UPDATE', resources.update(type, namespace, name, structuredClone(body.value), { ...writeOpts(), dryRun: true }, subresource), resources.get(type, namespace, name));
      return reply(200, resources.update(type, namespace, name, body.value, writeOpts(), subresource));
    }
    case 'PATCH': {
      if (!name) throw methodNotAllowed(`PATCH needs a ${type.kind} name`);
      const body = await readBody(req, 'patch');
      const existed = !!resources.getStored(type, namespace, name);
      const patchOpts = { ...writeOpts(), force: q.get('force') === 'true' };
      const op = existed ? 'UPDATE' : 'CREATE';
      if (ctx.admission.wanted(op, type, subresource)) await admit(op, resources.patch(type, namespace, name, body.patchType!, structuredClone(body.value), { ...patchOpts, dryRun: true }, subresource), existed ? resources.get(type, namespace, name) : undefined);
      const obj = resources.patch(type, namespace, name, body.patchType!, body.value, patchOpts, subresource);
      return reply(!existed && body.patchType === 'apply' ? 201 : 200, obj);
    }
    case 'DELETE': {
      const body = await readBody(req, 'delete');
      const opts = deleteOptions(q, body.value);
      if (name) return reply(200, resources.delete(type, namespace, name, opts));
      const page = resources.list(type, namespace, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') });
      const deleted = page.items.map((s) => resources.delete(type, s.obj.metadata.namespace, s.obj.metadata.name!, opts));
      return sendJson(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(ctx.store.currentRevision()) }, items: deleted });
    }
    default:
      throw methodNotAllowed(`method ${method} is not supported`);
  }
}

/** PUT namespaces/{name}/finalize: replaces spec.finalizers, which the namespace controller waits on. */
function finalizeNamespace(ctx: HandlerContext, type: ResourceType, name: string, body: unknown): KObject {
  const current = ctx.resources.get(type, undefined, name);
  const finalizers = ((body as KObject)?.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
  return ctx.resources.writeInternal(type, { ...current, spec: { ...(current.spec as object), finalizers } });
}

function startWatch(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, q: URLSearchParams, route: Route): void {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const nameSelector = route.name ? `metadata.name=${route.name}` : undefined;
  const fieldSel = [q.get('fieldSelector'), nameSelector].filter(Boolean).join(',');
  const fields = parseFieldSelector(fieldSel);
  const timeout = Number(q.get('timeoutSeconds') ?? 0);
  serveWatch(ctx.store, res, {
    type: route.type,
    namespace: route.type.namespaced ? route.namespace : undefined,
    matches: (o) => labels(o) && fields(o),
    resourceVersion: q.get('resourceVersion'),
    allowBookmarks: q.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: q.get('sendInitialEvents') === 'true',
    // Like kube-apiserver, an unbounded watch is closed after a while so clients re-establish it.
    timeoutSeconds: timeout > 0 ? timeout : 1800 + Math.floor(Math.random() * 1800),
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    table: wantsTable(req.headers.accept) ? { include: includeObject(q) } : undefined,
  });
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function fieldValidation(v: string | null): FieldValidation {
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  if (v) throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${v}"`);
  return 'Warn';
}

/** Kubernetes names the field manager after the client's user agent when none is given. */
function userAgentManager(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0].slice(0, 128) || 'unknown';
}

function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
  const b = (body ?? {}) as Record<string, any>;
  const policy = q.get('propagationPolicy') ?? b.propagationPolicy ?? (b.orphanDependents === true || q.get('orphanDependents') === 'true' ? 'Orphan' : undefined);
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy))
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Background", "Foreground", "Orphan"`);
  return {
    propagationPolicy: policy,
    preconditions: b.preconditions,
    dryRun: q.getAll('dryRun').includes('All') || (Array.isArray(b.dryRun) && b.dryRun.includes('All')),
  };
}

interface Body {
  value: unknown;
  patchType?: PatchType;
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

/** Reads and decodes a request body, refusing more than MAX_BODY_BYTES without buffering it. */
async function readBody(req: IncomingMessage, purpose: 'create' | 'update' | 'patch' | 'delete'): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw tooLarge(MAX_BODY_BYTES);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw tooLarge(MAX_BODY_BYTES);
    }
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks);
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (contentType === 'application/vnd.kubernetes.protobuf' && purpose !== 'patch') return { value: raw.length ? decodeProtobuf(raw) : undefined };
  const text = raw.toString('utf8');
  if (purpose === 'delete' && text.trim() === '') return { value: undefined };
  if (text.trim() === '') throw badRequest('the request body is empty');
  let patchType: PatchType | undefined;
  if (purpose === 'patch') {
    patchType = PATCH_TYPES[contentType];
    if (!patchType) throw unsupportedMediaType(contentType);
  } else if (!['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', '*/*'].includes(contentType)) {
    throw unsupportedMediaType(contentType);
  }
  const yaml = contentType.includes('yaml');
  try {
    return { value: yaml ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text), patchType };
  } catch (e) {
    throw badRequest(`error decoding ${yaml ? 'YAML' : 'JSON'} request body: ${(e as Error).message.split('\n')[0]}`);
  }
}

function sendObject(req: IncomingMessage, res: ServerResponse, code: number, type: ResourceType, obj: KObject, q: URLSearchParams, warnings: string[]): void {
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  if (wantsTable(req.headers.accept)) return sendJson(res, code, table(type, [obj], includeObject(q), { resourceVersion: obj.metadata.resourceVersion }));
  sendJson(res, code, obj);
}

/** Writes a list by joining each object's kept JSON: no re-serialization of 10,000 objects. */
function sendList(res: ServerResponse, type: ResourceType, items: Array<{ obj: KObject; json: string }>, listMeta: Record<string, unknown>): void {
  const apiVersion = apiVersionOf(type);
  const parts = items.map((s) => (s.obj.apiVersion === apiVersion ? s.json : JSON.stringify(asVersion(type, s.obj))));
  const body = `{"kind":${JSON.stringify(type.listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(listMeta)},"items":[${parts.join(',')}]}`;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) return void res.end();
  // Close the connection after an oversized body: the rest of it is not worth reading.
  if (err.code === 413) res.setHeader('Connection', 'close');
  sendJson(res, err.code, err.toStatus());
}
