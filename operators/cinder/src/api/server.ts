/**
 * The Block Storage API v3 over HTTP, under `/v3` and `/volume/v3` (the path `stratus up`'s gateway uses),
 * with or without the project ID after the version. Every call but version discovery needs a Keystone
 * token. It reads from informer caches and writes through the Kubernetes API; the reconcilers do the rest.
 */
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Router, TokenValidator, apiServer, readJsonBody, serveApi, serviceCallOf, type Logger, type RunningApi } from '@stratus/runtime';
import type { VolAuth } from './context.js';
import { on } from './context.js';
import { BlockStorageDirectory } from './directory.js';
import { CinderError, badRequest, notFound, unauthorized, unavailable } from './errors.js';
import { backupRoutes } from './backupRoutes.js';
import { quotaRoutes } from './quotaRoutes.js';
import { snapshotRoutes } from './snapshotRoutes.js';
import { typeRoutes } from './typeRoutes.js';
import { volumeRoutes } from './volumeRoutes.js';

export interface BlockStorageApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  identityUrl: string;
  host?: string;
  port?: number;
  tokenCacheSeconds?: number;
}

export type BlockStorageApi = RunningApi<BlockStorageDirectory>;

const MAX_JSON = 1 << 20;
const PREFIXES = ['/volume', ''];
export const MIN_VERSION = '3.0';
/** The newest microversion served: what python3-openstackclient 6.0 and Tempest ask of (none past it). */
export const MAX_VERSION = '3.60';

/** The microversion asked for (OpenStack-API-Version: volume 3.x), checked; 3.0 when none is asked. */
export function microversionOf(req: IncomingMessage): string {
  const header = String(req.headers['openstack-api-version'] ?? '');
  const m = /volume\s+(\S+)/i.exec(header);
  const asked = m?.[1] ?? '3.0';
  if (asked === 'latest') return MAX_VERSION;
  const v = /^(\d+)\.(\d+)$/.exec(asked);
  const num = (s: string) => s.split('.').map(Number);
  if (!v) throw badRequest(`Invalid API version ${asked}`);
  const [maj, min] = [Number(v[1]), Number(v[2])];
  const [, maxMin] = num(MAX_VERSION);
  if (maj !== 3 || min > maxMin) throw new CinderError(406, `Version ${asked} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`);
  return asked;
}

export async function startBlockStorageApi(opts: BlockStorageApiOptions): Promise<BlockStorageApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new BlockStorageDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, serviceType: 'volumev3', cacheSeconds: opts.tokenCacheSeconds, unauthorized, unavailable, namespaceOfProject: (id) => dir.tenantByProjectId(id)?.metadata.name });
  const api = { dir, client, log };
  const router = new Router<VolAuth>();
  volumeRoutes(router, api);
  snapshotRoutes(router, api);
  backupRoutes(router, api);
  typeRoutes(router, api);
  quotaRoutes(router, api);
  on(router, 'GET', '/os-availability-zone', () => ({ status: 200, body: { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] } }));
  on(router, 'GET', '/extensions', () => ({
    status: 200,
    body: {
      extensions: [
        ['os-extended-snapshot-attributes', 'ExtendedSnapshotAttributes'],
        ['os-vol-tenant-attr', 'VolumeTenantAttribute'],
        ['os-vol-host-attr', 'VolumeHostAttribute'],
        ['os-volume-actions', 'VolumeActions'],
        ['os-quota-sets', 'Quotas'],
        ['os-availability-zone', 'AvailabilityZones'],
        ['backups', 'Backups'],
        ['os-types-manage', 'TypesManage'],
        ['os-volume-type-access', 'VolumeTypeAccess'],
        ['os-vol-image-meta', 'VolumeImageMetadata'],
      ].map(([alias, name]) => ({ alias, name, description: `${name} support.`, links: [], updated: '2013-01-01T00:00:00+00:00' })),
    },
  }));

  const versionDoc = (origin: string, mount: string) => ({
    id: 'v3.0',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: '2022-08-31T00:00:00Z',
    links: [{ rel: 'self', href: `${origin}${mount}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  });
  const server = apiServer<VolAuth>({
    name: 'block-storage',
    log,
    router,
    prefixes: PREFIXES,
    jsonType: 'application/json',
    discovery(path, origin) {
      const mount = path.startsWith('/volume') ? '/volume' : '';
      if (path === mount || path === '') return { status: 300, body: { versions: [versionDoc(origin, mount)] } };
      if (path === `${mount}/v3`) return { status: 200, body: { versions: [versionDoc(origin, mount)] } };
      return undefined;
    },
    async prepare(route, req) {
      microversionOf(req);
      const auth = route.public ? undefined : await tokens.validate(req.headers['x-auth-token'], serviceCallOf(req, '/volume'));
      const body = await readJsonBody(req, MAX_JSON, { tooLarge: () => new CinderError(413, 'Request is too large.'), malformed: () => badRequest('Malformed request body') });
      return { auth, body };
    },
    headersFor(req) {
      let v = '3.0';
      try {
        v = microversionOf(req);
      } catch {
        /* the answer says why */
      }
      return { 'OpenStack-API-Version': `volume ${v}`, Vary: 'OpenStack-API-Version' };
    },
    answerFor: (err) => (err instanceof CinderError ? { status: err.status, body: err.body() } : undefined),
    notFound: () => notFound('The resource could not be found.'),
    methodNotAllowed: () => new CinderError(405, 'The method is not allowed for this resource.').body(),
    internalError: () => new CinderError(500, 'The server has either erred or is incapable of performing the requested operation.').body(),
  });
  return serveApi(server, { name: 'block-storage', host: opts.host ?? '127.0.0.1', port: opts.port ?? 8776, directory: dir, router, log });
}
