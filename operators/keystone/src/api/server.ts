/**
 * The Identity API v3 over HTTP. It answers under `/v3` and under `/identity/v3` (the path `stratus up`'s
 * gateway uses), reads from informer caches and writes through the Kubernetes API.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, accessRuleAllows, apiServer, readJsonBody, serveApi, serviceCallOf, type Logger, type RunningApi } from '@stratus/runtime';
import { Authenticator, type AuthContext } from './auth.js';
import { authRoutes } from './authRoutes.js';
import { tokenReviewRoutes } from './tokenReviewRoutes.js';
import { catalogRoutes } from './catalogRoutes.js';
import { IdentityDirectory } from './directory.js';
import { IdentityError, badRequest, unauthorized } from './errors.js';
import { appCredentialRoutes } from './appCredentialRoutes.js';
import { accessRuleRoutes } from './accessRuleRoutes.js';
import { policyRoutes } from './policyRoutes.js';
import { endpointGroupRoutes } from './endpointGroupRoutes.js';
import { credentialRoutes } from './credentialRoutes.js';
import type { SecurityCompliance } from '../securityCompliance.js';
import { domainConfigRoutes } from './domainConfigRoutes.js';
import { domainRoutes } from './domainRoutes.js';
import { groupRoutes } from './groupRoutes.js';
import { projectRoutes } from './projectRoutes.js';
import { roleRoutes } from './roleRoutes.js';
import { Router } from './router.js';
import { userRoutes } from './userRoutes.js';

export interface IdentityApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  host?: string;
  port?: number;
  /** Keystone's [token] expiration: an hour unless told. */
  tokenExpirationSeconds?: number;
  /** Keystone's [security_compliance] account rules; off unless given. */
  compliance?: SecurityCompliance;
}

export type IdentityApi = RunningApi<IdentityDirectory>;

const MAX_BODY = 1 << 20;
const PREFIXES = ['/identity/v3', '/v3'];
const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];

const versionDoc = (href: string) => ({ id: 'v3.14', status: 'stable', updated: '2020-04-07T00:00:00Z', links: [{ rel: 'self', href }], 'media-types': MEDIA_TYPES });

export async function startIdentityApi(opts: IdentityApiOptions): Promise<IdentityApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new IdentityDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const auth = new Authenticator(dir, client, opts.tokenExpirationSeconds ?? 3600, opts.compliance);
  await auth.ensureKeyRing();

  const router = new Router();
  authRoutes(router, dir, auth);
  tokenReviewRoutes(router, dir, auth);
  projectRoutes(router, dir, client);
  domainConfigRoutes(router, dir, client);
  domainRoutes(router, dir, client);
  groupRoutes(router, dir, client);
  credentialRoutes(router, dir, client);
  appCredentialRoutes(router, dir, client);
  accessRuleRoutes(router, dir, client);
  policyRoutes(router, dir, client);
  endpointGroupRoutes(router, dir, client);
  userRoutes(router, dir, client, auth);
  roleRoutes(router, dir, client);
  catalogRoutes(router, dir, client);

  const server = apiServer<AuthContext>({
    name: 'identity',
    log,
    router,
    prefixes: PREFIXES,
    headers: { Vary: 'X-Auth-Token' },
    discovery(path, origin, prefix) {
      if (prefix) return { status: 200, body: { version: versionDoc(`${origin}${prefix}/`) } };
      if (path === '' || path === '/identity') return { status: 300, body: { versions: { values: [versionDoc(`${origin}${path === '' ? '/v3' : '/identity/v3'}/`)] } } };
      return undefined;
    },
    // Keystone reads the body first, then checks the token it validates itself.
    async prepare(route, req) {
      const body = await readJsonBody(req, MAX_BODY, { tooLarge: () => new IdentityError(413, 'Request Entity Too Large', 'Request is too large.'), malformed: () => badRequest('The request body is not valid JSON.') });
      if (route.public) return { body };
      const token = req.headers['x-auth-token'];
      if (typeof token !== 'string' || !token) throw unauthorized();
      const ctx = auth.validate(token, 'auth');
      // Keystone is a service too: a token bound by access rules makes only the identity calls they name, but
      // for validating itself, which is how the other services here check it.
      const call = serviceCallOf(req, '/identity');
      const selfCheck = req.headers['x-subject-token'] === token && /^\/v3\/auth\/tokens\/?$/.test(call.path) && (call.method === 'GET' || call.method === 'HEAD');
      if (ctx.appCred?.accessRules.length && !selfCheck && !accessRuleAllows(ctx.appCred.accessRules, 'identity', call.method, call.path)) throw unauthorized();
      return { body, auth: ctx };
    },
    answerFor: (err) => (err instanceof IdentityError ? { status: err.code, body: err.body() } : undefined),
    notFound: () => new IdentityError(404, 'Not Found', 'The resource could not be found.'),
    methodNotAllowed: (method) => ({ error: { code: 405, title: 'Method Not Allowed', message: `The method ${method} is not supported for this resource.` } }),
    internalError: () => ({ error: { code: 500, title: 'Internal Server Error', message: 'An unexpected error prevented the server from fulfilling your request.' } }),
  });

  return serveApi(server, { name: 'identity', host: opts.host ?? '127.0.0.1', port: opts.port ?? 5000, directory: dir, router, log });
}
