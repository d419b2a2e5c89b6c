/** /v3/services, /v3/endpoints and /v3/regions: the catalog, kept as Service and Endpoint resources. */
import { displayNameOf, objectNameFor, type KubeClient } from '@stratus/runtime';
import { DEFAULT_REGION } from '../kinds.js';
import { ENDPOINTS, SERVICES, type CatalogEndpoint, type CatalogService } from '../resources.js';
import { API_FIELD_MANAGER, committed, entity, freeName, gone, matches, optionalBoolean, optionalString, requireAdmin } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, notFound } from './errors.js';
import type { Router } from './router.js';
import { ensureRegion, regionRoutes } from './regionRoutes.js';
import { endpointView, serviceView } from './views.js';

const INTERFACES = ['public', 'internal', 'admin'];

export function catalogRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const findService = (id: string) => dir.services.require(id, 'service');
  const findEndpoint = (id: string) => dir.endpoints.require(id, 'endpoint');
  const list = (base: string, key: string, items: unknown[]) => ({ status: 200, body: { [key]: items, links: { self: `${base}/${key}`, next: null, previous: null } } });

  // Keystone's list_services and list_endpoints are an administrator's calls, as their shows are.
  router.on('GET', '/services', (req) => {
    requireAdmin(req.auth);
    return list(req.base, 'services', dir.services.all().map((s) => serviceView(s, req.base)).filter((s) => matches(req.query, { type: s.type, name: s.name })));
  });
  // Keystone's get_service and get_endpoint are an administrator's calls; others read the catalog in their token.
  router.on('GET', '/services/:id', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { service: serviceView(findService(req.params.id), req.base) } };
  });
  router.on('POST', '/services', async (req) => {
    requireAdmin(req.auth);
    const s = entity(req.body, 'service');
    const type = optionalString(s, 'type', 'service');
    if (!type) throw badRequest("Invalid input for field 'service.type': a type is required.");
    // Service names are free text and need not be unique; Endpoints refer to the derived object name.
    const display = freeName(s.name ?? type, 'service', 255);
    const name = objectNameFor(display, (n) => !!dir.services.named(n), 'service');
    const body: CatalogService = {
      apiVersion: 'identity.stratus.io/v1alpha1',
      kind: 'Service',
      metadata: { name },
      spec: { displayName: display, type, description: optionalString(s, 'description', 'service'), enabled: optionalBoolean(s, 'enabled', 'service') ?? true },
    };
    const created = await committed(dir.services, client.create(SERVICES, body, API_FIELD_MANAGER), `service ${name}`);
    return { status: 201, body: { service: serviceView(created, req.base) } };
  });
  router.on('PATCH', '/services/:id', async (req) => {
    requireAdmin(req.auth);
    const svc = findService(req.params.id);
    const s = entity(req.body, 'service');
    const spec: Partial<CatalogService['spec']> = {};
    if (s.name !== undefined && s.name !== displayNameOf(svc)) spec.displayName = freeName(s.name, 'service', 255);
    if (s.type !== undefined) spec.type = optionalString(s, 'type', 'service');
    if (s.description !== undefined) spec.description = optionalString(s, 'description', 'service') ?? '';
    if (s.enabled !== undefined) spec.enabled = optionalBoolean(s, 'enabled', 'service');
    const updated = await committed(dir.services, client.patch<CatalogService>(SERVICES, undefined, svc.metadata.name, { spec }, API_FIELD_MANAGER), `service ${svc.metadata.name}`);
    return { status: 200, body: { service: serviceView(updated, req.base) } };
  });
  router.on('DELETE', '/services/:id', async (req) => {
    requireAdmin(req.auth);
    const svc = findService(req.params.id);
    // Keystone deletes a service's endpoints with it.
    for (const e of dir.endpoints.all().filter((e) => e.spec.service === svc.metadata.name)) await client.delete(ENDPOINTS, undefined, e.metadata.name);
    await client.delete(SERVICES, undefined, svc.metadata.name);
    await gone(dir.services, svc.metadata.name);
    return { status: 204 };
  });

  router.on('GET', '/endpoints', (req) => {
    requireAdmin(req.auth);
    return list(
      req.base,
      'endpoints',
      dir.endpoints
        .all()
        .map((e) => endpointView(e, dir, req.base))
        .filter((e) => matches(req.query, { service_id: e.service_id, interface: e.interface, region_id: e.region_id, enabled: e.enabled })),
    );
  });
  router.on('GET', '/endpoints/:id', (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { endpoint: endpointView(findEndpoint(req.params.id), dir, req.base) } };
  });
  router.on('POST', '/endpoints', async (req) => {
    requireAdmin(req.auth);
    const e = entity(req.body, 'endpoint');
    const svc = findServiceForWrite(e.service_id);
    const iface = optionalString(e, 'interface', 'endpoint');
    if (!iface || !INTERFACES.includes(iface)) throw badRequest(`Invalid input for field 'endpoint.interface': expected one of ${INTERFACES.join(', ')}.`);
    const url = optionalString(e, 'url', 'endpoint');
    if (!url || !/^https?:\/\//.test(url)) throw badRequest("Invalid input for field 'endpoint.url': an http or https URL is required.");
    const region = optionalString(e, 'region_id', 'endpoint') ?? optionalString(e, 'region', 'endpoint') ?? DEFAULT_REGION;
    // Named the old way (`region`), a new region is made, as Keystone does; the default one always exists.
    if (e.region_id === undefined && e.region !== undefined && region !== DEFAULT_REGION) await ensureRegion(dir, client, region);
    const body: CatalogEndpoint = {
      apiVersion: 'identity.stratus.io/v1alpha1',
      kind: 'Endpoint',
      metadata: { name: '', generateName: `${svc.metadata.name}-${iface}-` },
      spec: { service: svc.metadata.name, interface: iface as CatalogEndpoint['spec']['interface'], region, url, enabled: optionalBoolean(e, 'enabled', 'endpoint') ?? true },
    };
    const created = await committed(dir.endpoints, client.create(ENDPOINTS, body, API_FIELD_MANAGER), 'endpoint');
    return { status: 201, body: { endpoint: endpointView(created, dir, req.base) } };
  });
  function findServiceForWrite(id: unknown): CatalogService {
    if (typeof id !== 'string' || !id) throw badRequest("Invalid input for field 'endpoint.service_id': a service ID is required.");
    const s = dir.services.byOpenstackId(id);
    if (!s) throw badRequest(`Invalid input for field 'endpoint.service_id': service ${id} does not exist.`);
    return s;
  }
  router.on('PATCH', '/endpoints/:id', async (req) => {
    requireAdmin(req.auth);
    const ep = findEndpoint(req.params.id);
    const e = entity(req.body, 'endpoint');
    const spec: Partial<CatalogEndpoint['spec']> = {};
    if (e.service_id !== undefined) spec.service = findServiceForWrite(e.service_id).metadata.name;
    if (e.interface !== undefined) {
      if (!INTERFACES.includes(e.interface)) throw badRequest(`Invalid input for field 'endpoint.interface': expected one of ${INTERFACES.join(', ')}.`);
      spec.interface = e.interface;
    }
    if (e.url !== undefined) spec.url = optionalString(e, 'url', 'endpoint');
    if (e.region_id !== undefined || e.region !== undefined) spec.region = optionalString(e, 'region_id', 'endpoint') ?? optionalString(e, 'region', 'endpoint');
    if (e.region_id === undefined && e.region !== undefined && spec.region && spec.region !== DEFAULT_REGION) await ensureRegion(dir, client, spec.region);
    if (e.enabled !== undefined) spec.enabled = optionalBoolean(e, 'enabled', 'endpoint');
    const updated = await committed(dir.endpoints, client.patch<CatalogEndpoint>(ENDPOINTS, undefined, ep.metadata.name, { spec }, API_FIELD_MANAGER), 'endpoint');
    return { status: 200, body: { endpoint: endpointView(updated, dir, req.base) } };
  });
  router.on('DELETE', '/endpoints/:id', async (req) => {
    requireAdmin(req.auth);
    const ep = findEndpoint(req.params.id);
    await client.delete(ENDPOINTS, undefined, ep.metadata.name);
    await gone(dir.endpoints, ep.metadata.name);
    return { status: 204 };
  });

  regionRoutes(router, dir, client, list);
}
