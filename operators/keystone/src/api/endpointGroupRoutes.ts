/**
 * /v3/OS-EP-FILTER: endpoint groups (EndpointGroup resources: filters on interface, service and region) and
 * their projects. A project associated with groups gets only their endpoints in its catalog.
 */
import { displayNameOf, objectNameFor, type KubeClient } from '@stratus/runtime';
import { ENDPOINT_GROUPS, openstackId, type EndpointGroup, type Tenant } from '../resources.js';
import { API_FIELD_MANAGER, committed, entity, freeName, gone, matches, optionalString, requireAdmin } from './common.js';
import type { IdentityDirectory } from './directory.js';
import { badRequest, notFound } from './errors.js';
import type { Router } from './router.js';
import { endpointView, inEndpointGroup, projectView } from './views.js';

const PREFIX = '/OS-EP-FILTER';
const FILTERS = ['interface', 'service_id', 'region_id'];

export function endpointGroupRoutes(router: Router, dir: IdentityDirectory, client: KubeClient) {
  const find = (id: string) => dir.endpointGroups.require(id, 'endpoint group');
  const findProject = (id: string) => dir.tenants.require(id, 'project');
  const list = (base: string, path: string, key: string, items: unknown[]) => ({ status: 200, body: { [key]: items, links: { self: `${base}${path}`, next: null, previous: null } } });
  const view = (g: EndpointGroup, base: string) => {
    const id = openstackId(g.metadata.uid);
    const f = g.spec.filters ?? {};
    const service = f.service ? dir.services.named(f.service) : undefined;
    const filters = { ...(f.interface ? { interface: f.interface } : {}), ...(service ? { service_id: openstackId(service.metadata.uid) } : {}), ...(f.region ? { region_id: f.region } : {}) };
    return { id, name: displayNameOf(g), description: g.spec.description ?? '', filters, links: { self: `${base}${PREFIX}/endpoint_groups/${id}` } };
  };
  /** Keystone's filters, checked, as the spec keeps them (a service by its object name). */
  const filtersOf = (f: unknown): EndpointGroup['spec']['filters'] => {
    if (!f || typeof f !== 'object' || Array.isArray(f)) throw badRequest("Invalid input for field 'endpoint_group.filters': an object of interface, service_id and region_id.");
    const given = f as Record<string, unknown>;
    const unknown = Object.keys(given).filter((k) => !FILTERS.includes(k));
    if (unknown.length) throw badRequest(`Invalid input for field 'endpoint_group.filters': unknown ${unknown.join(', ')}.`);
    const service = typeof given.service_id === 'string' ? dir.services.byOpenstackId(given.service_id) : undefined;
    if (given.service_id !== undefined && !service) throw badRequest(`Invalid input for field 'endpoint_group.filters': no service ${String(given.service_id)}.`);
    if (given.interface !== undefined && !['public', 'internal', 'admin'].includes(String(given.interface))) throw badRequest("Invalid input for field 'endpoint_group.filters.interface'.");
    return { ...(given.interface ? { interface: String(given.interface) } : {}), ...(service ? { service: service.metadata.name } : {}), ...(given.region_id ? { region: String(given.region_id) } : {}) };
  };
  const setProjects = (g: EndpointGroup, projects: string[]) =>
    committed(dir.endpointGroups, client.patch<EndpointGroup>(ENDPOINT_GROUPS, undefined, g.metadata.name, { spec: { projects } }, API_FIELD_MANAGER), `endpoint group ${displayNameOf(g)}`);
  const live = () => dir.endpointGroups.all().filter((g) => !g.metadata.deletionTimestamp);

  router.on('GET', `${PREFIX}/endpoint_groups`, (req) => {
    requireAdmin(req.auth);
    return list(req.base, `${PREFIX}/endpoint_groups`, 'endpoint_groups', live().map((g) => view(g, req.base)).filter((g) => matches(req.query, { name: g.name })));
  });
  router.on('GET', `${PREFIX}/endpoint_groups/:id`, (req) => {
    requireAdmin(req.auth);
    return { status: 200, body: { endpoint_group: view(find(req.params.id), req.base) } };
  });
  router.on('HEAD', `${PREFIX}/endpoint_groups/:id`, (req) => {
    requireAdmin(req.auth);
    find(req.params.id);
    return { status: 200 };
  });
  router.on('POST', `${PREFIX}/endpoint_groups`, async (req) => {
    requireAdmin(req.auth);
    const e = entity(req.body, 'endpoint_group');
    const display = freeName(e.name, 'endpoint_group', 255);
    const body: EndpointGroup = {
      apiVersion: 'identity.stratus.io/v1alpha1',
      kind: 'EndpointGroup',
      metadata: { name: objectNameFor(display, (n) => !!dir.endpointGroups.named(n), 'endpoint-group') },
      spec: { displayName: display, description: optionalString(e, 'description', 'endpoint_group'), filters: filtersOf(e.filters), projects: [] },
    };
    const created = await committed(dir.endpointGroups, client.create(ENDPOINT_GROUPS, body, API_FIELD_MANAGER), `endpoint group ${display}`);
    return { status: 201, body: { endpoint_group: view(created, req.base) } };
  });
  router.on('PATCH', `${PREFIX}/endpoint_groups/:id`, async (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    const e = entity(req.body, 'endpoint_group');
    const spec: EndpointGroup['spec'] = {};
    if (e.name !== undefined) spec.displayName = freeName(e.name, 'endpoint_group', 255);
    if (e.description !== undefined) spec.description = optionalString(e, 'description', 'endpoint_group') ?? '';
    // A merge patch would keep filters left out: the new set replaces the old, as Keystone's does.
    const patch = e.filters !== undefined ? { spec: { ...spec, filters: { interface: null, service: null, region: null, ...filtersOf(e.filters) } } } : { spec };
    const updated = await committed(dir.endpointGroups, client.patch<EndpointGroup>(ENDPOINT_GROUPS, undefined, g.metadata.name, patch, API_FIELD_MANAGER), `endpoint group ${displayNameOf(g)}`);
    return { status: 200, body: { endpoint_group: view(updated, req.base) } };
  });
  router.on('DELETE', `${PREFIX}/endpoint_groups/:id`, async (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    await client.delete(ENDPOINT_GROUPS, undefined, g.metadata.name);
    await gone(dir.endpointGroups, g.metadata.name);
    return { status: 204 };
  });
  router.on('GET', `${PREFIX}/endpoint_groups/:id/endpoints`, (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    return list(req.base, `${PREFIX}/endpoint_groups/${req.params.id}/endpoints`, 'endpoints', dir.endpoints.all().filter((e) => inEndpointGroup(e, g)).map((e) => endpointView(e, dir, req.base)));
  });

  // Projects of a group: their catalog is the group's endpoints.
  const associated = (g: EndpointGroup, p: Tenant) => (g.spec.projects ?? []).includes(p.metadata.name);
  router.on('GET', `${PREFIX}/endpoint_groups/:id/projects`, (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    const projects = (g.spec.projects ?? []).map((n) => dir.tenants.named(n)).filter((t): t is Tenant => !!t && !t.metadata.deletionTimestamp);
    return list(req.base, `${PREFIX}/endpoint_groups/${req.params.id}/projects`, 'projects', projects.map((t) => projectView(t, req.base, dir)));
  });
  router.on('GET', `${PREFIX}/endpoint_groups/:id/projects/:project`, (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    const p = findProject(req.params.project);
    if (!associated(g, p)) throw notFound('project', `${req.params.project} in endpoint group ${req.params.id}`);
    return { status: 200, body: { project: projectView(p, req.base, dir) } };
  });
  router.on('HEAD', `${PREFIX}/endpoint_groups/:id/projects/:project`, (req) => {
    requireAdmin(req.auth);
    if (!associated(find(req.params.id), findProject(req.params.project))) throw notFound('project', `${req.params.project} in endpoint group ${req.params.id}`);
    return { status: 200 };
  });
  router.on('PUT', `${PREFIX}/endpoint_groups/:id/projects/:project`, async (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    const p = findProject(req.params.project);
    if (!associated(g, p)) await setProjects(g, [...(g.spec.projects ?? []), p.metadata.name]);
    return { status: 204 };
  });
  router.on('DELETE', `${PREFIX}/endpoint_groups/:id/projects/:project`, async (req) => {
    requireAdmin(req.auth);
    const g = find(req.params.id);
    const p = findProject(req.params.project);
    if (!associated(g, p)) throw notFound('project', `${req.params.project} in endpoint group ${req.params.id}`);
    await setProjects(g, (g.spec.projects ?? []).filter((n) => n !== p.metadata.name));
    return { status: 204 };
  });
  router.on('GET', `${PREFIX}/projects/:project/endpoint_groups`, (req) => {
    requireAdmin(req.auth);
    const p = findProject(req.params.project);
    return list(req.base, `${PREFIX}/projects/${req.params.project}/endpoint_groups`, 'endpoint_groups', live().filter((g) => associated(g, p)).map((g) => view(g, req.base)));
  });
}
