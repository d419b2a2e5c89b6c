/**
 * The Image API v2 over HTTP, under `/v2` and `/image/v2` (the path `stratus up`'s gateway uses). Every call
 * but version discovery needs a Keystone token. It reads from informer caches and writes through the
 * Kubernetes API; image data streams between the client and S3.
 */
import { DEFAULT_IMPORT_FILTER, type ImportFilter } from '../importFilter.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Router, TokenValidator, apiServer, readJsonBody, serveApi, serviceCallOf, withAdmission, type AdmissionListener, type Logger, type RunningApi } from '@stratus/runtime';
import { DEFAULT_SIZE_CAP } from '../imageData.js';
import type { ImageStore } from '../store/imageStore.js';
import type { GlanceApi } from './context.js';
import { ImageDirectory } from './directory.js';
import { imageSchema } from './documents.js';
import { GlanceError, badRequest, notFound, tooLarge, unauthorized } from './errors.js';
import { memberRoutes, memberSchemas } from './memberRoutes.js';
import { metadefRoutes } from './metadefRoutes.js';
import { fileRoutes } from './fileRoutes.js';
import { imageRoutes } from './imageRoutes.js';
import { admissionWebhooks } from './admissionRoutes.js';
import type { ImageAuth } from './tokens.js';

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
  /** Which URLs web-download may name (default: Glance's, and no address that is not public). */
  importFilter?: ImportFilter;
  /** An upload that sends nothing for this long is abandoned (default 60). */
  uploadIdleSeconds?: number;
  /** Where to serve the admission webhook (a listener of its own; https on a cluster). */
  admission?: AdmissionListener;
}

/** The running API; admissionUrl where the webhook is served over TLS, when it is. */
export type ImageApi = RunningApi<ImageDirectory> & { admissionUrl?: string };

const MAX_JSON = 1 << 20;
const PREFIXES = ['/image/v2', '/v2'];
/** The newest Image API version whose calls this serves. */
const VERSION = 'v2.16';

const versions = (href: string) => ({ versions: [{ id: VERSION, status: 'CURRENT', links: [{ rel: 'self', href }] }] });

export async function startImageApi(opts: ImageApiOptions): Promise<ImageApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new ImageDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, serviceType: 'image', cacheSeconds: opts.tokenCacheSeconds, unauthorized: () => unauthorized(), unavailable: (why) => new GlanceError(503, 'Service Unavailable', why), namespaceOfProject: (id) => dir.tenantByProjectId(id)?.metadata.name });
  const api: GlanceApi = { dir, client, store: opts.store, sizeCap: opts.sizeCap ?? DEFAULT_SIZE_CAP, log, importFilter: opts.importFilter ?? DEFAULT_IMPORT_FILTER, uploadIdleMs: (opts.uploadIdleSeconds ?? 60) * 1000 };

  const router = new Router<ImageAuth>();
  imageRoutes(router, api);
  fileRoutes(router, api);
  memberRoutes(router, api);
  metadefRoutes(router, api);
  router.on('GET', '/schemas/member', () => ({ status: 200, body: memberSchemas.member }));
  router.on('GET', '/schemas/members', () => ({ status: 200, body: memberSchemas.members }));
  router.on('GET', '/schemas/image', () => ({ status: 200, body: imageSchema() }));
  router.on('GET', '/schemas/images', () => ({
    status: 200,
    body: { name: 'images', properties: { images: { type: 'array', items: imageSchema() }, schema: { type: 'string' }, first: { type: 'string' }, next: { type: 'string' } }, links: [{ rel: 'first', href: '{first}' }, { rel: 'next', href: '{next}' }, { rel: 'describedby', href: '{schema}' }] },
  }));

  const server = apiServer<ImageAuth>({
    name: 'image',
    log,
    router,
    prefixes: PREFIXES,
    jsonType: 'application/json; charset=UTF-8',
    discovery(path, origin, prefix) {
      if (prefix) return { status: 200, body: versions(`${origin}${prefix}/`) };
      if (['', '/image', '/versions', '/image/versions'].includes(path)) return { status: 300, body: versions(`${origin}${path.startsWith('/image') ? '/image' : ''}/v2/`) };
      return undefined;
    },
    // Authenticate before reading a body: an upload without a valid token is refused before any byte is taken.
    async prepare(route, req) {
      const auth = route.public ? undefined : await tokens.validate(req.headers['x-auth-token'], serviceCallOf(req, '/image'));
      const body = route.raw ? undefined : await readJsonBody(req, MAX_JSON, { tooLarge: () => tooLarge('The request body is too large.'), malformed: () => badRequest('The request body is not valid JSON.') });
      return { auth, body };
    },
    answerFor: (err) => (err instanceof GlanceError ? { status: err.status, body: err.body(), headers: (err as { headers?: Record<string, string> }).headers } : undefined),
    notFound: () => notFound('The resource could not be found.'),
    methodNotAllowed: (method) => new GlanceError(405, 'Method Not Allowed', `The method ${method} is not allowed for this resource.`).body(),
    internalError: () => ({ message: 'An unexpected error prevented the server from fulfilling your request.', code: '500 Internal Server Error', title: 'Internal Server Error' }),
  });
  server.requestTimeout = 0; // an image upload may take longer than Node's default five minutes

  const running = await serveApi(server, { name: 'image', host: opts.host ?? '127.0.0.1', port: opts.port ?? 9292, directory: dir, router, log });
  return withAdmission(running, admissionWebhooks(api), opts.admission, log);
}
