/**
 * The Image API v2 over HTTP, under `/v2` and `/image/v2` (the path `stratus up`'s gateway uses). Every call
 * but version discovery needs a Keystone token. It reads from informer caches and writes through the
 * Kubernetes API; image data streams between the client and S3.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Router, listen, readJsonBody, type ApiRequest, type ApiResponse, type Logger } from '@stratus/runtime';
import { DEFAULT_SIZE_CAP } from '../imageData.js';
import type { ImageStore } from '../store/imageStore.js';
import type { GlanceApi } from './context.js';
import { ImageDirectory } from './directory.js';
import { imageSchema } from './documents.js';
import { GlanceError, badRequest, notFound, tooLarge } from './errors.js';
import { fileRoutes } from './fileRoutes.js';
import { imageRoutes } from './imageRoutes.js';
import { TokenValidator, type ImageAuth } from './tokens.js';

export interface ImageApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  store: ImageStore;
  /** Keystone's v3 URL, where tokens are validated. */
  identityUrl: string;
  host?: string;
  port?: number;
  /** Largest image accepted, in bytes (Glance's image_size_cap). */
  sizeCap?: number;
  tokenCacheSeconds?: number;
}

export interface ImageApi {
  url: string;
  port: number;
  directory: ImageDirectory;
  close(): Promise<void>;
}

const MAX_JSON = 1 << 20;
const DRAIN_LIMIT = 16 << 20;
const PREFIXES = ['/image/v2', '/v2'];
/** The newest Image API version whose calls this serves. */
const VERSION = 'v2.16';

const versions = (href: string) => ({ versions: [{ id: VERSION, status: 'CURRENT', links: [{ rel: 'self', href }] }] });

export async function startImageApi(opts: ImageApiOptions): Promise<ImageApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new ImageDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, cacheSeconds: opts.tokenCacheSeconds });
  const api: GlanceApi = { dir, client, store: opts.store, sizeCap: opts.sizeCap ?? DEFAULT_SIZE_CAP, log };

  const router = new Router<ImageAuth>();
  imageRoutes(router, api);
  fileRoutes(router, api);
  router.on('GET', '/schemas/image', () => ({ status: 200, body: imageSchema() }));
  router.on('GET', '/schemas/images', () => ({
    status: 200,
    body: { name: 'images', properties: { images: { type: 'array', items: imageSchema() }, schema: { type: 'string' }, first: { type: 'string' }, next: { type: 'string' } }, links: [{ rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' }] },
  }));

  const server = http.createServer((req, res) => {
    const requestId = `req-${randomUUID()}`;
    handle(req)
      .catch((err): ApiResponse => {
        if (err instanceof GlanceError) return { status: err.status, body: err.body(), headers: (err as { headers?: Record<string, string> }).headers };
        log.error('image request failed', { method: req.method, path: req.url, requestId, error: err instanceof Error ? err.message : String(err) });
        return { status: 500, body: { message: 'An unexpected error prevented the server from fulfilling your request.', code: '500 Internal Server Error', title: 'Internal Server Error' } };
      })
      .then(async (out) => {
        // An upload refused early leaves its body unread: a small rest is drained so the connection can be
        // reused; for a large one the connection closes after this answer rather than take the bytes.
        const unread = !req.complete && !req.destroyed;
        const drain = unread && Number(req.headers['content-length'] ?? Infinity) <= DRAIN_LIMIT;
        if (drain) req.resume();
        const headers: Record<string, string> = { 'x-openstack-request-id': requestId, ...out.headers, ...(unread && !drain ? { Connection: 'close' } : {}) };
        if (out.body instanceof Readable) {
          res.writeHead(out.status, headers);
          if (req.method === 'HEAD') return void (out.body.destroy(), res.end());
          await pipeline(out.body, res).catch((e: Error) => log.warn('image download cut short', { path: req.url, requestId, error: e.message }));
          return;
        }
        const payload = out.body === undefined || req.method === 'HEAD' || out.status === 204 ? undefined : JSON.stringify(out.body);
        res.writeHead(out.status, {
          ...(payload !== undefined ? { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(payload) } : out.headers?.['Content-Length'] ? {} : { 'Content-Length': 0 }),
          ...headers,
        });
        res.end(payload);
        log.debug('image request', { method: req.method, path: req.url, status: out.status, requestId });
      });
  });
  server.requestTimeout = 0; // an image upload may take longer than Node's default five minutes

  async function handle(req: http.IncomingMessage): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    const origin = `http://${req.headers.host ?? 'localhost'}`;
    const root = path.startsWith('/image') ? '/image' : '';
    if (path === '' || path === '/image' || path === '/versions' || path === '/image/versions') return { status: 300, body: versions(`${origin}${root}/v2/`) };
    const prefix = PREFIXES.find((p) => path === p || path.startsWith(`${p}/`));
    if (!prefix) throw notFound('The resource could not be found.');
    const rest = path.slice(prefix.length);
    if (rest === '') return { status: 200, body: versions(`${origin}${prefix}/`) };

    const method = req.method ?? 'GET';
    const { route, params, allowed } = router.match(method, rest);
    if (!route) {
      if (allowed.length) return { status: 405, headers: { Allow: [...new Set(allowed)].join(', ') }, body: new GlanceError(405, 'Method Not Allowed', `The method ${method} is not allowed for this resource.`).body() };
      throw notFound('The resource could not be found.');
    }
    // Authenticate before reading a body: an upload without a valid token is refused before any byte is taken.
    const auth = route.public ? undefined : await tokens.validate(req.headers['x-auth-token']);
    const body = route.raw ? undefined : await readJsonBody(req, MAX_JSON, { tooLarge: () => tooLarge('The request body is too large.'), malformed: () => badRequest('The request body is not valid JSON.') });
    const apiReq: ApiRequest<ImageAuth> = { method, path: rest, params, query: url.searchParams, headers: req.headers, body, base: `${origin}${prefix}`, auth, incoming: req };
    return route.handler(apiReq as never);
  }

  const listening = await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 9292);
  log.info('image API listening', { url: listening.url });
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
