/**
 * The dashboard's server: the single page (built at build time, served precompressed), sign-in through
 * Keystone into a sealed HttpOnly cookie, the OpenStack APIs under the user's token (streamed both ways, errors
 * as the APIs said them), live changes as server-sent events, and each object's YAML and events as Kubernetes
 * has them. Every write needs the session's CSRF token.
 */
import { readFile, stat } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { extname, join, normalize } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, TokenValidator, hasBody, listen, type Listening, type Logger, type TokenAuth } from '@stratus/runtime';
import { LIVE_KINDS, isLiveKind, type Viewer } from './kinds.js';
import { KeystoneClient, KeystoneRefused, type Catalog } from './keystone.js';
import { kubectlYaml } from './kubectlYaml.js';
import { LiveHub } from './live.js';
import { COOKIE, CSRF_HEADER, SessionSealer, cookieValue, sessionCookie } from './session.js';

export interface DashboardOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Keystone's v3 URL. */
  identityUrl: string;
  host: string;
  port: number;
  /** The path the dashboard is served under (behind the gateway): /dashboard. */
  base?: string;
  /** The built page: index.html and its assets. */
  webDir: string;
  sessionKey: Buffer;
  /** Set the cookie's Secure flag (the dashboard is reached over https). */
  secureCookie?: boolean;
  /** The catalog interface the dashboard calls the APIs on (public). */
  endpointInterface?: string;
}

export interface Dashboard extends Listening {
  hub: LiveHub;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Request Entity Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable' };
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.woff2': 'font/woff2', '.woff': 'font/woff', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };
/** Request headers the APIs need from the page; everything else (cookies above all) stays here. */
const FORWARD_REQUEST = ['content-type', 'content-length', 'accept', 'openstack-api-version', 'x-openstack-nova-api-version', 'transfer-encoding'];
const FORWARD_RESPONSE = ['content-type', 'content-length', 'openstack-api-version', 'x-openstack-nova-api-version', 'x-openstack-request-id', 'content-md5', 'etag'];
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const base = o.base ?? '/dashboard';
  const { log } = o;
  const client = new KubeClient(o.kubeConfig);
  const hub = new LiveHub(o.kubeConfig, client, log);
  await hub.start();
  const keystone = new KeystoneClient(o.identityUrl, o.endpointInterface);
  const sealer = new SessionSealer(o.sessionKey);
  const validator = new TokenValidator({
    identityUrl: o.identityUrl,
    serviceType: 'dashboard',
    cacheSeconds: 5,
    unauthorized: () => new HttpError(401, 'The request you have made requires authentication: sign in.'),
    unavailable: (why) => new HttpError(503, why),
    namespaceOfProject: (id) => hub.find('projects', id, { admin: true })?.metadata?.name,
  });
  // Tokens this process revoked, refused at once (the validator's short cache would otherwise keep them a few seconds).
  const revoked = new Map<string, number>();
  let catalog: { at: number; value: Catalog } | undefined;
  const catalogFor = async (token: string) => {
    if (!catalog || Date.now() - catalog.at > 60_000) catalog = { at: Date.now(), value: await keystone.catalog(token) };
    return catalog.value;
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
    res.end(text);
  };
  const fail = (res: http.ServerResponse, status: number, message: string) => send(res, status, { error: { code: status, title: TITLES[status] ?? 'Error', message } });
  const cookie = (value: string, maxAgeSeconds?: number) => sessionCookie(value, { path: base, secure: !!o.secureCookie, maxAgeSeconds });

  async function readJson(req: http.IncomingMessage): Promise<any> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 64 << 10) throw new HttpError(413, 'The request body is too large.');
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON.');
    }
  }

  /** The session's token and who it speaks for; writes also need the CSRF token. */
  async function signedIn(req: http.IncomingMessage): Promise<{ token: string; auth: TokenAuth; viewer: Viewer }> {
    const token = sealer.open(cookieValue(req.headers.cookie, COOKIE));
    if (!token || revoked.has(token)) throw new HttpError(401, 'The request you have made requires authentication: sign in.');
    const auth = await validator.validate(token, { method: 'GET', path: '/' });
    if (req.method !== 'GET' && req.method !== 'HEAD' && !sealer.csrfValid(token, req.headers[CSRF_HEADER])) throw new HttpError(403, 'The CSRF token is missing or wrong: reload the page.');
    return { token, auth, viewer: { namespace: auth.tenant, admin: auth.admin } };
  }

  /** What the page knows of its session. */
  async function sessionView(token: string, auth: TokenAuth) {
    const projects = await keystone.projects(token);
    const project = projects.find((p) => p.id === auth.projectId) ?? (auth.projectId ? { id: auth.projectId, name: auth.projectId } : undefined);
    return { user: { id: auth.userId, name: auth.userName }, project, projects, roles: auth.roles, admin: auth.admin, expiresAt: new Date(auth.expiresAt).toISOString(), csrfToken: sealer.csrfFor(token) };
  }

  const startSession = async (res: http.ServerResponse, token: string, status = 200) => {
    const auth = await validator.validate(token, { method: 'GET', path: '/' });
    const view = await sessionView(token, auth);
    send(res, status, view, { 'Set-Cookie': cookie(sealer.seal(token), (auth.expiresAt - Date.now()) / 1000) });
  };

  function sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  async function sessionRoutes(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET') {
      const { token, auth } = await signedIn(req);
      return send(res, 200, await sessionView(token, auth));
    }
    if (req.method === 'POST') {
      // Sign-in: a cross-site form may not sign a browser into someone else's account.
      if (!sameOrigin(req)) throw new HttpError(403, 'Sign-in is accepted from the dashboard itself only.');
      const body = await readJson(req);
      for (const f of ['username', 'password'] as const) if (typeof body[f] !== 'string' || !body[f]) throw new HttpError(400, `Invalid input for field '${f}': a non-empty string is required.`);
      const user = { name: body.username, password: body.password, domain: typeof body.domain === 'string' && body.domain ? body.domain : 'Default' };
      const first = await keystone.passwordToken(user, typeof body.projectId === 'string' ? body.projectId : undefined);
      if (first.body?.token?.project) return startSession(res, first.token, 201);
      // Unscoped (no default project): scope to the first project the user has, and let go of the unscoped token.
      const projects = await keystone.projects(first.token);
      if (!projects.length) {
        await keystone.revoke(first.token);
        throw new HttpError(403, 'You are not a member of any project: ask an administrator for a role assignment.');
      }
      const scoped = await keystone.rescope(first.token, projects[0].id);
      await keystone.revoke(first.token);
      return startSession(res, scoped.token, 201);
    }
    const { token } = await signedIn(req);
    if (req.method === 'PUT') {
      const body = await readJson(req);
      if (typeof body.projectId !== 'string' || !body.projectId) throw new HttpError(400, "Invalid input for field 'projectId': a project ID is required.");
      const next = await keystone.rescope(token, body.projectId);
      await keystone.revoke(token);
      revoked.set(token, Date.now());
      return startSession(res, next.token);
    }
    if (req.method === 'DELETE') {
      await keystone.revoke(token);
      revoked.set(token, Date.now());
      for (const [t, at] of revoked) if (Date.now() - at > 24 * 3600_000) revoked.delete(t);
      res.writeHead(204, { 'Set-Cookie': cookie(''), 'Cache-Control': 'no-store' });
      return void res.end();
    }
    throw new HttpError(405, `The method ${req.method} is not allowed on the session.`);
  }

  /**
   * The user's own password change: Keystone's answer (its refusal, in its words and status) is the answer. A
   * change ends the user's tokens, so the session ends with it.
   */
  async function changePassword(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { token, auth } = await signedIn(req);
    const body = await readJson(req);
    for (const f of ['originalPassword', 'password'] as const) if (typeof body[f] !== 'string' || !body[f]) throw new HttpError(400, `Invalid input for field '${f}': a non-empty string is required.`);
    await keystone.changePassword(auth.userId, body.originalPassword, body.password);
    revoked.set(token, Date.now());
    res.writeHead(204, { 'Set-Cookie': cookie(''), 'Cache-Control': 'no-store' });
    res.end();
  }

  /** An OpenStack API call under the session's token, streamed both ways; the API's answer is the answer. */
  async function proxy(req: http.IncomingMessage, res: http.ServerResponse, type: string, rest: string, search: string): Promise<void> {
    const { token } = await signedIn(req);
    if (rest.split('/').some((s) => s === '..' || s === '.')) throw new HttpError(400, 'The path may not contain dot segments.');
    const endpoint = (await catalogFor(token)).endpoints.get(type);
    if (!endpoint) throw new HttpError(404, `The catalog has no ${type} service.`);
    const target = new URL(`${endpoint}${rest}${search}`);
    const headers: Record<string, string | string[]> = { 'X-Auth-Token': token };
    for (const h of FORWARD_REQUEST) if (req.headers[h] !== undefined) headers[h] = req.headers[h]!;
    const lib = target.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const up = lib.request(target, { method: req.method, headers }, (answer) => {
        const out: Record<string, string | string[]> = { 'Cache-Control': 'no-store' };
        for (const h of FORWARD_RESPONSE) if (answer.headers[h] !== undefined) out[h] = answer.headers[h]!;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', reject);
      });
      up.on('error', (e) => (res.headersSent ? (res.destroy(e), resolve()) : reject(new HttpError(502, `The ${type} service is not answering: ${e.message}`))));
      req.on('aborted', () => up.destroy());
      if (hasBody(req)) req.pipe(up);
      else up.end();
    });
  }

  async function live(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { token, auth, viewer } = await signedIn(req);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(`retry: 2000\nevent: ready\ndata: {}\n\n`);
    const unsubscribe = hub.subscribe({ viewer, send: (c) => res.write(`event: change\ndata: ${JSON.stringify(c)}\n\n`) });
    // A heartbeat keeps proxies from closing an idle stream; the stream ends when the token does.
    const beat = setInterval(() => {
      if (revoked.has(token) || Date.now() >= auth.expiresAt) res.end();
      else res.write(': beat\n\n');
    }, 15_000);
    res.on('close', () => {
      clearInterval(beat);
      unsubscribe();
    });
  }

  /** The object behind a page, as the Kubernetes face has it (YAML) or its events, if the user may see it. */
  async function kubernetesView(req: http.IncomingMessage, res: http.ServerResponse, what: 'yaml' | 'events', kind: string, id: string): Promise<void> {
    const { viewer } = await signedIn(req);
    if (!isLiveKind(kind)) throw new HttpError(404, `There is no kind ${kind} here.`);
    const found = hub.find(kind, id, viewer);
    if (!found) throw new HttpError(404, `No ${kind} with ID ${id} could be found.`);
    const { ref } = LIVE_KINDS[kind];
    const ns = found.metadata?.namespace;
    if (what === 'yaml') {
      const path = `${ref.group ? `/apis/${ref.group}/${ref.version}` : '/api/v1'}${ns ? `/namespaces/${ns}` : ''}/${ref.plural}/${found.metadata!.name}`;
      const text = kubectlYaml(await client.request('GET', path));
      res.writeHead(200, { 'Content-Type': 'application/yaml; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      return void res.end(text);
    }
    const list = await client.request<{ items: any[] }>('GET', `/api/v1/${ns ? `namespaces/${ns}/` : ''}events?fieldSelector=${encodeURIComponent(`involvedObject.uid=${found.metadata!.uid}`)}`);
    const events = list.items
      .filter((e) => e.involvedObject?.uid === found.metadata!.uid)
      .map((e) => ({ type: e.type, reason: e.reason, message: e.message, count: e.count ?? 1, source: e.source?.component ?? e.reportingComponent, lastSeen: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp }))
      .sort((a, b) => String(b.lastSeen).localeCompare(String(a.lastSeen)));
    send(res, 200, { events });
  }

  async function page(req: http.IncomingMessage, res: http.ServerResponse, rel: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `The method ${req.method} is not allowed here.`);
    const clean = normalize(rel).replace(/^(\.\.(\/|$))+/, '');
    let file = join(o.webDir, clean);
    const isAsset = clean !== '' && !!extname(clean) && (await stat(file).then((s) => s.isFile(), () => false));
    // Every other path is a route of the single page.
    if (!isAsset) file = join(o.webDir, 'index.html');
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && (await stat(`${file}.gz`).then(() => true, () => false));
    const body = await readFile(gz ? `${file}.gz` : file);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      ...(gz ? { 'Content-Encoding': 'gzip' } : {}),
      Vary: 'Accept-Encoding',
      // Assets are named by their content's hash; the page itself is always asked again.
      'Cache-Control': isAsset && /-[A-Z0-9]{8}\./.test(clean) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/' || path === base) {
      res.writeHead(302, { Location: `${base}/`, 'Content-Length': 0 });
      return void res.end();
    }
    if (!path.startsWith(`${base}/`)) throw new HttpError(404, 'Not found.');
    const rest = path.slice(base.length);
    if (rest === '/healthz') return send(res, 200, { status: 'ok' });
    if (rest === '/api/session') return sessionRoutes(req, res);
    if (rest === '/api/session/password' && req.method === 'POST') return changePassword(req, res);
    if (rest === '/api/live') return live(req, res);
    const os = /^\/api\/os\/([a-z0-9-]+)(\/.*)?$/.exec(rest);
    if (os) return proxy(req, res, os[1], os[2] ?? '', url.search);
    const k8s = /^\/api\/(yaml|events)\/([a-z]+)\/([^/]+)$/.exec(rest);
    if (k8s && req.method === 'GET') return kubernetesView(req, res, k8s[1] as 'yaml' | 'events', k8s[2], decodeURIComponent(k8s[3]));
    if (rest.startsWith('/api/')) throw new HttpError(404, `There is no dashboard API at ${path}.`);
    return page(req, res, rest.slice(1));
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError || e instanceof KeystoneRefused ? e.status : 500;
      if (status >= 500) log.warn('dashboard request failed', { method: req.method, path: req.url?.split('?')[0], error: (e as Error).message });
      if (res.headersSent) return void res.destroy();
      // Keystone's own refusal (a wrong password, a project the user has no role on) is shown as Keystone said it.
      if (e instanceof KeystoneRefused && e.body) return send(res, e.status, e.body);
      fail(res, status, status === 500 ? 'The dashboard failed to answer; see its log.' : (e as Error).message);
    });
  });
  const listening = await listen(server, o.host, o.port);
  return {
    ...listening,
    hub,
    async close() {
      await listening.close();
      await hub.stop();
    },
  };
}
