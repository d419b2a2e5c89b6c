/**
 * The Block Storage API v3 over HTTP, under `/v3` and `/volume/v3` (the path `stratus up`'s gateway uses),
 * with or without the project ID after the version. Every call but version discovery needs a Keystone
 * token. It reads from informer caches and writes through the Kubernetes API; the reconcilers do the rest.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Router, TokenValidator, apiServer, readJsonBody, serveApi, serviceCallOf, withAdmission, type AdmissionListener, type Logger, type RunningApi } from '@stratus/runtime';
import { admissionWebhooks } from './admissionRoutes.js';
import type { VolAuth } from './context.js';
import { on } from './context.js';
import { BlockStorageDirectory } from './directory.js';
import { CinderError, badRequest, notFound, unauthorized, unavailable } from './errors.js';
import { MAX_VERSION, MIN_VERSION, microversionOf } from './microversion.js';
import { backupRoutes } from './backupRoutes.js';
import { quotaRoutes } from './quotaRoutes.js';
import { transferRoutes } from './transferRoutes.js';
import { serviceRoutes } from './serviceRoutes.js';
import type { VolumeBackend } from '../backend/types.js';
import { snapshotRoutes } from './snapshotRoutes.js';
import { typeRoutes } from './typeRoutes.js';
import { encryptionRoutes } from './encryptionRoutes.js';
import { qosRoutes } from './qosRoutes.js';
import { groupTypeRoutes } from './groupTypeRoutes.js';
import { groupRoutes } from './groupRoutes.js';
import { groupSnapshotRoutes } from './groupSnapshotRoutes.js';
import { messageReaper, messageRoutes } from './messageRoutes.js';
import { volumeRoutes } from './volumeRoutes.js';

export interface BlockStorageApiOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  identityUrl: string;
  host?: string;
  port?: number;
  tokenCacheSeconds?: number;
  /** Where to serve the admission webhook (a listener of its own; https on a cluster). */
  admission?: AdmissionListener;
  /** This process's backends, for an admin's view of the services, hosts and pools. */
  backends?: VolumeBackend[];
}

/** The running API; admissionUrl where the webhook is served over TLS, when it is. */
export type BlockStorageApi = RunningApi<BlockStorageDirectory> & { admissionUrl?: string };

const MAX_JSON = 1 << 20;
const PREFIXES = ['/volume', ''];
export async function startBlockStorageApi(opts: BlockStorageApiOptions): Promise<BlockStorageApi> {
  const log = opts.logger;
  const client = new KubeClient(opts.kubeConfig);
  const dir = new BlockStorageDirectory(opts.kubeConfig, client, log);
  await dir.start();
  const tokens = new TokenValidator({ identityUrl: opts.identityUrl, serviceType: 'volumev3', cacheSeconds: opts.tokenCacheSeconds, unauthorized, unavailable, namespaceOfProject: (id) => dir.tenantByProjectId(id)?.metadata.name });
  const api = { dir, client, log, backends: opts.backends ?? [] };
  const router = new Router<VolAuth>();
  volumeRoutes(router, api);
  snapshotRoutes(router, api);
  backupRoutes(router, api);
  typeRoutes(router, api);
  encryptionRoutes(router, api);
  qosRoutes(router, api);
  groupTypeRoutes(router, api);
  groupRoutes(router, api);
  groupSnapshotRoutes(router, api);
  messageRoutes(router, api);
  quotaRoutes(router, api);
  transferRoutes(router, api);
  serviceRoutes(router, api, opts.backends ?? []);
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
  // The version's own document (GET /v3, /v3/): a route, since /v3 lies under the /volume prefix.
  router.public('GET', '/v3', (req) => ({ status: 200, body: { versions: [versionDoc(req.base, '')] } }));
  const server = apiServer<VolAuth>({
    name: 'block-storage',
    log,
    router,
    prefixes: PREFIXES,
    jsonType: 'application/json',
    discovery(path, origin) {
      const mount = path.startsWith('/volume') ? '/volume' : '';
      if (path === mount || path === '') return { status: 300, body: { versions: [versionDoc(origin, mount)] } };
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
  const running = await serveApi(server, { name: 'block-storage', host: opts.host ?? '127.0.0.1', port: opts.port ?? 8776, directory: dir, router, log });
  const reaper = messageReaper(api, log);
  return withAdmission({ ...running, close: () => (reaper.stop(), running.close()) }, admissionWebhooks(api), opts.admission, log);
}
