/**
 * The Identity API v3 over HTTP. It answers under `/v3` and under `/identity/v3` (the path `stratus up`'s
 * gateway uses), reads from informer caches and writes through the Kubernetes API.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, listen, readJsonBody, type Logger } from '@stratus/runtime';
import { Authenticator } from './auth.js';
import { authRoutes } from './authRoutes.js';
import { catalogRoutes } from './catalogRoutes.js';
import { IdentityDirectory } from './directory.js';
import { IdentityError, badRequest, unauthorized } from './errors.js';
import { projectRoutes } from './projectRoutes.js';
import { roleRoutes } from './roleRoutes.js';
import { Router, type ApiRequest, type ApiResponse } from './router.js';
import { userRoutes } from './userRoutes.js';

export interface IdentityApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  host?: string;
  port?: number;
  /** Keystone's [token] expiration: an hour unless told. */
  tokenExpirationSeconds?: number;
}

export interface IdentityApi {
  url: string;
  port: number;
  directory: IdentityDirectory;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const PREFIXES = ['/identity/v3', '/v3'];
const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];

const versionDoc = (href: string) => ({ id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z', links: [{ rel: 'self', href }], 'media-types': MEDIA_TYPES });

export async function startIdentityApi(opts: IdentityApiOptions): Promise<IdentityApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new IdentityDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const auth = new Authenticator(dir, client, opts.tokenExpirationSeconds ?? 3600);
  await auth.ensureKeyRing();

  const router = new Router();
  authRoutes(router, dir, auth);
  projectRoutes(router, dir, client);
  userRoutes(router, dir, client, auth);
  roleRoutes(router, dir, client);
  catalogRoutes(router, dir, client);

  const server = http.createServer((req, res) => {
    const requestId = `req-${randomUUID()}`;
    handle(req)
      .catch((err): ApiResponse => {
        if (err instanceof IdentityError) return { status: err.code, body: err.body() };
        log.error('identity request failed', { method: req.method, path: req.url, requestId, error: err instanceof Error ? err.message : String(err) });
        return { status: 500, body: { error: { code: 500, title: 'Internal Server Error', message: 'An unexpected error prevented the server from fulfilling your request.' } } };
      })
      .then((out) => {
        const payload = out.body === undefined || req.method === 'HEAD' || out.status === 204 ? undefined : JSON.stringify(out.body);
        res.writeHead(out.status, {
          ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : { 'Content-Length': 0 }),
          'x-openstack-request-id': requestId,
          Vary: 'X-Auth-Token',
          ...out.headers,
        });
        res.end(payload);
        log.debug('identity request', { method: req.method, path: req.url, status: out.status, requestId });
      });
  });

  async function handle(req: http.IncomingMessage): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = `http://${req.headers.host ?? 'localhost'}`;
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '' || path === '/identity')
      return { status: 300, body: { versions: { values: [versionDoc(`${origin}${path === '' ? '/v3' : '/identity/v3'}/`)] } } };
    const prefix = PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
    if (!prefix) throw new IdentityError(404, 'Not Found', 'The resource could not be found.');
    const base = `${origin}${prefix}`;
    const rest = path.slice(prefix.length);
    if (rest === '') return { status: 200, body: { version: versionDoc(`${base}/`) } };

    const method = req.method ?? 'GET';
    const { route, params, allowed } = router.match(method, rest);
    if (!route) {
      if (allowed.length) return { status: 405, headers: { Allow: [...new Set(allowed)].join(', ') }, body: { error: { code: 405, title: 'Method Not Allowed', message: `The method ${method} is not supported for this resource.` } } };
      throw new IdentityError(404, 'Not Found', 'The resource could not be found.');
    }
    const body = await readJsonBody(req, MAX_BODY, { tooLarge: () => new IdentityError(413, 'Request Entity Too Large', 'Request is too large.'), malformed: () => badRequest('The request body is not valid JSON.') });
    const apiReq: ApiRequest = { method, path: rest, params, query: url.searchParams, headers: req.headers, body, base, incoming: req };
    if (!route.public) {
      const token = req.headers['x-auth-token'];
      if (typeof token !== 'string' || !token) throw unauthorized();
      apiReq.auth = auth.validate(token, 'auth');
    }
    return route.handler(apiReq as never);
  }

  const listening = await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 5000);
  log.info('identity API listening', { url: listening.url });
  return {
    url: listening.url,
    port: listening.port,
    directory: dir,
    async close() {
      await listening.close();
      await dir.stop();
    },
  };
}
