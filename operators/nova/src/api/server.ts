/**
 * The Compute API v2.1 over HTTP, under `/v2.1` and `/compute/v2.1` (the path `stratus up`'s gateway uses).
 * Every call but version discovery needs a Keystone token; each is served at the microversion it asks for.
 * It reads from informer caches and writes through the Kubernetes API.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KeyedLock, KubeClient, Router, TokenValidator, apiServer, hasBody, readJsonBody, serveApi, ServiceCatalog, serviceCallOf, withAdmission, type AdmissionListener, type Logger, type RunningApi } from '@stratus/runtime';
import { agentToken } from '../agent/agentApi.js';
import { DEFAULT_CONSOLE_TOKEN_TTL_SECONDS } from '../console/tokens.js';
import { actionRoutes } from './actionRoutes.js';
import { flavorRoutes, keypairRoutes, serverGroupRoutes } from './catalogRoutes.js';
import { API_FIELD_MANAGER, type ComputeApiContext, type ComputeAuth } from './context.js';
import { ComputeDirectory } from './directory.js';
import { NovaError, Unauthenticated, badRequest, notFound } from './errors.js';
import { quotaRoutes } from './quotaRoutes.js';
import { instanceActionRoutes } from './instanceActions.js';
import { imageProxyRoutes } from './imageProxyRoutes.js';
import { tagRoutes } from './tagRoutes.js';
import { interfaceRoutes } from './interfaceRoutes.js';
import { volumeAttachmentRoutes } from './volumeAttachmentRoutes.js';
import { networkProxyRoutes } from './networkProxyRoutes.js';
import { volumeProxyRoutes } from './volumeProxyRoutes.js';
import { floatingIpProxyRoutes } from './floatingIpProxyRoutes.js';
import { serviceRoutes } from './serviceRoutes.js';
import { auditLogRoutes, usageRoutes } from './usageRoutes.js';
import { aggregateRoutes } from './aggregateRoutes.js';
import { hostRoutes } from './hostRoutes.js';
import { extensionRoutes } from './extensionRoutes.js';
import { passwordRoutes } from './passwordRoutes.js';
import { externalEventRoutes } from './externalEventRoutes.js';
import { diagnosticsRoutes } from './diagnosticsRoutes.js';
import { migrationRoutes } from './migrationRoutes.js';
import { infoRoutes } from './infoRoutes.js';
import { admissionWebhooks } from './admissionRoutes.js';
import { MAX_VERSION, MIN_VERSION, Microversion, requestedVersion, versionHeaders } from './microversion.js';
import { serverRoutes } from './serverRoutes.js';

export interface ComputeApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Keystone's v3 URL, where tokens are validated. */
  identityUrl: string;
  host?: string;
  port?: number;
  tokenCacheSeconds?: number;
  /** Nova's enable_instance_password: answer create and rebuild with the admin password (default true). */
  enableInstancePassword?: boolean;
  /** Nova's [vnc] novncproxy_base_url (default: `/console/vnc_lite.html` on the host the client called) and [consoleauth] token_ttl. */
  console?: { baseUrl?: string; tokenTtlSeconds?: number };
  /** Where to serve the admission webhook (a listener of its own; https on a cluster). */
  admission?: AdmissionListener;
}

/** The running API; admissionUrl where the webhook is served over TLS, when it is. */
export type ComputeApi = RunningApi<ComputeDirectory> & { admissionUrl?: string };

const MAX_JSON = 1 << 20;
const PREFIXES = ['/compute/v2.1', '/v2.1', '/compute/v2', '/v2'];
const JSON_TYPES = new Set(['application/json', 'application/vnd.openstack.compute+json']);
/** Nova's legacy v2.0 endpoint: the same API, without microversions (always 2.1's behaviour). */
const LEGACY = /^(\/compute)?\/v2(\/|$)/;
/** What a legacy v2.0 request is served as: 2.1, lenient about unknown body fields. */
const LEGACY_V2 = new Microversion(2, 1, true);
const UPDATED = '2013-07-23T11:33:21Z';

const versionDoc = (href: string) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: MAX_VERSION,
  min_version: MIN_VERSION,
  updated: UPDATED,
  links: [{ rel: 'self', href }],
});

const legacyDoc = (href: string) => ({ id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z', links: [{ rel: 'self', href }] });

export async function startComputeApi(opts: ComputeApiOptions): Promise<ComputeApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new ComputeDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, serviceType: 'compute', cacheSeconds: opts.tokenCacheSeconds, unauthorized: () => new Unauthenticated(), unavailable: (why) => new NovaError(503, why), namespaceOfProject: (id) => dir.tenants.byId(id)?.metadata.name });
  let token: Promise<string> | undefined;
  const api: ComputeApiContext = {
    dir,
    client,
    log,
    enableInstancePassword: opts.enableInstancePassword ?? true,
    admission: new KeyedLock(),
    console: { ...(opts.console?.baseUrl ? { baseUrl: opts.console.baseUrl } : {}), tokenTtlSeconds: opts.console?.tokenTtlSeconds ?? DEFAULT_CONSOLE_TOKEN_TTL_SECONDS },
    // Read once; on failure asked again next time.
    catalog: new ServiceCatalog({ identityUrl: opts.identityUrl, unavailable: (why) => new NovaError(503, why) }),
    agentToken: () => (token ??= agentToken(client, API_FIELD_MANAGER).catch((e) => ((token = undefined), Promise.reject(e)))),
  };

  const router = new Router<ComputeAuth>();
  serverRoutes(router, api);
  actionRoutes(router, api, floatingIpProxyRoutes(router, api));
  flavorRoutes(router, api);
  keypairRoutes(router, api);
  serverGroupRoutes(router, api);
  infoRoutes(router, api);
  quotaRoutes(router, api);
  instanceActionRoutes(router, api);
  imageProxyRoutes(router, api);
  tagRoutes(router, api);
  interfaceRoutes(router, api);
  volumeAttachmentRoutes(router, api);
  networkProxyRoutes(router, api);
  volumeProxyRoutes(router, api);
  serviceRoutes(router, api);
  usageRoutes(router, api);
  auditLogRoutes(router, api);
  aggregateRoutes(router, api);
  hostRoutes(router, api);
  extensionRoutes(router);
  passwordRoutes(router, api);
  externalEventRoutes(router, api);
  diagnosticsRoutes(router, api);
  migrationRoutes(router, api);

  const server = apiServer<ComputeAuth>({
    name: 'compute',
    log,
    router,
    prefixes: PREFIXES,
    discovery(path, origin, prefix) {
      if (prefix && LEGACY.test(prefix)) return { status: 200, body: { version: { ...legacyDoc(`${origin}${prefix}/`), 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2' }] } } };
      if (prefix) return { status: 200, body: { version: { ...versionDoc(`${origin}${prefix}/`), 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }] } } };
      if (path === '' || path === '/compute') {
        const root = `${origin}${path}`;
        return { status: 200, body: { versions: [legacyDoc(`${root}/v2/`), versionDoc(`${root}/v2.1/`)] } };
      }
      return undefined;
    },
    async prepare(route, req) {
      const version = LEGACY.test(req.url ?? '') ? LEGACY_V2 : requestedVersion(req.headers);
      const auth = route.public ? undefined : { ...(await tokens.validate(req.headers['x-auth-token'], serviceCallOf(req, '/compute'))), version };
      // Nova takes JSON only: a body of another declared type is 415, as its WSGI layer answers.
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (hasBody(req) && type && !JSON_TYPES.has(type)) throw new NovaError(415, 'Unsupported Content-Type');
      const body = await readJsonBody(req, MAX_JSON, { tooLarge: () => new NovaError(413, 'Request is too large.'), malformed: () => badRequest('Malformed request body') });
      return { auth, body };
    },
    requestIdHeaders: ['x-openstack-request-id', 'x-compute-request-id'],
    headersFor(req) {
      try {
        return versionHeaders(requestedVersion(req.headers));
      } catch {
        return {};
      }
    },
    answerFor: (err) => (err instanceof NovaError ? { status: err.status, body: err.body() } : err instanceof Unauthenticated ? { status: 401, body: err.body(), headers: { 'WWW-Authenticate': `Keystone uri="${opts.identityUrl}"` } } : undefined),
    notFound: () => notFound('The resource could not be found.'),
    methodNotAllowed: () => new NovaError(405, 'The method specified is not allowed for this resource.').body(),
    internalError: () => new NovaError(500, 'Unexpected API Error. Please report this at the Stratus issue tracker and attach the Nova API log if possible.').body(),
  });

  const running = await serveApi(server, { name: 'compute', host: opts.host ?? '127.0.0.1', port: opts.port ?? 8774, directory: dir, router, log });
  return withAdmission(running, admissionWebhooks(api), opts.admission, log);
}
