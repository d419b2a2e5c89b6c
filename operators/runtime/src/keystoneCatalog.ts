/**
 * Another service's endpoint as a caller's token sees it in Keystone's catalog: how one service calls another on
 * a user's behalf (Nova's volume proxy calls Cinder so, as Nova's cinderclient finds Cinder).
 */

export interface CatalogService {
  type: string;
  endpoints: Array<{ interface: string; url: string; region_id?: string | null }>;
}

/**
 * The URL of the first service of `types` (in that order) at the first of `interfaces` it has. Pure.
 * Internal first: a service calling another stays inside the cloud where the catalog says how.
 */
export function endpointIn(catalog: CatalogService[], types: string[], interfaces = ['internal', 'public']): string | undefined {
  for (const type of types) {
    const service = catalog.find((s) => s.type === type);
    for (const iface of interfaces) {
      const url = service?.endpoints.find((e) => e.interface === iface)?.url;
      if (url) return url.replace(/\/+$/, '');
    }
  }
  return undefined;
}

export interface ServiceCatalogOptions {
  /** Keystone's v3 base URL. */
  identityUrl: string;
  /** How long a project's endpoint is reused before Keystone is asked again. */
  cacheSeconds?: number;
  /** The error for Keystone being unreachable or the service missing from the catalog (a 503 in the API's shape). */
  unavailable: (why: string) => Error;
}

const MAX_CACHED = 1000;

export class ServiceCatalog {
  private readonly cache = new Map<string, { url: string; until: number }>();

  constructor(private readonly opts: ServiceCatalogOptions) {}

  /** The endpoint of one of `types` in the catalog of `token`, whose project is `projectId` (the cache's key). */
  async endpoint(token: string, projectId: string, types: string[]): Promise<string> {
    const key = `${projectId}\n${types.join(',')}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.url;
    const res = await fetch(`${this.opts.identityUrl}/auth/catalog`, { headers: { 'X-Auth-Token': token } }).catch((e: Error) => {
      throw this.opts.unavailable(`The Keystone service is temporarily unavailable (${this.opts.identityUrl}: ${e.message}).`);
    });
    if (!res.ok) throw this.opts.unavailable(`The service catalog could not be read: Keystone answered ${res.status}.`);
    const url = endpointIn(((await res.json()) as { catalog: CatalogService[] }).catalog, types);
    if (!url) throw this.opts.unavailable(`No ${types.join(' or ')} endpoint is in the service catalog.`);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { url, until: Date.now() + (this.opts.cacheSeconds ?? 300) * 1000 });
    return url;
  }
}
